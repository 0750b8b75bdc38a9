import * as childProcess from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildSync } from 'esbuild';
import { esbuildOptions } from '../../../lib/bundling';
import {
  CONSUMER_BUNDLING,
  ConsumerFunction,
  ConsumerFunctionProps,
} from '../../../lib/constructs/consumer-function';
import { IdempotencyTable } from '../../../lib/constructs/idempotency-table';
import { nagFindings } from '../../helpers/nag';
import { bundlingApp, testStack } from '../../helpers/synth';

function synthFunction(props: Partial<ConsumerFunctionProps> = {}) {
  const stack = testStack();
  const idempotencyTable = new IdempotencyTable(stack, 'Idempotency');
  const consumer = new ConsumerFunction(stack, 'Consumer', {
    entry: 'lambda/shared/side-effect.ts',
    serviceName: 'test-consumer',
    description: 'test',
    idempotencyTable,
    ...props,
  });
  return { stack, consumer, template: Template.fromStack(stack) };
}

describe('ConsumerFunction', () => {
  let template: Template;
  beforeAll(() => {
    template = synthFunction().template;
  });

  it('runs on the newest Node.js runtime on arm64 with explicit memory, timeout and tracing', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 512,
      Timeout: 30,
      TracingConfig: { Mode: 'Active' },
    });
  });

  it('passes the idempotency table and Powertools settings through the environment', () => {
    const [fn] = Object.values(template.findResources('AWS::Lambda::Function'));
    const variables = fn.Properties.Environment.Variables;
    expect(variables).toMatchObject({
      POWERTOOLS_SERVICE_NAME: 'test-consumer',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      IDEMPOTENCY_EXPIRY_SECONDS: '3600',
      NODE_OPTIONS: '--enable-source-maps',
    });
    expect(variables.IDEMPOTENCY_TABLE_NAME).toEqual({ Ref: expect.stringMatching(/^IdempotencyTable/) });
  });

  it('logs to its own log group with a retention', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('leaves no cdk-nag finding that every function shares unacknowledged', () => {
    const { stack } = synthFunction();
    // The only finding left is the path-specific one: whether a function DLQ makes sense depends on the path.
    expect(nagFindings(stack)).toEqual(['Serverless-LambdaDLQ on TestStack/Consumer/Function/Resource']);
  });

  it.each([
    [
      { timeout: Duration.minutes(16) },
      /Consumer: timeout must be from 1 second to 15 minutes, got 16 minutes/,
    ],
    [{ memorySize: 64 }, /Consumer: memorySize must be a whole number from 128 to 10240, got 64/],
    [
      { idempotencyExpiry: Duration.seconds(30) },
      /Consumer: idempotencyExpiry must be from 1 minute to 30 days/,
    ],
  ])('rejects %p with a clear message', (props, message) => {
    expect(() => synthFunction(props)).toThrow(message);
  });
});

describe('ConsumerFunction bundling', () => {
  const entry = 'lambda/shared/side-effect.ts';
  const apps: App[] = [];

  afterAll(() => {
    for (const app of apps) fs.rmSync(app.outdir, { recursive: true, force: true });
  });

  function consumerIn(stack: Stack, id: string, consumerEntry: string): ConsumerFunction {
    return new ConsumerFunction(stack, id, {
      entry: consumerEntry,
      serviceName: id,
      description: 'test',
      idempotencyTable: new IdempotencyTable(stack, `${id}Idempotency`),
    });
  }

  /** The `S3Key` of each function of a stack, by the function's logical id. */
  function s3KeysOf(stack: Stack): Record<string, string> {
    const functions = Template.fromStack(stack).findResources('AWS::Lambda::Function');
    return Object.fromEntries(
      Object.entries(functions).map(([id, resource]) => [id, resource.Properties.Code.S3Key as string]),
    );
  }

  it('bundles in this process with the shared esbuild options: the asset is their build, byte for byte', () => {
    const app = bundlingApp();
    apps.push(app);
    const stack = new Stack(app, 'Bundled');
    const spawnSync = jest.spyOn(childProcess, 'spawnSync');
    try {
      consumerIn(stack, 'Consumer', entry);
    } finally {
      spawnSync.mockRestore();
    }
    // NodejsFunction started `npx --no-install esbuild` (through spawnSync) for every function.
    expect(spawnSync.mock.calls.map(([command]) => command)).not.toContain('npx');

    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.handler' });
    const [key] = Object.values(s3KeysOf(stack));
    const asset = path.join(app.outdir, `asset.${key.replace(/\.zip$/, '')}`);
    expect(fs.readdirSync(asset).sort()).toEqual(['index.js', 'index.js.map']);

    // A sibling of the asset folder, so that the map's relative `sources` are the same too.
    const reference = path.join(app.outdir, 'reference');
    buildSync({ ...esbuildOptions(CONSUMER_BUNDLING, entry, reference), logLevel: 'silent' });
    for (const file of ['index.js', 'index.js.map']) {
      expect(
        fs.readFileSync(path.join(asset, file)).equals(fs.readFileSync(path.join(reference, file))),
      ).toBe(true);
    }
  });

  it("fails synth with the entry and esbuild's message when the code does not build (no Docker fallback)", () => {
    const broken = fs.mkdtempSync(path.join(os.tmpdir(), 'broken-entry-'));
    try {
      const file = path.join(broken, 'index.ts');
      fs.writeFileSync(file, "import { missing } from './nowhere';\nexport const handler = missing;\n");
      const app = bundlingApp();
      apps.push(app);
      expect(() => consumerIn(new Stack(app, 'Broken'), 'Consumer', file)).toThrow(
        /esbuild could not bundle \S*broken-entry-\w+\/index\.ts: Build failed with 1 error:[\s\S]*Could not resolve "\.\/nowhere"/,
      );
    } finally {
      fs.rmSync(broken, { recursive: true, force: true });
    }
  });

  it('rejects an entry that does not exist, also when bundling is skipped', () => {
    expect(() => consumerIn(testStack(), 'Consumer', 'lambda/no-such-handler/index.ts')).toThrow(
      /Cannot find entry file at .*lambda\/no-such-handler\/index\.ts/,
    );
  });

  it('gives each function its own asset when bundling is skipped (no shared cache entry)', () => {
    const stack = testStack();
    consumerIn(stack, 'First', entry);
    consumerIn(stack, 'Second', 'lambda/shared/parsing.ts');
    const keys = Object.values(s3KeysOf(stack));
    expect(keys).toHaveLength(2);
    expect(new Set(keys).size).toBe(2);
  });
});
