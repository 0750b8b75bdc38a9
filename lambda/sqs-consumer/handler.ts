/**
 * The SQS consumer's logic, as a factory so tests build it with their own dependencies (a dynalite-backed
 * idempotency store, a plan of their own) and the deployed function builds it once at cold start (`index.ts`).
 *
 * Per invocation: Powertools' `BatchProcessor` runs every record, and the handler returns the partial batch
 * response (`batchItemFailures` with the `messageId`s that failed), which the event source mapping understands
 * because it has `ReportBatchItemFailures` on. Only the failed messages become visible again after the queue's
 * visibility timeout; the others are deleted. When every record fails, Powertools throws `FullBatchFailureError`
 * and the whole batch is retried.
 *
 * Per record: parse and validate the body (the domain's schema, domain.ts), then apply it exactly once
 * (lambda/shared/apply-record.ts), keyed by the domain's idempotency key (the sample's producer-supplied
 * `orderId`): its effect (the sample: the customer's totals) commits in one transaction with the idempotency
 * record. A duplicate of a record already done is answered from the idempotency record; a duplicate still in
 * progress elsewhere fails (and is retried after the visibility timeout); the same key with other content fails
 * and is logged with both content hashes (it ends in the dead-letter queue, for a person). Nothing here names a
 * field of the message: a fork replaces domain.ts only.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { logRecordFailure } from '../shared/apply-record';
import type { Plan } from '../shared/exactly-once';
import { assertEventOf } from '../shared/parsing';
import type { IdempotencyDependencies } from '../shared/powertools';
import { createSqsRecordProcessor } from '../shared/sqs-records';
import type { MessageOf, ResponseOf } from '../shared/domain';
import { domain } from './domain';

type Message = MessageOf<typeof domain>;
type Response = ResponseOf<typeof domain>;

/** Everything the handler needs; built once per execution environment. */
export interface SqsConsumerDependencies extends IdempotencyDependencies {
  readonly logger: Logger;
  /** What recording a record does. @default domain.plan (domain.ts) */
  readonly plan?: (message: Message) => Plan<Response> | Promise<Plan<Response>>;
}

export type SqsConsumerHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

export function createSqsConsumerHandler(dependencies: SqsConsumerDependencies): SqsConsumerHandler {
  const { logger, idempotencyConfig } = dependencies;
  const processRecord = createSqsRecordProcessor({ ...dependencies, path: 'sqs', domain });

  return async (event, context) => {
    logger.addContext(context);
    try {
      assertEventOf(event, 'aws:sqs', ['messageId', 'body']);
    } catch (error) {
      logRecordFailure(logger, {}, error);
      throw error;
    }
    // Bounds an in-progress idempotency record to this invocation's remaining time: if the invocation dies
    // mid-record, a re-delivery can take over after that instead of after the whole record expiry.
    idempotencyConfig.registerLambdaContext(context);
    // A processor holds one batch's state, so each invocation gets its own (cheap), never a shared one.
    const processor = new BatchProcessor(EventType.SQS);
    // Standard queues have no order, so records run in parallel (Powertools' default), stated on purpose.
    return processPartialResponse(event, (record: SQSRecord) => processRecord(record, context), processor, {
      context,
      processInParallel: true,
    });
  };
}
