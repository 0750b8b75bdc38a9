/**
 * A model of the three handlers, in the engine, for runs too large for the real bundles (the 10,000-record
 * property tests). It does what the real handlers do, as seen from the Lambda service:
 *
 * - SQS: every record on its own (Powertools `BatchProcessor`), failures in `batchItemFailures` (`messageId`),
 *   all failed → `FullBatchFailureError` (the whole batch fails);
 * - object: one SNS record per invocation; any failure throws;
 * - stream: records one after the other; a failed record holds back the later records of its partition key
 *   in the batch; failures by sequence number; all failed → the whole batch fails.
 *
 * Per record: a poison record always fails; a record fails while DynamoDB is unavailable (the idempotency
 * claim cannot be written) or while its transient failures last; otherwise the side effect happens once per
 * record, guarded by an in-memory idempotency store that expires like Powertools' (IDEMPOTENCY_EXPIRY_SECONDS).
 *
 * What it does not model: Powertools' in-progress records (an invocation runs atomically at its start time,
 * so two invocations never hold the same key at once), and anything the handlers do beyond this contract.
 */
import type { FunctionCode, FunctionInvocation, FunctionResult } from './engine/lambda';
import type { FaultPlan } from './faults';

const DEFAULT_EXPIRY_SECONDS = 3600;

interface EventRecord {
  readonly messageId?: string;
  readonly kinesis?: { readonly sequenceNumber: string; readonly partitionKey: string };
}

export interface ModelOptions {
  /**
   * `partial` (default): report failed records in `batchItemFailures`, as the handlers do.
   * `throw`: process records in order and throw at the first failure, like the function of the seeds' walk-through
   * (for mappings without `ReportBatchItemFailures`).
   */
  readonly failureMode?: 'partial' | 'throw';
}

export function modelFunction(faults: FaultPlan, options: ModelOptions = {}): FunctionCode {
  const throwAtFirstFailure = options.failureMode === 'throw';
  /** Idempotency records: key (the logical record) → expiry (epoch ms). */
  const completed = new Map<string, number>();

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

      const processOne = (recordId: string): string | undefined => {
        if (faults.isPoison(recordId)) return 'InvalidPayloadError: payload does not match the schema';
        if (faults.dynamoDbUnavailable(invocation.startedAt)) {
          return 'IdempotencyPersistenceLayerError: Failed to save in progress record to idempotency store';
        }
        if (faults.failsTransiently(recordId, invocation.seq)) {
          return 'IdempotencyPersistenceLayerError: Failed to save in progress record to idempotency store';
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
          const error = failedKeys.has(key) ? 'EarlierRecordFailedError' : processOne(recordId);
          if (error) {
            failedKeys.add(key);
            failures.push(record.kinesis!.sequenceNumber);
          }
        } else {
          const error = processOne(recordId);
          if (error) failures.push(invocation.path === 'object' ? error : (record.messageId ?? recordId));
        }
      }

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
