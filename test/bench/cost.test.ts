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

  it('prices the http path when the app synthesizes it: its front door, and the SQS consumer behind it as the sqs path', async () => {
    const httpOnly = mkdtempSync(join(tmpdir(), 'cost-http-'));
    try {
      const app = new App({
        outdir: httpOnly,
        context: { ...cdkJsonContext, paths: ['http'], 'aws:cdk:bundling-stacks': [] },
      });
      buildApp(app, { nag: false });
      app.synth();
      const { stdout } = await run(
        process.execPath,
        ['--import', 'tsx', join(ROOT, 'bench/cost.ts'), '--assembly', httpOnly, '--json'],
        { cwd: ROOT },
      );
      const report = JSON.parse(stdout) as {
        settings: Record<string, { stack: string; batchSize: number }>;
        costs: Record<string, { total: number; items: { service: string; item: string }[] }>;
      };
      expect(Object.keys(report.costs).sort()).toEqual(['http', 'sqs']);
      expect(report.settings.http).toMatchObject({
        stack: `${cdkJsonContext.appName}-sandbox-http`,
        batchSize: 1,
      });
      expect(report.settings.sqs.stack).toBe(`${cdkJsonContext.appName}-sandbox-http`);
      const services = new Set(report.costs.http.items.map((item) => item.service));
      for (const service of ['API Gateway', 'Lambda', 'DynamoDB', 'SQS']) expect(services).toContain(service);
    } finally {
      rmSync(httpOnly, { recursive: true, force: true });
    }
  });

  it('says so when a --set names a path the app does not deploy', async () => {
    await expect(cost('--json', '--set', 'stream.batchSize=500')).rejects.toMatchObject({
      stderr: expect.stringContaining(
        '--set stream.batchSize: the stream path is not in the assembly (deployed paths: sqs',
      ),
    });
  });
});
