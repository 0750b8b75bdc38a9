import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Stream } from 'aws-cdk-lib/aws-kinesis';
import { Key } from 'aws-cdk-lib/aws-kms';
import { StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { KinesisConsumerEventSource, KinesisEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EffectTable } from '../../../lib/constructs/effect-table';
import { IdempotencyTable } from '../../../lib/constructs/idempotency-table';
import {
  STREAM_DEFAULTS,
  StreamConsumer,
  StreamConsumerProps,
  StreamIdempotencyScheme,
} from '../../../lib/constructs/stream-consumer';
import { IDEMPOTENCY_SCHEMES } from '../../../lambda/shared/serial-key-persistence';
import { ConfigurationError, ConfigurationErrors } from '../../../lib/validation';
import { nagFindings } from '../../helpers/nag';
import { actionsDeniedWithoutTls, SNS_TOPIC_POLICY_ACTIONS } from '../security-fixtures';
import { logicalIdOf, templateOf, testStack, errorThrownBy } from '../../helpers/synth';
import { expectEffectWritesOnly } from './effect-table-fixtures';

type Overrides = Omit<StreamConsumerProps, 'idempotencyTable' | 'effectTable'>;

const DAY = 86_400;

function synthConsumer(overrides: Overrides | ((stack: Stack) => Overrides) = {}): {
  stack: Stack;
  consumer: StreamConsumer;
  effectTable: EffectTable;
} {
  const stack = testStack();
  const idempotencyTable = new IdempotencyTable(stack, 'Idempotency');
  const effectTable = new EffectTable(stack, 'Effects');
  const props = typeof overrides === 'function' ? overrides(stack) : overrides;
  const consumer = new StreamConsumer(stack, 'StreamConsumer', { idempotencyTable, effectTable, ...props });
  return { stack, consumer, effectTable };
}

/** The error building the consumer with `overrides` throws. */
function errorOf(overrides: Overrides): Error {
  return errorThrownBy(() => synthConsumer(overrides), overrides);
}

/** All IAM statements of the consumer function's policies, flattened. */
function functionStatements(template: Template): Array<{ Action: string | string[]; Resource: unknown }> {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
    (policy) => policy.Properties.PolicyDocument.Statement,
  );
}

function actionsOf(template: Template): string[] {
  return functionStatements(template).flatMap((statement) =>
    Array.isArray(statement.Action) ? statement.Action : [statement.Action],
  );
}

