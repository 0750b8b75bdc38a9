import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { EventBridgeDestination, SnsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EffectTable } from '../../../lib/constructs/effect-table';
import { IdempotencyTable } from '../../../lib/constructs/idempotency-table';
import {
  minimumObjectIdempotencyExpiry,
  ObjectConsumer,
  ObjectConsumerProps,
} from '../../../lib/constructs/object-consumer';
import { ConfigurationError, ConfigurationErrors } from '../../../lib/validation';
import { CDK_WARNING_REPORT, captureConsoleError } from '../../helpers/console-capture';
import { nagFindings } from '../../helpers/nag';
import { actionsDeniedWithoutTls, SNS_TOPIC_POLICY_ACTIONS } from '../security-fixtures';
import { logicalIdOf, templateOf, testStack, errorThrownBy } from '../../helpers/synth';
import { expectEffectWritesOnly } from './effect-table-fixtures';

const HOUR = 3600;
const DAY = 24 * HOUR;
const FOURTEEN_DAYS = 14 * DAY;

function build(
  props: Partial<ObjectConsumerProps> = {},
  context: Record<string, unknown> = {},
): { stack: Stack; consumer: ObjectConsumer; effectTable: EffectTable } {
  const stack = testStack(context);
  const idempotencyTable = new IdempotencyTable(stack, 'Idempotency');
  const effectTable = new EffectTable(stack, 'Effects');
  const consumer = new ObjectConsumer(stack, 'Objects', { idempotencyTable, effectTable, ...props });
  return { stack, consumer, effectTable };
}

/** The error building the consumer with `props` throws. */
function errorOf(props: Partial<ObjectConsumerProps>): Error {
  return errorThrownBy(() => build(props), props);
}

/** The logical id of the only resource of a type matching `props`. */
function logicalId(template: Template, type: string, props: Record<string, unknown> = {}): string {
  const ids = Object.keys(template.findResources(type, { Properties: props }));
  expect(ids).toHaveLength(1);
  return ids[0];
}

