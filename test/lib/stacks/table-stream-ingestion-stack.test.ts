import { Duration, Token } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { TableStreamIngestionStack } from '../../../lib/stacks/table-stream-ingestion-stack';
import { nagFindings } from '../../helpers/nag';
import { logicalIdOf, testApp } from '../../helpers/synth';
import { expectConsumerUsesStackTable, PROD, SANDBOX } from './stack-fixtures';

const STATEFUL_TYPES = ['AWS::DynamoDB::Table', 'AWS::SQS::Queue'];

describe('TableStreamIngestionStack', () => {
  let stack: TableStreamIngestionStack;
  let template: Template;

  beforeAll(() => {
    stack = new TableStreamIngestionStack(testApp(), 'TableStream', { config: SANDBOX });
    template = Template.fromStack(stack);
  });

  it('matches the snapshot (asset hashes masked)', () => {
    expect(template.toJSON()).toMatchSnapshot();
  });

  // cdk-nag (AwsSolutions and Serverless) on this stack as the app builds it: test/lib/app.test.ts, every stack in one synth.

  it('composes its own idempotency and effect tables and the table stream consumer only', () => {
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.resourceCountIs('AWS::SQS::Queue', 1);
    template.resourceCountIs('AWS::SNS::Topic', 0);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 18); // test/lib/constructs/alarms.test.ts lists them
    // The source table, besides the idempotency and effect tables.
    template.resourceCountIs('AWS::DynamoDB::Table', 3);
    const { table } = stack.tableStreamConsumer;
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [logicalIdOf(table), 'StreamArn'] },
      FilterCriteria: {
        Filters: [{ Pattern: '{"eventName":["INSERT"]}' }, { Pattern: '{"eventName":["MODIFY"]}' }],
      },
    });
  });

  it("wires the consumer to the stack's own idempotency and effect tables", () => {
    // expectConsumerUsesStackTable counts the stack's tables: without the source table, they are its two.
    const withoutSource = Template.fromJSON({
      ...template.toJSON(),
      Resources: Object.fromEntries(
        Object.entries(template.toJSON().Resources as Record<string, unknown>).filter(
          ([id]) => id !== logicalIdOf(stack.tableStreamConsumer.table),
        ),
      ),
    });
    expectConsumerUsesStackTable(
      stack,
      withoutSource,
      /^What the consumer applied: one item per warehouse \(pk = stock#<warehouse>\)$/,
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

  it('keeps the tables and the failure queue in a stage that retains data, and lets props override the consumer', () => {
    const kept = new TableStreamIngestionStack(testApp(), 'TableStream', {
      config: PROD,
      consumer: { batchSize: 10, maxRecordAge: Duration.hours(2), timeToLiveAttribute: 'expiresAt' },
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
    keptTemplate.hasResourceProperties('AWS::DynamoDB::Table', {
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });

  it('outputs the source table, its stream, the destination, the failure queue URL, the effect table, the function and the alarms', () => {
    const { table, onFailureDestination, alarms } = stack.tableStreamConsumer;
    const queueId = logicalIdOf(onFailureDestination.queue as never);
    const expected: Record<string, unknown> = {
      SourceTableName: { Ref: logicalIdOf(table) },
      StreamArn: { 'Fn::GetAtt': [logicalIdOf(table), 'StreamArn'] },
      OnFailureDestinationName: { 'Fn::GetAtt': [queueId, 'QueueName'] },
      OnFailureDestinationArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      FailureQueueUrl: { Ref: queueId },
      EffectTableName: { Ref: logicalIdOf(stack.effectTable.table) },
      ConsumerFunctionName: { Ref: logicalIdOf(stack.tableStreamConsumer.function) },
      ConsumerLogGroupName: Match.anyValue(),
      IteratorAgeAlarmName: { Ref: logicalIdOf(alarms.iteratorAge) },
      FailureQueueAlarmName: { Ref: logicalIdOf(alarms.failureQueueNotEmpty!) },
    };
    for (const [output, value] of Object.entries(expected)) template.hasOutput(output, { Value: value });
    expect(Object.keys(template.toJSON().Outputs as object).sort()).toEqual(Object.keys(expected).sort());
  });

  it('names a bucket destination and has no failure queue outputs then', () => {
    const withBucket = new TableStreamIngestionStack(testApp(), 'TableStream', {
      config: SANDBOX,
      consumer: { onFailure: { kind: 'bucket' } },
    });
    const bucketTemplate = Template.fromStack(withBucket);
    const bucketId = logicalIdOf(withBucket.tableStreamConsumer.onFailureDestination.bucket as never);
    bucketTemplate.hasOutput('OnFailureDestinationName', { Value: { Ref: bucketId } });
    const outputs = Object.keys(bucketTemplate.toJSON().Outputs as object);
    expect(outputs).not.toContain('FailureQueueUrl');
    expect(outputs).not.toContain('FailureQueueAlarmName');
    expect(nagFindings(withBucket)).toEqual([]);
  });

  it('is environment-agnostic', () => {
    expect(Token.isUnresolved(stack.account)).toBe(true);
    expect(Token.isUnresolved(stack.region)).toBe(true);
  });
});
