/**
 * A model of the handlers, in the engine, for runs too large for the real bundles (the 10,000-record property
 * tests). It does what the real handlers do, as seen from the Lambda service:
 *
 * - SQS: every record on its own (Powertools `BatchProcessor`), failures in `batchItemFailures` (`messageId`),
 *   all failed → `FullBatchFailureError` (the whole batch fails);
 * - FIFO: records one after the other (`SqsFifoPartialProcessorAsync` with `skipGroupOnError`): after a failure,
 *   the later records of its message group fail without running, other groups go on; all failed → the whole batch
 *   fails;
 * - object: one SNS record per invocation; any failure throws;
 * - stream: records one after the other; a record that failed for a reason that may pass holds back the later
 *   records of its partition key in the batch, a poison record (invalid: it can never pass) fails alone;
 *   failures by sequence number; all failed → the whole batch fails;
 * - table stream: as the stream, per item key (`dynamodb.Keys`); a change whose old image is a poison write's item
 *   fails as invalid too; a deletion by time to live applies nothing and succeeds.
 *
 * Per record: a poison record always fails; a record fails while DynamoDB is unavailable (the idempotency
 * claim cannot be written) or while its transient failures last; otherwise the side effect happens once per
 * record, guarded by an in-memory idempotency store that expires like Powertools' (IDEMPOTENCY_EXPIRY_SECONDS).
 *
 * What it does not model: Powertools' in-progress records (an invocation runs atomically at its start time,
 * so two invocations never hold the same key at once), and anything the handlers do beyond this contract.
 *
 * `streamIdempotency: 'high-water-mark-per-batch'` swaps the stream's per-record idempotency for a scheme the
 * template rejected, so tests can show why: per shard and partition key, the highest sequence number applied,
 * written once at the end of each invocation; a record at or below the mark is skipped. It recognises Lambda's
 * re-deliveries (same positions) but not a producer's duplicate (same reading, a new position).
 */
import type { FunctionCode, FunctionInvocation, FunctionResult } from './engine/lambda';
import type { FaultPlan } from './faults';

const DEFAULT_EXPIRY_SECONDS = 3600;

interface EventRecord {
  readonly messageId?: string;
  readonly attributes?: { readonly MessageGroupId?: string };
  /** Kinesis: `<shardId>:<sequenceNumber>`. */
  readonly eventID?: string;
  readonly kinesis?: { readonly sequenceNumber: string; readonly partitionKey: string };
  readonly dynamodb?: { readonly SequenceNumber: string; readonly Keys: unknown };
  readonly userIdentity?: { readonly principalId?: string };
}

export interface ModelOptions {
  /**
   * `partial` (default): report failed records in `batchItemFailures`, as the handlers do.
   * `throw`: process records in order and throw at the first failure, like the function of the seeds' walk-through
   * (for mappings without `ReportBatchItemFailures`).
   */
  readonly failureMode?: 'partial' | 'throw';
  /** Stream path only: `per-record` (default, what the handler does) or the rejected high-water mark. */
  readonly streamIdempotency?: 'per-record' | 'high-water-mark-per-batch';
}

