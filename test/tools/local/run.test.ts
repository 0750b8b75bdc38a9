/**
 * A scenario runs on the paths the deployment has: an app that deploys only some paths (cdk.json context
 * `paths`) still runs the demo scenario, written for all of them, and the report says what it left out.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderReport } from '../../../tools/local/report';
import { forDeployment, runScenario } from '../../../tools/local/run';
import { parseScenario, PATHS } from '../../../tools/local/scenario';
import { Simulation } from '../../../tools/local/engine/simulation';
import { sqsConfig } from './config-fixtures';

const demo = parseScenario(
  JSON.parse(readFileSync(join(__dirname, '../../../tools/local/scenarios/demo.json'), 'utf8')),
);
const onlySqs = sqsConfig();
/** The demo's paths other than SQS, in the order the simulator lists paths (the http path last). */
const notSqs = [
  ...PATHS.filter((path) => path !== 'sqs' && demo.paths[path] !== undefined),
  ...(demo.paths.http ? (['http'] as const) : []),
];
const entryOf = (config = onlySqs) => new Simulation(config, { seed: 1 }).entryPoints();

describe('forDeployment', () => {
  it('keeps the paths the deployment has and names the others', () => {
    const { scenario, skippedPaths } = forDeployment(demo, entryOf());
    expect(Object.keys(scenario.paths)).toEqual(['sqs']);
    expect(notSqs.length).toBeGreaterThan(0);
    expect(skippedPaths).toEqual(notSqs);
    expect(scenario.paths.sqs).toEqual(demo.paths.sqs);
  });

  it('fails, saying what the deployment has, when none of the scenario paths is deployed', () => {
    const streamOnly = parseScenario({ seed: 1, paths: { stream: { records: 3 } } });
    expect(() => forDeployment(streamOnly, entryOf())).toThrow(
      /The scenario drives the stream path, but the deployment has only sqs: add a path the deployment has/,
    );
  });
});

describe('runScenario on a deployment with one path', () => {
  it('runs the demo scenario on the SQS path and reports the paths it did not run', async () => {
    const result = await runScenario({ scenario: demo, config: onlySqs, functions: 'model' });
    expect(result.report.paths.map((path) => path.path)).toEqual(['sqs']);
    expect(result.report.scenario.skippedPaths).toEqual(notSqs);
    expect(renderReport(result.report)).toContain(
      `Not deployed, so not run: the ${notSqs.join(', ')} paths of the scenario (cdk.json context "paths").`,
    );
    expect(result.report.paths[0].invariants.every((invariant) => invariant.holds)).toBe(true);
  });
});
