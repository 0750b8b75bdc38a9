/**
 * The stream path under a poison record and DynamoDB outages of 5, 30 and 120 s (finding 10 of the exactly-once
 * issue): how many healthy readings end in the on-failure destination instead of being applied. The real stream
 * bundle against dynalite; the handler's in-invocation retry waits run on the simulator's virtual clock
 * (tools/local/engine/wall-clock.ts), so an invocation can wait an outage out.
 *
 * What is guaranteed (docs/stream-path.md): a poison record sends no healthy reading to the destination; an
 * outage that one invocation can wait out (about 7 s with the default 30 s timeout) sends none either; a longer
 * one can send a few, never lost (the destination names them, `npm run replay` brings them back) and never
 * applied twice. Each case prints its figure.
 *
 * Heavier suite (`npm run test:outages`, run by CI): four runs of 300 readings.
 */
import { loadCloudAssembly, type LoadedAssembly } from '../../../tools/local/cloudformation';
import { runScenario, type RunResult } from '../../../tools/local/run';
import { parseScenario } from '../../../tools/local/scenario';
import { bundledCloudAssembly } from '../../helpers/cloud-assembly';

let assembly: LoadedAssembly;

beforeAll(async () => {
  assembly = loadCloudAssembly(await bundledCloudAssembly());
}, 180_000);

const READINGS = 300;

function run(name: string, options: { outageSeconds?: number; poison?: number }): Promise<RunResult> {
  const { outageSeconds, poison } = options;
  return runScenario({
    scenario: parseScenario({
      name,
      seed: 7,
      maxDuration: '12h',
      ...(outageSeconds && { dynamodbOutages: [{ from: '1s', to: `${1 + outageSeconds}s` }] }),
      paths: {
        stream: {
          records: READINGS,
          ratePerSecond: 100,
          partitionKeys: 6,
          ...(poison && { faults: { poison } }),
        },
      },
    }),
    config: assembly.config,
    functions: 'bundles',
  });
}

/** Healthy readings (not poison) that were not applied and sit in the on-failure destination. */
function healthyInDestination(result: RunResult): number {
  return result.report.records.filter(
    (record) =>
      !record.poison &&
      record.sideEffects === 0 &&
      record.sinks.some((sink) => sink.kind === 'on-failure-destination'),
  ).length;
}

function expectNothingLostOrTwice(result: RunResult): void {
  const invariants = result.report.paths[0].invariants;
  for (const name of [
    'no side effect twice',
    'every record done once or in a dead-letter queue / destination',
  ]) {
    expect([name, invariants.find((invariant) => invariant.name === name)?.holds]).toEqual([name, true]);
  }
}

describe('stream path: healthy readings in the on-failure destination', () => {
  it('a poison record sends none there (it fails alone)', async () => {
    const result = await run('poison', { poison: 2 });
    console.log(
      `poison ×2: ${healthyInDestination(result)} of ${READINGS - 2} healthy readings in the destination`,
    );
    expect(healthyInDestination(result)).toBe(0);
    // The poison records themselves do go there, after the retries.
    expect(result.report.records.filter((r) => r.poison).every((r) => r.sinks.length > 0)).toBe(true);
    expectNothingLostOrTwice(result);
  }, 180_000);

  it('a 5 s outage sends none there: the invocations wait it out', async () => {
    const result = await run('outage-5s', { outageSeconds: 5 });
    console.log(
      `outage 5 s: ${healthyInDestination(result)} of ${READINGS} healthy readings in the destination`,
    );
    expect(healthyInDestination(result)).toBe(0);
    expectNothingLostOrTwice(result);
  }, 180_000);

  it.each([30, 120])(
    'a %i s outage sends at most 5 %% there, each named and none applied twice',
    async (seconds) => {
      const result = await run(`outage-${seconds}s`, { outageSeconds: seconds });
      const sent = healthyInDestination(result);
      console.log(`outage ${seconds} s: ${sent} of ${READINGS} healthy readings in the destination`);
      expect(sent).toBeLessThanOrEqual(READINGS * 0.05);
      expectNothingLostOrTwice(result);
    },
    300_000,
  );
});
