import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type App, Stack, Token } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { context as cdkJsonContext } from '../../cdk.json';
import { buildApp, type ReliableLambdaStacks } from '../../lib/app';
import { INGESTION_PATHS } from '../../lib/config';
import { CDK_WARNING_REPORT, captureConsoleError } from '../helpers/console-capture';
import { errorThrownBy, testApp } from '../helpers/synth';
import { actionsDeniedWithoutTls, SNS_TOPIC_POLICY_ACTIONS } from './security-fixtures';

const testAppStackNames = (stacks: ReliableLambdaStacks) =>
  INGESTION_PATHS.flatMap((path) => (stacks[path] ? [stacks[path].stackName] : []));

/** Every warning the app's stacks carry. */
function buildAppWarnings(app: App): unknown[] {
  const stacks = buildApp(app, { nag: false });
  return INGESTION_PATHS.flatMap((path) =>
    stacks[path] ? Annotations.fromStack(stacks[path]).findWarning('*', Match.anyValue()) : [],
  );
}

describe('buildApp', () => {
  it('composes one environment-agnostic stack per path, named after the app and the stage', () => {
    const app = testApp({ appName: 'acme-payments', stage: 'dev', paths: [...INGESTION_PATHS] });
    const stacks = buildApp(app, { nag: false });
    const all = [
      stacks.sqs!,
      stacks.object!,
      stacks.stream!,
      stacks.fifo!,
      stacks['table-stream']!,
      stacks.http!,
    ];
    expect(all.map((stack) => stack.stackName)).toEqual([
      'acme-payments-dev-sqs',
      'acme-payments-dev-object',
      'acme-payments-dev-stream',
      'acme-payments-dev-fifo',
      'acme-payments-dev-table-stream',
      'acme-payments-dev-http',
    ]);
    for (const stack of all) {
      // The construct id is the name, so `cdk deploy acme-payments-dev-sqs` selects it (the CLI selects by id).
      expect(stack.node.id).toBe(stack.stackName);
      expect(stack.artifactId).toBe(stack.stackName);
      expect(Token.isUnresolved(stack.account)).toBe(true);
      expect(Token.isUnresolved(stack.region)).toBe(true);
    }
  });

  it("takes its name from cdk.json's context, the one place a fork renames it", () => {
    const { config } = buildApp(testApp({ paths: ['sqs'] }), { nag: false });
    expect(config.appName).toBe(cdkJsonContext.appName);
  });

  it.each([
    [['sqs'], ['sqs']],
    ['stream,sqs', ['sqs', 'stream']],
    [
      ['object', 'stream'],
      ['object', 'stream'],
    ],
  ])('deploys only the paths in context "paths" (%j)', (paths, present) => {
    const stacks = buildApp(testApp({ stage: 'dev', paths }), { nag: false });
    expect(INGESTION_PATHS.filter((path) => stacks[path] !== undefined)).toEqual(present);
    expect(testAppStackNames(stacks)).toEqual(present.map((path) => `${stacks.config.appName}-dev-${path}`));
  });

  it('warns about a context key that is not a setting (a typo such as stag=prod), once', () => {
    const stacks = buildApp(testApp({ stag: 'prod', paths: ['sqs', 'stream'] }), { nag: false });
    // Synth prints the warning (CDK's validation report, on console.error): captured and checked here.
    const report = captureConsoleError(CDK_WARNING_REPORT);
    let warnings: unknown[];
    try {
      warnings = [stacks.sqs!, stacks.stream!].flatMap((stack) =>
        Annotations.fromStack(stack).findWarning(
          '*',
          Match.stringLikeRegexp('Context "stag" is not a setting'),
        ),
      );
    } finally {
      report.restore();
    }
    expect(warnings).toHaveLength(1);
    // Each synth's report (one per Annotations.fromStack) lists this warning and no other.
    expect(report.captured.length).toBeGreaterThan(0);
    expect(report.warnings()).toEqual(
      report.captured.map(() =>
        expect.stringMatching(/^Context "stag" is not a setting of this app and is ignored/),
      ),
    );
    expect(buildAppWarnings(testApp({ paths: ['sqs'] }))).toEqual([]);
  });

  it('reports every broken rule of every stack at once', () => {
    const app = testApp({ paths: ['sqs', 'stream'], logRetentionDays: 7 });
    // Broken on purpose in two stacks: each stack validates its own construct, the app collects both.
    const error = errorThrownBy(
      () =>
        buildApp(app, {
          nag: false,
          overrides: {
            sqs: { consumer: { batchSize: 0 } },
            stream: { consumer: { batchSize: 0 } },
          },
        }),
      'two broken stacks',
    );
    expect(error.message).toMatch(/sqs.*batchSize/s);
    expect(error.message).toMatch(/stream.*batchSize/s);
  });

  it('runs cdk-nag on synth: only the unacknowledged finding fails it, and no stack of the app has one', () => {
    const app = testApp();
    buildApp(app);
    // One synth proves both: a queue with no DLQ and no TLS policy is reported, nothing of the real stacks is.
    new Queue(new Stack(app, 'Extra'), 'Unsafe');
    let report = '';
    try {
      app.synth();
    } catch (error) {
      report = (error as Error).message;
    }
    expect(report).toMatch(/AwsSolutions-SQS4/);
    expect(report).toMatch(/Extra\/Unsafe\/Resource/);
    const flaggedPaths = [...report.matchAll(/^\s+(\S+\/\S+) aws-cdk-lib/gm)].map((match) => match[1]);
    expect(new Set(flaggedPaths)).toEqual(new Set(['Extra/Unsafe/Resource']));
  });

  it('refuses a bad stage name before building anything', () => {
    expect(() => buildApp(testApp({ stage: 'Bad Stage' }))).toThrow(/Context "stage" must be/);
  });

  it('reports every bad context value at once', () => {
    const error = errorThrownBy(
      () => buildApp(testApp({ stage: 'Bad Stage', paths: 'sqs,queue', retainData: 'yes' })),
      'three bad values',
    );
    expect(error.message).toMatch(/^3 context values are wrong/);
    expect(error.message).toMatch(/Context "stage" must be/);
    expect(error.message).toMatch(/Context "paths" names "queue"/);
    expect(error.message).toMatch(/Context "retainData" must be true or false, got "yes"/);
  });

  it("gives every consumer function the README's settings, and has no function but CDK's two deployment helpers besides", () => {
    const stacks = buildApp(testApp({ paths: [...INGESTION_PATHS] }), { nag: false });
    const functions = INGESTION_PATHS.flatMap((path) =>
      Object.entries(Template.fromStack(stacks[path]!).findResources('AWS::Lambda::Function')),
    );
    const isConsumer = ([, fn]: [string, Record<string, unknown>]) =>
      ((fn.Properties as { Environment?: { Variables?: Record<string, unknown> } }).Environment?.Variables
        ?.POWERTOOLS_SERVICE_NAME ?? undefined) !== undefined;
    const consumers = functions.filter(isConsumer);
    // One consumer per path, and the http path's ingress in front of its own SQS consumer.
    expect(consumers).toHaveLength(INGESTION_PATHS.length + 1);
    for (const [, fn] of consumers) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        MemorySize: 512,
        TracingConfig: { Mode: 'Active' },
      });
    }
    const helpers = functions.filter((entry) => !isConsumer(entry)).map(([id]) => id);
    expect(helpers).toEqual([
      expect.stringMatching(/^CustomS3AutoDeleteObjectsCustomResourceProviderHandler/),
      expect.stringMatching(/^BucketNotificationsHandler/),
    ]);
  });
});

