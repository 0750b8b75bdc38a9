/**
 * Crash-point enumeration: for each path, every DynamoDB call of the first invocation is a point where something
 * can break, and for every point and every fault kind the run must end with the same durable data as a run with
 * no fault: no effect lost, none applied twice.
 *
 * A fault at call k, `before` (the table never sees it) or `after` (applied, the answer lost), covers every point
 * of a record's processing: before the claim, between the claim and the commit, the commit itself (applied or
 * not), and after it until the batch response (an `after` fault on the last call). The kinds: the function
 * crashes, or freezes until its timeout; the call fails with a 500 or a throttle on every SDK attempt; the call
 * hangs on every attempt. Lambda then re-delivers as it does for the path (the simulator: visibility timeout,
 * asynchronous retry, stream retry and bisection), with the real bundles against dynalite.
 *
 * This is the heavier suite (`npm run test:crash-points`, run by CI): a few hundred small runs.
 */
import { loadCloudAssembly, type LoadedAssembly } from '../../../tools/local/cloudformation';
import type { IngestionPath } from '../../../tools/local/engine/config';
import { runScenario, type RunResult } from '../../../tools/local/run';
import { parseScenario } from '../../../tools/local/scenario';
import { type CallFault, type FaultKind } from '../../../tools/shared/dynamodb-faults';
import { bundledCloudAssembly } from '../../helpers/cloud-assembly';

let assembly: LoadedAssembly;

beforeAll(async () => {
  assembly = loadCloudAssembly(await bundledCloudAssembly());
}, 180_000);

/**
 * Small workloads: a few records, one sent twice, two partition keys on the stream, two message groups on the FIFO
 * queue (its copy sent past the 5-minute deduplication interval, so that it reaches the function), four changes of
 * two items on the table (a write repeated changes nothing, so writes no stream record: not worth a copy here).
 */
const WORKLOADS: Record<IngestionPath, Record<string, unknown>> = {
  sqs: { records: 3, ratePerSecond: 1000, faults: { duplicates: { count: 1, after: '0s' } } },
  object: { records: 2, ratePerSecond: 1, faults: { duplicates: { count: 1, after: '0s' } } },
  stream: {
    records: 4,
    ratePerSecond: 1000,
    partitionKeys: 2,
    faults: { duplicates: { count: 1, after: '0s' } },
  },
  fifo: { records: 3, ratePerSecond: 1000, groups: 2, faults: { duplicates: { count: 1, after: '6m' } } },
  'table-stream': { records: 4, ratePerSecond: 1000, groups: 2 },
};

/** Every fault kind, with the timings that differ for it. */
const FAULTS: readonly { readonly kind: FaultKind; readonly timing: 'before' | 'after' }[] = [
  { kind: 'crash', timing: 'before' },
  { kind: 'crash', timing: 'after' },
  { kind: 'timeout', timing: 'before' },
  { kind: 'timeout', timing: 'after' },
  { kind: 'error', timing: 'before' },
  { kind: 'error', timing: 'after' },
  { kind: 'throttle', timing: 'before' },
  { kind: 'hang', timing: 'before' },
  { kind: 'hang', timing: 'after' },
];

function run(path: IngestionPath, callFaults: readonly CallFault[] = []): Promise<RunResult> {
  return runScenario({
    scenario: parseScenario({
      name: `crash-points-${path}`,
      seed: 5,
      maxDuration: '12h',
      paths: { [path]: WORKLOADS[path] },
    }),
    config: assembly.config,
    functions: 'bundles',
    callFaults,
    // A hung attempt is given up after 50 ms (the deployed budget is sized from the function timeout): the same
    // outcome, in real time a test can afford.
    bundleEnvironment: { DYNAMODB_REQUEST_TIMEOUT_MS: '50' },
  });
}

describe.each<IngestionPath>(['sqs', 'object', 'stream', 'fifo', 'table-stream'])(
  '%s path: a fault at any call',
  (path) => {
    let baseline: RunResult;
    let calls: number;

    beforeAll(async () => {
      baseline = await run(path);
      calls = baseline.callFaultHits === undefined ? 0 : firstInvocationCalls(baseline);
    }, 120_000);

    it('the fault-free run applies every record once', () => {
      const effects = baseline.effects?.[path] ?? {};
      expect(Object.keys(effects).length).toBeGreaterThan(0);
      const report = baseline.report.paths.find((p) => p.path === path)!;
      expect(report.fates.done).toBe(report.records.produced);
      // The first invocation makes at least a claim and a commit per record it carries.
      expect(calls).toBeGreaterThanOrEqual(2);
    });

    it('ends with the same durable data whatever call fails, and however', async () => {
      const mismatches: string[] = [];
      let hits = 0;
      for (let call = 1; call <= calls; call += 1) {
        for (const { kind, timing } of FAULTS) {
          const result = await run(path, [{ call, kind, timing }]);
          hits += result.callFaultHits?.length ? 1 : 0;
          const label = `call ${call}, ${kind} ${timing}`;
          try {
            expect(result.effects?.[path]).toEqual(baseline.effects?.[path]);
          } catch {
            mismatches.push(`${label}: ${JSON.stringify(result.effects?.[path])}`);
          }
        }
      }
      expect(mismatches).toEqual([]);
      // Every point was really hit (a fault that never fired would prove nothing).
      expect(hits).toBe(calls * FAULTS.length);
    }, 600_000);
  },
);

/** DynamoDB calls the first invocation of a run made. */
function firstInvocationCalls(result: RunResult): number {
  return result.callsPerInvocation?.[0] ?? 0;
}
