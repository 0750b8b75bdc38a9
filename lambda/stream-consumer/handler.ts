/**
 * The stream consumer: Kinesis records through Powertools' BatchProcessor, one after the other, each applied
 * at most once per idempotency key, with per-partition-key order kept inside a batch.
 *
 * ## Ordering guarantee
 * Kinesis keeps records of one partition key in one shard, in order; Lambda hands a shard's records over in
 * order (at any parallelization factor, per partition key). With `ReportBatchItemFailures`, Lambda moves the
 * checkpoint to the lowest failed sequence number and re-delivers everything after it. This handler therefore:
 *
 * 1. processes the records of a batch sequentially, in the order delivered (never in parallel);
 * 2. once a record fails, fails every later record of the same partition key in that batch *without running
 *    it* (an {@link EarlierRecordFailedError} item failure), so no later event of a key is applied before an
 *    earlier one;
 * 3. keeps running records of other partition keys after a failure. Lambda re-delivers them anyway (they come
 *    after the checkpoint), and the idempotency record turns that re-delivery into a no-op; meanwhile they are
 *    not delayed by another key's poison record.
 *
 * Precisely: for every partition key, a record's side effect happens only after the side effects of all
 * earlier records of that key, or after Lambda has given up on an earlier record (retries or record age
 * exhausted) and sent it to the on-failure destination. A replayed record (tools/replay-stream-failure.ts)
 * re-enters the stream behind newer records, so the business action must tolerate an old reading arriving
 * late (here: it is a measurement with its own `recordedAt`).
 *
 * ## Idempotency key
 * The reading's own `eventId` (see reading.ts), not the invocation or the batch: a record re-delivered after a
 * split or retry, a duplicate written by a producer retry (Kinesis gives it a new sequence number) and a record
 * replayed by an operator all carry the same `eventId`. {@link keyByStreamPosition} (shard id + sequence
 * number, the record's `eventID`) is the alternative for payloads without an id of their own: it survives
 * splits and retries, but not producer retries or replays.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyAlreadyInProgressError, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { Logger } from '@aws-lambda-powertools/logger';
import type {
  Context,
  KinesisStreamBatchResponse,
  KinesisStreamEvent,
  KinesisStreamRecord,
} from 'aws-lambda';
import { InvalidPayloadError, parseBase64JsonPayload } from '../shared/parsing';
import type { IdempotencyDependencies } from '../shared/powertools';
import {
  isKeyedBySensor,
  recordReading,
  SensorReading,
  SensorReadingSchema,
  StreamPosition,
} from './reading';

/** JMESPath of the idempotency key in the idempotent function's input (see {@link IdempotentInput}). */
export const STREAM_IDEMPOTENCY_KEY_PATH = 'idempotencyKey';

/** The business action for one valid reading. Throwing fails the record (and holds back its key). */
export type ReadingAction = (reading: SensorReading, position: StreamPosition) => Promise<void> | void;

/** Derives the idempotency key of a record. */
export type IdempotencyKeyOf = (reading: SensorReading, record: KinesisStreamRecord) => string;

/** Default: the reading's own id. Survives re-delivery, producer retries and replays. */
export const keyByEventId: IdempotencyKeyOf = (reading) => `event:${reading.eventId}`;

/** Alternative: the record's place in the stream (`shardId-…:sequenceNumber`). Survives re-delivery only. */
export const keyByStreamPosition: IdempotencyKeyOf = (_reading, record) => `record:${record.eventID}`;

export interface StreamConsumerDependencies extends IdempotencyDependencies {
  readonly logger: Logger;
  /** @default recordReading (one 'side effect done' log line per reading) */
  readonly action?: ReadingAction;
  /** @default keyByEventId */
  readonly idempotencyKeyOf?: IdempotencyKeyOf;
}

/** A record not run because an earlier record of its partition key failed in the same batch. */
export class EarlierRecordFailedError extends Error {
  constructor(
    readonly partitionKey: string,
    readonly blockedBySequenceNumber: string,
  ) {
    super(
      `not run: record ${blockedBySequenceNumber} of partition key "${partitionKey}" failed earlier in this batch; ` +
        'running this one first would apply the key out of order',
    );
    this.name = 'EarlierRecordFailedError';
  }
}

interface IdempotentInput {
  readonly idempotencyKey: string;
  readonly reading: SensorReading;
}

export type StreamConsumerHandler = (
  event: KinesisStreamEvent,
  context: Context,
) => Promise<KinesisStreamBatchResponse>;

export function createStreamConsumerHandler(deps: StreamConsumerDependencies): StreamConsumerHandler {
  const { logger, persistenceStore, idempotencyConfig } = deps;
  const action: ReadingAction =
    deps.action ?? ((reading, position) => recordReading(logger, reading, position));
  const idempotencyKeyOf = deps.idempotencyKeyOf ?? keyByEventId;

  const applyOnce = makeIdempotent(
    async (input: IdempotentInput, position: StreamPosition): Promise<{ applied: string }> => {
      await action(input.reading, position);
      return { applied: input.idempotencyKey };
    },
    { persistenceStore, config: idempotencyConfig, dataIndexArgument: 0 },
  );

  return async (event, context) => {
    idempotencyConfig.registerLambdaContext(context);
    logger.addContext(context);
    // Per invocation, not per environment: a processor holds the batch it is working on, and an execution
    // environment that runs invocations concurrently (Lambda Managed Instances) must not share one.
    const processor = new BatchProcessor(EventType.KinesisDataStreams);
    // Partition key -> sequence number of its first failed record in this invocation.
    const failedKeys = new Map<string, string>();

    const handleRecord = async (record: KinesisStreamRecord): Promise<void> => {
      const position = positionOf(record);
      const blockedBy = failedKeys.get(position.partitionKey);
      if (blockedBy !== undefined) {
        const error = new EarlierRecordFailedError(position.partitionKey, blockedBy);
        logger.warn('record held back', { ...position, reason: error.message });
        throw error;
      }
      try {
        const reading = parseBase64JsonPayload(record.kinesis.data, SensorReadingSchema);
        if (!isKeyedBySensor(reading, position.partitionKey)) {
          logger.warn('partition key is not the sensor id: order is kept per partition key only', {
            ...position,
            sensorId: reading.sensorId,
          });
        }
        await applyOnce({ idempotencyKey: idempotencyKeyOf(reading, record), reading }, position);
      } catch (error) {
        failedKeys.set(position.partitionKey, position.sequenceNumber);
        logRecordFailure(logger, position, error);
        throw error;
      }
    };

    return processPartialResponse(event, handleRecord, processor, {
      context,
      processInParallel: false,
    }) as Promise<KinesisStreamBatchResponse>;
  };
}

function positionOf(record: KinesisStreamRecord): StreamPosition {
  return {
    shardId: record.eventID.split(':')[0],
    sequenceNumber: record.kinesis.sequenceNumber,
    partitionKey: record.kinesis.partitionKey,
  };
}

/** One structured line per failed record. */
function logRecordFailure(logger: Logger, position: StreamPosition, error: unknown): void {
  if (error instanceof InvalidPayloadError) {
    logger.error('invalid payload', { ...position, reason: error.message, issues: error.issues });
  } else if (error instanceof IdempotencyAlreadyInProgressError) {
    logger.warn('record already in progress in another invocation; it will be retried', { ...position });
  } else {
    logger.error('record failed', { ...position, error: error as Error });
  }
}