describe('StreamConsumer with its defaults', () => {
  let stack: Stack;
  let consumer: StreamConsumer;
  let template: Template;
  let streamId: string;
  let topicId: string;
  let queueId: string;
  let effectTable: EffectTable;

  beforeAll(() => {
    ({ stack, consumer, effectTable } = synthConsumer());
    template = templateOf(stack);
    streamId = logicalIdOf(consumer.stream as Stream);
    topicId = logicalIdOf(consumer.onFailureDestination.topic as Topic);
    queueId = logicalIdOf(consumer.onFailureDestination.queue as never);
  });

  it('maps the stream with the seeds failure handling: bisect, 2 retries, 1 h record age, partial responses', () => {
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [streamId, 'Arn'] },
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 2,
      MaximumRecordAgeInSeconds: 3600,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: { Ref: topicId } } },
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
    const mapping = Object.values(template.findResources('AWS::Lambda::EventSourceMapping'))[0];
    expect(mapping.Properties.TumblingWindowInSeconds).toBeUndefined();
    expect(mapping.Properties.StartingPositionTimestamp).toBeUndefined();
  });

  it('creates an on-demand stream, encrypted with the AWS managed key alias/aws/kinesis, kept 24 h, retained', () => {
    template.resourceCountIs('AWS::Kinesis::Stream', 1);
    template.hasResource('AWS::Kinesis::Stream', {
      Properties: {
        StreamModeDetails: { StreamMode: 'ON_DEMAND' },
        StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
        RetentionPeriodHours: 24,
        ShardCount: Match.absent(),
      },
      DeletionPolicy: 'Retain',
    });
    template.resourceCountIs('AWS::KMS::Key', 0);
  });

  it('sends failures to an encrypted SNS topic that denies every action to requests without TLS', () => {
    template.resourceCountIs('AWS::SNS::Topic', 1);
    const topic = template.findResources('AWS::SNS::Topic')[topicId];
    expect(JSON.stringify(topic.Properties.KmsMasterKeyId)).toContain(':alias/aws/sns');
    // Every action SNS accepts in a topic policy, not only Publish.
    expect(actionsDeniedWithoutTls(template, 'AWS::SNS::TopicPolicy', topicId)).toEqual([
      ...SNS_TOPIC_POLICY_ACTIONS,
    ]);
  });

  it('keeps failure records in a queue subscribed to the topic (raw, SSE-SQS, TLS only, 14 days)', () => {
    template.resourceCountIs('AWS::SQS::Queue', 1);
    template.hasResource('AWS::SQS::Queue', {
      Properties: { SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 },
      DeletionPolicy: 'Retain',
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'sqs',
      RawMessageDelivery: true,
      TopicArn: { Ref: topicId },
      Endpoint: { 'Fn::GetAtt': [queueId, 'Arn'] },
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('protects idempotency records for the stream retention (24 h): everything a replay can re-deliver', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Timeout: 30,
      Environment: { Variables: Match.objectLike({ IDEMPOTENCY_EXPIRY_SECONDS: '86400' }) },
    });
    expect(consumer.settings.idempotencyExpiry.toSeconds()).toBe(86_400);
  });

  it('reads, then completes with the effect (no claim that a crash could leave blocking the retries)', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ IDEMPOTENCY_SCHEME: 'read-then-complete' }) },
    });
    expect(consumer.settings.idempotencyScheme).toBe(StreamIdempotencyScheme.READ_THEN_COMPLETE);
  });

  it('alarms on IteratorAge (Maximum over 1 minute, above 5 minutes for 3 minutes)', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 17); // test/lib/constructs/alarms.test.ts lists them
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
    });
  });

  it('alarms as soon as the failure queue holds a failure record', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
    expect(consumer.alarms.failureQueueNotEmpty).toBeDefined();
  });

  it('grants the function reading the stream, publishing to the topic, the idempotency calls and the effect writes; nothing else', () => {
    const statements = functionStatements(template);
    expect(statements).toContainEqual(
      expect.objectContaining({ Action: 'sns:Publish', Resource: { Ref: topicId } }),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: expect.arrayContaining([
          'kinesis:GetRecords',
          'kinesis:GetShardIterator',
          'kinesis:ListShards',
        ]),
        Resource: { 'Fn::GetAtt': [streamId, 'Arn'] },
      }),
    );
    const actions = actionsOf(template);
    expect(actions.filter((action) => action.startsWith('dynamodb:')).sort()).toEqual([
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem', // the idempotency table
      'dynamodb:UpdateItem', // the effect table
    ]);
    expectEffectWritesOnly(template, logicalIdOf(effectTable.table));
    expect(actions.filter((action) => /^(s3|sqs):/.test(action))).toEqual([]);
    expect(actions.filter((action) => action.startsWith('kinesis:Put'))).toEqual([]);
    // Publishing to the SSE topic needs the AWS managed SNS key, and only that key.
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Condition: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': 'alias/aws/sns' } },
      }),
    );
  });

  it('exposes the stream, function, event source, destination and alarms', () => {
    expect(consumer.stream).toBeInstanceOf(Stream);
    expect(consumer.eventSource).toBeInstanceOf(KinesisEventSource);
    expect(consumer.streamConsumer).toBeUndefined();
    expect(consumer.onFailureDestination.kind).toBe('topic');
    expect(consumer.function.node.path).toBe('TestStack/StreamConsumer/Consumer/Function');
    expect(consumer.alarms.iteratorAge).toBeDefined();
  });

  it('has no unacknowledged cdk-nag finding', () => {
    expect(nagFindings(stack)).toEqual([]);
  });
});

