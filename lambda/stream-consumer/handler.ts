/**
 * The stream consumer: Kinesis records through Powertools' BatchProcessor, each applied at most once per
 * idempotency key, with per-partition-key order kept inside a batch. Records of different partition keys run
 * concurrently; the records of one key run one after the other.
 *
 * ## Ordering guarantee
 * Kinesis keeps records of one partition key in one shard, in order; Lambda hands a shard's records over in
 * order (at any parallelization factor, per partition key). With `ReportBatchItemFailures`, Lambda moves the
 * checkpoint to the lowest failed sequence number and re-delivers everything after it. This handler therefore:
 *
 * 1. runs the records of one partition key strictly one after the other, in the order delivered: a record
 *    starts only once the previous record of its key has finished (succeeded or failed). Records of different
 *    keys run concurrently (BatchProcessor in parallel, each key a promise chain), because the stream orders
 *    nothing across keys: one key's slow record does not delay another key, and a batch's DynamoDB round
 *    trips overlap across keys instead of adding up;
 * 2. once a record fails for a reason that may pass (a dependency error, a timeout, a failing action), fails
 *    every later record of the same partition key in that batch *without running it* (an
 *    {@link EarlierRecordFailedError} item failure), so no later event of a key is applied before an earlier
 *    one that may still be applied;
 *    a record that can *never* be applied as it is (a payload that is not valid, a known key with other
 *    content: {@link isPermanentFailure}) fails on its own and holds nothing back. Holding the key back behind it
 *    would only delay the inevitable: after the retries Lambda sends the batch to the on-failure destination, and
 *    every held-back healthy record of that key would go with it (the simulator's stream scenarios measured
 *    this: docs/stream-path.md). The invalid record still fails, is retried, and reaches the destination for a
 *    person;
 * 3. keeps running records of other partition keys after a failure. Lambda re-delivers them anyway (they come
 *    after the checkpoint), and the idempotency record turns that re-delivery into a no-op; meanwhile they are
 *    not delayed by another key's poison record.
 *
 * The batch response (which records failed, and why) is the same as running the whole batch sequentially:
 * whether a record runs depends only on the earlier records of its own key. What differs is the interleaving
 * of different keys' side effects and log lines, which the stream never ordered. The action must therefore not
 * rely on the order of different partition keys, nor be unsafe to run for several keys at once.
 *
 * Precisely: for every partition key, a record's side effect happens only after the side effects of all
 * earlier records of that key that can be applied, or after Lambda has given up on such an earlier record
 * (retries or record age exhausted) and sent it to the on-failure destination. An earlier record that can never
 * be applied as it is (invalid) does not hold the later ones back. A replayed record (tools/replay-stream-failure.ts)
 * re-enters the stream behind newer records, so the business action must tolerate an old reading arriving
 * late (here: it is a measurement with its own `recordedAt`).
 *
 * ## Idempotency key
 * The reading's own `eventId` (the domain's key, domain.ts), not the invocation or the batch: a record re-delivered after a
 * split or retry, a duplicate written by a producer retry (Kinesis gives it a new sequence number) and a record
 * replayed by an operator all carry the same `eventId`. {@link keyByStreamPosition} (shard id + sequence
 * number, the record's `eventID`) is the alternative for payloads without an id of their own: it survives
 * splits and retries, but not producer retries or replays.
 *
 * The key is passed to Powertools as the value it hashes (no JMESPath). A producer retry keeps its partition
 * key, so it runs after the original and is answered from the idempotency record. The same reading written
 * under two partition keys in one batch may run at once: with `claim-then-complete` the second finds the first
 * in progress and fails its record (re-delivered, then answered from the record); with `read-then-complete` both
 * are planned and the commit's condition lets only the first commit (lambda/shared/exactly-once.ts). Either way
 * the reading is applied once.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import type {
  Context,
  KinesisStreamBatchResponse,
  KinesisStreamEvent,
  KinesisStreamRecord,
} from 'aws-lambda';
import { createRecordApplier, logRecordFailure } from '../shared/apply-record';
import type { Plan } from '../shared/exactly-once';
import { inDeliveryOrder, keyOrderedRunner } from '../shared/key-ordered';
import { assertEventOf, parseBase64JsonPayload } from '../shared/parsing';
import type { IdempotencyDependencies } from '../shared/powertools';
import type { MessageOf, ResponseOf } from '../shared/domain';
import { domain } from './domain';

type Message = MessageOf<typeof domain>;
type Response = ResponseOf<typeof domain>;

/** Where a record sits in the stream, for logs. */
export interface StreamPosition {
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  readonly [field: string]: string;
}

