import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Key } from 'aws-cdk-lib/aws-kms';
import { FilterCriteria, FilterRule, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EffectTable } from '../../../lib/constructs/effect-table';
import { IdempotencyTable } from '../../../lib/constructs/idempotency-table';
import { StreamIdempotencyScheme } from '../../../lib/constructs/stream-rules';
import {
  DEFAULT_TABLE_STREAM_EVENT_NAMES,
  DYNAMODB_STREAM_RETENTION,
  eventNameFilters,
  TableStreamConsumer,
  TableStreamConsumerProps,
} from '../../../lib/constructs/table-stream-consumer';
import { ConfigurationError, ConfigurationErrors } from '../../../lib/validation';
import { CDK_WARNING_REPORT, captureConsoleError } from '../../helpers/console-capture';
import { nagFindings } from '../../helpers/nag';
import { errorThrownBy, logicalIdOf, templateOf, testStack } from '../../helpers/synth';
import { actionsDeniedWithoutTls, SNS_TOPIC_POLICY_ACTIONS } from '../security-fixtures';
import { expectEffectWritesOnly, policyStatements } from './effect-table-fixtures';

type Overrides = Omit<TableStreamConsumerProps, 'idempotencyTable' | 'effectTable'>;

const DAY = 86_400;

function synthConsumer(overrides: Overrides | ((stack: Stack) => Overrides) = {}): {
  stack: Stack;
  consumer: TableStreamConsumer;
  effectTable: EffectTable;
  idempotencyTable: IdempotencyTable;
} {
  const stack = testStack();
  const idempotencyTable = new IdempotencyTable(stack, 'Idempotency');
  const effectTable = new EffectTable(stack, 'Effects');
  const props = typeof overrides === 'function' ? overrides(stack) : overrides;
  const consumer = new TableStreamConsumer(stack, 'TableStreamConsumer', {
    idempotencyTable,
    effectTable,
    ...props,
  });
  return { stack, consumer, effectTable, idempotencyTable };
}

/** The error building the consumer with `overrides` throws. */
function errorOf(overrides: Overrides | ((stack: Stack) => Overrides)): Error {
  return errorThrownBy(() => synthConsumer(overrides), overrides);
}

function actionsOf(template: Template): string[] {
  return policyStatements(template).flatMap((statement) =>
    Array.isArray(statement.Action) ? statement.Action : [statement.Action],
  );
}

/** The event source mapping's properties (the construct has one). */
function mappingOf(template: Template): Record<string, unknown> {
  const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping'));
  expect(mappings).toHaveLength(1);
  return mappings[0].Properties as Record<string, unknown>;
}

