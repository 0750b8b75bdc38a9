/**
 * `npm run cost` prices the paths the app synthesized: an app that deploys one path (cdk.json context `paths`)
 * gets that path's cost, not an error about the others.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { App } from 'aws-cdk-lib';
import { context as cdkJsonContext } from '../../cdk.json';
import { buildApp } from '../../lib/app';

const run = promisify(execFile);
const ROOT = join(__dirname, '../..');
let outdir: string;

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'cost-one-path-'));
  // Templates only: the cost model reads settings, not bundles.
  const app = new App({
    outdir,
    context: { ...cdkJsonContext, paths: ['sqs'], 'aws:cdk:bundling-stacks': [] },
  });
  buildApp(app, { nag: false });
  app.synth();
});
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

const cost = (...args: string[]) =>
  run(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/cost.ts'), '--assembly', outdir, ...args], {
    cwd: ROOT,
  });

describe('npm run cost on an app with one path', () => {
  it('prices the SQS path alone', async () => {
    const { stdout } = await cost('--json');
    const report = JSON.parse(stdout) as { costs: Record<string, { total: number }> };
    expect(Object.keys(report.costs)).toEqual(['sqs']);
    expect(report.costs.sqs.total).toBeGreaterThan(0);
  });

  it('says so when a --set names a path the app does not deploy', async () => {
    await expect(cost('--json', '--set', 'stream.batchSize=500')).rejects.toMatchObject({
      stderr: expect.stringContaining(
        '--set stream.batchSize: the stream path is not in the assembly (deployed paths: sqs',
      ),
    });
  });
});
