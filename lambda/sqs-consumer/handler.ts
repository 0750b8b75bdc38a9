/**
 * The SQS consumer's logic, as a factory so tests build it with their own dependencies (a dynalite-backed
 * idempotency store, a counting business action) and the deployed function builds it once at cold start
 * (`index.ts`).
 *
 * Per invocation: Powertools' `BatchProcessor` runs every record, and the handler returns the partial batch
 * response (`batchItemFailures` with the `messageId`s that failed), which the event source mapping understands
 * because it has `ReportBatchItemFailures` on. Only the failed messages become visible again after the queue's
 * visibility timeout; the others are deleted. When every record fails, Powertools throws `FullBatchFailureError`
 * and the whole batch is retried.
 *
 * Per record: parse and validate the body (`OrderMessageSchema`), then run the business action through
 * `makeIdempotent`, keyed by the producer-supplied `orderId` (the string itself is what Powertools hashes). A duplicate of an order already done returns the
 * stored result without running the action again; a duplicate still in progress elsewhere fails (and is retried
 * after the visibility timeout, when the first one has finished).
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyAlreadyInProgressError, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { InvalidPayloadError, parseJsonPayload } from '../shared/parsing';
import type { IdempotencyDependencies } from '../shared/powertools';
import { type OrderAction, type OrderMessage, type OrderSummary, OrderMessageSchema } from './order';

/**
 * The idempotency key of an order: the producer's business key, `orderId`. Not the SQS `messageId`: a producer
 * that retries a send, or a message redriven from the dead-letter queue by hand, arrives with a new `messageId`
 * but is the same order. Powertools stores it as `<prefix>#<base64 MD5 of the JSON of the orderId string>`.
 */
export const orderIdempotencyKey = (order: OrderMessage): string => order.orderId;

/**
 * Prefix of the idempotency records' keys. Powertools defaults to the function name, which changes when
 * CloudFormation replaces the function; a fixed prefix keeps records valid across such a replacement.
 */
export const ORDER_IDEMPOTENCY_KEY_PREFIX = 'sqs-consumer.recordOrder';

/** Everything the handler needs; built once per execution environment. */
export interface SqsConsumerDependencies extends IdempotencyDependencies {
  readonly logger: Logger;
  /** The business action, run at most once per order (see `createRecordOrderAction`). */
  readonly recordOrder: OrderAction;
}

export type SqsConsumerHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

export function createSqsConsumerHandler(dependencies: SqsConsumerDependencies): SqsConsumerHandler {
  const { logger, persistenceStore, idempotencyConfig } = dependencies;

  // The key is passed as the argument Powertools hashes (`dataIndexArgument: 0`), so no JMESPath is evaluated
  // per record; the order rides along as the second argument for the action.
  const recordOrderOnce = makeIdempotent(
    (_key: string, order: OrderMessage): Promise<OrderSummary> => dependencies.recordOrder(order),
    {
      persistenceStore,
      config: idempotencyConfig,
      keyPrefix: ORDER_IDEMPOTENCY_KEY_PREFIX,
      dataIndexArgument: 0,
    },
  );

  const processRecord = async (record: SQSRecord): Promise<OrderSummary> => {
    const failure = {
      messageId: record.messageId,
      approximateReceiveCount: Number(record.attributes?.ApproximateReceiveCount ?? 0),
    };
    try {
      const order = parseJsonPayload(record.body, OrderMessageSchema);
      return await recordOrderOnce(orderIdempotencyKey(order), order);
    } catch (error) {
      if (error instanceof InvalidPayloadError) {
        // Retrying cannot fix it: it fails until maxReceiveCount moves it to the dead-letter queue, where a
        // person reads this line (messageId + issues) to fix the producer.
        logger.warn('invalid message', { ...failure, reason: error.message, issues: error.issues });
      } else if (error instanceof IdempotencyAlreadyInProgressError) {
        logger.info('order already in progress in another invocation; retried after the visibility timeout', {
          ...failure,
        });
      } else {
        const { name, message } = error as Error;
        logger.error('message failed; retried after the visibility timeout', {
          ...failure,
          error: { name, message },
        });
      }
      throw error;
    }
  };

  return async (event, context) => {
    logger.addContext(context);
    // Bounds an in-progress idempotency record to this invocation's remaining time: if the invocation dies
    // mid-record, a re-delivery can take over after that instead of after the whole record expiry.
    idempotencyConfig.registerLambdaContext(context);
    // A processor holds one batch's state, so each invocation gets its own (cheap), never a shared one.
    const processor = new BatchProcessor(EventType.SQS);
    // Standard queues have no order, so records run in parallel (Powertools' default), stated on purpose.
    return processPartialResponse(event, processRecord, processor, { context, processInParallel: true });
  };
}
