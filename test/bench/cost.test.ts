/**
 * `npm run cost` prices the paths the app synthesized: an app that deploys one path (cdk.json context `paths`)
 * gets that path's cost, not an error about the others.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { runCost } from '../../bench/cost';
import { context as cdkJsonContext } from '../../cdk.json';
import { buildApp } from '../../lib/app';

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

/** What `npm run cost -- --assembly <dir> …args` prints (in this process). */
function cost(assembly: string, ...args: string[]): { stdout: string } {
  let stdout = '';
  runCost(['--assembly', assembly, ...args], (text) => {
    stdout += text;
  });
  return { stdout };
}

describe('npm run cost on an app with one path', () => {
  it('prices the SQS path alone', () => {
    const { stdout } = cost(outdir, '--json');
    const report = JSON.parse(stdout) as { costs: Record<string, { total: number }> };
    expect(Object.keys(report.costs)).toEqual(['sqs']);
    expect(report.costs.sqs.total).toBeGreaterThan(0);
  });

  it('prices the http path when the app synthesizes it: its front door, and the SQS consumer behind it as the sqs path', () => {
    const httpOnly = mkdtempSync(join(tmpdir(), 'cost-http-'));
    try {
      const app = new App({
        outdir: httpOnly,
        context: { ...cdkJsonContext, paths: ['http'], 'aws:cdk:bundling-stacks': [] },
      });
      buildApp(app, { nag: false });
      app.synth();
      const { stdout } = cost(httpOnly, '--json');
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

  it('says so when a --set names a path the app does not deploy, or gives a setting a value of another kind', () => {
    expect(() => cost(outdir, '--json', '--set', 'sqs.batchSize=ten')).toThrow(
      '--set sqs.batchSize=ten: must be a number',
    );
    expect(() => cost(outdir, '--json', '--set', 'stream.batchSize=500')).toThrow(
      '--set stream.batchSize: the stream path is not in the assembly (deployed paths: sqs',
    );
  });
});