describe('ObjectConsumer with its defaults', () => {
  let stack: Stack;
  let consumer: ObjectConsumer;
  let template: Template;
  let bucketId: string;
  let accessLogsBucketId: string;
  let topicId: string;
  let keyId: string;
  let functionId: string;
  let onFailureQueueId: string;
  let subscriptionDlqId: string;
  let effectTable: EffectTable;

  beforeAll(() => {
    ({ stack, consumer, effectTable } = build());
    template = templateOf(stack);
    bucketId = logicalId(template, 'AWS::S3::Bucket', { VersioningConfiguration: { Status: 'Enabled' } });
    accessLogsBucketId = logicalId(template, 'AWS::S3::Bucket', { VersioningConfiguration: Match.absent() });
    topicId = logicalId(template, 'AWS::SNS::Topic');
    keyId = logicalId(template, 'AWS::KMS::Key');
    functionId = logicalId(template, 'AWS::Lambda::Function', { Runtime: 'nodejs24.x' });
    onFailureQueueId = logicalIdOf(consumer.onFailureQueue!);
    subscriptionDlqId = logicalIdOf(consumer.subscriptionDeadLetterQueue);
  });

  it('hardens the bucket: versioned, private, S3-managed encryption, TLS only, access logs, kept on delete', () => {
    template.hasResource('AWS::S3::Bucket', {
      Properties: {
        VersioningConfiguration: { Status: 'Enabled' },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        LoggingConfiguration: { DestinationBucketName: { Ref: accessLogsBucketId } },
        LifecycleConfiguration: {
          Rules: [
            Match.objectLike({
              NoncurrentVersionExpiration: { NoncurrentDays: 30 },
              AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
            }),
          ],
        },
      },
      DeletionPolicy: 'Retain',
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
  });

  it('creates a private, encrypted access-log bucket whose logs expire', () => {
    template.hasResource('AWS::S3::Bucket', {
      Properties: {
        PublicAccessBlockConfiguration: Match.objectLike({
          BlockPublicAcls: true,
          RestrictPublicBuckets: true,
        }),
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 90 })] },
        LoggingConfiguration: Match.absent(),
      },
      DeletionPolicy: 'Retain',
    });
    expect(stack.resolve(consumer.accessLogsBucket.bucketName)).toEqual({ Ref: accessLogsBucketId });
  });

  it('notifies the topic of every created object (no filter)', () => {
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: { Ref: bucketId },
      NotificationConfiguration: {
        TopicConfigurations: [
          { Events: ['s3:ObjectCreated:*'], TopicArn: { Ref: topicId }, Filter: Match.absent() },
        ],
      },
    });
  });

  it('encrypts the topic with a rotated customer-managed key that S3 may use, and lets only the bucket publish', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 's3.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Action: 'sns:Publish',
            Principal: { Service: 's3.amazonaws.com' },
            Condition: Match.objectLike({
              ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [bucketId, 'Arn'] } },
            }),
          }),
        ]),
      },
    });
  });

  it('denies every action SNS accepts in a topic policy, not only Publish, to requests without TLS', () => {
    expect(actionsDeniedWithoutTls(template, 'AWS::SNS::TopicPolicy', topicId)).toEqual([
      ...SNS_TOPIC_POLICY_ACTIONS,
    ]);
  });

  it('lets S3 publish and use the topic key only for this bucket in this account (confused-deputy protection)', () => {
    // S3 publishes with the bucket as the source (aws:SourceArn) and the bucket owner as the source account.
    const fromThisBucket = {
      ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [bucketId, 'Arn'] } },
      StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
    };
    const s3Statements = (statements: Array<Record<string, unknown>>) =>
      statements.filter(
        (statement) =>
          JSON.stringify(statement.Principal) === JSON.stringify({ Service: 's3.amazonaws.com' }),
      );
    const key = template.findResources('AWS::KMS::Key')[keyId];
    const keyStatements = s3Statements(key.Properties.KeyPolicy.Statement);
    expect(keyStatements).toHaveLength(1);
    expect(keyStatements[0]).toMatchObject({
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Condition: fromThisBucket,
    });
    const [topicPolicy] = Object.values(template.findResources('AWS::SNS::TopicPolicy'));
    const topicStatements = s3Statements(topicPolicy.Properties.PolicyDocument.Statement);
    expect(topicStatements).toHaveLength(1);
    expect(topicStatements[0]).toMatchObject({
      Effect: 'Allow',
      Action: 'sns:Publish',
      Condition: fromThisBucket,
    });
  });

  it('subscribes the function to the topic with a dead-letter queue (RedrivePolicy) for failed deliveries', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'lambda',
      TopicArn: { Ref: topicId },
      Endpoint: { 'Fn::GetAtt': [functionId, 'Arn'] },
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [subscriptionDlqId, 'Arn'] } },
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'sns.amazonaws.com',
      SourceArn: { Ref: topicId },
      FunctionName: { 'Fn::GetAtt': [functionId, 'Arn'] },
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: subscriptionDlqId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Action: 'sqs:SendMessage',
            Principal: { Service: 'sns.amazonaws.com' },
            Condition: { ArnEquals: { 'aws:SourceArn': { Ref: topicId } } },
          }),
        ]),
      },
    });
  });

  it('configures asynchronous invocation: 2 retries, 6 hours of event age, failures to the on-failure queue', () => {
    template.resourcePropertiesCountIs('AWS::Lambda::EventInvokeConfig', {}, 1);
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: functionId },
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 6 * 3600,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [onFailureQueueId, 'Arn'] } },
        OnSuccess: Match.absent(),
      },
    });
    // The on-failure destination replaces a function DLQ.
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      DeadLetterConfig: Match.absent(),
    });
  });

  it('keeps idempotency records for maxEventAge + failedEventRetention (6 hours + 14 days by default)', () => {
    expect(consumer.idempotencyExpiry.toSeconds()).toBe(6 * HOUR + 14 * DAY);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ IDEMPOTENCY_EXPIRY_SECONDS: String(6 * HOUR + 14 * DAY) }),
      },
    });
  });

  it('writes its effects to the effect table (EFFECT_TABLE_NAME), with UpdateItem only', () => {
    expectEffectWritesOnly(template, logicalIdOf(effectTable.table));
  });

  it('encrypts both failure queues, enforces TLS on them, and keeps messages 14 days, retained on delete', () => {
    for (const queueId of [onFailureQueueId, subscriptionDlqId]) {
      expect(template.toJSON().Resources[queueId]).toMatchObject({
        Type: 'AWS::SQS::Queue',
        Properties: { SqsManagedSseEnabled: true, MessageRetentionPeriod: FOURTEEN_DAYS },
        DeletionPolicy: 'Retain',
      });
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queueId }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
  });

  it('lets the function send to the on-failure queue (and nothing else on SQS)', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['sqs:SendMessage']),
            Resource: { 'Fn::GetAtt': [onFailureQueueId, 'Arn'] },
          }),
        ]),
      },
    });
    const sqsStatements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((policy) =>
      (
        policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]
      ).filter((statement) => [statement.Action].flat().some((action) => action.startsWith('sqs:'))),
    );
    expect(sqsStatements.map((statement) => statement.Resource)).toEqual([
      { 'Fn::GetAtt': [onFailureQueueId, 'Arn'] },
    ]);
  });

  it('alarms when either failure queue holds a message, and when Lambda cannot deliver to the destination', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 18); // test/lib/constructs/alarms.test.ts lists them
    for (const queueId of [onFailureQueueId, subscriptionDlqId]) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
        Statistic: 'Maximum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
      });
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'DestinationDeliveryFailures',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId } }],
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(consumer.alarms.onFailureQueueNotEmpty).toBeDefined();
  });

  it('exposes what it built', () => {
    expect(consumer.onFailureQueue).toBeDefined();
    expect(consumer.retryAttempts).toBe(2);
    expect(consumer.maxEventAge.toSeconds()).toBe(6 * 3600);
    expect(stack.resolve(consumer.function.functionName)).toEqual({ Ref: functionId });
  });

  it('has no unacknowledged cdk-nag finding', () => {
    expect(nagFindings(stack)).toEqual([]);
  });
});

