/**
 * Applying one record, the same way on every path: check that there is time to finish it, apply it exactly once
 * (exactly-once.ts), and write one log line that says what happened, counting the outcome in the business metrics
 * (powertools.ts, `RecordMetrics`) at the same place. The handlers keep what is specific to their source (parsing,
 * batch responses, per-key order); this is what they share.
 */
import { IdempotencyAlreadyInProgressError } from '@aws-lambda-powertools/idempotency';
import type { Logger } from '@aws-lambda-powertools/logger';
import {
  assertTimeToStartRecord,
  DeadlineError,
  DEPENDENCY_RETRY_DELAYS_MS,
  dependencyRetryDelayMs,
  worstCaseRecordMs,
} from './deadlines';
import { describeError, findInChain, isTransientDependencyError } from './errors';
import { type Applied, makeExactlyOnce, type Plan, PayloadMismatchError } from './exactly-once';
import { InvalidPayloadError, WrongEventError } from './parsing';
import type { IdempotencyDependencies, RecordMetrics } from './powertools';
import {
  APPLIED_MEANWHILE_LOG_MESSAGE,
  DUPLICATE_LOG_MESSAGE,
  type IngestionPath,
  logSideEffect,
} from './side-effect';

/** One record, as the handler hands it over. */
export interface RecordToApply<I> {
  /** The idempotency key (stable across re-deliveries, producer retries and replays). */
  readonly idempotencyKey: string;
  /** The business key the side-effect log line names (order id, object version, reading id). @default idempotencyKey */
  readonly recordKey?: string;
  /** The validated input of the plan. */
  readonly input: I;
  /** What "the same record" means for the key (hashed): @default input */
  readonly content?: unknown;
  /** Fields every log line about this record carries (messageId, sequence number...). */
  readonly logKeys: Readonly<Record<string, unknown>>;
}

export interface RecordApplierOptions<I, R> extends IdempotencyDependencies {
  readonly logger: Logger;
  readonly path: IngestionPath;
  /** Fixed prefix of the stored idempotency keys (never the generated function name). */
  readonly keyPrefix: string;
  /** The business logic: response and effect of one record, as data. */
  readonly plan: (input: I) => Plan<R> | Promise<Plan<R>>;
}

/** Applies one record; `remainingMs` is the invocation's remaining time (the Lambda context's). */
export type RecordApplier<I, R> = (
  record: RecordToApply<I>,
  remainingMs: () => number,
) => Promise<Applied<R>>;

export function createRecordApplier<I, R>(options: RecordApplierOptions<I, R>): RecordApplier<I, R> {
  const { logger, path, metrics } = options;
  const applyOnce = makeExactlyOnce(options.plan, options);
  const neededMs = worstCaseRecordMs(options.budget);
  const delays = options.dependencyRetryDelaysMs ?? DEPENDENCY_RETRY_DELAYS_MS;

  /**
   * Applies the record; after a transient DynamoDB failure, waits and tries again while the invocation has time
   * for the wait and one more worst case (deadlines.ts). Safe: a failed try wrote nothing (exactly-once.ts).
   */
  const applyWithRetries = async (
    record: RecordToApply<I> & { readonly recordKey: string },
    remainingMs: () => number,
  ): Promise<Applied<R>> => {
    for (let retry = 1; ; retry += 1) {
      try {
        return await applyOnce(record.idempotencyKey, record.input, record.content);
      } catch (error) {
        const waitMs = dependencyRetryDelayMs(retry, delays);
        if (waitMs === undefined || !isTransientDependencyError(error) || remainingMs() < neededMs + waitMs) {
          throw error;
        }
        logger.warn('DynamoDB unavailable for now; trying the record again in this invocation', {
          ...record.logKeys,
          recordKey: record.recordKey,
          retry,
          waitMs,
          error: describeError(error),
        });
        // The global timer (not node:timers/promises): the local simulator runs such waits on its virtual clock.
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
    }
  };

  return async (delivered, remainingMs) => {
    const record = { ...delivered, recordKey: delivered.recordKey ?? delivered.idempotencyKey };
    try {
      if (typeof record.idempotencyKey !== 'string' || record.idempotencyKey === '') {
        // A fork's key function that returns nothing would otherwise surface as "Failed to save in progress
        // record", which reads like a DynamoDB failure.
        throw new InvalidPayloadError(
          `the record's idempotency key is ${JSON.stringify(record.idempotencyKey) ?? 'undefined'}: the path's key ` +
            'function must return a non-empty string (the business key of the record)',
        );
      }
      assertTimeToStartRecord(remainingMs(), neededMs);
      const applied = await applyWithRetries(record, remainingMs);
      metrics?.count(applied.status === 'applied' ? 'applied' : 'duplicate');
      if (applied.status === 'applied') {
        logSideEffect(logger, {
          path,
          recordKey: record.recordKey,
          details: { ...record.logKeys, effect: applied.effect },
        });
      } else {
        logger.info(applied.status === 'duplicate' ? DUPLICATE_LOG_MESSAGE : APPLIED_MEANWHILE_LOG_MESSAGE, {
          ...record.logKeys,
          recordKey: record.recordKey,
        });
      }
      return applied;
    } catch (error) {
      logRecordFailure(logger, { ...record.logKeys, recordKey: record.recordKey }, error, metrics);
      throw error;
    }
  };
}

/** Invalid payloads already counted, so a handler that logs one again after the applier counts it once. */
const countedInvalid = new WeakSet<object>();

/**
 * Counts an invalid payload in the business metrics (`InvalidPayloads`), once per error object however many
 * lines report it.
 */
export function countInvalidPayload(metrics: RecordMetrics | undefined, error: unknown): void {
  if (!metrics || typeof error !== 'object' || error === null || countedInvalid.has(error)) return;
  countedInvalid.add(error);
  metrics.count('invalid');
}

/**
 * The one structured line for a failed record: what kind of failure (and so what happens next), and the whole
 * cause chain for anything unexpected. An invalid payload is counted in `metrics` too.
 */
export function logRecordFailure(
  logger: Logger,
  keys: Readonly<Record<string, unknown>>,
  error: unknown,
  metrics?: RecordMetrics,
): void {
  const mismatch = findInChain(error, (link) => link instanceof PayloadMismatchError) as
    PayloadMismatchError | undefined;
  if (mismatch) {
    logger.error('same idempotency key, different content: not applied; needs a person', {
      ...keys,
      idempotencyKey: mismatch.idempotencyKey,
      storedPayloadHash: mismatch.storedPayloadHash,
      payloadHash: mismatch.payloadHash,
    });
  } else if (error instanceof WrongEventError) {
    logger.error("not an event of this function's source: the whole invocation fails", {
      ...keys,
      reason: error.message,
    });
  } else if (error instanceof InvalidPayloadError) {
    logger.error('invalid payload', { ...keys, reason: error.message, issues: error.issues });
    countInvalidPayload(metrics, error);
  } else if (error instanceof IdempotencyAlreadyInProgressError) {
    logger.info('already in progress in another invocation; retried later', { ...keys });
  } else if (error instanceof DeadlineError) {
    logger.warn('not started: too little time left in the invocation; retried later', {
      ...keys,
      remainingMs: error.remainingMs,
      neededMs: error.neededMs,
    });
  } else {
    logger.error('record failed; retried later', { ...keys, error: describeError(error) });
  }
}