describe('StreamConsumer with its settings changed', () => {
  let template: Template;

  beforeAll(() => {
    const { stack } = synthConsumer({
      shardCount: 4,
      retentionPeriod: Duration.hours(48),
      bisectBatchOnError: false,
      retryAttempts: 0,
      maxRecordAge: Duration.hours(6),
      batchSize: 500,
      maxBatchingWindow: Duration.seconds(5),
      parallelizationFactor: 10,
      startingPosition: StartingPosition.LATEST,
      enabled: false,
      timeout: Duration.seconds(60),
      iteratorAgeAlarmThreshold: Duration.minutes(10),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    template = templateOf(stack);
  });

  it('passes every mapping setting through', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BisectBatchOnFunctionError: false,
      MaximumRetryAttempts: 0,
      MaximumRecordAgeInSeconds: 6 * 3600,
      BatchSize: 500,
      MaximumBatchingWindowInSeconds: 5,
      ParallelizationFactor: 10,
      StartingPosition: 'LATEST',
      Enabled: false,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('creates a provisioned stream with the shard count and retention, destroyed with the stack', () => {
    template.hasResource('AWS::Kinesis::Stream', {
      Properties: {
        ShardCount: 4,
        StreamModeDetails: { StreamMode: 'PROVISIONED' },
        RetentionPeriodHours: 48,
      },
      DeletionPolicy: 'Delete',
    });
    template.hasResource('AWS::SQS::Queue', { DeletionPolicy: 'Delete' });
  });

  it('derives the idempotency expiry from the retention and uses the alarm threshold', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ IDEMPOTENCY_EXPIRY_SECONDS: String(48 * 3600) }) },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'IteratorAge',
      Threshold: 600_000,
    });
  });
});

describe('StreamConsumer defaults that depend on each other', () => {
  it('lowers the IteratorAge alarm to half of a short maxRecordAge', () => {
    const { stack } = synthConsumer({ maxRecordAge: Duration.minutes(2) });
    templateOf(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'IteratorAge',
      Threshold: 60_000,
    });
  });

  it('keeps idempotency records 365 days for a year-long retention (no cap below the retention)', () => {
    const { stack, consumer } = synthConsumer({
      retentionPeriod: Duration.hours(8760),
      maxRecordAge: Duration.days(7),
    });
    expect(consumer.settings.idempotencyExpiry.toDays()).toBe(365);
    templateOf(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ IDEMPOTENCY_EXPIRY_SECONDS: String(365 * DAY) }) },
    });
  });

  it('starts at a timestamp when asked', () => {
    const { stack } = synthConsumer({
      startingPosition: StartingPosition.AT_TIMESTAMP,
      startingPositionTimestamp: 1_700_000_000,
    });
    templateOf(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      StartingPosition: 'AT_TIMESTAMP',
      StartingPositionTimestamp: 1_700_000_000,
    });
  });

  it('exports its defaults', () => {
    expect(STREAM_DEFAULTS.retryAttempts).toBe(2);
    expect(STREAM_DEFAULTS.maxRecordAge.toSeconds()).toBe(3600);
    expect(STREAM_DEFAULTS.startingPosition).toBe(StartingPosition.TRIM_HORIZON);
  });
});

describe('StreamConsumer with an SQS queue as the on-failure destination', () => {
  let stack: Stack;
  let consumer: StreamConsumer;
  let template: Template;

  beforeAll(() => {
    ({ stack, consumer } = synthConsumer({ onFailure: { kind: 'queue' } }));
    template = templateOf(stack);
  });

  it('sends failure records straight to the queue, which the function may send to', () => {
    const queueId = logicalIdOf(consumer.onFailureDestination.queue as never);
    template.resourceCountIs('AWS::SNS::Topic', 0);
    template.resourceCountIs('AWS::SQS::Queue', 1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } } },
    });
    expect(functionStatements(template)).toContainEqual(
      expect.objectContaining({
        Action: expect.arrayContaining(['sqs:SendMessage']),
        Resource: { 'Fn::GetAtt': [queueId, 'Arn'] },
      }),
    );
    template.resourceCountIs('AWS::CloudWatch::Alarm', 16); // no topic: no SNS delivery-failures alarm
  });

  it('has no unacknowledged cdk-nag finding', () => {
    expect(nagFindings(stack)).toEqual([]);
  });
});

describe('StreamConsumer with an S3 bucket as the on-failure destination', () => {
  let stack: Stack;
  let consumer: StreamConsumer;
  let template: Template;
  let bucketId: string;

  beforeAll(() => {
    ({ stack, consumer } = synthConsumer({ onFailure: { kind: 'bucket' } }));
    template = templateOf(stack);
    bucketId = logicalIdOf(consumer.onFailureDestination.bucket as never);
  });

  it('writes whole invocation records to an encrypted, private, TLS-only bucket that expires them', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [bucketId, 'Arn'] } } },
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 14, Status: 'Enabled' })] },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('grants only the two calls Lambda documents: s3:PutObject on the objects, s3:ListBucket on the bucket', () => {
    const s3Statements = functionStatements(template).filter((statement) =>
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
    // No failure queue and its three alarms, no topic; the mapping's destination-delivered records still alarm.
    template.resourceCountIs('AWS::CloudWatch::Alarm', 13);
    expect(consumer.onFailureDestination.queue).toBeUndefined();
    expect(consumer.alarms.failureQueueNotEmpty).toBeUndefined();
  });

  it('has no unacknowledged cdk-nag finding', () => {
    expect(nagFindings(stack)).toEqual([]);
  });
});