describe('TableStreamConsumer with its defaults', () => {
  let stack: Stack;
  let consumer: TableStreamConsumer;
  let template: Template;
  let tableId: string;
  let queueId: string;
  let effectTable: EffectTable;
  let idempotencyTable: IdempotencyTable;

  beforeAll(() => {
    ({ stack, consumer, effectTable, idempotencyTable } = synthConsumer());
    template = templateOf(stack);
    tableId = logicalIdOf(consumer.table);
    queueId = logicalIdOf(consumer.onFailureDestination.queue as never);
  });

  it('creates the source table: key pk (string), on demand, point-in-time recovery, encrypted, a NEW_AND_OLD_IMAGES stream, retained', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: {
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
        TimeToLiveSpecification: Match.absent(),
      },
      DeletionPolicy: 'Retain',
    });
    expect(Object.keys(template.findResources('AWS::DynamoDB::Table'))).toContain(tableId);
    template.resourceCountIs('AWS::KMS::Key', 0);
  });

  it("maps the table's stream with the seeds' failure handling: bisect, 2 retries, 1 h record age, partial responses, a queue", () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [tableId, 'StreamArn'] },
      FunctionName: { Ref: logicalIdOf(consumer.function) },
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 2,
      MaximumRecordAgeInSeconds: 3600,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } } },
    });
  });

  it('reads from the oldest record, 100 at a time, one batch per shard, without waiting, enabled', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 100,
      ParallelizationFactor: 1,
      MaximumBatchingWindowInSeconds: 0,
      Enabled: true,
    });
    const mapping = mappingOf(template);
    expect(mapping.TumblingWindowInSeconds).toBeUndefined();
    expect(mapping.StartingPositionTimestamp).toBeUndefined();
  });

  it('lets only INSERT and MODIFY records invoke the function: REMOVE, deletions by time to live included, is filtered out', () => {
    expect(mappingOf(template).FilterCriteria).toEqual({
      Filters: [{ Pattern: '{"eventName":["INSERT"]}' }, { Pattern: '{"eventName":["MODIFY"]}' }],
    });
    expect(DEFAULT_TABLE_STREAM_EVENT_NAMES).toEqual(['INSERT', 'MODIFY']);
    expect(consumer.filters).toEqual([
      FilterCriteria.filter({ eventName: FilterRule.isEqual('INSERT') }),
      FilterCriteria.filter({ eventName: FilterRule.isEqual('MODIFY') }),
    ]);
    expect(JSON.stringify(consumer.filters)).not.toContain('REMOVE');
  });

  it('keeps failure records in a queue (SSE-SQS, TLS only, 14 days, retained): no topic, no bucket', () => {
    template.resourceCountIs('AWS::SQS::Queue', 1);
    template.resourceCountIs('AWS::SNS::Topic', 0);
    template.resourceCountIs('AWS::S3::Bucket', 0);
    template.hasResource('AWS::SQS::Queue', {
      Properties: { SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * DAY },
      DeletionPolicy: 'Retain',
    });
    expect(actionsDeniedWithoutTls(template, 'AWS::SQS::QueuePolicy', queueId)).toEqual(['sqs:*']);
  });

  it('runs the consumer function as every path does, idempotent for the 24 hours DynamoDB Streams keeps a record', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 512,
      Timeout: 30,
      TracingConfig: { Mode: 'Active' },
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: 'table-stream-consumer',
          IDEMPOTENCY_TABLE_NAME: { Ref: logicalIdOf(idempotencyTable.table) },
          IDEMPOTENCY_EXPIRY_SECONDS: '86400',
          EFFECT_TABLE_NAME: { Ref: logicalIdOf(effectTable.table) },
        }),
      },
    });
    expect(consumer.settings.retentionPeriod.toSeconds()).toBe(DAY);
    expect(consumer.settings.idempotencyExpiry.toSeconds()).toBe(DAY);
    expect(DYNAMODB_STREAM_RETENTION.toHours()).toBe(24);
  });

  it('reads, then completes with the effect (the Kinesis path scheme: no claim a crash could leave blocking the retries)', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ IDEMPOTENCY_SCHEME: 'read-then-complete' }) },
    });
    expect(consumer.settings.idempotencyScheme).toBe(StreamIdempotencyScheme.READ_THEN_COMPLETE);
  });

  it('alarms on IteratorAge (Maximum over 1 minute, above 5 minutes for 3 minutes)', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 18); // test/lib/constructs/alarms.test.ts lists them
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'IteratorAge',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalIdOf(consumer.function) } }],
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 300_000,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      TreatMissingData: 'notBreaching',
      AlarmDescription: Match.stringLikeRegexp('^Table stream consumer TestStack/TableStreamConsumer: '),
    });
  });

  it('alarms as soon as the failure queue holds a failure record, and says the records stay 24 hours', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
      AlarmDescription: Match.stringLikeRegexp('stay in the DynamoDB stream 24 hours'),
    });
    // The alarm watches the failure queue (its metric's QueueName is the destination queue's name).
    const queueMetric = consumer.alarms.failureQueueNotEmpty!.metric as Metric;
    expect(stack.resolve(queueMetric.dimensions?.QueueName)).toEqual(
      stack.resolve(consumer.onFailureDestination.queue!.queueName),
    );
  });

  it("grants reading the table's stream, never its items; the idempotency calls, the effect writes and sending failures; nothing else", () => {
    const statements = policyStatements(template);
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'],
        Resource: { 'Fn::GetAtt': [tableId, 'StreamArn'] },
      }),
    );
    // Nothing on the table itself (its Arn): the function sees changes only through the stream.
    const onTable = statements.filter(
      (statement) =>
        JSON.stringify(statement.Resource) === JSON.stringify({ 'Fn::GetAtt': [tableId, 'Arn'] }),
    );
    expect(onTable).toEqual([]);
    const actions = actionsOf(template);
    expect(actions.filter((action) => action.startsWith('dynamodb:')).sort()).toEqual([
      'dynamodb:DeleteItem',
      'dynamodb:DescribeStream',
      'dynamodb:GetItem',
      'dynamodb:GetRecords',
      'dynamodb:GetShardIterator',
      'dynamodb:ListStreams', // on *: it lists the account's stream ARNs, no data
      'dynamodb:PutItem',
      'dynamodb:UpdateItem', // the idempotency table
      'dynamodb:UpdateItem', // the effect table
    ]);
    expectEffectWritesOnly(template, logicalIdOf(effectTable.table));
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: expect.arrayContaining(['sqs:SendMessage']),
        Resource: { 'Fn::GetAtt': [queueId, 'Arn'] },
      }),
    );
    expect(actions.filter((action) => /^(s3|sns|kms|kinesis):/.test(action))).toEqual([]);
  });

  it('exposes the table, function, event source, filters, destination, alarms and settings', () => {
    expect(consumer.eventSource).toBeInstanceOf(DynamoEventSource);
    expect(consumer.onFailureDestination.kind).toBe('queue');
    expect(consumer.function.node.path).toBe('TestStack/TableStreamConsumer/Consumer/Function');
    expect(consumer.table.node.path).toBe('TestStack/TableStreamConsumer/SourceTable');
    const iteratorAge = consumer.alarms.iteratorAge.metric as Metric;
    expect(iteratorAge.metricName).toBe('IteratorAge');
    expect(stack.resolve(iteratorAge.dimensions?.FunctionName)).toEqual(
      stack.resolve(consumer.function.functionName),
    );
    expect(consumer.settings.retryAttempts).toBe(2);
    expect(consumer.settings.maxRecordAge.toSeconds()).toBe(3600);
  });

  it('has no warning and no unacknowledged cdk-nag finding', () => {
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
    expect(nagFindings(stack)).toEqual([]);
  });
});

