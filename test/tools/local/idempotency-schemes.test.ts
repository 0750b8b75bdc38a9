/**
 * The stream path's idempotency schemes under the simulator's fault injection (docs/stream-path.md, "Two
 * idempotency schemes"): the cheaper `read-then-complete` is offered because it keeps every invariant the default
 * keeps, with the same outcome record for record and half the writes; the high-water mark the issue suggested
 * was rejected because producer duplicates break it.
 */
import { loadCloudAssembly } from '../../../tools/local/cloudformation';
import type { PathReport } from '../../../tools/local/report';
import { runScenario, type RunResult } from '../../../tools/local/run';
import { parseScenario } from '../../../tools/local/scenario';
import { bundledCloudAssembly } from '../../helpers/cloud-assembly';
import { deployedKinesisConfig } from './config-fixtures';

/** Every invariant of a path report, as {name, holds, examples}, for one readable assertion. */
const invariantsOf = (report: PathReport) =>
  report.invariants.map(({ name, holds, examples }) => ({ name, holds, examples }));
const allHold = (report: PathReport) =>
  report.invariants.map(({ name }) => ({ name, holds: true, examples: [] }));

describe('read-then-complete against the real stream bundle, faults injected', () => {
  // Poison, transient claim failures, a timeout, producer duplicates and a DynamoDB outage, over 5 keys.
  const scenario = parseScenario({
    name: 'stream-idempotency-schemes',
    seed: 29,
    maxDuration: '12h',
    // From 0.6 s, while the first batches are still being retried, to 2 s.
    dynamodbOutages: [{ from: 0.6, to: 2 }],
    paths: {
      stream: {
        records: 80,
        ratePerSecond: 100,
        partitionKeys: 5,
        faults: {
          poison: 2,
          transient: { count: 4, failures: 1 },
          timeouts: { count: 1 },
          duplicates: { count: 5, after: '1s' },
        },
      },
    },
  });
  const runs: Record<string, RunResult> = {};

  beforeAll(async () => {
    const { config } = loadCloudAssembly(await bundledCloudAssembly());
    for (const scheme of ['claim-then-complete', 'read-then-complete']) {
      runs[scheme] = await runScenario({
        scenario,
        config,
        functions: 'bundles',
        // One SDK attempt per call: retries milliseconds apart meet the same fault. A request timeout no loaded
        // test machine reaches (a timed-out commit that went through would be tried again, and counted twice
        // below), small enough that a record's worst case fits the 30 s timeout (deadlines.ts).
        bundleEnvironment: {
          AWS_MAX_ATTEMPTS: '1',
          DYNAMODB_MAX_ATTEMPTS: '1',
          DYNAMODB_REQUEST_TIMEOUT_MS: '5000',
          // No waits inside an invocation: the schemes are compared on the same deliveries. With waits, a claim
          // whose release an outage also failed meets its own claim on the next try (claim-then-complete only),
          // and the two runs diverge for reasons other than the scheme (test:outages covers the waits).
          DEPENDENCY_RETRY_DELAYS_MS: '',
          IDEMPOTENCY_SCHEME: scheme,
        },
      });
    }
  }, 120_000);

  const report = (scheme: string) => runs[scheme].report.paths[0];
  const requests = (scheme: string, operation: string) => runs[scheme].dynamoDb?.requests.get(operation) ?? 0;

  it('keeps every invariant the default scheme keeps', () => {
    for (const scheme of ['claim-then-complete', 'read-then-complete']) {
      expect(runs[scheme].report.stoppedBy).toBe('idle');
      expect(invariantsOf(report(scheme))).toEqual(allHold(report(scheme)));
    }
    // The run did exercise the faults: re-deliveries, the timeout, duplicates, the destination.
    const cheap = report('read-then-complete');
    expect(cheap.records).toMatchObject({ produced: 80, poison: 2, timeouts: 1, duplicates: 5 });
    expect(cheap.invocations.retries + cheap.invocations.splits).toBeGreaterThan(0);
    expect(cheap.sinks.reduce((n, sink) => n + sink.records, 0)).toBeGreaterThanOrEqual(2);
    expect(runs['read-then-complete'].dynamoDb?.failed.get('GetItem')).toBeGreaterThan(10);
  });

  it('gives the same outcome, record for record', () => {
    const fates = (scheme: string) =>
      runs[scheme].report.records.map(({ id, sideEffects, fate }) => ({ id, sideEffects, fate }));
    expect(fates('read-then-complete')).toEqual(fates('claim-then-complete'));
  });

  it('commits once per applied record and never claims or deletes; the default also claims', () => {
    const applied = report('read-then-complete').sideEffects.total;
    expect(requests('read-then-complete', 'PutItem')).toBe(0);
    expect(requests('read-then-complete', 'DeleteItem')).toBe(0);
    // The effect and the completion: one transaction per applied record (and those an outage failed: an outage
    // can begin while an invocation waits inside itself).
    const failedCommits = (scheme: string) => runs[scheme].dynamoDb?.failed.get('TransactWriteItems') ?? 0;
    expect(requests('read-then-complete', 'TransactWriteItems') - failedCommits('read-then-complete')).toBe(
      applied,
    );
    // Every record a function was handed was first read (failed reads during the outage included).
    expect(requests('read-then-complete', 'GetItem')).toBeGreaterThanOrEqual(applied);
    const claims = (scheme: string) => requests(scheme, 'PutItem');
    expect(claims('claim-then-complete')).toBeGreaterThanOrEqual(applied);
    expect(requests('claim-then-complete', 'TransactWriteItems') - failedCommits('claim-then-complete')).toBe(
      applied,
    );
  });
});

