/**
 * A cheaper idempotency scheme for sources that never run two records with the same idempotency key at once:
 * Powertools' DynamoDB persistence layer with its claim replaced by a read.
 *
 * Powertools' default (`claim-then-complete`) writes twice per record: a conditional `PutItem` that claims the
 * key as `INPROGRESS` before the business action, then an `UpdateItem` that marks it `COMPLETED` with the
 * result. The claim is what stops a *concurrent* duplicate (an SQS message received twice at once, two
 * asynchronous invocations of one event) from running the action a second time.
 *
 * `read-then-complete` (this class) reads the key with a strongly consistent `GetItem` before the action and
 * writes once after it (the same `UpdateItem`, which creates the item): one read unit and one write unit per
 * record instead of two write units, and a failed record costs one read instead of a put and a delete. With
 * DynamoDB's on-demand prices (a write unit costs five read units) that is 40 % less for idempotency.
 *
 * It is correct only where the source serialises every idempotency key: Lambda's Kinesis event source mapping
 * hands the records of one partition key to one invocation at a time, in order (at any parallelization
 * factor), and the stream handler runs a key's records one after the other. A record's `eventId` always
 * travels with the same partition key (a producer retry repeats the whole `PutRecord`), so no two copies of
 * one key are ever in flight together. Everything else is Powertools' unchanged: the key hash, the stored
 * result returned for a completed key, expiry, and the window that both schemes share (a crash between the
 * action and the completing write runs the action again on the next delivery).
 */
import {
  IdempotencyItemAlreadyExistsError,
  IdempotencyItemNotFoundError,
  IdempotencyRecordStatus,
} from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { IdempotencyRecord } from '@aws-lambda-powertools/idempotency/persistence';

/** The idempotency schemes a handler can be configured with (`IDEMPOTENCY_SCHEME`). */
export const IDEMPOTENCY_SCHEMES = ['claim-then-complete', 'read-then-complete'] as const;
export type IdempotencyScheme = (typeof IDEMPOTENCY_SCHEMES)[number];

export class ReadThenCompletePersistenceLayer extends DynamoDBPersistenceLayer {
  /**
   * Instead of claiming the key, looks it up. A live record (completed, or claimed by the default scheme and not
   * yet timed out) is reported the way Powertools' conditional put reports it, so Powertools returns the stored
   * result or raises `IdempotencyAlreadyInProgressError` exactly as it would with the default scheme.
   */
  protected override async _putRecord(record: IdempotencyRecord): Promise<void> {
    let existing: IdempotencyRecord;
    try {
      existing = await this._getRecord(record.idempotencyKey);
    } catch (error) {
      if (error instanceof IdempotencyItemNotFoundError) return;
      throw error;
    }
    if (isLive(existing)) {
      throw new IdempotencyItemAlreadyExistsError(
        `Idempotency key already recorded: ${record.idempotencyKey}`,
        existing,
      );
    }
  }

  /**
   * Nothing to delete: this scheme writes no claim, so a failed action leaves no record of its own behind
   * (an expired record, if one is there, is ignored by the next read just as it was by this one).
   */
  protected override async _deleteRecord(_record: IdempotencyRecord): Promise<void> {}
}

/** The same conditions under which Powertools' conditional put fails: not expired, and not a timed-out claim. */
function isLive(record: IdempotencyRecord): boolean {
  if (record.isExpired()) return false;
  const claimTimedOut =
    record.getStatus() === IdempotencyRecordStatus.INPROGRESS &&
    record.inProgressExpiryTimestamp !== undefined &&
    record.inProgressExpiryTimestamp < Date.now();
  return !claimTimedOut;
}