/** Derives the idempotency key of a record. */
export type IdempotencyKeyOf = (message: Message, record: KinesisStreamRecord) => string;

/** Default: the domain's key, the reading's own id. Survives re-delivery, producer retries and replays. */
export const keyByEventId: IdempotencyKeyOf = (message) => `event:${domain.idempotencyKey(message)}`;

/** Alternative: the record's place in the stream (`shardId-…:sequenceNumber`). Survives re-delivery only. */
export const keyByStreamPosition: IdempotencyKeyOf = (_message, record) => `record:${record.eventID}`;

export interface StreamConsumerDependencies extends IdempotencyDependencies {
  readonly logger: Logger;
  /** What applying a record does. Throwing fails the record (and holds back its key). @default domain.plan */
  readonly plan?: (message: Message) => Plan<Response> | Promise<Plan<Response>>;
  /** @default keyByEventId */
  readonly idempotencyKeyOf?: IdempotencyKeyOf;
}

export { EarlierRecordFailedError, isPermanentFailure } from '../shared/key-ordered';

export type StreamConsumerHandler = (
  event: KinesisStreamEvent,
  context: Context,
) => Promise<KinesisStreamBatchResponse>;

export function createStreamConsumerHandler(deps: StreamConsumerDependencies): StreamConsumerHandler {
  const { logger, idempotencyConfig } = deps;
  const idempotencyKeyOf = deps.idempotencyKeyOf ?? keyByEventId;
  const applyRecord = createRecordApplier({
    ...deps,
    path: 'stream',
    keyPrefix: domain.keyPrefix,
    plan: deps.plan ?? domain.plan,
  });

  return async (event, context) => {
    idempotencyConfig.registerLambdaContext(context);
    logger.addContext(context);
    // The fields read before a record can fail on its own (its key, its position); without them nothing can be
    // reported per record.
    try {
      assertEventOf(event, 'aws:kinesis', [
        'eventID',
        'kinesis.partitionKey',
        'kinesis.sequenceNumber',
        'kinesis.data',
      ]);
    } catch (error) {
      logRecordFailure(logger, {}, error);
      throw error;
    }
    // Per invocation, not per environment: a processor holds the batch it is working on, and an execution
    // environment that runs invocations concurrently (Lambda Managed Instances) must not share one.
    const processor = new BatchProcessor(EventType.KinesisDataStreams);
    const handleRecord = keyOrderedRunner<KinesisStreamRecord>({
      logger,
      positionOf,
      run: async (record, position) => {
        let message: Message;
        try {
          message = parseBase64JsonPayload(record.kinesis.data, domain.schema);
        } catch (error) {
          // Only what parsing refuses is logged here: the applier logs its own failures (one line per record).
          logRecordFailure(logger, { ...position }, error, deps.metrics);
          throw error;
        }
        const expectedPartitionKey = domain.partitionKey(message);
        if (expectedPartitionKey !== position.partitionKey) {
          logger.warn(
            `partition key is not the ${domain.recordName}'s own: order is kept per partition key only`,
            {
              ...position,
              expectedPartitionKey,
            },
          );
        }
        // The applier logs the outcome, and a failure with its cause chain.
        await applyRecord(
          {
            idempotencyKey: idempotencyKeyOf(message, record),
            recordKey: domain.idempotencyKey(message),
            input: message,
            logKeys: { ...position },
          },
          () => context.getRemainingTimeInMillis(),
        );
      },
    });
    const response = (await processPartialResponse(event, handleRecord, processor, {
      context,
      processInParallel: true,
    })) as KinesisStreamBatchResponse;
    return inDeliveryOrder(
      response,
      event.Records.map((record) => record.kinesis.sequenceNumber),
    );
  };
}

function positionOf(record: KinesisStreamRecord): StreamPosition {
  return {
    shardId: record.eventID.split(':')[0],
    sequenceNumber: record.kinesis.sequenceNumber,
    partitionKey: record.kinesis.partitionKey,
  };
}
