/**
 * Property-based tests (fast-check, seeded): 10,000 records per path and run, with random faults drawn from
 * the seed, through the simulated Lambda service and the in-engine model of the handlers (the real bundles
 * take about 15 ms per invocation against dynalite, too slow for this size; real-handlers.test.ts runs them on
 * a few hundred records). The invariants are the issue's:
 * - no record has its side effect twice;
 * - every record has its side effect, or sits in a dead-letter queue / destination that identifies it;
 * - poison records never succeed;
 * - stream side effects follow sequence-number order per shard and partition key (table stream: item key);
 * - FIFO side effects follow the order of each message group;
 * - with bisection on function errors, a poison record ends alone in the destination within ⌈log2(batch)⌉ splits.
 */
import fc from 'fast-check';
import type { SimulationConfig } from '../../../tools/local/engine/config';
import { runScenario } from '../../../tools/local/run';
import { parseScenario } from '../../../tools/local/scenario';
import {
  asyncConfig,
  DEPLOYED_TABLE_STREAM_FILTERS,
  deployedKinesisConfig,
  fifoConfig,
  kinesisConfig,
  sqsConfig,
  tableStreamConfig,
} from './config-fixtures';

const RECORDS = 10_000;

const faultsArbitrary = fc.record({
  seed: fc.integer({ min: 1, max: 1_000_000 }),
  poison: fc.integer({ min: 0, max: 40 }),
  transient: fc.integer({ min: 0, max: 120 }),
  failures: fc.integer({ min: 1, max: 4 }),
  timeouts: fc.integer({ min: 0, max: 10 }),
  duplicates: fc.integer({ min: 0, max: 200 }),
  outageStartSeconds: fc.integer({ min: 0, max: 60 }),
  outageSeconds: fc.integer({ min: 0, max: 90 }),
  throttleStartSeconds: fc.integer({ min: 0, max: 60 }),
  throttleSeconds: fc.integer({ min: 0, max: 30 }),
});

type Faults = typeof faultsArbitrary extends fc.Arbitrary<infer T> ? T : never;

type Path = 'sqs' | 'object' | 'stream' | 'fifo' | 'table-stream';

function scenarioOf(path: Path, f: Faults, rate: number) {
  return parseScenario({
    name: `property-${path}`,
    seed: f.seed,
    functions: 'model',
    maxDuration: '48h',
    ...(f.outageSeconds > 0 && {
      dynamodbOutages: [{ from: f.outageStartSeconds, to: f.outageStartSeconds + f.outageSeconds }],
    }),
    path,
    records: RECORDS,
    ratePerSecond: rate,
    partitionKeys: 50,
    ...(path === 'table-stream' && { expirations: Math.round(f.duplicates / 2) }),
    faults: {
      poison: f.poison,
      transient: { count: f.transient, failures: f.failures },
      timeouts: { count: f.timeouts, times: 1 },
      duplicates: { count: f.duplicates, after: 3 },
      ...(f.throttleSeconds > 0 && {
        throttle: [
          { from: f.throttleStartSeconds, to: f.throttleStartSeconds + f.throttleSeconds, concurrency: 1 },
        ],
      }),
    },
  });
}

async function checkPath(
  path: Path,
  config: SimulationConfig,
  f: Faults,
  rate: number,
  failureMode?: 'throw',
) {
  const result = await runScenario({
    scenario: scenarioOf(path, f, rate),
    config,
    functions: 'model',
    ...(failureMode && { failureMode }),
  });
  const [report] = result.report.paths;
  expect(result.report.stoppedBy).toBe('idle');
  expect(report.records.produced).toBe(RECORDS);
  for (const invariant of report.invariants) {
    expect({ name: invariant.name, holds: invariant.holds, examples: invariant.examples }).toEqual({
      name: invariant.name,
      holds: true,
      examples: [],
    });
  }
  return result;
}

const SETTINGS = { seed: 20_250_101, numRuns: 2 };

