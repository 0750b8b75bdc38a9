/**
 * Scenario files: the accepted forms, and errors that name the field and what it allows.
 */
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  durationMs,
  durationsMs,
  parseScenario,
  PATHS,
  readScenarioFile,
  ScenarioError,
} from '../../../tools/local/scenario';

function errorOf(input: unknown): string {
  try {
    parseScenario(input, 'bad.json');
  } catch (error) {
    expect(error).toBeInstanceOf(ScenarioError);
    return (error as Error).message;
  }
  throw new Error('expected a ScenarioError');
}

describe('scenario files', () => {
  it('accept the short form (one path) and fill in the defaults', () => {
    const scenario = parseScenario({ path: 'stream', records: 50, seed: 'abc', faults: { poison: 2 } });
    expect(scenario.seed).toBe('abc');
    expect(scenario.functions).toBe('bundles');
    expect(scenario.paths.stream).toMatchObject({
      records: 50,
      ratePerSecond: 20,
      partitionKeys: 16,
      faults: { poison: 2 },
    });
    expect(scenario.paths.sqs).toBeUndefined();
  });

  it('accept every shipped example', () => {
    for (const file of [
      'demo.json',
      'stream-poison.json',
      'fifo-poison.json',
      'table-stream-poison.json',
      'http-overload.json',
    ]) {
      expect(() => readScenarioFile(join(__dirname, '../../../tools/local/scenarios', file))).not.toThrow();
    }
  });

  it('read durations as seconds or "500ms", "90s", "2m30s", "1h"', () => {
    expect([
      durationMs(1.5),
      durationMs('500ms'),
      durationMs('90s'),
      durationMs('2m30s'),
      durationMs('1h'),
    ]).toEqual([1500, 500, 90_000, 150_000, 3_600_000]);
  });

  it('take a list of delays for a duplicate sent more than once, and groups for the ordering keys', () => {
    const scenario = parseScenario({
      path: 'fifo',
      records: 10,
      groups: 3,
      faults: { duplicates: { count: 2, after: ['10s', '6m'] } },
    });
    expect(scenario.paths.fifo).toMatchObject({
      groups: 3,
      faults: { duplicates: { after: ['10s', '6m'] } },
    });
    expect(durationsMs(['10s', '6m'])).toEqual([10_000, 360_000]);
    expect(durationsMs(5)).toEqual([5000]);
    expect(errorOf({ path: 'fifo', records: 5, faults: { duplicates: { count: 1, after: [] } } })).toContain(
      'faults.duplicates.after: must name at least one delay',
    );
  });

  it('name the field and what it allows', () => {
    expect(errorOf({ path: 'kinesis', records: 10 })).toContain(
      `path: must be ${PATHS.slice(0, -1)
        .map((p) => `"${p}"`)
        .join(', ')} or "${PATHS.at(-1)}"`,
    );
    expect(errorOf({ paths: { sqs: { records: -1 } } })).toMatch(/paths\.sqs\.records: .*>=0/);
    expect(
      errorOf({ paths: { sqs: { records: 5, faults: { transient: { count: 1, failures: 0 } } } } }),
    ).toMatch(/paths\.sqs\.faults\.transient\.failures: .*>=1/);
    expect(errorOf({ paths: { sqs: { records: 5, faults: { poison: { rate: 2 } } } } })).toContain(
      'paths.sqs.faults.poison',
    );
    expect(
      errorOf({ paths: { sqs: { records: 5, faults: { throttle: [{ from: '2 minutes', to: 10 }] } } } }),
    ).toContain(
      'paths.sqs.faults.throttle.0.from: must be seconds, or a string like "500ms", "90s", "2m30s" or "1h"',
    );
    expect(errorOf({ paths: { sqs: { records: 5, faults: { poisson: 1 } } } })).toMatch(
      /paths\.sqs\.faults: Unrecognized key.*poisson/,
    );
    expect(errorOf({ paths: { sqs: { records: 5, faults: { poison: { records: [6] } } } } })).toContain(
      'paths.sqs.faults.poison.records: record numbers go from 1 to 5, got 6',
    );
    expect(
      errorOf({ paths: { sqs: { records: 5, faults: { deliveryFailures: [{ from: 0, to: 1 }] } } } }),
    ).toContain('only the object path has an SNS subscription');
    expect(errorOf({ dynamodbOutages: [{ from: 10, to: 5 }], paths: { sqs: { records: 5 } } })).toContain(
      'dynamodbOutages.0: "to" must be after "from"',
    );
    expect(errorOf({ paths: {} })).toContain(`paths: name at least one of ${PATHS.join(', ')}`);
  });

  it('say which file is not JSON', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'scenario-')), 'broken.json');
    writeFileSync(file, '{ "path": "sqs", ');
    expect(() => readScenarioFile(file)).toThrow(/broken\.json is not JSON/);
  });
});