describe('ObjectConsumer with options', () => {
  let stack: Stack;
  let consumer: ObjectConsumer;
  let template: Template;
  let failureTopicId: string;
  let busId: string;
  let synthWarnings: string[];

  beforeAll(() => {
    stack = testStack();
    const idempotencyTable = new IdempotencyTable(stack, 'Idempotency');
    const effectTable = new EffectTable(stack, 'Effects');
    const failureTopic = new Topic(stack, 'FailureTopic', { enforceSSL: true });
    const bus = new EventBus(stack, 'Bus');
    const centralLogs = Bucket.fromBucketName(stack, 'CentralLogs', 'central-access-logs');
    consumer = new ObjectConsumer(stack, 'Objects', {
      idempotencyTable,
      effectTable,
      objectKeyPrefix: 'incoming/',
      objectKeySuffix: '.csv',
      retryAttempts: 0,
      maxEventAge: Duration.hours(2),
      onFailure: new SnsDestination(failureTopic),
      onSuccess: new EventBridgeDestination(bus),
      accessLogsBucket: centralLogs,
      failedEventRetention: Duration.days(4),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // CDK warns at synth that it cannot add log delivery to an imported bucket's policy: asserted below.
    const report = captureConsoleError(CDK_WARNING_REPORT);
    try {
      template = templateOf(stack);
    } finally {
      report.restore();
    }
    synthWarnings = report.warnings();
    failureTopicId = logicalIdOf(failureTopic);
    busId = logicalIdOf(bus);
  });

  it('filters notifications by key prefix and suffix', () => {
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      NotificationConfiguration: {
        TopicConfigurations: [
          Match.objectLike({
            Filter: {
              Key: {
                // CDK writes the suffix rule first.
                FilterRules: [
                  { Name: 'suffix', Value: '.csv' },
                  { Name: 'prefix', Value: 'incoming/' },
                ],
              },
            },
          }),
        ],
      },
    });
  });

  it('uses the given retries, event age and destinations (OnFailure and OnSuccess)', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 2 * 3600,
      DestinationConfig: {
        OnFailure: { Destination: { Ref: failureTopicId } },
        OnSuccess: { Destination: { 'Fn::GetAtt': [busId, 'Arn'] } },
      },
    });
  });

  it('grants the function exactly the destination calls', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'sns:Publish', Resource: { Ref: failureTopicId } }),
          Match.objectLike({ Action: 'events:PutEvents', Resource: { 'Fn::GetAtt': [busId, 'Arn'] } }),
        ]),
      },
    });
  });

  it('creates no on-failure queue nor its alarm when a destination is given', () => {
    expect(consumer.onFailureQueue).toBeUndefined();
    expect(consumer.alarms.onFailureQueueNotEmpty).toBeUndefined();
    template.resourceCountIs('AWS::SQS::Queue', 1); // the subscription dead-letter queue
    template.resourceCountIs('AWS::CloudWatch::Alarm', 15); // no on-failure queue: its 3 alarms are gone
    template.hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 4 * 24 * 3600 });
  });

  it('derives the idempotency expiry from the event age and the assumed retention of the given destination (2 hours + 4 days)', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ IDEMPOTENCY_EXPIRY_SECONDS: String(2 * HOUR + 4 * DAY) }),
      },
    });
  });

  it('logs to the given bucket and creates no log bucket of its own', () => {
    template.resourceCountIs('AWS::S3::Bucket', 1);
    template.hasResourceProperties('AWS::S3::Bucket', {
      LoggingConfiguration: { DestinationBucketName: 'central-access-logs' },
    });
  });

  it("warns at synth, and only of that, that the given bucket's policy must let S3 deliver the logs", () => {
    expect(synthWarnings).toEqual([
      'Unable to add necessary logging permissions to imported target bucket: TestStack/CentralLogs',
    ]);
  });

  it('empties and deletes the bucket, key and queue with RemovalPolicy.DESTROY (sandbox)', () => {
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Delete' });
    template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Delete' });
    template.hasResource('AWS::SQS::Queue', { DeletionPolicy: 'Delete' });
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 1);
  });

  it('has no unacknowledged cdk-nag finding', () => {
    expect(nagFindings(stack)).toEqual([]);
  });
});

