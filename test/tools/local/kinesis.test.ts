/**
 * The Kinesis event source mapping, checked against statements of the AWS documentation ("Configuring partial
 * batch response with Kinesis Data Streams and Lambda", "Retain discarded batch records for a Kinesis Data
 * Streams event source in Lambda") and the seeds. Each test quotes the statement it checks.
 */
import type { KinesisEventSourceMappingConfig } from '../../../tools/local/engine/config';
import { scriptedFunction, type ScriptedHandler } from '../../../tools/local/engine/functions';
import { partitionKeyHash } from '../../../tools/local/engine/kinesis';
import { Simulation } from '../../../tools/local/engine/simulation';
import { FaultPlan } from '../../../tools/local/faults';
import { kinesisConfig, STREAM_ARN } from './config-fixtures';

interface Put {
  readonly id: string;
  readonly key: string;
  readonly at?: number;
}

async function run(
  handler: ScriptedHandler,
  puts: readonly Put[],
  options: {
    mapping?: Partial<KinesisEventSourceMappingConfig>;
    shards?: number;
    retentionHours?: number;
    faults?: FaultPlan;
    untilMs?: number;
    invocationMs?: number;
  } = {},
) {
  const sim = new Simulation(
    kinesisConfig(options.mapping, {
      shardCount: options.shards ?? 1,
      retentionHours: options.retentionHours ?? 24,
    }),
    {
      seed: 'kinesis',
      ...(options.faults && { faults: options.faults }),
      ...(options.invocationMs && { duration: { baseMs: options.invocationMs, perRecordMs: 0, jitter: 0 } }),
    },
  );
  const fn = scriptedFunction(handler);
  sim.setFunctionCode('stream-consumer', fn);
  for (const put of puts)
    sim.putRecord(STREAM_ARN, put.key, JSON.stringify({ id: put.id }), put.id, put.at ?? 0);
  await sim.run({ untilMs: options.untilMs ?? 48 * 3_600_000 });
  return { sim, fn };
}

const records = (n: number, key = 'k', at = 0): Put[] =>
  Array.from({ length: n }, (_, i) => ({ id: `r${i + 1}`, key, at }));
const succeed: ScriptedHandler = (i) => ({ returns: null, sideEffects: i.recordIds });
const sequenceNumbers = (i: { event: unknown }) =>
  (i.event as { Records: { kinesis: { sequenceNumber: string } }[] }).Records.map(
    (r) => r.kinesis.sequenceNumber,
  );

/** Fails the listed records (partial batch response), succeeds the others. */
const partial =
  (bad: (recordId: string) => boolean): ScriptedHandler =>
  (i) => {
    const seqs = sequenceNumbers(i);
    const failed = i.recordIds.flatMap((id, index) => (bad(id) ? [{ itemIdentifier: seqs[index] }] : []));
    return { returns: { batchItemFailures: failed }, sideEffects: i.recordIds.filter((id) => !bad(id)) };
  };

