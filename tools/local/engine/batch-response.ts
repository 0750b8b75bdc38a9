/**
 * How an event source mapping with `ReportBatchItemFailures` reads a function's response (AWS documentation,
 * "Implementing partial batch responses" for SQS and "Configuring partial batch response" for Kinesis):
 *
 * - complete success: a null or empty response, or a null or empty `batchItemFailures` list;
 * - complete failure: anything it cannot use: a `batchItemFailures` that is not a list, an item without an
 *   `itemIdentifier` (a wrong key name), an empty or null `itemIdentifier`, or one that names no record of the
 *   batch (an SQS message id or Kinesis sequence number that is not in it);
 * - otherwise a partial failure naming the failed items.
 */
export type BatchResponse =
  | { readonly kind: 'success' }
  | { readonly kind: 'partial'; readonly failedItemIds: readonly string[] }
  | { readonly kind: 'invalid'; readonly reason: string };

export function readBatchResponse(payload: unknown, itemIds: ReadonlySet<string>): BatchResponse {
  if (payload === undefined || payload === null) return { kind: 'success' };
  if (typeof payload !== 'object' || Array.isArray(payload)) {
    return { kind: 'invalid', reason: `the response is ${describe(payload)}, not an object` };
  }
  const failures = (payload as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return { kind: 'success' };
  if (!Array.isArray(failures)) {
    return { kind: 'invalid', reason: `batchItemFailures is ${describe(failures)}, not a list` };
  }
  const failed: string[] = [];
  for (const [index, item] of failures.entries()) {
    if (typeof item !== 'object' || item === null || !('itemIdentifier' in item)) {
      return { kind: 'invalid', reason: `batchItemFailures[${index}] has no itemIdentifier` };
    }
    const id = (item as { itemIdentifier: unknown }).itemIdentifier;
    if (typeof id !== 'string' || id === '') {
      return { kind: 'invalid', reason: `batchItemFailures[${index}].itemIdentifier is ${describe(id)}` };
    }
    if (!itemIds.has(id)) {
      return {
        kind: 'invalid',
        reason: `batchItemFailures[${index}].itemIdentifier "${id}" is not in the batch`,
      };
    }
    failed.push(id);
  }
  return failed.length === 0 ? { kind: 'success' } : { kind: 'partial', failedItemIds: [...new Set(failed)] };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === '') return 'an empty string';
  if (Array.isArray(value)) return 'a list';
  return `a ${typeof value}`;
}
