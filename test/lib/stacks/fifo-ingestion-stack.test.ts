import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Duration, Token } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { FifoIngestionStack } from '../../../lib/stacks/fifo-ingestion-stack';
import { maskAssetHashes } from '../../helpers/cdk-snapshot-serializer';
import { withoutBundlingNotices } from '../../helpers/console-capture';
import { testApp } from '../../helpers/synth';
import { expectConsumerUsesStackTable, PROD, SANDBOX } from './stack-fixtures';

// The masking the registered snapshot serializer applies, as a string to compare two templates.
const masked = (template: unknown): string => JSON.stringify(maskAssetHashes(template));

describe('FifoIngestionStack', () => {
  let stack: FifoIngestionStack;
  let template: Template;

  beforeAll(() => {
    stack = new FifoIngestionStack(testApp(), 'Fifo', { config: SANDBOX });
    template = Template.fromStack(stack);
  });

  it('matches the snapshot (asset hashes masked)', () => {
    expect(template.toJSON()).toMatchSnapshot();
  });

  // cdk-nag (AwsSolutions and Serverless) on this stack as the app builds it: test/lib/app.test.ts, every stack in one synth.

  it('composes its own idempotency and effect tables and the FIFO consumer only', () => {
    template.resourceCountIs('AWS::SQS::Queue', 2);
    template.allResourcesProperties('AWS::SQS::Queue', { FifoQueue: true });
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 12); // test/lib/constructs/alarms.test.ts lists them
    expectConsumerUsesStackTable(
      stack,
      template,
      /^What the consumer applied: one item per account and currency \(pk = account#<accountId>#<currency>\)$/,
    );
  });

  it('takes removal policy and log retention from the stage: a sandbox is destroyed cleanly', () => {
    for (const type of ['AWS::DynamoDB::Table', 'AWS::SQS::Queue']) {
      for (const resource of Object.values(template.findResources(type))) {
        expect(resource.DeletionPolicy).toBe('Delete');
      }
    }
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
  });

  it('keeps the table and both queues in a stage that retains data, and lets props override the consumer', () => {
    const kept = new FifoIngestionStack(testApp(), 'Fifo', {
      config: PROD,
      consumer: { batchSize: 5, highThroughput: true },
    });
    const keptTemplate = Template.fromStack(kept);
    for (const type of ['AWS::DynamoDB::Table', 'AWS::SQS::Queue']) {
      const resources = Object.values(keptTemplate.findResources(type));
      expect(resources.length).toBeGreaterThan(0);
      for (const resource of resources) expect(resource.DeletionPolicy).toBe('Retain');
    }
    keptTemplate.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    keptTemplate.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 5 });
    keptTemplate.hasResourceProperties('AWS::SQS::Queue', { FifoThroughputLimit: 'perMessageGroupId' });
  });

  it('fails synth on a setting FIFO does not take, naming the stack and the rule', () => {
    expect(
      () =>
        new FifoIngestionStack(testApp(), 'Fifo', {
          config: SANDBOX,
          consumer: { batchSize: 50, maxBatchingWindow: Duration.seconds(5) },
        }),
    ).toThrow(
      /^Fifo\/FifoConsumer: 2 rules are broken.*\n.*maxBatchingWindow must be 0 for a FIFO queue.*\n.*batchSize must be a whole number from 1 to 10, got 50/,
    );
  });

  it('outputs the queue URLs, the dead-letter queue ARN for redrives, the effect table and the alarm', () => {
    for (const output of [
      'QueueUrl',
      'DeadLetterQueueUrl',
      'DeadLetterQueueArn',
      'EffectTableName',
      'ConsumerFunctionName',
      'ConsumerLogGroupName',
      'DeadLetterQueueAlarmName',
    ]) {
      template.hasOutput(output, { Value: Match.anyValue() });
    }
  });

  it('is environment-agnostic', () => {
    expect(Token.isUnresolved(stack.account)).toBe(true);
    expect(Token.isUnresolved(stack.region)).toBe(true);
  });
});

describe('FifoIngestionStack snapshot stability', () => {
  let workDir: string;

  beforeAll(() => {
    // Inside the repository (git-ignored .tmp/) so esbuild resolves node_modules and the lock file as usual.
    const tmpRoot = path.join(__dirname, '..', '..', '..', '.tmp');
    fs.mkdirSync(tmpRoot, { recursive: true });
    workDir = fs.mkdtempSync(path.join(tmpRoot, 'fifo-snapshot-'));
  });

  afterAll(() => {
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  function synthWithHandler(name: string, code: string): Record<string, unknown> {
    const entry = path.join(workDir, name, 'index.ts');
    fs.mkdirSync(path.dirname(entry), { recursive: true });
    fs.writeFileSync(entry, code);
    // A real App: bundling on (esbuild in this process), output to its own temporary directory, removed after.
    const app = new App();
    try {
      const { result: template, bundled } = withoutBundlingNotices(() => {
        const stack = new FifoIngestionStack(app, 'Fifo', { config: SANDBOX, consumer: { entry } });
        return Template.fromStack(stack).toJSON();
      });
      expect(bundled).toEqual(['Fifo/FifoConsumer/Consumer/Function/Code/Stage']);
      return template;
    } finally {
      fs.rmSync(app.outdir, { recursive: true, force: true });
    }
  }

  it('does not change when only the handler code changes', () => {
    const first = synthWithHandler('a', 'export const handler = async () => ({ batchItemFailures: [] });\n');
    const second = synthWithHandler(
      'b',
      'export const handler = async () => {\n  console.log("changed");\n  return { batchItemFailures: [] };\n};\n',
    );
    expect(JSON.stringify(first)).not.toEqual(JSON.stringify(second));
    expect(masked(first)).toEqual(masked(second));
    expect(masked(first)).toContain('[ASSET-HASH].zip');
  });
});
