/**
 * The observable trace of a side effect. Every handler's business action, once it has done its work, writes
 * exactly one structured log line with `message: "side effect done"` and the record's identity. In AWS this is
 * what a CloudWatch Logs Insights query counts; the local simulator (tools/local) counts the same lines from the
 * real bundles to prove that no record had its side effect twice.
 *
 * When you fork the template, keep calling this after your own action (or keep an equivalent line).
 */
import type { Logger } from '@aws-lambda-powertools/logger';

export const SIDE_EFFECT_LOG_MESSAGE = 'side effect done';

/** The INFO line of a record answered from its idempotency record: a duplicate, nothing applied. */
export const DUPLICATE_LOG_MESSAGE = 'duplicate: answered from the idempotency record, nothing applied';

/** The INFO line of a record another delivery applied while this one was planning it: nothing applied. */
export const APPLIED_MEANWHILE_LOG_MESSAGE = 'applied meanwhile by another delivery: nothing applied';

/** Which path produced the side effect. */
export type IngestionPath = 'sqs' | 'fifo' | 'object' | 'stream' | 'table-stream' | 'http';

export interface SideEffectTrace {
  /** The path whose handler did the work. */
  readonly path: IngestionPath;
  /** The idempotency key's business value (order id, object version, stream record id...). */
  readonly recordKey: string;
  /** Anything else worth seeing in the log line. */
  readonly details?: Record<string, unknown>;
}

export function logSideEffect(logger: Logger, trace: SideEffectTrace): void {
  logger.info(SIDE_EFFECT_LOG_MESSAGE, { path: trace.path, recordKey: trace.recordKey, ...trace.details });
}