describe('StreamConsumer with an existing stream, topic and an alarm topic', () => {
  const streamArn = 'arn:aws:kinesis:eu-west-1:123456789012:stream/readings';
  let stack: Stack;
  let template: Template;

  beforeAll(() => {
    ({ stack } = synthConsumer((scope) => ({
      stream: Stream.fromStreamArn(scope, 'Existing', streamArn),
      onFailure: { kind: 'topic', topic: new Topic(scope, 'TeamTopic', { enforceSSL: true }) },
      alarmTopic: new Topic(scope, 'AlarmTopic', { enforceSSL: true }),
    })));
    template = templateOf(stack);
  });

  it('consumes the existing stream without creating one', () => {
    template.resourceCountIs('AWS::Kinesis::Stream', 0);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { EventSourceArn: streamArn });
  });

  it('subscribes the failure queue to the given topic', () => {
    template.resourceCountIs('AWS::SNS::Topic', 2);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      TopicArn: { Ref: logicalIdOf(stack.node.findChild('TeamTopic')) },
      RawMessageDelivery: true,
    });
  });

  it('notifies the alarm topic from every alarm', () => {
    const alarmTopicRef = {
      Ref: logicalIdOf(stack.node.findChild('AlarmTopic')),
    };
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(17);
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([alarmTopicRef]);
  });
});

describe('StreamConsumer through an enhanced fan-out consumer', () => {
  let stack: Stack;
  let consumer: StreamConsumer;
  let template: Template;

  beforeAll(() => {
    ({ stack, consumer } = synthConsumer({ enhancedFanOut: true }));
    template = templateOf(stack);
  });

  it('registers a stream consumer and maps the function to it', () => {
    const streamId = logicalIdOf(consumer.stream as Stream);
    const consumerId = logicalIdOf(consumer.streamConsumer!);
    template.hasResourceProperties('AWS::Kinesis::StreamConsumer', {
      StreamARN: { 'Fn::GetAtt': [streamId, 'Arn'] },
      ConsumerName: Match.stringLikeRegexp('^[a-zA-Z0-9_.-]{1,128}$'),
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [consumerId, 'ConsumerARN'] },
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 2,
    });
    expect(consumer.eventSource).toBeInstanceOf(KinesisConsumerEventSource);
  });

  it('grants subscribing through the consumer', () => {
    const consumerId = logicalIdOf(consumer.streamConsumer!);
    expect(functionStatements(template)).toContainEqual(
      expect.objectContaining({
        Action: expect.arrayContaining(['kinesis:SubscribeToShard', 'kinesis:DescribeStreamConsumer']),
        Resource: { 'Fn::GetAtt': [consumerId, 'ConsumerARN'] },
      }),
    );
  });

  it('has no unacknowledged cdk-nag finding', () => {
    expect(nagFindings(stack)).toEqual([]);
  });
});

describe('StreamConsumer with a customer managed key', () => {
  let stack: Stack;
  let template: Template;
  let keyId: string;

  beforeAll(() => {
    let key: Key | undefined;
    ({ stack } = synthConsumer((scope) => {
      key = new Key(scope, 'StreamKey', { enableKeyRotation: true });
      return { encryptionKey: key };
    }));
    template = templateOf(stack);
    keyId = logicalIdOf(key!);
  });

  it('encrypts the stream with the key and lets the function decrypt', () => {
    template.hasResourceProperties('AWS::Kinesis::Stream', {
      StreamEncryption: { EncryptionType: 'KMS', KeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } },
    });
    expect(functionStatements(template)).toContainEqual(
      expect.objectContaining({
        Action: 'kms:Decrypt',
        Resource: { 'Fn::GetAtt': [keyId, 'Arn'] },
      }),
    );
  });

  it('acknowledges AwsSolutions-KDS3 (a CMK on purpose) and has no other finding', () => {
    expect(nagFindings(stack)).toEqual([]);
  });
});