describe('ObjectConsumer validation', () => {
  const failsWith = (props: Partial<ObjectConsumerProps>, message: RegExp) => {
    let error: unknown;
    try {
      build(props);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(/^TestStack\/Objects: /);
    expect((error as Error).message).toMatch(message);
  };

  it.each([3, -1, 1.5])('rejects retryAttempts %p (Lambda allows 0 to 2)', (retryAttempts) => {
    failsWith(
      { retryAttempts },
      new RegExp(
        `retryAttempts must be a whole number from 0 to 2, got ${retryAttempts} \\(Lambda retries a failed asynchronous invocation at most twice\\)`,
      ),
    );
  });

  it('rejects a maxEventAge under 60 seconds', () => {
    failsWith(
      { maxEventAge: Duration.seconds(59) },
      /maxEventAge must be from 1 minute to 6 hours, got 59 seconds/,
    );
  });

  it('rejects a maxEventAge over 6 hours', () => {
    failsWith(
      { maxEventAge: Duration.hours(7) },
      /maxEventAge must be from 1 minute to 6 hours, got 7 hours/,
    );
  });

  it('accepts the edges of every range', () => {
    expect(() => build({ retryAttempts: 0, maxEventAge: Duration.seconds(60) })).not.toThrow();
    expect(() => build({ retryAttempts: 2, maxEventAge: Duration.hours(6) })).not.toThrow();
  });

  it('rejects a failedEventRetention outside SQS limits', () => {
    failsWith(
      { failedEventRetention: Duration.days(15) },
      /failedEventRetention must be from 1 minute to 14 days, got 15 days/,
    );
    failsWith(
      { failedEventRetention: Duration.seconds(30) },
      /failedEventRetention must be from 1 minute to 14 days, got 30 seconds/,
    );
  });

  it('rejects a noncurrentVersionExpiration that is not a whole number of days', () => {
    failsWith(
      { noncurrentVersionExpiration: Duration.hours(36) },
      /noncurrentVersionExpiration must be a whole number of days, got 1 day 12 hours/,
    );
    failsWith(
      { noncurrentVersionExpiration: Duration.hours(12) },
      /noncurrentVersionExpiration must be from 1 day to 36500 days, got 12 hours/,
    );
  });

  it('rejects an empty key filter', () => {
    failsWith({ objectKeyPrefix: '' }, /objectKeyPrefix must be 1 to 1024 characters .* got 0/);
    failsWith(
      { objectKeySuffix: 'x'.repeat(1025) },
      /objectKeySuffix must be 1 to 1024 characters .* got 1025/,
    );
  });

  it('still applies the function settings checks (timeout)', () => {
    let error: unknown;
    try {
      build({ timeout: Duration.minutes(16) });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(/timeout must be from 1 second to 15 minutes/);
  });
});

describe('ObjectConsumer with or without the S3 trust-key-policy feature flag', () => {
  it.each([true, false])(
    'lets S3 use the topic key through one statement, for this bucket and account only (flag %p)',
    (flag) => {
      const { stack } = build(
        {},
        { '@aws-cdk/s3-notifications:addS3TrustKeyPolicyForSnsSubscriptions': flag },
      );
      const template = templateOf(stack);
      const bucketId = logicalId(template, 'AWS::S3::Bucket', {
        VersioningConfiguration: { Status: 'Enabled' },
      });
      const [key] = Object.values(template.findResources('AWS::KMS::Key'));
      const s3Statements = (key.Properties.KeyPolicy.Statement as Array<Record<string, unknown>>).filter(
        (statement) =>
          JSON.stringify(statement.Principal) === JSON.stringify({ Service: 's3.amazonaws.com' }),
      );
      expect(s3Statements).toEqual([
        {
          Sid: 'AllowThisBucketToPublishToTheEncryptedTopic',
          Effect: 'Allow',
          Principal: { Service: 's3.amazonaws.com' },
          Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
          Resource: '*',
          Condition: {
            ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [bucketId, 'Arn'] } },
            StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          },
        },
      ]);
    },
  );
});

