/**
 * One SQS message, the same way on the standard and the FIFO path: parse and validate its body against the
 * domain's schema, then apply it exactly once (apply-record.ts). What differs between the two paths (how a batch
 * runs: in parallel, or in order per message group) stays in their handlers.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSRecord } from 'aws-lambda';
import { createRecordApplier, logRecordFailure, type RecordApplierOptions } from './apply-record';
import type { MessageDomain } from './domain';
import { parseJsonPayload } from './parsing';

export interface SqsRecordOptions<M, R> extends Omit<RecordApplierOptions<M, R>, 'keyPrefix' | 'plan'> {
  readonly logger: Logger;
  readonly domain: MessageDomain<M, R>;
  /** What applying a message does. @default domain.plan */
  readonly plan?: RecordApplierOptions<M, R>['plan'];
  /** Checks a valid message against its record before it is applied (e.g. its message group); may log. */
  readonly inspect?: (message: M, record: SQSRecord, logKeys: Readonly<Record<string, unknown>>) => void;
}

/** Builds the per-record function of an SQS handler: parse, validate, apply once; returns the plan's response. */
export function createSqsRecordProcessor<M, R>(
  options: SqsRecordOptions<M, R>,
): (record: SQSRecord, context: Context) => Promise<R> {
  const { logger, domain } = options;
  const apply = createRecordApplier<M, R>({
    ...options,
    keyPrefix: domain.keyPrefix,
    plan: options.plan ?? domain.plan,
  });
  return async (record, context) => {
    const logKeys = {
      messageId: record.messageId,
      approximateReceiveCount: Number(record.attributes?.ApproximateReceiveCount ?? 0),
    };
    let message: M;
    try {
      message = parseJsonPayload(record.body, domain.schema);
    } catch (error) {
      // Retrying cannot fix it: it fails until maxReceiveCount moves it to the dead-letter queue, where a person
      // reads this line (messageId + issues) to fix the producer.
      logRecordFailure(logger, logKeys, error, options.metrics);
      throw error;
    }
    options.inspect?.(message, record, logKeys);
    const applied = await apply(
      { idempotencyKey: domain.idempotencyKey(message), input: message, logKeys },
      () => context.getRemainingTimeInMillis(),
    );
    return applied.response;
  };
}