export function modelFunction(faults: FaultPlan, options: ModelOptions = {}): FunctionCode {
  const throwAtFirstFailure = options.failureMode === 'throw';
  /** Idempotency records: key (the logical record) → expiry (epoch ms). */
  const completed = new Map<string, number>();
  const highWaterMarks = options.streamIdempotency === 'high-water-mark-per-batch';
  /** High-water marks: `<shard>|<partition key>` → highest sequence number applied. */
  const marks = new Map<string, bigint>();

  return {
    async invoke(invocation: FunctionInvocation): Promise<FunctionResult> {
      const expirySeconds = Number(
        invocation.function.environment.IDEMPOTENCY_EXPIRY_SECONDS ?? DEFAULT_EXPIRY_SECONDS,
      );
      const now = invocation.startEpochMs;
      const records = (invocation.event as { Records: EventRecord[] }).Records;
      const sideEffects: string[] = [];
      const failures: string[] = [];
      const failedKeys = new Set<string>();
      /** Marks reached in this invocation, written at its end (once per batch). */
      const pendingMarks = new Map<string, bigint>();

      /** `byPosition`: the caller has already decided by stream position; no per-record idempotency here. */
      const processOne = (recordId: string, byPosition = false): string | undefined => {
        if (faults.isPoison(recordId) || faults.hasInvalidOldImage(recordId))
          return 'InvalidPayloadError: payload does not match the schema';
        if (faults.dynamoDbUnavailable(invocation.startedAt)) {
          return 'IdempotencyPersistenceLayerError: Failed to save in progress record to idempotency store';
        }
        if (faults.failsTransiently(recordId, invocation.seq)) {
          return 'IdempotencyPersistenceLayerError: Failed to save in progress record to idempotency store';
        }
        if (byPosition) {
          sideEffects.push(recordId);
          return undefined;
        }
        const expiresAt = completed.get(recordId);
        if (expiresAt !== undefined && expiresAt > now) return undefined;
        completed.set(recordId, now + expirySeconds * 1000);
        sideEffects.push(recordId);
        return undefined;
      };

      for (const [index, record] of records.entries()) {
        const recordId = invocation.recordIds[index];
        if (throwAtFirstFailure) {
          const error = processOne(recordId);
          if (error) {
            const [errorType, ...message] = error.split(': ');
            return { outcome: { kind: 'threw', errorType, errorMessage: message.join(': ') }, sideEffects };
          }
          continue;
        }
        if (invocation.path === 'stream') {
          const key = record.kinesis!.partitionKey;
          if (highWaterMarks) {
            const markKey = `${record.eventID?.split(':')[0] ?? ''}|${key}`;
            const position = BigInt(record.kinesis!.sequenceNumber);
            if (!failedKeys.has(key) && position <= (marks.get(markKey) ?? -1n)) continue;
            const error = failedKeys.has(key) ? 'EarlierRecordFailedError' : processOne(recordId, true);
            if (error) {
              failedKeys.add(key);
              failures.push(record.kinesis!.sequenceNumber);
            } else {
              pendingMarks.set(markKey, position);
            }
            continue;
          }
          const error = failedKeys.has(key) ? 'EarlierRecordFailedError' : processOne(recordId);
          if (error) {
            // As the handler: an invalid (poison) record holds nothing back (isPermanentFailure).
            if (!faults.isPoison(recordId)) failedKeys.add(key);
            failures.push(record.kinesis!.sequenceNumber);
          }
        } else if (invocation.path === 'table-stream') {
          const key = JSON.stringify(record.dynamodb!.Keys);
          // A deletion by time to live: logged by the handler, nothing applied.
          if (record.userIdentity?.principalId === 'dynamodb.amazonaws.com') continue;
          const error = failedKeys.has(key) ? 'EarlierRecordFailedError' : processOne(recordId);
          if (error) {
            const permanent = faults.isPoison(recordId) || faults.hasInvalidOldImage(recordId);
            if (!permanent) failedKeys.add(key);
            failures.push(record.dynamodb!.SequenceNumber);
          }
        } else if (invocation.path === 'fifo') {
          const group = record.attributes?.MessageGroupId ?? '';
          const error = failedKeys.has(group) ? 'SqsFifoMessageGroupShortCircuitError' : processOne(recordId);
          if (error) {
            failedKeys.add(group);
            failures.push(record.messageId ?? recordId);
          }
        } else {
          const error = processOne(recordId);
          if (error) failures.push(invocation.path === 'object' ? error : (record.messageId ?? recordId));
        }
      }

      for (const [markKey, position] of pendingMarks) marks.set(markKey, position);

      if (invocation.path === 'object') {
        return failures.length > 0
          ? {
              outcome: { kind: 'threw', errorType: 'Error', errorMessage: failures.join(' | ') },
              sideEffects,
            }
          : { outcome: { kind: 'returned', payload: undefined }, sideEffects };
      }
      if (failures.length > 0 && failures.length === records.length) {
        return {
          outcome: {
            kind: 'threw',
            errorType: 'FullBatchFailureError',
            errorMessage: `All records failed processing. ${failures.length} individual errors logged separately below.`,
          },
          sideEffects,
        };
      }
      return {
        outcome: {
          kind: 'returned',
          payload: { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) },
        },
        sideEffects,
      };
    },
  };
}
