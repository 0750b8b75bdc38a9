import * as childProcess from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type * as Esbuild from 'esbuild';
import { buildSync } from 'esbuild';
import { esbuildOptions } from '../../../lib/bundling';
import {
  CONSUMER_BUNDLING,
  ConsumerFunction,
  ConsumerFunctionProps,
} from '../../../lib/constructs/consumer-function';
import { EffectTable } from '../../../lib/constructs/effect-table';
import { IdempotencyTable } from '../../../lib/constructs/idempotency-table';
import { ConfigurationError, ConfigurationErrors } from '../../../lib/validation';
import { withoutBundlingNotices } from '../../helpers/console-capture';
import { nagFindings } from '../../helpers/nag';
import { bundlingApp, logicalIdOf, testStack } from '../../helpers/synth';
import { expectEffectWritesOnly } from './effect-table-fixtures';

// esbuild as it is, but with `buildSync` a jest mock (calling the real one), so that the test that breaks the
// build on purpose can make esbuild's log silent for that one build: it expects the error and asserts it from
// the message synth throws, instead of esbuild printing it (`logLevel: 'warning'`, lib/bundling.ts) to stderr.
jest.mock('esbuild', () => {
  const actual = jest.requireActual<typeof Esbuild>('esbuild');
  return { ...actual, buildSync: jest.fn(actual.buildSync) };
});

function synthFunction(props: Partial<ConsumerFunctionProps> = {}) {
  const stack = testStack();
  const idempotencyTable = new IdempotencyTable(stack, 'Idempotency');
  const effectTable = new EffectTable(stack, 'Effects');
  const consumer = new ConsumerFunction(stack, 'Consumer', {
    entry: 'lambda/shared/side-effect.ts',
    serviceName: 'test-consumer',
    description: 'test',
    idempotencyTable,
    effectTable,
    ...props,
  });
  return { stack, consumer, effectTable, template: Template.fromStack(stack) };
}

describe('ConsumerFunction', () => {
  let template: Template;
  let effectTable: EffectTable;
  beforeAll(() => {
    ({ template, effectTable } = synthFunction());
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

  it('passes the effect table as EFFECT_TABLE_NAME and may only UpdateItem there', () => {
    expectEffectWritesOnly(template, logicalIdOf(effectTable.table));
  });

  it('logs to its own log group with a retention', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('may write logs only to its own log group: no managed policy, and no logs action anywhere else', () => {
    const roles = Object.values(template.findResources('AWS::IAM::Role'));
    expect(roles).toHaveLength(1);
    const [role] = roles;
    // No AWSLambdaBasicExecutionRole (logs:CreateLogGroup, CreateLogStream and PutLogEvents on every log group).
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    const logGroupId = Object.keys(template.findResources('AWS::Logs::LogGroup'))[0];
    type Statement = { Effect: string; Action: string | string[]; Resource: unknown };
    const inline = (role.Properties.Policies ?? []) as Array<{ PolicyDocument: { Statement: Statement[] } }>;
    const attached = Object.values(template.findResources('AWS::IAM::Policy')).map(
      (policy) => policy.Properties as { PolicyDocument: { Statement: Statement[] } },
    );
    const statements = [...inline, ...attached].flatMap((policy) => policy.PolicyDocument.Statement);
    const actions = (statement: Statement) =>
      Array.isArray(statement.Action) ? statement.Action : [statement.Action];
    const logStatements = statements.filter((statement) =>
      actions(statement).some((action) => action.startsWith('logs:')),
    );
    expect(logStatements).toEqual([
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] },
      },
    ]);
    // X-Ray tracing keeps its two actions (they take no resource-level permissions).
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
      Resource: '*',
    });
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
      { idempotencyExpiry: Duration.seconds(59) },
      /Consumer: idempotencyExpiry must be from 1 minute to 365 days, got 59 seconds/,
    ],
    [
      { idempotencyExpiry: Duration.days(366) },
      /Consumer: idempotencyExpiry must be from 1 minute to 365 days, got 366 days .*no source here re-delivers after 365 days/,
    ],
  ])('rejects %p with a clear message', (props, message) => {
    expect(() => synthFunction(props)).toThrow(message);
  });

  it('accepts an idempotency expiry from 1 minute to 365 days (the longest Kinesis retention)', () => {
    for (const idempotencyExpiry of [Duration.minutes(1), Duration.days(365)]) {
      const { template: accepted } = synthFunction({ idempotencyExpiry });
      accepted.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: Match.objectLike({ IDEMPOTENCY_EXPIRY_SECONDS: String(idempotencyExpiry.toSeconds()) }),
        },
      });
    }
  });

  it('reports every broken setting at once', () => {
    let error: unknown;
    try {
      synthFunction({ timeout: Duration.minutes(16), memorySize: 64, idempotencyExpiry: Duration.days(400) });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigurationErrors);
    expect(error).toBeInstanceOf(ConfigurationError);
    const { message, errors } = error as ConfigurationErrors;
    expect(errors.map((each) => each.message.split(' ')[1])).toEqual([
      'timeout',
      'memorySize',
      'idempotencyExpiry',
    ]);
    expect(message).toMatch(/^TestStack\/Consumer: 3 rules are broken/);
    expect(message).toContain('\n  - TestStack/Consumer: timeout must be from 1 second to 15 minutes');
    expect(message).toContain(
      '\n  - TestStack/Consumer: memorySize must be a whole number from 128 to 10240',
    );
    expect(message).toContain(
      '\n  - TestStack/Consumer: idempotencyExpiry must be from 1 minute to 365 days',
    );
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
      effectTable: new EffectTable(stack, `${id}Effects`),
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
      const { bundled } = withoutBundlingNotices(() => consumerIn(stack, 'Consumer', entry));
      expect(bundled).toEqual(['Bundled/Consumer/Function/Code/Stage']);
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
      const { buildSync: realBuildSync } = jest.requireActual<typeof Esbuild>('esbuild');
      jest
        .mocked(buildSync)
        .mockImplementationOnce((options) => realBuildSync({ ...options, logLevel: 'silent' }));
      expect(() =>
        withoutBundlingNotices(() => consumerIn(new Stack(app, 'Broken'), 'Consumer', file)),
      ).toThrow(
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