describe("the README's security claims, on every stack of the app", () => {
  let templates: Template[];
  beforeAll(() => {
    const stacks = buildApp(testApp({ paths: [...INGESTION_PATHS] }), { nag: false });
    templates = INGESTION_PATHS.map((path) => Template.fromStack(stacks[path]!));
  });

  it('every queue, topic and bucket denies every action to requests that are not TLS', () => {
    const covered: Array<[string, string, string[]]> = [];
    const expected: Array<[string, string, string[]]> = [];
    for (const template of templates) {
      for (const [type, policyType, everyAction] of [
        ['AWS::SQS::Queue', 'AWS::SQS::QueuePolicy', ['sqs:*']],
        ['AWS::SNS::Topic', 'AWS::SNS::TopicPolicy', [...SNS_TOPIC_POLICY_ACTIONS]],
        ['AWS::S3::Bucket', 'AWS::S3::BucketPolicy', ['s3:*']],
      ] as const) {
        for (const id of Object.keys(template.findResources(type))) {
          covered.push([type, id, actionsDeniedWithoutTls(template, policyType, id)]);
          expected.push([type, id, [...everyAction]]);
        }
      }
    }
    expect(covered.map(([type]) => type)).toEqual(expect.arrayContaining(['AWS::SNS::Topic']));
    expect(covered).toEqual(expected);
  });

  it('the stream is reached over TLS by its HTTPS-only endpoints, not by a policy, and the README says so', () => {
    // Kinesis Data Streams serves its API on HTTPS endpoints only (AWS General Reference, "Amazon Kinesis Data
    // Streams endpoints and quotas"); no AWS documentation has it evaluate aws:SecureTransport in a stream's
    // resource policy, so the app attaches none and the README must not claim one.
    for (const template of templates) template.resourceCountIs('AWS::Kinesis::ResourcePolicy', 0);
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8').replace(/\s+/g, ' ');
    const claims = {
      everyStreamRefusesByPolicy:
        /every queue, topic, bucket and stream is encrypted and refuses requests/i.test(readme),
      saysStreamEndpointsAreHttpsOnly: /Kinesis Data Streams serves its API over HTTPS only/.test(readme),
    };
    expect(claims).toEqual({ everyStreamRefusesByPolicy: false, saysStreamEndpointsAreHttpsOnly: true });
  });
});
