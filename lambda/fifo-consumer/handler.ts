/**
 * The SQS FIFO consumer: messages of one message group are applied in the order SQS delivers them, each exactly
 * once (lambda/shared/sqs-records.ts, lambda/shared/apply-record.ts).
 *
 * ## Order per message group, and what a failure does
 * SQS FIFO delivers a group's messages in the order they were sent, and Lambda's event source mapping hands a
 * batch over in that order; a batch may hold several groups. Powertools' `SqsFifoPartialProcessorAsync` runs the
 * batch's records one after the other, and this handler passes it `skipGroupOnError: true`, chosen deliberately:
 * - once a message fails, every later message **of its group** in the batch is returned as a failure without
 *   running (so no later message of a group is applied before an earlier one), while messages of **other groups**
 *   go on: one group's poison message does not delay the others;
 * - without it, everything after the first failure would be returned, every group's messages with it: each
 *   poison message would then slow every group, and the others' messages would be delivered again (answered from
 *   the idempotency store, but paid for).
 * The failed messages and the ones held back become visible again together after the visibility timeout, and SQS
 * keeps the group's order. A poison message therefore blocks its own group until `maxReceiveCount` receives move
 * it to the dead-letter queue. Every receive counts for the messages held back behind it too, so those that were
 * received with it each time reach `maxReceiveCount` with it and move to the dead-letter queue as well (nothing
 * is lost: a person redrives them, and the idempotency store answers any already applied); the group's messages
 * sent after them then run. Other groups are not affected. (docs/fifo-path.md; the simulator's fifo-poison
 * scenario measures it.)
 *
 * ## Idempotency
 * Per the domain's business key (the sample: `entryId`). SQS's own deduplication (content-based or by
 * `MessageDeduplicationId`) drops a duplicate *send* within 5 minutes only; a producer retry later than that, a
 * message redriven from the dead-letter queue (SQS gives it its message id as deduplication id) or a batch
 * delivered again after a time-out reaches the function again and is answered from the idempotency record.
 */
import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { logRecordFailure } from '../shared/apply-record';
import type { MessageOf, ResponseOf } from '../shared/domain';
import type { Plan } from '../shared/exactly-once';
import { assertEventOf } from '../shared/parsing';
import type { IdempotencyDependencies } from '../shared/powertools';
import { createSqsRecordProcessor } from '../shared/sqs-records';
import { domain } from './domain';

type Message = MessageOf<typeof domain>;
type Response = ResponseOf<typeof domain>;

/** Everything the handler needs; built once per execution environment. */
export interface FifoConsumerDependencies extends IdempotencyDependencies {
  readonly logger: Logger;
  /** What applying a message does. @default domain.plan (domain.ts) */
  readonly plan?: (message: Message) => Plan<Response> | Promise<Plan<Response>>;
}

export type FifoConsumerHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

export function createFifoConsumerHandler(dependencies: FifoConsumerDependencies): FifoConsumerHandler {
  const { logger, idempotencyConfig } = dependencies;
  const processRecord = createSqsRecordProcessor({
    ...dependencies,
    path: 'fifo',
    domain,
    inspect: (message, record, logKeys) => {
      const expected = domain.messageGroupId(message);
      const sentWith = record.attributes?.MessageGroupId;
      if (sentWith !== expected) {
        logger.warn(
          `message group is not the ${domain.recordName}'s own: order is kept per message group only`,
          {
            ...logKeys,
            messageGroupId: sentWith,
            expectedMessageGroupId: expected,
          },
        );
      }
    },
  });

  return async (event, context) => {
    logger.addContext(context);
    try {
      assertEventOf(event, 'aws:sqs', ['messageId', 'body', 'attributes.MessageGroupId']);
    } catch (error) {
      logRecordFailure(logger, {}, error);
      throw error;
    }
    idempotencyConfig.registerLambdaContext(context);
    // A processor holds one batch's state: one per invocation.
    const processor = new SqsFifoPartialProcessorAsync();
    return processPartialResponse(event, (record: SQSRecord) => processRecord(record, context), processor, {
      context,
      skipGroupOnError: true,
    });
  };
}
