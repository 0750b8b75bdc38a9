/**
 * Per-key order inside one batch of a stream (Kinesis: per partition key; DynamoDB Streams: per item key), shared
 * by both stream handlers:
 *
 * 1. the records of one key run strictly one after the other, in the order delivered; records of different keys
 *    run concurrently (Powertools' BatchProcessor in parallel, each key a promise chain);
 * 2. once a record fails for a reason that may pass, every later record of its key in the batch fails without
 *    running ({@link EarlierRecordFailedError}), so no later change of a key is applied before an earlier one that
 *    may still be; a record that can never be applied as it is ({@link isPermanentFailure}) fails alone;
 * 3. records of other keys go on.
 *
 * Whether a record runs depends only on the earlier records of its own key, so the batch response is the one a
 * sequential run would give; see lambda/stream-consumer/handler.ts for the whole argument.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { findInChain } from './errors';
import { PayloadMismatchError } from './exactly-once';
import { InvalidPayloadError } from './parsing';

/** A record not run because an earlier record of its key failed in the same batch. */
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

/**
 * A failure no retry can change: the payload is not valid, or its key was first seen with other content. The
 * record fails (and reaches the on-failure destination after the retries), but the later records of its key go
 * on: holding them back behind a record that will never be applied would send them to the destination too.
 */
export function isPermanentFailure(error: unknown): boolean {
  return (
    error instanceof InvalidPayloadError ||
    findInChain(error, (link) => link instanceof PayloadMismatchError) !== undefined
  );
}

/** Where a record sits in its stream, for logs: its key and its sequence number, and anything else to log. */
export interface KeyedPosition {
  readonly partitionKey: string;
  readonly sequenceNumber: string;
  readonly [field: string]: string;
}

/**
 * A runner for one invocation's batch: `handle(record)` runs `run(record)` after the previous record of its key
 * has settled, or fails it at once when an earlier record of its key failed. Build one per invocation.
 */
export function keyOrderedRunner<R>(options: {
  readonly logger: Logger;
  readonly positionOf: (record: R) => KeyedPosition;
  readonly run: (record: R, position: KeyedPosition) => Promise<void>;
}): (record: R) => Promise<void> {
  const { logger, positionOf, run } = options;
  // Key -> sequence number of its first failed record in this invocation.
  const failedKeys = new Map<string, string>();
  // Key -> when the latest record of that key started so far has settled (never rejects).
  const keyTails = new Map<string, Promise<void>>();

  const runRecord = async (record: R): Promise<void> => {
    const position = positionOf(record);
    const blockedBy = failedKeys.get(position.partitionKey);
    if (blockedBy !== undefined) {
      const error = new EarlierRecordFailedError(position.partitionKey, blockedBy);
      logger.warn('record held back', { ...position, reason: error.message });
      throw error;
    }
    try {
      await run(record, position);
    } catch (error) {
      // Set before this record's promise settles, so the key's next record (chained on it) sees it.
      if (!isPermanentFailure(error)) failedKeys.set(position.partitionKey, position.sequenceNumber);
      throw error;
    }
  };

  // BatchProcessor in parallel calls this for every record at once, in delivery order (it maps over the records
  // without awaiting in between), so each record chains on the one of its key started just before.
  return (record) => {
    const key = positionOf(record).partitionKey;
    const previous = keyTails.get(key);
    const result = previous === undefined ? runRecord(record) : previous.then(() => runRecord(record));
    keyTails.set(
      key,
      result.then(
        () => undefined,
        () => undefined,
      ),
    );
    return result;
  };
}

/**
 * Puts a batch response's failures in delivery order. BatchProcessor lists them in the order they happened, which
 * across keys is free; Lambda takes the lowest failed sequence number as the checkpoint whatever the order, but
 * logs and people read delivery order.
 */
export function inDeliveryOrder<T extends { batchItemFailures: { itemIdentifier: string }[] }>(
  response: T,
  sequenceNumbers: readonly string[],
): T {
  const deliveryIndex = new Map(sequenceNumbers.map((sequenceNumber, index) => [sequenceNumber, index]));
  response.batchItemFailures.sort(
    (a, b) =>
      (deliveryIndex.get(a.itemIdentifier) ?? Infinity) - (deliveryIndex.get(b.itemIdentifier) ?? Infinity),
  );
  return response;
}