describe('ObjectConsumer idempotency expiry (an error at synth, derived from event age and failed-event retention)', () => {
  it('derives the default from maxEventAge + failedEventRetention and accepts it given explicitly', () => {
    expect(minimumObjectIdempotencyExpiry(Duration.hours(6), Duration.days(14)).toSeconds()).toBe(
      6 * HOUR + 14 * DAY,
    );
    const { consumer } = build({
      maxEventAge: Duration.minutes(1),
      failedEventRetention: Duration.minutes(1),
    });
    expect(consumer.idempotencyExpiry.toSeconds()).toBe(120);
    expect(() => build({ idempotencyExpiry: Duration.seconds(6 * HOUR + 14 * DAY) })).not.toThrow();
  });

  it('refuses one second less, with the arithmetic and why', () => {
    const error = errorOf({ idempotencyExpiry: Duration.seconds(6 * HOUR + 14 * DAY - 1) });
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toBe(
      'TestStack/Objects: idempotencyExpiry must be at least maxEventAge + failedEventRetention = 6 hours + 14 days = ' +
        '14 days 6 hours (1231200 seconds), got 14 days 5 hours 59 minutes 59 seconds (1231199 seconds): Lambda ' +
        'retries an event (and holds a duplicate notification) for up to maxEventAge before it hands it to the ' +
        'on-failure destination, and an operator can re-drive it from there until it leaves after ' +
        'failedEventRetention (the retention assumed for an onFailure destination of your own too); an object ' +
        'version whose idempotency record expired by then applies its effect twice. Raise idempotencyExpiry (or ' +
        'leave it unset to derive it), or lower maxEventAge or failedEventRetention.',
    );
  });

  it('applies the rule with an on-failure destination of your own, using failedEventRetention as its retention', () => {
    const onFailure = (stack: Stack) =>
      new SnsDestination(new Topic(stack, 'Failures', { enforceSSL: true }));
    const stack = testStack();
    expect(
      () =>
        new ObjectConsumer(stack, 'Objects', {
          idempotencyTable: new IdempotencyTable(stack, 'Idempotency'),
          effectTable: new EffectTable(stack, 'Effects'),
          onFailure: onFailure(stack),
          maxEventAge: Duration.hours(1),
          failedEventRetention: Duration.days(3),
          idempotencyExpiry: Duration.days(3),
        }),
    ).toThrow(
      /idempotencyExpiry must be at least maxEventAge \+ failedEventRetention = 1 hour \+ 3 days = 3 days 1 hour \(262800 seconds\), got 3 days \(259200 seconds\)/,
    );
  });

  it('reports several broken rules together, each with its own message', () => {
    const error = errorOf({
      retryAttempts: 3,
      maxEventAge: Duration.hours(7),
      idempotencyExpiry: Duration.hours(1),
      timeout: Duration.minutes(16),
      objectKeyPrefix: '',
    });
    expect(error).toBeInstanceOf(ConfigurationErrors);
    const { errors } = error as ConfigurationErrors;
    expect(errors.map((each) => each.message.split(' ')[1])).toEqual([
      'retryAttempts',
      'maxEventAge',
      'idempotencyExpiry',
      'timeout',
      'objectKeyPrefix',
    ]);
    expect(error.message).toMatch(/^TestStack\/Objects: 5 rules are broken/);
    expect(error.message).toMatch(
      /\n {2}- TestStack\/Objects: idempotencyExpiry must be at least maxEventAge \+ failedEventRetention = 7 hours \+ 14 days = 14 days 7 hours \(1234800 seconds\), got 1 hour/,
    );
    expect(error.message).toMatch(/\n {2}- TestStack\/Objects: timeout must be from 1 second to 15 minutes/);
  });
});