describe('TableStreamConsumer with its settings changed', () => {
  let stack: Stack;
  let template: Template;

  beforeAll(() => {
    ({ stack } = synthConsumer({
      timeToLiveAttribute: 'expiresAt',
      bisectBatchOnError: false,
      retryAttempts: 0,
      maxRecordAge: Duration.hours(24),
      batchSize: 10_000,
      maxBatchingWindow: Duration.seconds(300),
      parallelizationFactor: 10,
      startingPosition: StartingPosition.LATEST,
      enabled: false,
      timeout: Duration.seconds(60),
      memorySize: 1024,
      iteratorAgeAlarmThreshold: Duration.minutes(10),
      failureRecordRetention: Duration.days(4),
      idempotencyExpiry: Duration.days(2),
      idempotencyScheme: StreamIdempotencyScheme.CLAIM_THEN_COMPLETE,
      removalPolicy: RemovalPolicy.DESTROY,
    }));
    template = templateOf(stack);
  });

  it('passes every mapping setting through', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BisectBatchOnFunctionError: false,
      MaximumRetryAttempts: 0,
      MaximumRecordAgeInSeconds: DAY,
      BatchSize: 10_000,
      MaximumBatchingWindowInSeconds: 300,
      ParallelizationFactor: 10,
      StartingPosition: 'LATEST',
      Enabled: false,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('turns on time to live on the attribute, and destroys the table and queue with the stack', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: {
        StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      },
      DeletionPolicy: 'Delete',
    });
    template.hasResource('AWS::SQS::Queue', {
      Properties: { MessageRetentionPeriod: 4 * DAY },
      DeletionPolicy: 'Delete',
    });
  });

  it('gives the function its timeout, memory, expiry and scheme, and the alarm its threshold', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 60,
      MemorySize: 1024,
      Environment: {
        Variables: Match.objectLike({
          IDEMPOTENCY_EXPIRY_SECONDS: String(2 * DAY),
          IDEMPOTENCY_SCHEME: 'claim-then-complete',
        }),
      },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'IteratorAge',
      Threshold: 600_000,
    });
  });

  it('has no unacknowledged cdk-nag finding', () => {
    expect(nagFindings(stack)).toEqual([]);
  });
});