describe('Kinesis event source mapping', () => {
  it('puts a record on the shard whose hash key range holds the MD5 of its partition key', async () => {
    const keys = Array.from({ length: 40 }, (_, i) => `sensor-${i}`);
    const { sim } = await run(
      succeed,
      keys.map((key, i) => ({ id: `r${i}`, key })),
      { shards: 4 },
    );
    const stream = sim.streams.get(STREAM_ARN)!;
    for (const shard of stream.shards) {
      for (const record of shard.records) {
        const hash = partitionKeyHash(record.partitionKey);
        expect(hash >= shard.startingHashKey && hash <= shard.endingHashKey).toBe(true);
      }
    }
    expect(stream.shards.filter((s) => s.records.length > 0).length).toBe(4);
  });

  it('"need to maintain record order per shard": every shard is handed over in sequence-number order', async () => {
    const puts = Array.from({ length: 400 }, (_, i) => ({ id: `r${i}`, key: `sensor-${i % 23}`, at: i * 7 }));
    const { fn } = await run(succeed, puts, { shards: 3, mapping: { batchSize: 10 } });
    const byShard = new Map<string, bigint[]>();
    for (const call of fn.calls) {
      const shardId = call.recordIds.length
        ? (call.event as { Records: { eventID: string }[] }).Records[0].eventID.split(':')[0]
        : '';
      byShard.set(shardId, [...(byShard.get(shardId) ?? []), ...sequenceNumbers(call).map(BigInt)]);
    }
    for (const seqs of byShard.values()) expect(seqs).toEqual([...seqs].sort((a, b) => (a < b ? -1 : 1)));
    expect([...byShard.values()].flat()).toHaveLength(400);
  });

  it('"Lambda won\'t process any new records from that shard until the batch succeeds or expires" (default settings)', async () => {
    // Default: MaximumRetryAttempts -1, no maximum age: the bad batch is retried until it leaves the stream.
    const puts = [...records(3, 'a'), { id: 'later', key: 'a', at: 1000 }];
    const { sim } = await run(
      (i) => (i.recordIds.includes('r2') ? { throws: new Error('bad') } : succeed(i)),
      puts,
      {
        retentionHours: 1,
        invocationMs: 2000,
        mapping: { onFailureDestinationArn: undefined },
      },
    );
    const laterAt = sim.trace.invocations.find((i) => i.recordIds.includes('later'))!.startedAt;
    const retries = sim.trace.invocations.filter((i) => i.recordIds.includes('r2'));
    expect(retries.length).toBeGreaterThan(1000); // one hour of back-to-back two-second attempts
    // Blocked for the whole retention period, then the records expired and the shard moved on.
    expect(laterAt).toBeGreaterThanOrEqual(3_600_000);
    const expired = sim.trace.events.filter((e) => e.kind === 'expired').flatMap((e) => e.recordIds);
    expect(expired).toEqual(['r1', 'r2', 'r3']);
  });

  it('"retries until the records ... reach the configured retry quota (MaximumRetryAttempts)", then the whole batch goes to the destination (no bisect)', async () => {
    const { sim } = await run(
      (i) => (i.recordIds.includes('r2') ? { throws: new Error('bad') } : succeed(i)),
      records(4),
      {
        mapping: { maximumRetryAttempts: 3 },
      },
    );
    expect(sim.trace.invocations.map((i) => i.recordIds.length)).toEqual([4, 4, 4, 4]);
    expect(sim.trace.sinks).toHaveLength(1);
    expect(sim.trace.sinks[0]).toMatchObject({
      recordIds: ['r1', 'r2', 'r3', 'r4'],
      condition: 'RetryAttemptsExhausted',
    });
    expect(sim.trace.sinks[0].message).toMatchObject({
      requestContext: { approximateInvokeCount: 4 },
      KinesisBatchInfo: { batchSize: 4 },
    });
  });

  it('"MaximumRecordAgeInSeconds – discard records older than the specified age": RecordAgeExceeded', async () => {
    const { sim } = await run(() => ({ throws: new Error('down') }), records(2), {
      mapping: { maximumRecordAgeSeconds: 60 },
    });
    expect(sim.trace.sinks).toHaveLength(1);
    expect(sim.trace.sinks[0]).toMatchObject({ condition: 'RecordAgeExceeded', recordIds: ['r1', 'r2'] });
    const last = sim.trace.invocations.at(-1)!;
    expect(last.startedAt).toBeLessThanOrEqual(60_000);
    expect(sim.trace.sinks[0].at).toBeGreaterThan(60_000);
  });

  it('"Lambda uses the record with the lowest sequence number as the checkpoint. Lambda then retries all records starting from that checkpoint."', async () => {
    let first = true;
    const { sim } = await run(
      (i) => {
        if (!first) return succeed(i);
        first = false;
        return partial((id) => id === 'r3' || id === 'r5')(i);
      },
      records(6),
      { mapping: { reportBatchItemFailures: true } },
    );
    expect(sim.trace.invocations.map((i) => i.recordIds)).toEqual([
      ['r1', 'r2', 'r3', 'r4', 'r5', 'r6'],
      ['r3', 'r4', 'r5', 'r6'],
    ]);
    expect(sim.trace.invocations[1].reason).toBe('retry');
  });

  it('"the batch is bisected at the returned sequence number and Lambda retries only the remaining records" (bisect and partial responses)', async () => {
    const { sim } = await run(
      partial((id) => id === 'r4'),
      records(6),
      {
        mapping: { reportBatchItemFailures: true, bisectBatchOnFunctionError: true, maximumRetryAttempts: 1 },
      },
    );
    // Split at r4, not counted as a retry; then r4 heads the batch: retried (1), then the rest is discarded.
    expect(sim.trace.invocations.map((i) => [i.recordIds.join(','), i.reason])).toEqual([
      ['r1,r2,r3,r4,r5,r6', 'new'],
      ['r4,r5,r6', 'after-partial-failure'],
      ['r4,r5,r6', 'retry'],
    ]);
    expect(sim.trace.sinks[0]).toMatchObject({
      recordIds: ['r4', 'r5', 'r6'],
      condition: 'RetryAttemptsExhausted',
    });
  });

  it('"If the invocation fails and BisectBatchOnFunctionError is turned on, the batch is bisected regardless of your ReportBatchItemFailures setting"', async () => {
    const { sim } = await run(
      (i) => (i.recordIds.includes('r4') ? { throws: new Error('bad') } : succeed(i)),
      records(8),
      {
        mapping: { reportBatchItemFailures: true, bisectBatchOnFunctionError: true, maximumRetryAttempts: 0 },
      },
    );
    // 8 → 4 (r1-r4) → 2 (r1, r2: ok) → 2 (r3, r4) → 1 (r3: ok) → 1 (r4: fails, no retry left) → 4 (r5-r8)
    expect(sim.trace.invocations.map((i) => i.recordIds.length)).toEqual([8, 4, 2, 2, 1, 1, 4]);
    expect(sim.trace.sinks.map((s) => s.recordIds)).toEqual([['r4']]);
  });

  it.each([
    ['a sequence number that is not in the batch', { batchItemFailures: [{ itemIdentifier: '1' }] }],
    ['an empty itemIdentifier', { batchItemFailures: [{ itemIdentifier: '' }] }],
    ['a wrong key name', { batchItemFailures: [{ sequenceNumber: '1' }] }],
  ])('"Lambda treats a batch as a complete failure" for %s', async (_, response) => {
    let first = true;
    const { sim } = await run(
      (i) => {
        if (!first) return succeed(i);
        first = false;
        return { returns: response };
      },
      records(3),
      { mapping: { reportBatchItemFailures: true } },
    );
    expect(sim.trace.invocations.map((i) => [i.outcome, i.recordIds.length])).toEqual([
      ['invalid-response', 3],
      ['success', 3],
    ]);
  });

  it('"Even when your function code returns partial batch failure responses, these responses will not be processed by Lambda unless the ReportBatchItemFailures feature is explicitly turned on"', async () => {
    const { sim } = await run(
      partial((id) => id === 'r2'),
      records(3),
      { mapping: { reportBatchItemFailures: false } },
    );
    expect(sim.trace.invocations).toHaveLength(1);
    expect(sim.trace.invocations[0].outcome).toBe('success');
  });

  it('"ParallelizationFactor – Process multiple batches from each shard concurrently", in order per partition key', async () => {
    const puts = Array.from({ length: 200 }, (_, i) => ({ id: `r${i}`, key: `sensor-${i % 10}`, at: i * 5 }));
    const { sim, fn } = await run(succeed, puts, { mapping: { parallelizationFactor: 4, batchSize: 5 } });
    const lanes = new Set(sim.trace.invocations.map((i) => i.lane));
    expect(lanes.size).toBe(4);
    // Concurrent batches from the one shard.
    const overlapping = sim.trace.invocations.some((a) =>
      sim.trace.invocations.some((b) => a !== b && a.startedAt < b.endedAt && b.startedAt < a.endedAt),
    );
    expect(overlapping).toBe(true);
    const order = fn.calls.flatMap((c) => c.recordIds);
    for (let k = 0; k < 10; k += 1) {
      const ofKey = order.filter((id) => Number(id.slice(1)) % 10 === k).map((id) => Number(id.slice(1)));
      expect(ofKey).toEqual([...ofKey].sort((a, b) => a - b));
    }
  });

  it('"If a Lambda event source mapping is unable to invoke the function due to throttling ... it retries until the records expire or exceed the maximum age", without using retry attempts', async () => {
    const faults = new FaultPlan().addThrottle({
      functionId: 'stream-consumer',
      fromMs: 0,
      toMs: 30_000,
      concurrency: 0,
    });
    const { sim } = await run(succeed, records(3), { faults, mapping: { maximumRetryAttempts: 0 } });
    expect(sim.trace.events.filter((e) => e.kind === 'throttled').length).toBeGreaterThan(3);
    expect(sim.trace.invocations).toHaveLength(1);
    expect(sim.trace.invocations[0]).toMatchObject({ outcome: 'success', attempt: 1 });
    expect(sim.trace.sinks).toHaveLength(0);
  });

  it('"the potential for a record to be processed multiple times": a function without idempotency repeats the first two records\' side effects', async () => {
    // The seeds' walk-through again, with a function that does its work record by record and stops at the bad
    // one, like a real handler: "the first two records are processed before the function returns an error".
    const { sim } = await run(
      (i) => {
        const bad = i.recordIds.indexOf('r3');
        return bad < 0
          ? succeed(i)
          : { throws: new Error('bad record'), sideEffects: i.recordIds.slice(0, bad) };
      },
      records(10),
      { mapping: { batchSize: 10, bisectBatchOnFunctionError: true, maximumRetryAttempts: 2 } },
    );
    const effects = new Map<string, number>();
    for (const e of sim.trace.sideEffects) effects.set(e.recordId, (effects.get(e.recordId) ?? 0) + 1);
    expect(effects.get('r1')).toBe(3);
    expect(effects.get('r2')).toBe(3);
    expect(effects.get('r3')).toBeUndefined();
  });

  it('a timeout stops what the stream handler would not have reached: the hanging record and the later records of its key, not other keys', async () => {
    // The stream handler runs partition keys concurrently and each key in order (lambda/stream-consumer/handler.ts),
    // so when one record hangs, the other keys' records finish before the invocation times out.
    const faults = new FaultPlan().addHang('a2', 1);
    const puts: Put[] = [
      { id: 'a1', key: 'a' },
      { id: 'b1', key: 'b' },
      { id: 'a2', key: 'a' },
      { id: 'b2', key: 'b' },
      { id: 'a3', key: 'a' },
      { id: 'b3', key: 'b' },
    ];
    const { sim, fn } = await run(succeed, puts, { faults, mapping: { batchSize: 6 } });
    expect(sim.trace.invocations[0].outcome).toBe('timeout');
    // The function was handed the records it got to before the timeout: a1 and every record of key b.
    expect(fn.calls[0].recordIds).toEqual(['a1', 'b1', 'b2', 'b3']);
    const firstEffects = sim.trace.sideEffects.filter(
      (e) => e.invocationSeq === sim.trace.invocations[0].seq,
    );
    expect(firstEffects.map((e) => e.recordId)).toEqual(['a1', 'b1', 'b2', 'b3']);
  });
});
