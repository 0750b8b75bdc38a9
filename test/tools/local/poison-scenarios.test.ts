/**
 * The named poison scenarios of the ordered paths (tools/local/scenarios/), run as `npm run local -- <file>` runs
 * them: the real bundles of the shared cloud assembly against dynalite. Each shows that a poison record blocks its
 * own group only (a FIFO message group, a table item), with every invariant holding.
 */
import { join } from 'node:path';
import { loadCloudAssembly, type LoadedAssembly } from '../../../tools/local/cloudformation';
import { runScenario, type RunResult } from '../../../tools/local/run';
import { readScenarioFile } from '../../../tools/local/scenario';
import { bundledCloudAssembly } from '../../helpers/cloud-assembly';

const SCENARIOS = join(__dirname, '..', '..', '..', 'tools', 'local', 'scenarios');

let assembly: LoadedAssembly;

beforeAll(async () => {
  assembly = loadCloudAssembly(await bundledCloudAssembly());
}, 180_000);

function runFile(file: string): Promise<RunResult> {
  return runScenario({
    scenario: readScenarioFile(join(SCENARIOS, file)),
    config: assembly.config,
    // One SDK attempt: faults are decided per invocation, so the SDK's own retries change no outcome.
    bundleEnvironment: { AWS_MAX_ATTEMPTS: '1', DYNAMODB_MAX_ATTEMPTS: '1' },
  });
}

/** When each record's side effect happened (virtual ms), and when each record first reached a sink. */
function timeline(result: RunResult) {
  const appliedAt = new Map(result.sim.trace.sideEffects.map((e) => [e.recordId, e.at]));
  const sunkAt = new Map<string, number>();
  for (const sink of result.sim.trace.sinks)
    for (const id of sink.recordIds) if (!sunkAt.has(id)) sunkAt.set(id, sink.at);
  return { appliedAt, sunkAt };
}

describe('fifo-poison.json', () => {
  let result: RunResult;

  beforeAll(async () => {
    result = await runFile('fifo-poison.json');
  }, 120_000);

  it('keeps every invariant, order per message group included', () => {
    const [path] = result.report.paths;
    expect(path.path).toBe('fifo');
    expect(path.invariants.map((i) => [i.name, i.holds ? 'holds' : i.detail])).toEqual(
      path.invariants.map((i) => [i.name, 'holds']),
    );
    expect(path.invariants.map((i) => i.name)).toContain('FIFO side effects in order per message group');
  });

  it("a poison message holds back its own group's later messages until it moves to the dead-letter queue, and no other group", () => {
    const { catalog } = result;
    const { appliedAt, sunkAt } = timeline(result);
    const poison = catalog.ofPath('fifo').filter((r) => r.poison);
    expect(poison).toHaveLength(2);
    const faulty = (id: string) => result.report.records.find((r) => r.id === id)!.faults.length > 0;
    const groupsWithFaults = new Set(
      catalog
        .ofPath('fifo')
        .filter(
          (r) =>
            r.poison ||
            (faulty(r.id) &&
              !result.report.records.find((x) => x.id === r.id)!.faults.every((f) => f === 'duplicate')),
        )
        .map((r) => r.messageGroupId),
    );
    for (const p of poison) {
      const movedAt = sunkAt.get(p.id)!;
      // maxReceiveCount (5) receives, a visibility timeout (180 s) apart, before the move.
      expect(movedAt - p.producedAt).toBeGreaterThanOrEqual(4 * 180_000);
      const blocked = catalog
        .ofPath('fifo')
        .filter(
          (r) => r.messageGroupId === p.messageGroupId && r.number > p.number && r.producedAt < movedAt,
        );
      expect(blocked.length).toBeGreaterThan(0);
      // Applied after the poison message left (or in the dead-letter queue with it: never before it).
      for (const r of blocked) {
        const at = appliedAt.get(r.id);
        expect([r.id, at === undefined ? sunkAt.has(r.id) : at >= movedAt]).toEqual([r.id, true]);
      }
    }
    // Groups with no failing message never wait for a visibility timeout: at most for the end of an invocation
    // whose batch they shared with another group's failing message (its in-invocation waits), within the function
    // timeout.
    const healthyGroups = new Set(
      catalog
        .ofPath('fifo')
        .map((r) => r.messageGroupId)
        .filter((g) => !groupsWithFaults.has(g)),
    );
    expect(healthyGroups.size).toBeGreaterThan(0);
    const timeoutMs =
      assembly.config.functions.find((f) => f.id === result.sim.entryPoints().fifo!.functionId)!
        .timeoutSeconds * 1000;
    const latencies = catalog
      .ofPath('fifo')
      .filter((r) => healthyGroups.has(r.messageGroupId))
      .map((r) => appliedAt.get(r.id)! - r.producedAt);
    expect(Math.max(...latencies)).toBeLessThan(timeoutMs);
  });

  it('drops the copies sent inside the deduplication interval, and answers those past it from the idempotency store', () => {
    const path = result.report.paths[0];
    expect(path.notes).toContainEqual(expect.stringMatching(/^6 sends accepted and not delivered/));
    expect(path.sideEffects.duplicated).toBe(0);
  });
});

describe('table-stream-poison.json', () => {
  let result: RunResult;

  beforeAll(async () => {
    result = await runFile('table-stream-poison.json');
  }, 120_000);

  it('keeps every invariant, order per item key included', () => {
    const [path] = result.report.paths;
    expect(path.path).toBe('table-stream');
    expect(path.invariants.map((i) => [i.name, i.holds ? 'holds' : i.detail])).toEqual(
      path.invariants.map((i) => [i.name, 'holds']),
    );
    expect(path.invariants.map((i) => i.name)).toContain(
      'table stream side effects in order per shard and item key',
    );
  });

  it("a poison write costs its own item only: it fails alone, and with it the item's next change (its old image is the invalid item); every other change of every item is applied", () => {
    const records = result.catalog.ofPath('table-stream');
    const poison = records.filter((r) => r.poison);
    expect(poison).toHaveLength(2);
    const report = new Map(result.report.records.map((r) => [r.id, r]));
    const unapplied = records.filter((r) => !r.expiration && report.get(r.id)!.sideEffects === 0);
    const expected = poison.flatMap((p) => {
      const next = records.find((r) => r.oldImageFrom === p.id);
      return next ? [p.id, next.id] : [p.id];
    });
    expect(unapplied.map((r) => r.id).sort()).toEqual(expected.sort());
    // All of them on the poison writes' own items.
    const poisonKeys = new Set(poison.map((p) => p.partitionKey));
    expect(unapplied.every((r) => poisonKeys.has(r.partitionKey))).toBe(true);
    expect(report.get(unapplied[0].id)!.sinks[0]).toMatchObject({
      kind: 'on-failure-destination',
      condition: 'RetryAttemptsExhausted',
    });
  });

  it("keeps the expirations by time to live from the function (the mapping's filter), and writes no stream record for a repeated write", () => {
    const path = result.report.paths[0];
    expect(path.fates.filtered).toBe(10);
    expect(path.notes).toContainEqual(expect.stringMatching(/^6 table writes that wrote no stream record/));
    expect(result.unattributedClaims).toBe(0);
    expect(result.sim.trace.unattributedSideEffects).toEqual([]);
  });
});
