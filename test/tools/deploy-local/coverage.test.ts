/**
 * `npm run deploy:local`'s demand on the emulator, without the emulator: the comparison of a template with what
 * CloudFormation lists, the report, the CLI arguments and environment, and that every resource type the app
 * synthesizes is covered (created by moto or by the launcher's models, and looked up), so a new type fails here
 * in `npm test` before it fails the emulated deploy.
 */
import { Stack } from 'aws-cdk-lib';
import { Template as CdkTemplate } from 'aws-cdk-lib/assertions';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildApp } from '../../../lib/app';
import { INGESTION_PATHS } from '../../../lib/config';
import {
  compareResources,
  expectedResources,
  isFailure,
  LAUNCHER_MODELS,
  NOT_EMULATED,
  retainedOnDestroy,
} from '../../../tools/deploy-local/coverage';
import {
  bootstrapArgs,
  deployArgs,
  describeResources,
  destroyArgs,
  type ResourceReport,
  stageOf,
} from '../../../tools/deploy-local/deploy';
import { emulatorEnvironment, PIP_INSTALL } from '../../../tools/deploy-local/emulator';
import { LOOKUPS, NOTHING_TO_LOOK_UP } from '../../../tools/deploy-local/lookups';
import type { Template } from '../../../tools/smoke/aws';
import type { DeployedResource } from '../../../tools/smoke/resolve';
import { testApp } from '../../helpers/synth';

const template: Template = {
  Conditions: { Available: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'us-east-1'] } },
  Resources: {
    Queue: { Type: 'AWS::SQS::Queue', Properties: { VisibilityTimeout: 180 } },
    Alarm: { Type: 'AWS::CloudWatch::Alarm', Properties: {} },
    Table: { Type: 'AWS::DynamoDB::Table', DeletionPolicy: 'Retain' },
    Permission: { Type: 'AWS::Lambda::Permission' },
    Metadata: { Type: 'AWS::CDK::Metadata', Condition: 'Available' },
  },
};

const listed = (resources: [string, string, string, string?][]): Map<string, DeployedResource> =>
  new Map(
    resources.map(([logicalId, type, physicalId, status = 'CREATE_COMPLETE']) => [
      logicalId,
      { logicalId, type, physicalId, status },
    ]),
  );

const environment = (region: string) => ({
  partition: 'aws',
  region,
  accountId: '123456789012',
  stackName: 's',
  stackId: `arn:aws:cloudformation:${region}:123456789012:stack/s/1`,
  urlSuffix: 'amazonaws.com',
  resources: new Map(),
  parameters: {},
});

