import { Duration, Token } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { StreamIngestionStack } from '../../../lib/stacks/stream-ingestion-stack';
import { nagFindings } from '../../helpers/nag';
import { testApp } from '../../helpers/synth';
import { expectConsumerUsesStackTable, PROD, SANDBOX } from './stack-fixtures';

const STATEFUL_TYPES = ['AWS::DynamoDB::Table', 'AWS::Kinesis::Stream', 'AWS::SQS::Queue'];

describe('StreamIngestionStack', () => {
  let stack: StreamIngestionStack;
  let template: Template;

  beforeAll(() => {
    stack = new StreamIngestionStack(testApp(), 'Stream', { config: SANDBOX });
    template = Template.fromStack(stack);
  });

  it('matches the snapshot (asset hashes masked)', () => {
    expect(template.toJSON()).toMatchSnapshot();
  });

  // cdk-nag (AwsSolutions and Serverless) on this stack as the app builds it: test/lib/app.test.ts, every stack in one synth.

  it('composes its own idempotency and effect tables and the stream consumer only', () => {
    template.resourceCountIs('AWS::Kinesis::Stream', 1);
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.resourceCountIs('AWS::SQS::Queue', 1);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 17); // test/lib/constructs/alarms.test.ts lists them
    expectConsumerUsesStackTable(
      stack,
      template,
      /^What the consumer applied: one item per sensor and metric \(pk = sensor#<sensorId>#<metric>\)$/,
    );
  });

  it('takes removal policy and log retention from the stage: a sandbox is destroyed cleanly', () => {
    for (const type of STATEFUL_TYPES) {
      const resources = Object.values(template.findResources(type));
      expect(resources.length).toBeGreaterThan(0);
      for (const resource of resources) expect(resource.DeletionPolicy).toBe('Delete');
    }
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
  });

  it('keeps table, stream and failure queue in a stage that retains data, and lets props override the consumer', () => {
    const kept = new StreamIngestionStack(testApp(), 'Stream', {
      config: PROD,
      consumer: { batchSize: 10, maxRecordAge: Duration.hours(2) },
    });
    const keptTemplate = Template.fromStack(kept);
    for (const type of STATEFUL_TYPES) {
      for (const resource of Object.values(keptTemplate.findResources(type))) {
        expect(resource.DeletionPolicy).toBe('Retain');
      }
    }
    keptTemplate.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    keptTemplate.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 10,
      MaximumRecordAgeInSeconds: 7200,
    });
  });

  it('outputs the stream name and ARN, the destination, the failure queue URL, the effect table and the alarms', () => {
    for (const output of [
      'StreamName',
      'StreamArn',
      'OnFailureDestinationArn',
      'FailureQueueUrl',
      'EffectTableName',
      'ConsumerFunctionName',
      'ConsumerLogGroupName',
      'IteratorAgeAlarmName',
      'FailureQueueAlarmName',
    ]) {
      template.hasOutput(output, { Value: Match.anyValue() });
    }
  });

  it('has no failure queue output when the destination is a bucket', () => {
    const withBucket = new StreamIngestionStack(testApp(), 'Stream', {
      config: SANDBOX,
      consumer: { onFailure: { kind: 'bucket' } },
    });
    const outputs = Template.fromStack(withBucket).toJSON().Outputs as Record<string, unknown>;
    expect(Object.keys(outputs)).not.toContain('FailureQueueUrl');
    expect(Object.keys(outputs)).not.toContain('FailureQueueAlarmName');
    expect(nagFindings(withBucket)).toEqual([]);
  });

  it('is environment-agnostic', () => {
    expect(Token.isUnresolved(stack.account)).toBe(true);
    expect(Token.isUnresolved(stack.region)).toBe(true);
  });
});
