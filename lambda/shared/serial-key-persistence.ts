/**
 * The idempotency schemes a handler can be configured with (`IDEMPOTENCY_SCHEME`); both are implemented by
 * `ExactlyOncePersistenceLayer` (exactly-once.ts).
 *
 * `claim-then-complete` (Powertools' default): a conditional `PutItem` claims the key as `INPROGRESS` before the
 * record is planned, then the transaction completes it with the effect. The claim is what stops a *concurrent*
 * duplicate (an SQS message received twice at once, two asynchronous invocations of one event) from planning at
 * all.
 *
 * `read-then-complete`: a strongly consistent `GetItem` instead of the claim, then the same transaction. One read
 * unit instead of a write unit per record, and a failed record costs one read instead of a put and a delete. It
 * is meant for sources that never run two records with the same idempotency key at once: Lambda's Kinesis event
 * source mapping hands the records of one partition key to one invocation at a time, in order, and the stream
 * handler runs a key's records one after the other. Where that does not hold (the same reading written under two
 * partition keys in one batch), both copies are planned, and the transaction's condition lets only one commit:
 * never applied twice, only planned twice.
 *
 * This module holds only the names, so the CDK app (lib/) can validate the setting without loading Powertools.
 */
export const IDEMPOTENCY_SCHEMES = ['claim-then-complete', 'read-then-complete'] as const;
export type IdempotencyScheme = (typeof IDEMPOTENCY_SCHEMES)[number];