describe('deploy:local: template vs what CloudFormation lists', () => {
  it('expects the resources whose condition holds', () => {
    expect(expectedResources(template, environment('us-east-1')).map((r) => r.logicalId)).toEqual([
      'Queue',
      'Alarm',
      'Table',
      'Permission',
      'Metadata',
    ]);
    expect(expectedResources(template, environment('eu-west-1')).map((r) => r.logicalId)).not.toContain(
      'Metadata',
    );
  });

  it('passes when every resource is listed as created; a permission may lack a physical id (moto gives none)', () => {
    const findings = compareResources(
      expectedResources(template, environment('us-east-1')),
      listed([
        ['Queue', 'AWS::SQS::Queue', 'https://q'],
        ['Alarm', 'AWS::CloudWatch::Alarm', 'alarm-1'],
        ['Table', 'AWS::DynamoDB::Table', 'table-1'],
        ['Permission', 'AWS::Lambda::Permission', ''],
        ['Metadata', 'AWS::CDK::Metadata', 'meta'],
      ]),
    );
    expect(findings.every((finding) => finding.status === 'created')).toBe(true);
    expect(findings.some(isFailure)).toBe(false);
  });

  it('fails a resource the emulator skipped (moto reports the stack CREATE_COMPLETE without it), saying what to do', () => {
    const findings = compareResources(
      expectedResources(template, environment('us-east-1')),
      listed([
        ['Queue', 'AWS::SQS::Queue', 'https://q'],
        ['Table', 'AWS::DynamoDB::Table', 'table-1'],
        ['Permission', 'AWS::Lambda::Permission', ''],
        ['Metadata', 'AWS::CDK::Metadata', 'meta'],
      ]),
    );
    const alarm = findings.find((finding) => finding.logicalId === 'Alarm')!;
    expect(alarm.status).toBe('missing');
    expect(isFailure(alarm)).toBe(true);
    expect(alarm.detail).toMatch(/not created by the emulator.*moto_launcher\.py.*NOT_EMULATED/);
  });

  it('says a resource is missing because its stack failed, when it did', () => {
    const findings = compareResources(
      [{ logicalId: 'Alarm', type: 'AWS::CloudWatch::Alarm', properties: {} }],
      new Map(),
      {},
      'CREATE_FAILED: Notifications (Custom::X) could not be created',
    );
    expect(findings).toEqual([
      expect.objectContaining({
        status: 'missing',
        detail: 'not created: the stack is CREATE_FAILED: Notifications (Custom::X) could not be created',
      }),
    ]);
  });

  it('accepts a missing resource only when its type is listed as not emulated, with the reason', () => {
    const findings = compareResources(
      [{ logicalId: 'Alarm', type: 'AWS::CloudWatch::Alarm', properties: {} }],
      new Map(),
      { 'AWS::CloudWatch::Alarm': 'no alarms here' },
    );
    expect(findings).toEqual([
      expect.objectContaining({ status: 'not-emulated', detail: 'not emulated: no alarms here' }),
    ]);
    expect(isFailure(findings[0])).toBe(false);
  });

  it('fails a resource that failed, has no physical id, has another type, or is not in the template', () => {
    const findings = compareResources(
      [
        { logicalId: 'A', type: 'AWS::SQS::Queue', properties: {} },
        { logicalId: 'B', type: 'AWS::SQS::Queue', properties: {} },
        { logicalId: 'C', type: 'AWS::SQS::Queue', properties: {} },
      ],
      listed([
        ['A', 'AWS::SQS::Queue', 'https://a', 'CREATE_FAILED'],
        ['B', 'AWS::SQS::Queue', ''],
        ['C', 'AWS::SNS::Topic', 'arn'],
        ['D', 'AWS::SQS::Queue', 'https://d'],
      ]),
    );
    expect(findings.map((finding) => [finding.logicalId, finding.status, finding.detail])).toEqual([
      ['A', 'failed', 'CREATE_FAILED'],
      ['B', 'failed', 'CREATE_COMPLETE but with no physical id'],
      ['C', 'failed', 'listed as AWS::SNS::Topic'],
      ['D', 'unexpected', 'listed by CloudFormation (CREATE_COMPLETE) but not in the template'],
    ]);
  });

  it('knows what the destroy keeps', () => {
    expect(retainedOnDestroy({ deletionPolicy: 'Retain' })).toBe(true);
    expect(retainedOnDestroy({ deletionPolicy: 'Delete' })).toBe(false);
    expect(retainedOnDestroy({})).toBe(false);
  });

  it('reports one line per stack and type, every failure in full, and what the launcher models', () => {
    const report = (logicalId: string, type: string, failed: boolean, lookup: string): ResourceReport => ({
      logicalId,
      type,
      status: failed ? 'missing' : 'created',
      detail: failed ? 'not created by the emulator' : 'CREATE_COMPLETE',
      stackName: 'app-dev-sqs',
      lookup,
      failed,
      retained: false,
    });
    expect(
      describeResources([
        report('Q1', 'AWS::SQS::Queue', false, 'GetQueueAttributes'),
        report('Q2', 'AWS::SQS::Queue', false, 'GetQueueAttributes'),
        report('Alarm', 'AWS::CloudWatch::Alarm', true, ''),
      ]),
    ).toEqual([
      'FAIL  app-dev-sqs: 2 of 3 resources created and found',
      '        AWS::SQS::Queue x2: GetQueueAttributes',
      '  FAIL  AWS::CloudWatch::Alarm Alarm: not created by the emulator',
    ]);
  });
});