describe('StreamConsumer idempotency schemes', () => {
  it('passes the read-then-complete scheme to the handler', () => {
    const { stack, consumer } = synthConsumer({
      idempotencyScheme: StreamIdempotencyScheme.READ_THEN_COMPLETE,
    });
    templateOf(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ IDEMPOTENCY_SCHEME: 'read-then-complete' }) },
    });
    expect(consumer.settings.idempotencyScheme).toBe('read-then-complete');
  });

  it('offers exactly the schemes the handler implements', () => {
    expect(Object.values(StreamIdempotencyScheme).sort()).toEqual([...IDEMPOTENCY_SCHEMES].sort());
  });

  it('refuses an unknown scheme (a JavaScript caller or a typo in a cast) naming the valid ones', () => {
    expect(() => synthConsumer({ idempotencyScheme: 'high-water-mark' as StreamIdempotencyScheme })).toThrow(
      /idempotencyScheme must be one of 'claim-then-complete', 'read-then-complete', got 'high-water-mark'/,
    );
  });
});

describe('StreamConsumer refuses settings AWS would reject or that break the failure handling', () => {
  const existing = (scope: Stack) =>
    Stream.fromStreamArn(scope, 'Existing', 'arn:aws:kinesis:eu-west-1:123456789012:stream/readings');

  it.each<[string, Overrides | ((stack: Stack) => Overrides), RegExp]>([
    [
      'infinite retries',
      { retryAttempts: -1 },
      /retryAttempts must be finite \(0 to 10000\), got -1 \(infinite\)/,
    ],
    ['too many retries', { retryAttempts: 10_001 }, /retryAttempts must be a whole number from 0 to 10000/],
    ['fractional retries', { retryAttempts: 1.5 }, /retryAttempts must be a whole number/],
    ['record age below 60 s', { maxRecordAge: Duration.seconds(59) }, /maxRecordAge must be from 1 minute/],
    ['record age above 7 days', { maxRecordAge: Duration.seconds(604_801) }, /maxRecordAge must be from/],
    [
      'record age beyond the retention',
      { maxRecordAge: Duration.hours(25) },
      /maxRecordAge must not exceed the stream's retentionPeriod \(1 day\)/,
    ],
    ['batch size 0', { batchSize: 0 }, /batchSize must be a whole number from 1 to 10000/],
    ['batch size 10001', { batchSize: 10_001 }, /batchSize must be a whole number from 1 to 10000/],
    ['batching window 301 s', { maxBatchingWindow: Duration.seconds(301) }, /maxBatchingWindow must be from/],
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
    ['retention 23 h', { retentionPeriod: Duration.hours(23) }, /retentionPeriod must be from 1 day/],
    ['retention 8761 h', { retentionPeriod: Duration.hours(8761) }, /retentionPeriod must be from/],
    ['shard count 0', { shardCount: 0 }, /shardCount must be a whole number from 1/],
    [
      'shard count on an existing stream',
      (s) => ({ stream: existing(s), shardCount: 2 }),
      /shardCount only applies/,
    ],
    [
      'a key for an existing stream',
      (s) => ({ stream: existing(s), encryptionKey: new Key(s, 'K') }),
      /encryptionKey only applies/,
    ],
    [
      'AT_TIMESTAMP without a timestamp',
      { startingPosition: StartingPosition.AT_TIMESTAMP },
      /startingPositionTimestamp is required with StartingPosition.AT_TIMESTAMP/,
    ],
    [
      'a timestamp without AT_TIMESTAMP',
      { startingPositionTimestamp: 1_700_000_000 },
      /startingPositionTimestamp only applies with StartingPosition.AT_TIMESTAMP/,
    ],
    [
      'an idempotency expiry shorter than the retention',
      { maxRecordAge: Duration.hours(1), idempotencyExpiry: Duration.hours(2) },
      /idempotencyExpiry must be at least retentionPeriod = 1 day \(86400 seconds\), got 2 hours \(7200 seconds\)/,
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
      'failure records kept 15 days',
      { failureRecordRetention: Duration.days(15) },
      /failureRecordRetention must be from 1 minute to 14 days/,
    ],
  ])('%s', (_name, overrides, message) => {
    expect(() => synthConsumer(overrides)).toThrow(ConfigurationError);
    expect(() => synthConsumer(overrides)).toThrow(message);
  });

  it('explains why infinite retries are refused', () => {
    expect(() => synthConsumer({ retryAttempts: -1 })).toThrow(
      /hold a poison record, and every later record of its shard, until it leaves the stream/,
    );
  });

  it('names the construct path in the message', () => {
    expect(() => synthConsumer({ batchSize: 0 })).toThrow(/^TestStack\/StreamConsumer: batchSize/);
  });

  it('accepts the edges of every range', () => {
    expect(() =>
      synthConsumer({
        retryAttempts: 10_000,
        maxRecordAge: Duration.seconds(60),
        batchSize: 10_000,
        maxBatchingWindow: Duration.seconds(300),
        parallelizationFactor: 10,
        retentionPeriod: Duration.hours(24),
        idempotencyExpiry: Duration.hours(24),
      }),
    ).not.toThrow();
    expect(() =>
      synthConsumer({
        retryAttempts: 0,
        maxRecordAge: Duration.seconds(604_800),
        batchSize: 1,
        parallelizationFactor: 1,
        retentionPeriod: Duration.hours(8760),
      }),
    ).not.toThrow();
  });
});