describe('TableStreamConsumer filters', () => {
  it('takes filters of its own, e.g. the deletions by time to live only', () => {
    const ttlDeletions = FilterCriteria.filter({
      userIdentity: {
        type: FilterRule.isEqual('Service'),
        principalId: FilterRule.isEqual('dynamodb.amazonaws.com'),
      },
    });
    const { stack, consumer } = synthConsumer({ filters: [ttlDeletions] });
    expect(mappingOf(templateOf(stack)).FilterCriteria).toEqual({
      Filters: [
        { Pattern: '{"userIdentity":{"type":["Service"],"principalId":["dynamodb.amazonaws.com"]}}' },
      ],
    });
    expect(consumer.filters).toEqual([ttlDeletions]);
  });

  it('builds one filter per event name', () => {
    const { stack } = synthConsumer({ filters: eventNameFilters('INSERT', 'MODIFY', 'REMOVE') });
    expect(mappingOf(templateOf(stack)).FilterCriteria).toEqual({
      Filters: ['INSERT', 'MODIFY', 'REMOVE'].map((name) => ({ Pattern: `{"eventName":["${name}"]}` })),
    });
  });

  it('turns filtering off with [] (every INSERT, MODIFY and REMOVE invokes the function)', () => {
    const { stack, consumer } = synthConsumer({ filters: [] });
    expect(mappingOf(templateOf(stack)).FilterCriteria).toBeUndefined();
    expect(consumer.filters).toEqual([]);
  });

  it('warns above the 5 filters Lambda takes without a quota increase, and accepts up to 10', () => {
    const names = ['INSERT', 'MODIFY', 'REMOVE', 'A', 'B', 'C', 'D', 'E', 'F', 'G'];
    const { stack } = synthConsumer({ filters: eventNameFilters(...names.slice(0, 6)) });
    // Synth prints the warning (CDK's validation report, on console.error): captured and checked here.
    const report = captureConsoleError(CDK_WARNING_REPORT);
    try {
      Annotations.fromStack(stack).hasWarning(
        '/TestStack/TableStreamConsumer',
        Match.stringLikeRegexp('^6 filters: Lambda takes 5 per event source mapping'),
      );
    } finally {
      report.restore();
    }
    expect(report.warnings()).toEqual([expect.stringMatching(/^6 filters: Lambda takes 5/)]);
    expect(() => synthConsumer({ filters: eventNameFilters(...names) })).not.toThrow();
    const { stack: five } = synthConsumer({ filters: eventNameFilters(...names.slice(0, 5)) });
    expect(Annotations.fromStack(five).findWarning('*', Match.anyValue())).toEqual([]);
  });
});

describe('TableStreamConsumer with a topic as the on-failure destination, and an alarm topic', () => {
  let stack: Stack;
  let consumer: TableStreamConsumer;
  let template: Template;

  beforeAll(() => {
    ({ stack, consumer } = synthConsumer((scope) => ({
      onFailure: { kind: 'topic' },
      alarmTopic: new Topic(scope, 'AlarmTopic', { enforceSSL: true }),
    })));
    template = templateOf(stack);
  });

  it('sends failures to an encrypted topic that denies every action without TLS, kept by a subscribed queue', () => {
    const topicId = logicalIdOf(consumer.onFailureDestination.topic as Topic);
    const queueId = logicalIdOf(consumer.onFailureDestination.queue as never);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      DestinationConfig: { OnFailure: { Destination: { Ref: topicId } } },
    });
    expect(actionsDeniedWithoutTls(template, 'AWS::SNS::TopicPolicy', topicId)).toEqual([
      ...SNS_TOPIC_POLICY_ACTIONS,
    ]);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'sqs',
      RawMessageDelivery: true,
      TopicArn: { Ref: topicId },
      Endpoint: { 'Fn::GetAtt': [queueId, 'Arn'] },
    });
  });

  it('notifies the alarm topic from every alarm', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(19); // the queue's 18 and the topic's delivery failures
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([
        { Ref: logicalIdOf(stack.node.findChild('AlarmTopic')) },
      ]);
    }
  });

  it('has no unacknowledged cdk-nag finding', () => {
    expect(nagFindings(stack)).toEqual([]);
  });
});