describe('the rejected high-water mark per batch (model functions, 10,000 records)', () => {
  const scenarioWith = (duplicates: number) =>
    parseScenario({
      name: 'high-water-mark',
      seed: 7,
      functions: 'model',
      maxDuration: '48h',
      path: 'stream',
      records: 10_000,
      ratePerSecond: 500,
      partitionKeys: 50,
      faults: {
        poison: 20,
        transient: { count: 60, failures: 2 },
        duplicates: { count: duplicates, after: 3 },
      },
    });
  const streamReport = async (
    duplicates: number,
    streamIdempotency: 'per-record' | 'high-water-mark-per-batch',
  ) => {
    const result = await runScenario({
      scenario: scenarioWith(duplicates),
      config: deployedKinesisConfig(),
      functions: 'model',
      streamIdempotency,
    });
    return result.report.paths[0];
  };
  const noSideEffectTwice = (report: PathReport) =>
    report.invariants.find((invariant) => invariant.name === 'no side effect twice')!;

  it("recognises Lambda's re-deliveries (they come back at their old positions)", async () => {
    const report = await streamReport(0, 'high-water-mark-per-batch');
    expect(report.invocations.retries + report.invocations.splits).toBeGreaterThan(0);
    // Its model keeps the handler's old rule (a poison record holds its key back: a mark cannot pass a record
    // that was never applied), so healthy records go to the destination with the poison: one more reason it was
    // rejected. Every other invariant holds.
    const healthy = 'every healthy record is applied';
    const others = { ...report, invariants: report.invariants.filter((i) => i.name !== healthy) };
    expect(invariantsOf(others)).toEqual(allHold(others));
    expect(report.invariants.find((i) => i.name === healthy)?.holds).toBe(false);
  });

  it("applies a producer's duplicate twice (a new position above the mark), where per-record idempotency does not", async () => {
    const perRecord = await streamReport(100, 'per-record');
    expect(noSideEffectTwice(perRecord).holds).toBe(true);
    const highWaterMark = await streamReport(100, 'high-water-mark-per-batch');
    expect(noSideEffectTwice(highWaterMark).holds).toBe(false);
    expect(highWaterMark.sideEffects.duplicated).toBeGreaterThan(0);
    expect(highWaterMark.sideEffects.duplicated).toBeLessThanOrEqual(100);
  });
});
