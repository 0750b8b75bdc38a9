/**
 * A DynamoDB table's stream and its event source mapping (tools/local/engine/dynamodb-streams.ts, on the stream
 * mapping shared with Kinesis, engine/stream-mapping.ts), checked against statements of the AWS documentation:
 * "Change data capture for DynamoDB Streams", "DynamoDB Streams and Time to Live", the Lambda developer guide's
 * "Control which events Lambda sends to your function" and "Retain discarded records for a DynamoDB event source".
 * Each test quotes the statement it checks. The seeds' bisect walk-through runs on the table's stream too: the
 * stream semantics are the Kinesis engine's, shared, not copied.
 */
import type { DynamoDbTableConfig, StreamEventSourceMappingConfig } from '../../../tools/local/engine/config';
import type { Item } from '../../../tools/local/engine/dynamodb-streams';
import { scriptedFunction, type ScriptedHandler } from '../../../tools/local/engine/functions';
import type { FunctionInvocation } from '../../../tools/local/engine/lambda';
import { Simulation } from '../../../tools/local/engine/simulation';
import { FaultPlan } from '../../../tools/local/faults';
import {
  DEPLOYED_TABLE_STREAM_FILTERS,
  TABLE_ARN,
  TABLE_STREAM_ARN,
  TABLE_STREAM_DESTINATION_ARN,
  tableStreamConfig,
} from './config-fixtures';

interface Write {
  readonly id: string;
  readonly item?: Item;
  /** A deletion of the item with this key instead of a write. */
  readonly remove?: Item;
  readonly byTimeToLive?: boolean;
  readonly at?: number;
  readonly onlyIfLastWrittenBy?: string;
}

interface DdbRecord {
  readonly eventID: string;
  readonly eventName: string;
  readonly eventSource: string;
  readonly eventSourceARN: string;
  readonly userIdentity?: { readonly type: string; readonly principalId: string };
  readonly dynamodb: {
    readonly Keys: Record<string, unknown>;
    readonly NewImage?: Record<string, unknown>;
    readonly OldImage?: Record<string, unknown>;
    readonly SequenceNumber: string;
    readonly StreamViewType: string;
  };
}
const recordsOf = (i: FunctionInvocation) => (i.event as { Records: DdbRecord[] }).Records;

const succeed: ScriptedHandler = (i) => ({ returns: null, sideEffects: i.recordIds });

async function run(
  writes: readonly Write[],
  handler: ScriptedHandler = succeed,
  options: {
    mapping?: Partial<StreamEventSourceMappingConfig>;
    table?: Partial<DynamoDbTableConfig>;
    faults?: FaultPlan;
    invocationMs?: number;
    untilMs?: number;
  } = {},
) {
  const sim = new Simulation(tableStreamConfig(options.mapping, options.table), {
    seed: 'table-stream',
    ...(options.faults && { faults: options.faults }),
    ...(options.invocationMs && { duration: { baseMs: options.invocationMs, perRecordMs: 0, jitter: 0 } }),
  });
  const fn = scriptedFunction(handler);
  sim.setFunctionCode('table-stream-consumer', fn);
  const unwritten: string[] = [];
  for (const w of writes) {
    const note = (result: { kind: string }) => {
      if (result.kind !== 'written') unwritten.push(`${w.id}: ${result.kind}`);
    };
    if (w.remove) {
      sim.deleteItem(TABLE_ARN, w.remove, w.id, w.at ?? 0, note, { byTimeToLive: w.byTimeToLive ?? false });
    } else {
      sim.putItem(TABLE_ARN, w.item!, w.id, w.at ?? 0, note, {
        ...(w.onlyIfLastWrittenBy !== undefined && { onlyIfLastWrittenBy: w.onlyIfLastWrittenBy }),
      });
    }
  }
  await sim.run({ untilMs: options.untilMs ?? 48 * 3_600_000 });
  return { sim, fn, unwritten };
}