describe('TableStreamConsumer with an S3 bucket as the on-failure destination', () => {
  let stack: Stack;
  let consumer: TableStreamConsumer;
  let template: Template;

  beforeAll(() => {
    ({ stack, consumer } = synthConsumer({ onFailure: { kind: 'bucket' } }));
    template = templateOf(stack);
  });

  it('writes whole invocation records to a private, TLS-only bucket with the two S3 permissions Lambda documents', () => {
    const bucketId = logicalIdOf(consumer.onFailureDestination.bucket as never);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [bucketId, 'Arn'] } } },
    });
    expect(actionsDeniedWithoutTls(template, 'AWS::S3::BucketPolicy', bucketId)).toEqual(['s3:*']);
    const s3Statements = policyStatements(template).filter((statement) =>
      JSON.stringify(statement.Action).includes('s3:'),
    );
    expect(s3Statements).toEqual([
      expect.objectContaining({
        Action: 's3:PutObject',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/*']] },
      }),
      expect.objectContaining({ Action: 's3:ListBucket', Resource: { 'Fn::GetAtt': [bucketId, 'Arn'] } }),
    ]);
  });

  it('has no queue, so no failure-queue alarms (the mapping still alarms on records sent to the bucket)', () => {
    template.resourceCountIs('AWS::SQS::Queue', 0);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 15);
    expect(consumer.alarms.failureQueueNotEmpty).toBeUndefined();
  });

  it('has no unacknowledged cdk-nag finding', () => {
    expect(nagFindings(stack)).toEqual([]);
  });
});

describe('TableStreamConsumer with a customer managed key', () => {
  it('encrypts the table (and its stream) with the key and lets the function decrypt the stream', () => {
    let key: Key | undefined;
    const { stack } = synthConsumer((scope) => {
      key = new Key(scope, 'TableKey', { enableKeyRotation: true });
      return { encryptionKey: key };
    });
    const template = templateOf(stack);
    const keyId = logicalIdOf(key!);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      SSESpecification: {
        SSEEnabled: true,
        SSEType: 'KMS',
        KMSMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
      },
    });
    expect(policyStatements(template)).toContainEqual(
      expect.objectContaining({
        Action: expect.arrayContaining(['kms:Decrypt']),
        Resource: { 'Fn::GetAtt': [keyId, 'Arn'] },
      }),
    );
    expect(nagFindings(stack)).toEqual([]);
  });
});

describe('TableStreamConsumer refuses settings AWS would reject or that break the failure handling', () => {
  it.each<[string, Overrides, RegExp]>([
    [
      'infinite retries',
      { retryAttempts: -1 },
      /retryAttempts must be finite \(0 to 10000\), got -1 \(infinite\)/,
    ],
    ['too many retries', { retryAttempts: 10_001 }, /retryAttempts must be a whole number from 0 to 10000/],
    ['fractional retries', { retryAttempts: 1.5 }, /retryAttempts must be a whole number/],
    [
      'record age below 60 s',
      { maxRecordAge: Duration.seconds(59) },
      /maxRecordAge must be from 1 minute to 7 days/,
    ],
    ['record age above 7 days', { maxRecordAge: Duration.seconds(604_801) }, /maxRecordAge must be from/],
    [
      'record age beyond the 24 hours DynamoDB Streams keeps a record',
      { maxRecordAge: Duration.hours(25) },
      /maxRecordAge must not exceed DynamoDB Streams' fixed retention \(1 day\), got 1 day 1 hour: records would leave the stream before Lambda gives up on them/,
    ],
    ['batch size 0', { batchSize: 0 }, /batchSize must be a whole number from 1 to 10000/],
    ['batch size 10001', { batchSize: 10_001 }, /batchSize must be a whole number from 1 to 10000/],
    [
      'batching window 301 s',
      { maxBatchingWindow: Duration.seconds(301) },
      /maxBatchingWindow must be from 0 seconds to 5 minutes/,
    ],
    [
      'parallelization 0',
      { parallelizationFactor: 0 },
      /parallelizationFactor must be a whole number from 1 to 10/,
    ],
    [
      'parallelization 11',
      { parallelizationFactor: 11 },
      /parallelizationFactor must be a whole number from 1 to 10/,
    ],
    [
      'AT_TIMESTAMP, which DynamoDB Streams does not take',
      { startingPosition: StartingPosition.AT_TIMESTAMP },
      /startingPosition must be TRIM_HORIZON or LATEST for a DynamoDB Streams event source mapping, got AT_TIMESTAMP/,
    ],
    [
      'failure records kept 15 days',
      { failureRecordRetention: Duration.days(15) },
      /failureRecordRetention must be from 1 minute to 14 days/,
    ],
    [
      'failure records kept 59 seconds',
      { failureRecordRetention: Duration.seconds(59) },
      /failureRecordRetention must be from 1 minute to 14 days/,
    ],
    [
      'an idempotency expiry shorter than the stream keeps a record',
      { idempotencyExpiry: Duration.hours(23) },
      /idempotencyExpiry must be at least the DynamoDB Streams retention = 1 day \(86400 seconds\), got 23 hours \(82800 seconds\)/,
    ],
    [
      'an idempotency expiry beyond 365 days',
      { idempotencyExpiry: Duration.days(366) },
      /idempotencyExpiry must be from 1 minute to 365 days, got 366 days/,
    ],
    [
      'an IteratorAge alarm only after records are discarded',
      { maxRecordAge: Duration.minutes(10), iteratorAgeAlarmThreshold: Duration.minutes(10) },
      /iteratorAgeAlarmThreshold must be at least 1 second and below maxRecordAge \(10 minutes\)/,
    ],
    [
      'an unknown idempotency scheme',
      { idempotencyScheme: 'high-water-mark' as never },
      /idempotencyScheme must be one of 'claim-then-complete', 'read-then-complete', got 'high-water-mark'/,
    ],
    [
      'a timeout above 15 minutes',
      { timeout: Duration.minutes(16) },
      /timeout must be from 1 second to 15 minutes/,
    ],
    ['64 MB of memory', { memorySize: 64 }, /memorySize must be a whole number from 128 to 10240/],
    [
      'an empty time to live attribute',
      { timeToLiveAttribute: '' },
      /timeToLiveAttribute must be 1 to 255 characters/,
    ],
    [
      'a time to live attribute of 256 characters',
      { timeToLiveAttribute: 'x'.repeat(256) },
      /timeToLiveAttribute must be 1 to 255 characters \(a DynamoDB attribute name\), got 256/,
    ],
    [
      'time to live on the key',
      { timeToLiveAttribute: 'pk' },
      /timeToLiveAttribute must not be the partition key 'pk'/,
    ],
    [
      'more than 10 filters',
      { filters: eventNameFilters(...Array.from({ length: 11 }, (_, i) => `E${i}`)) },
      /filters must be at most 10, got 11: Lambda takes 5 filters per event source mapping, 10 with a quota increase/,
    ],
    [
      'a filter that is not a FilterCriteria.filter',
      { filters: [{ eventName: ['INSERT'] }] },
      /filters\[0\] must be a filter made with FilterCriteria.filter\(\{...\}\)/,
    ],
    [
      'a filter pattern that is not JSON',
      { filters: [{ pattern: 'eventName=INSERT' }] },
      /filters\[0\] pattern must be a JSON object, got "eventName=INSERT"/,
    ],
    [
      'a filter pattern that is a JSON list',
      { filters: [{ pattern: '["INSERT"]' }] },
      /filters\[0\] pattern must be a JSON object/,
    ],
    [
      'a filter pattern above 4096 characters',
      {
        filters: [
          FilterCriteria.filter({
            eventName: FilterRule.or(...Array.from({ length: 500 }, (_, i) => `EVENT${i}`)),
          }),
        ],
      },
      /filters\[0\] pattern must be at most 4096 characters \(Lambda's limit for a filter pattern\), got \d+/,
    ],
  ])('%s', (_name, overrides, message) => {
    const error = errorOf(overrides);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toMatch(message);
  });

  it('names the construct path in the message', () => {
    expect(errorOf({ batchSize: 0 }).message).toMatch(/^TestStack\/TableStreamConsumer: batchSize/);
  });

  it('explains why infinite retries are refused', () => {
    expect(errorOf({ retryAttempts: -1 }).message).toMatch(
      /hold a poison record, and every later record of its shard, until it leaves the stream/,
    );
  });

  it('accepts the edges of every range', () => {
    expect(() =>
      synthConsumer({
        retryAttempts: 10_000,
        maxRecordAge: Duration.seconds(60),
        batchSize: 10_000,
        maxBatchingWindow: Duration.seconds(300),
        parallelizationFactor: 10,
        idempotencyExpiry: Duration.hours(24),
        failureRecordRetention: Duration.seconds(60),
        timeToLiveAttribute: 'x'.repeat(255),
      }),
    ).not.toThrow();
    expect(() =>
      synthConsumer({
        retryAttempts: 0,
        maxRecordAge: Duration.hours(24),
        batchSize: 1,
        parallelizationFactor: 1,
        idempotencyExpiry: Duration.days(365),
        failureRecordRetention: Duration.days(14),
        timeToLiveAttribute: 'e',
      }),
    ).not.toThrow();
  });
});

describe('TableStreamConsumer idempotency expiry (an error at synth, derived from the 24-hour stream retention)', () => {
  it('defaults to the retention and accepts exactly the retention given explicitly', () => {
    expect(synthConsumer().consumer.settings.idempotencyExpiry.toSeconds()).toBe(DAY);
    expect(() => synthConsumer({ idempotencyExpiry: Duration.hours(24) })).not.toThrow();
    // maxRecordAge may reach the retention: the record is written after the change entered the stream.
    expect(() => synthConsumer({ maxRecordAge: Duration.hours(24) })).not.toThrow();
  });

  it('refuses one second less than the retention, with the arithmetic and why', () => {
    const error = errorOf({ idempotencyExpiry: Duration.seconds(DAY - 1) });
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toBe(
      'TestStack/TableStreamConsumer: idempotencyExpiry must be at least the DynamoDB Streams retention = 1 day ' +
        '(86400 seconds), got 23 hours 59 minutes 59 seconds (86399 seconds): a stream record can be delivered again ' +
        'as long as the stream keeps it: by Lambda retrying until maxRecordAge, by a split batch, or by an event ' +
        'source mapping re-created at TRIM_HORIZON; a change whose idempotency record expired first applies its ' +
        'effect twice. Raise idempotencyExpiry (or leave it unset: it is the 24-hour retention).',
    );
  });
});

describe('TableStreamConsumer reports every broken rule at once', () => {
  it('lists each rule with its own message, in the order the construct checks them', () => {
    const error = errorOf({
      idempotencyScheme: 'nope' as never,
      timeToLiveAttribute: 'pk',
      filters: [{ pattern: 'not json' }],
      retryAttempts: -1,
      maxRecordAge: Duration.hours(30),
      batchSize: 0,
      maxBatchingWindow: Duration.seconds(301),
      parallelizationFactor: 11,
      startingPosition: StartingPosition.AT_TIMESTAMP,
      failureRecordRetention: Duration.days(15),
      idempotencyExpiry: Duration.hours(1),
      memorySize: 64,
      iteratorAgeAlarmThreshold: Duration.hours(31),
    });
    expect(error).toBeInstanceOf(ConfigurationErrors);
    const { errors } = error as ConfigurationErrors;
    expect(errors.map((each) => each.message.split(' ')[1])).toEqual([
      'idempotencyScheme',
      'timeToLiveAttribute',
      'filters[0]',
      'retryAttempts',
      'maxRecordAge',
      'batchSize',
      'maxBatchingWindow',
      'parallelizationFactor',
      'startingPosition',
      'failureRecordRetention',
      'idempotencyExpiry',
      'memorySize',
      'iteratorAgeAlarmThreshold',
    ]);
    expect(error.message).toMatch(/^TestStack\/TableStreamConsumer: 13 rules are broken/);
  });
});
