import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { buildApp } from '../../../lib/app';
import { stackNameOf } from '../../../lib/config';
import { StageConfig } from '../../../lib/config';
import { ObjectIngestionStack, ObjectIngestionStackProps } from '../../../lib/stacks/object-ingestion-stack';
import { nagFindings } from '../../helpers/nag';
import { logicalIdOf, testApp } from '../../helpers/synth';
import { expectConsumerUsesStackTable, PROD, SANDBOX } from './stack-fixtures';

// A month of logs here, to show the stage's retention reaching the function.
const sandbox: StageConfig = { ...SANDBOX, logRetention: RetentionDays.ONE_MONTH };

function stackFor(
  config: StageConfig,
  consumer?: ObjectIngestionStackProps['consumer'],
): ObjectIngestionStack {
  return new ObjectIngestionStack(testApp(), 'Object', {
    stackName: stackNameOf(config, 'object'),
    config,
    consumer,
  });
}

describe('ObjectIngestionStack (sandbox)', () => {
  let stack: ObjectIngestionStack;
  let template: Template;

  beforeAll(() => {
    stack = stackFor(sandbox);
    template = Template.fromStack(stack);
  });

  it('matches the snapshot', () => {
    expect(template.toJSON()).toMatchSnapshot();
  });

  // cdk-nag (AwsSolutions and Serverless) on this stack as the app builds it: test/lib/app.test.ts, every stack in one synth.

  it('throws stateful resources away with the stack, emptying the buckets first', () => {
    template.allResources('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
    template.allResources('AWS::S3::Bucket', { DeletionPolicy: 'Delete' });
    template.allResources('AWS::SQS::Queue', { DeletionPolicy: 'Delete' });
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 2);
  });

  it('gives the function the stage log retention and the stack tables', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    expectConsumerUsesStackTable(
      stack,
      template,
      /^What the consumer applied: one item per object prefix \(pk = prefix#<bucket>\/<first path segment or \(root\)>\)$/,
    );
  });

  it('outputs the bucket name, the on-failure queue URL, the effect table and what an operator needs', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(Object.keys(outputs).sort()).toEqual([
      'BucketName',
      'ConsumerFunctionName',
      'ConsumerLogGroupName',
      'EffectTableName',
      'ObjectCreatedTopicArn',
      'OnFailureQueueUrl',
      'SubscriptionDeadLetterQueueUrl',
    ]);
    expect(outputs.BucketName.Value).toEqual({
      Ref: logicalIdOf(stack.objectConsumer.bucket),
    });
    expect(outputs.OnFailureQueueUrl.Value).toEqual({
      Ref: logicalIdOf(stack.objectConsumer.onFailureQueue!),
    });
  });
});

describe('ObjectIngestionStack (a stage that keeps its data)', () => {
  let stack: ObjectIngestionStack;
  let template: Template;

  beforeAll(() => {
    stack = stackFor(PROD, { retryAttempts: 1, maxEventAge: Duration.hours(1) });
    template = Template.fromStack(stack);
  });

  it('retains the tables, buckets, key and queues, and empties nothing', () => {
    template.allResources('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain' });
    template.allResources('AWS::S3::Bucket', { DeletionPolicy: 'Retain' });
    template.allResources('AWS::KMS::Key', { DeletionPolicy: 'Retain' });
    template.allResources('AWS::SQS::Queue', { DeletionPolicy: 'Retain' });
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
  });

  it('passes the consumer overrides through', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 1,
      MaximumEventAgeInSeconds: 3600,
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  });

  it('has no unacknowledged cdk-nag finding', () => {
    expect(nagFindings(stack)).toEqual([]);
  });
});

describe('buildApp', () => {
  it('adds the object stack, named after the app and the stage', () => {
    const app = testApp({ appName: 'acme', stage: 'dev', paths: ['object'] });
    const { object } = buildApp(app, { nag: false });
    expect(object).toBeInstanceOf(ObjectIngestionStack);
    expect(object?.stackName).toBe('acme-dev-object');
  });
});