describe('invariants over 10,000 records per path, with seeded random faults', () => {
  it('SQS: at most once, or in the source queue DLQ after exactly maxReceiveCount receives', async () => {
    await fc.assert(
      fc.asyncProperty(faultsArbitrary, async (f) => {
        const { report, sim } = await checkPath('sqs', sqsConfig(), f, 200);
        const inDlq = report.records.filter((r) => r.sinks.some((s) => s.kind === 'queue-dead-letter-queue'));
        expect(inDlq.filter((r) => r.poison).length).toBe(f.poison);
        const messages = sim.trace.sinks.map(
          (s) => s.message as { body: string; attributes: Record<string, string> },
        );
        expect(new Set(messages.map((m) => m.attributes.ApproximateReceiveCount))).toEqual(
          new Set(messages.length ? ['5'] : []),
        );
        // A DLQ message identifies its record: its body is the order, with the order id.
        expect(sim.trace.sinks.filter((s, i) => !messages[i].body.includes(s.recordIds[0]))).toEqual([]);
      }),
      SETTINGS,
    );
  });

  it('object (asynchronous): at most once, or in the on-failure destination with the request payload', async () => {
    await fc.assert(
      fc.asyncProperty(faultsArbitrary, async (f) => {
        const { report, sim } = await checkPath('object', asyncConfig(), f, 100);
        // Three attempts at most per delivery (1 + MaximumRetryAttempts), two deliveries for a duplicate.
        const overHanded = report.records.filter((r) => r.handed > (r.faults.includes('duplicate') ? 6 : 3));
        expect(overHanded).toEqual([]);
        const unidentified = sim.trace.sinks
          .filter((s) => s.kind === 'on-failure-destination')
          .filter(
            (s) =>
              !JSON.stringify((s.message as { requestPayload: unknown }).requestPayload).includes(
                s.recordIds[0],
              ),
          );
        expect(unidentified).toEqual([]);
      }),
      SETTINGS,
    );
  });

  it('stream (as deployed: bisect, 2 retries, partial batch responses): at most once, in order per key, or in the destination', async () => {
    const config = deployedKinesisConfig();
    await fc.assert(
      fc.asyncProperty(faultsArbitrary, async (f) => {
        const { sim } = await checkPath('stream', config, f, 400);
        // A destination record identifies its records by shard and sequence-number range.
        const [stream] = sim.streams.values();
        const unidentified = sim.trace.sinks.filter((sink) => {
          const info = (
            sink.message as {
              KinesisBatchInfo: { shardId: string; startSequenceNumber: string; endSequenceNumber: string };
            }
          ).KinesisBatchInfo;
          const shard = stream.shards.find((s) => s.shardId === info.shardId)!;
          const [start, end] = [BigInt(info.startSequenceNumber), BigInt(info.endSequenceNumber)];
          const inRange = new Set(
            shard.records.filter((r) => r.seq >= start && r.seq <= end).map((r) => r.recordId),
          );
          return sink.recordIds.some((id) => !inRange.has(id));
        });
        expect(unidentified).toEqual([]);
      }),
      SETTINGS,
    );
  });

  it("stream (the seeds' settings: bisect on function errors, 2 retries): poison records isolated within ⌈log2(100)⌉ = 7 splits", async () => {
    const config = kinesisConfig(
      {
        batchSize: 100,
        bisectBatchOnFunctionError: true,
        maximumRetryAttempts: 2,
        reportBatchItemFailures: false,
      },
      { shardCount: 2 },
    );
    await fc.assert(
      fc.asyncProperty(faultsArbitrary, async (f) => {
        const { report } = await checkPath('stream', config, f, 400, 'throw');
        const names = report.paths[0].invariants.map((i) => i.name);
        expect(names).toContain('poison records isolated by bisection within ⌈log2(100)⌉ = 7 splits');
      }),
      SETTINGS,
    );
  });

  it('FIFO (as deployed: batch 10, maximum concurrency 5, maxReceiveCount 5): at most once, in order per message group, or in the FIFO DLQ with its message id as deduplication id', async () => {
    await fc.assert(
      fc.asyncProperty(faultsArbitrary, async (f) => {
        const { report, sim } = await checkPath('fifo', fifoConfig(), f, 200);
        expect(report.paths[0].invariants.map((i) => i.name)).toContain(
          'FIFO side effects in order per message group',
        );
        const moved = sim.trace.sinks.map(
          (s) => s.message as { messageId: string; attributes: Record<string, string> },
        );
        expect(moved.filter((m) => m.attributes.MessageDeduplicationId !== m.messageId)).toEqual([]);
        expect(report.records.filter((r) => r.poison && r.sinks.length === 0)).toEqual([]);
      }),
      SETTINGS,
    );
  });

  it('table stream (as deployed: bisect, 2 retries, 1 h record age, partial batch responses, INSERT and MODIFY only): at most once, in order per item, expirations filtered, or in the destination by shard and range', async () => {
    const config = tableStreamConfig(
      {
        batchSize: 100,
        bisectBatchOnFunctionError: true,
        maximumRetryAttempts: 2,
        maximumRecordAgeSeconds: 3600,
        reportBatchItemFailures: true,
        filters: DEPLOYED_TABLE_STREAM_FILTERS,
      },
      { streamShardCount: 4 },
    );
    await fc.assert(
      fc.asyncProperty(faultsArbitrary, async (f) => {
        const { report, sim } = await checkPath('table-stream', config, f, 400);
        expect(report.paths[0].fates.filtered).toBe(report.paths[0].records.expirations);
        const [table] = sim.tables.values();
        const unidentified = sim.trace.sinks.filter((sink) => {
          const info = (
            sink.message as {
              DDBStreamBatchInfo: { shardId: string; startSequenceNumber: string; endSequenceNumber: string };
            }
          ).DDBStreamBatchInfo;
          const shard = table.stream!.shards.find((s) => s.shardId === info.shardId)!;
          const [start, end] = [BigInt(info.startSequenceNumber), BigInt(info.endSequenceNumber)];
          const inRange = new Set(
            shard.records.filter((r) => r.seq >= start && r.seq <= end).map((r) => r.recordId),
          );
          return sink.recordIds.some((id) => !inRange.has(id));
        });
        expect(unidentified).toEqual([]);
      }),
      SETTINGS,
    );
  });

  it('a run is a pure function of its seed: the same scenario gives the same JSON report', async () => {
    const f = {
      seed: 99,
      poison: 5,
      transient: 20,
      failures: 2,
      timeouts: 2,
      duplicates: 10,
      outageStartSeconds: 3,
      outageSeconds: 20,
      throttleStartSeconds: 1,
      throttleSeconds: 5,
    };
    const once = async () => {
      const result = await runScenario({
        scenario: {
          ...scenarioOf('sqs', f, 200),
          paths: { sqs: { ...scenarioOf('sqs', f, 200).paths.sqs!, records: 2000 } },
        },
        config: sqsConfig(),
        functions: 'model',
      });
      const { realMs: _realMs, ...json } = result.json() as { realMs: number };
      return JSON.stringify(json);
    };
    expect(await once()).toBe(await once());
  });
});