describe('deploy:local: every resource type of the app is covered', () => {
  const templates = (() => {
    const app = testApp({ paths: [...INGESTION_PATHS] });
    buildApp(app, { nag: false });
    const stacks = app.node.children.filter((child): child is Stack => child instanceof Stack);
    return stacks.map((stack) => CdkTemplate.fromStack(stack).toJSON() as Template);
  })();
  const types = [
    ...new Set(templates.flatMap((t) => Object.values(t.Resources ?? {}).map((r) => r.Type))),
  ].sort();

  it('each type the emulator creates has a lookup (or a reason there is nothing to look up)', () => {
    const needLookup = types.filter((type) => !(type in NOT_EMULATED));
    expect(needLookup.filter((type) => !(type in LOOKUPS) && !(type in NOTHING_TO_LOOK_UP))).toEqual([]);
  });

  it('each type moto 5.2 skips is modelled by the launcher or listed as not emulated', () => {
    // moto 5.2's CloudFormation has no model for these (FIELD-NOTES; the emulated deploy fails without them).
    const skippedByMoto = types.filter(
      (type) =>
        type.startsWith('Custom::') ||
        [
          'AWS::CloudWatch::Alarm',
          'AWS::Lambda::EventInvokeConfig',
          'AWS::SNS::Subscription',
          'AWS::SNS::TopicPolicy',
          'AWS::SQS::QueuePolicy',
          'AWS::S3::BucketPolicy',
          'AWS::CDK::Metadata',
          'AWS::ApiGatewayV2::Api',
          'AWS::ApiGatewayV2::Integration',
          'AWS::ApiGatewayV2::Route',
          'AWS::ApiGatewayV2::Stage',
        ].includes(type),
    );
    expect(skippedByMoto.filter((type) => !(type in LAUNCHER_MODELS) && !(type in NOT_EMULATED))).toEqual([]);
  });

  it('the launcher models exactly the types coverage.ts says it does', () => {
    const launcher = readFileSync(join(__dirname, '../../../tools/deploy-local/moto_launcher.py'), 'utf8');
    const modelled = [...launcher.matchAll(/^ {4}TYPE = "((?:AWS|Custom)::[^"]+)"$/gm)]
      .map((match) => match[1])
      .sort();
    expect(modelled).toEqual(Object.keys(LAUNCHER_MODELS).sort());
  });
});

describe('deploy:local: commands and environment', () => {
  it('reads the stage off stack names <appName>-<stage>-<path>', () => {
    expect(
      stageOf('reliable-lambda', ['reliable-lambda-sandbox-sqs', 'reliable-lambda-sandbox-object']),
    ).toBe('sandbox');
    expect(stageOf('app', ['app-dev-team-stream'])).toBe('dev-team');
    expect(stageOf('app', ['app-dev-table-stream', 'app-dev-stream'])).toBe('dev');
    expect(stageOf('app', ['app-dev-sqs', 'app-dev-monitoring'])).toBe('dev');
    expect(stageOf('app', ['app-dev-sqs', 'app-prod-sqs'])).toBeUndefined();
    expect(stageOf('app', ['other-dev-sqs'])).toBeUndefined();
  });

  it('bootstraps the emulator account and deploys every stack directly (moto finds change sets by name only), from cdk.out', () => {
    expect(bootstrapArgs('/p/cdk.out')).toEqual([
      'bootstrap',
      'aws://123456789012/us-east-1',
      '--app',
      '/p/cdk.out',
      '--no-notices',
    ]);
    const deploy = deployArgs('/p/cdk.out', 3);
    expect(deploy).toEqual(
      expect.arrayContaining(['--all', '--method=direct', '--require-approval', 'never']),
    );
    expect(deploy.slice(deploy.indexOf('--app'), deploy.indexOf('--app') + 2)).toEqual([
      '--app',
      '/p/cdk.out',
    ]);
    expect(deploy.slice(deploy.indexOf('--concurrency'), deploy.indexOf('--concurrency') + 2)).toEqual([
      '--concurrency',
      '3',
    ]);
    expect(destroyArgs('/p/cdk.out')).toEqual(
      expect.arrayContaining(['destroy', '--all', '--force', '--app', '/p/cdk.out']),
    );
  });

  it('points everything at the emulator and at no real account', () => {
    const env = emulatorEnvironment(4567, '/tmp/w', {
      PATH: '/bin',
      AWS_PROFILE: 'prod',
      AWS_SESSION_TOKEN: 'token',
      AWS_ACCESS_KEY_ID: 'AKIAREAL',
      AWS_ENDPOINT_URL_SQS: 'https://elsewhere',
      CDK_DEFAULT_ACCOUNT: '999999999999',
    });
    expect(env).toMatchObject({
      PATH: '/bin',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4567',
      AWS_ENDPOINT_URL_S3_FOR_CLOUDFORMATION: 'http://localhost:4567',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_REGION: 'us-east-1',
      AWS_CONFIG_FILE: '/tmp/w/no-aws-config',
      AWS_SHARED_CREDENTIALS_FILE: '/tmp/w/no-aws-credentials',
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    for (const name of ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_ENDPOINT_URL_SQS', 'CDK_DEFAULT_ACCOUNT']) {
      expect(env).not.toHaveProperty(name);
    }
  });

  it('names the one install line', () => {
    expect(PIP_INSTALL).toBe("pip install 'moto[server]>=5.2,<6'");
  });
});