const stock = (sku: string, quantity: number): Item => ({ pk: sku, warehouse: 'wh-1', quantity });

describe('DynamoDB Streams and its event source mapping', () => {
  it('"Whenever an application creates, updates, or deletes items in the table, DynamoDB Streams writes a stream record with the primary key attributes of the items that were modified", with the images of NEW_AND_OLD_IMAGES', async () => {
    const { fn } = await run([
      { id: 'w1', item: stock('sku-1', 5) },
      { id: 'w2', item: stock('sku-1', 7), at: 1 },
      { id: 'w3', remove: { pk: 'sku-1' }, at: 2 },
    ]);
    const records = fn.calls.flatMap(recordsOf);
    expect(records.map((r) => r.eventName)).toEqual(['INSERT', 'MODIFY', 'REMOVE']);
    const [insert, modify, remove] = records;
    expect(insert).toMatchObject({
      eventSource: 'aws:dynamodb',
      eventSourceARN: TABLE_STREAM_ARN,
      dynamodb: {
        Keys: { pk: { S: 'sku-1' } },
        NewImage: { pk: { S: 'sku-1' }, warehouse: { S: 'wh-1' }, quantity: { N: '5' } },
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    });
    expect(insert.dynamodb.OldImage).toBeUndefined();
    expect(modify.dynamodb.OldImage).toEqual(insert.dynamodb.NewImage);
    expect(modify.dynamodb.NewImage).toMatchObject({ quantity: { N: '7' } });
    expect(remove.dynamodb.NewImage).toBeUndefined();
    expect(remove.dynamodb.OldImage).toEqual(modify.dynamodb.NewImage);
    // eventID: unique per change; SequenceNumber: 21 to 40 digits.
    expect(new Set(records.map((r) => r.eventID)).size).toBe(3);
    for (const r of records) expect(r.dynamodb.SequenceNumber).toMatch(/^\d{21,40}$/);
  });

  it.each([
    ['KEYS_ONLY', false, false],
    ['NEW_IMAGE', true, false],
    ['OLD_IMAGE', false, true],
  ] as const)('a %s stream keeps only the images its view type names', async (view, newImage, oldImage) => {
    const { fn } = await run(
      [
        { id: 'w1', item: stock('sku-1', 5) },
        { id: 'w2', item: stock('sku-1', 7), at: 1 },
      ],
      succeed,
      { table: { streamViewType: view } },
    );
    const modify = fn.calls.flatMap(recordsOf)[1];
    expect([
      modify.dynamodb.StreamViewType,
      'NewImage' in modify.dynamodb,
      'OldImage' in modify.dynamodb,
    ]).toEqual([view, newImage, oldImage]);
  });

  it('"Each stream record appears exactly once in the stream" and "for each item ... the stream records appear in the same sequence as the actual modifications to the item": one shard per item, sequence numbers growing', async () => {
    const writes = Array.from({ length: 120 }, (_, k) => ({
      id: `w${k + 1}`,
      item: stock(`sku-${k % 9}`, k),
      at: k * 10,
    }));
    const { sim, fn } = await run(writes, succeed, {
      table: { streamShardCount: 4 },
      mapping: { batchSize: 7 },
    });
    const table = sim.tables.get(TABLE_ARN)!;
    const all = table.stream!.shards.flatMap((s) => s.records);
    expect(all.map((r) => r.recordId).sort()).toEqual(writes.map((w) => w.id).sort());
    for (let sku = 0; sku < 9; sku += 1) {
      const ofItem = all.filter((r) => r.partitionKey === `pk=sku-${sku}`);
      expect(new Set(ofItem.map((r) => r.shardId)).size).toBe(1);
      // In the order of the writes, with growing sequence numbers; handed to the function in that order.
      expect(ofItem.map((r) => r.recordId)).toEqual(
        writes.filter((w) => w.item.pk === `sku-${sku}`).map((w) => w.id),
      );
      const seqs = ofItem.map((r) => r.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => (a < b ? -1 : 1)));
      const handed = fn.calls
        .flatMap((c) => c.recordIds)
        .filter((id) => ofItem.some((r) => r.recordId === id));
      expect(handed).toEqual(ofItem.map((r) => r.recordId));
    }
    expect(table.stream!.shards.filter((s) => s.records.length > 0).length).toBeGreaterThan(1);
  });

  it('a write "that does not change any data in an item" writes no stream record, nor does deleting an item that is not there, nor a conditional write refused', async () => {
    const { fn, unwritten } = await run([
      { id: 'w1', item: stock('sku-1', 5) },
      // The producer retries: the same item again.
      { id: 'w1', item: stock('sku-1', 5), at: 1, onlyIfLastWrittenBy: 'w1' },
      { id: 'w2', item: stock('sku-1', 6), at: 2 },
      // A retry of w1 after w2: refused, the item changed since.
      { id: 'w1', item: stock('sku-1', 5), at: 3, onlyIfLastWrittenBy: 'w1' },
      { id: 'w3', remove: { pk: 'sku-2' }, at: 4 },
    ]);
    expect(fn.calls.flatMap((c) => c.recordIds)).toEqual(['w1', 'w2']);
    expect(unwritten).toEqual(['w1: unchanged', 'w1: condition-failed', 'w3: unchanged']);
  });

  it('"All data in DynamoDB Streams is subject to a 24-hour lifetime": with retries until the records expire, a failing change blocks its shard for 24 hours, then is gone', async () => {
    const { sim } = await run(
      [
        { id: 'bad', item: stock('sku-1', 1) },
        { id: 'later', item: stock('sku-2', 1), at: 2 * 3_600_000 },
      ],
      (i) => (i.recordIds.includes('bad') ? { throws: new Error('bad') } : succeed(i)),
      { invocationMs: 60_000, mapping: { onFailureDestinationArn: undefined } },
    );
    const expired = sim.trace.events.filter((e) => e.kind === 'expired');
    expect(expired.flatMap((e) => e.recordIds)).toEqual(['bad']);
    expect(expired[0].detail).toContain('retention 24 h');
    const later = sim.trace.invocations.find((i) => i.recordIds.includes('later'))!;
    expect(later.startedAt).toBeGreaterThanOrEqual(24 * 3_600_000);
  });

  it('"If none of your filters are satisfied, Lambda discards the record": with the deployed filters (INSERT, MODIFY), deletions never invoke the function', async () => {
    const { sim, fn } = await run(
      [
        { id: 'w1', item: stock('sku-1', 5) },
        { id: 'w2', item: stock('sku-1', 6), at: 1 },
        { id: 'gone', remove: { pk: 'sku-1' }, byTimeToLive: true, at: 2 },
        { id: 'w3', item: stock('sku-1', 8), at: 3 },
      ],
      succeed,
      { mapping: { filters: DEPLOYED_TABLE_STREAM_FILTERS } },
    );
    expect(fn.calls.flatMap(recordsOf).map((r) => r.eventName)).toEqual(['INSERT', 'MODIFY', 'INSERT']);
    const filtered = sim.trace.events.filter((e) => e.kind === 'filtered');
    expect(filtered.flatMap((e) => e.recordIds)).toEqual(['gone']);
  });

  it('without filters, a deletion by time to live reaches the function as a REMOVE whose userIdentity is { type: "Service", principalId: "dynamodb.amazonaws.com" }', async () => {
    const { fn } = await run([
      { id: 'w1', item: stock('sku-1', 5) },
      { id: 'gone', remove: { pk: 'sku-1' }, byTimeToLive: true, at: 2 },
      { id: 'w2', item: stock('sku-2', 5), at: 3 },
      { id: 'deleted', remove: { pk: 'sku-2' }, at: 4 },
    ]);
    const [, ttl, , deleted] = fn.calls.flatMap(recordsOf);
    expect(ttl).toMatchObject({
      eventName: 'REMOVE',
      userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' },
    });
    expect(deleted.eventName).toBe('REMOVE');
    expect(deleted.userIdentity).toBeUndefined();
  });

  it('the on-failure record carries "DDBStreamBatchInfo" (shard, sequence range, arrivals, batch size, stream ARN) where Kinesis\'s carries KinesisBatchInfo', async () => {
    const { sim } = await run(
      [
        { id: 'w1', item: stock('sku-1', 5) },
        { id: 'w2', item: stock('sku-1', 6) },
      ],
      () => ({ throws: new Error('always') }),
      { mapping: { maximumRetryAttempts: 1 } },
    );
    expect(sim.trace.sinks).toHaveLength(1);
    const [sink] = sim.trace.sinks;
    expect(sink).toMatchObject({
      path: 'table-stream',
      kind: 'on-failure-destination',
      targetArn: TABLE_STREAM_DESTINATION_ARN,
      recordIds: ['w1', 'w2'],
      condition: 'RetryAttemptsExhausted',
    });
    const message = sink.message as Record<string, Record<string, unknown>>;
    const shard = sim.tables.get(TABLE_ARN)!.stream!.shards[0];
    expect(message.KinesisBatchInfo).toBeUndefined();
    expect(message.DDBStreamBatchInfo).toEqual({
      shardId: shard.shardId,
      startSequenceNumber: shard.records[0].sequenceNumber,
      endSequenceNumber: shard.records[1].sequenceNumber,
      approximateArrivalOfFirstRecord: '2025-01-01T00:00:00.000Z',
      approximateArrivalOfLastRecord: '2025-01-01T00:00:00.000Z',
      batchSize: 2,
      streamArn: TABLE_STREAM_ARN,
    });
    expect(shard.shardId).toMatch(/^shardId-\d{20}-[0-9a-f]{8}$/);
    expect(message.requestContext).toMatchObject({
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: 2,
    });
  });

  it("the seeds' bisect walk-through holds on the table's stream as on Kinesis: 10 → 5 → 2 → 3 → 1 (×3) → 2 → 5", async () => {
    const { sim } = await run(
      Array.from({ length: 10 }, (_, k) => ({ id: `r${k + 1}`, item: stock('sku-1', k + 1) })),
      (i) => (i.recordIds.includes('r3') ? { throws: new Error('r3') } : succeed(i)),
      { mapping: { batchSize: 10, bisectBatchOnFunctionError: true, maximumRetryAttempts: 2 } },
    );
    expect(sim.trace.invocations.map((i) => i.recordIds.join(','))).toEqual([
      'r1,r2,r3,r4,r5,r6,r7,r8,r9,r10',
      'r1,r2,r3,r4,r5',
      'r1,r2',
      'r3,r4,r5',
      'r3',
      'r3',
      'r3',
      'r4,r5',
      'r6,r7,r8,r9,r10',
    ]);
    expect(sim.trace.sinks.map((s) => [s.recordIds, s.condition])).toEqual([
      [['r3'], 'RetryAttemptsExhausted'],
    ]);
  });

  it('with ReportBatchItemFailures, "Lambda retries the batch from the lowest failed sequence number" on the table\'s stream too', async () => {
    let first = true;
    const { sim } = await run(
      Array.from({ length: 5 }, (_, k) => ({ id: `r${k + 1}`, item: stock(`sku-${k}`, 1) })),
      (i) => {
        if (!first) return succeed(i);
        first = false;
        const failed = recordsOf(i)[2].dynamodb.SequenceNumber;
        return {
          returns: { batchItemFailures: [{ itemIdentifier: failed }] },
          sideEffects: i.recordIds.slice(0, 2),
        };
      },
      { mapping: { reportBatchItemFailures: true } },
    );
    expect(sim.trace.invocations.map((i) => i.recordIds.join(','))).toEqual(['r1,r2,r3,r4,r5', 'r3,r4,r5']);
  });
});