describe('StreamConsumer idempotency expiry (an error at synth, derived from the stream retention)', () => {
  it('defaults to the retention and accepts exactly the retention given explicitly', () => {
    expect(synthConsumer().consumer.settings.idempotencyExpiry.toSeconds()).toBe(DAY);
    const { consumer } = synthConsumer({ retentionPeriod: Duration.days(7) });
    expect(consumer.settings.idempotencyExpiry.toSeconds()).toBe(7 * DAY);
    expect(() =>
      synthConsumer({ retentionPeriod: Duration.days(7), idempotencyExpiry: Duration.days(7) }),
    ).not.toThrow();
    // maxRecordAge may reach the retention: the record is written after the reading entered the stream.
    expect(() => synthConsumer({ maxRecordAge: Duration.hours(24) })).not.toThrow();
  });

  it('refuses one second less than the retention, with the arithmetic and why', () => {
    const error = errorOf({ idempotencyExpiry: Duration.seconds(DAY - 1) });
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toBe(
      'TestStack/StreamConsumer: idempotencyExpiry must be at least retentionPeriod = 1 day (86400 seconds), got ' +
        '23 hours 59 minutes 59 seconds (86399 seconds): anything still in the stream can be delivered again: by a ' +
        'replay (npm run replay) or an event source mapping re-created at TRIM_HORIZON, as well as by Lambda ' +
        'retrying until maxRecordAge; a reading whose idempotency record expired first applies its effect twice. ' +
        'Raise idempotencyExpiry (or leave it unset: it is the retention), or shorten retentionPeriod.',
    );
  });

  it('checks an existing stream against the retention stated for it', () => {
    const build = () =>
      synthConsumer((scope) => ({
        stream: Stream.fromStreamArn(
          scope,
          'Existing',
          'arn:aws:kinesis:eu-west-1:123456789012:stream/readings',
        ),
        retentionPeriod: Duration.days(3),
        idempotencyExpiry: Duration.days(2),
      }));
    expect(build).toThrow(
      /idempotencyExpiry must be at least retentionPeriod = 3 days \(259200 seconds\), got 2 days/,
    );
  });

  it('reports several broken rules together, each with its own message', () => {
    const error = errorOf({
      retryAttempts: -1,
      batchSize: 0,
      retentionPeriod: Duration.days(30),
      idempotencyExpiry: Duration.days(29),
      memorySize: 64,
    });
    expect(error).toBeInstanceOf(ConfigurationErrors);
    const { errors } = error as ConfigurationErrors;
    expect(errors.map((each) => each.message.split(' ')[1])).toEqual([
      'retryAttempts',
      'batchSize',
      'idempotencyExpiry',
      'memorySize',
    ]);
    expect(error.message).toMatch(/^TestStack\/StreamConsumer: 4 rules are broken/);
    expect(error.message).toMatch(/\n {2}- TestStack\/StreamConsumer: retryAttempts must be finite/);
    expect(error.message).toMatch(
      /\n {2}- TestStack\/StreamConsumer: idempotencyExpiry must be at least retentionPeriod = 30 days \(2592000 seconds\), got 29 days/,
    );
  });
});
