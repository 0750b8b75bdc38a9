import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import fc from 'fast-check';
import { EffectTable } from '../../../lib/constructs/effect-table';
import { IdempotencyTable } from '../../../lib/constructs/idempotency-table';
import {
  minimumSqsIdempotencyExpiry,
  minimumVisibilityTimeout,
  SQS_CONSUMER_DEFAULTS,
  SqsConsumer,
  SqsConsumerProps,
} from '../../../lib/constructs/sqs-consumer';
import { ConfigurationError, ConfigurationErrors } from '../../../lib/validation';
import { CDK_WARNING_REPORT, captureConsoleError } from '../../helpers/console-capture';
import { logicalIdOf, templateOf, testStack, errorThrownBy } from '../../helpers/synth';
import { expectEffectWritesOnly } from './effect-table-fixtures';

type Overrides = Omit<SqsConsumerProps, 'idempotencyTable' | 'effectTable'>;

const DAY = 86_400;

function synthConsumer(overrides: Overrides = {}): {
  stack: Stack;
  consumer: SqsConsumer;
  effectTable: EffectTable;
} {
  const stack = testStack();
  const idempotencyTable = new IdempotencyTable(stack, 'Idempotency');
  const effectTable = new EffectTable(stack, 'Effects');
  const consumer = new SqsConsumer(stack, 'SqsConsumer', { idempotencyTable, effectTable, ...overrides });
  return { stack, consumer, effectTable };
}

/** The error building the consumer with `overrides` throws. */
function errorOf(overrides: Overrides): Error {
  return errorThrownBy(() => synthConsumer(overrides), overrides);
}

describe('SqsConsumer with its defaults', () => {
  let stack: Stack;
  let consumer: SqsConsumer;
  let template: Template;
  let queueId: string;
  let dlqId: string;
  let effectTable: EffectTable;

  beforeAll(() => {
    ({ stack, consumer, effectTable } = synthConsumer());
    template = templateOf(stack);
    queueId = logicalIdOf(consumer.queue);
    dlqId = logicalIdOf(consumer.deadLetterQueue);
  });

  it('puts the dead-letter queue on the source queue: redrive policy with maxReceiveCount 5', () => {
    template.resourceCountIs('AWS::SQS::Queue', 2);
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: 5 },
    });
  });

  it('keeps messages longer in the dead-letter queue (14 days) than in the source queue (4 days)', () => {
    const queues = template.findResources('AWS::SQS::Queue');
    expect(queues[queueId].Properties.MessageRetentionPeriod).toBe(4 * 24 * 3600);
    expect(queues[dlqId].Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    expect(queues[dlqId].Properties.RedrivePolicy).toBeUndefined();
  });

  it('encrypts both queues with SQS-managed keys and denies non-TLS access to both', () => {
    const queues = template.findResources('AWS::SQS::Queue');
    for (const id of [queueId, dlqId]) {
      expect(queues[id].Properties.SqsManagedSseEnabled).toBe(true);
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sqs:*',
              Principal: { AWS: '*' },
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              Resource: { 'Fn::GetAtt': [id, 'Arn'] },
            }),
          ]),
        },
      });
    }
  });

  it('derives the visibility timeout: 6 × 30 s timeout + 0 s window = 180 s', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: Match.anyValue(),
      VisibilityTimeout: 180,
    });
    expect(consumer.visibilityTimeout.toSeconds()).toBe(180);
  });

  it('maps the queue to the function with ReportBatchItemFailures, batch 10, no window, concurrency 5, enabled', () => {
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      FunctionName: { Ref: logicalIdOf(consumer.function) },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: Match.absent(),
      ScalingConfig: { MaximumConcurrency: 5 },
      Enabled: true,
    });
  });

  it('runs the consumer on nodejs24.x arm64 with its service name and no function-level DLQ', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Timeout: 30,
      DeadLetterConfig: Match.absent(),
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: 'sqs-consumer',
          IDEMPOTENCY_EXPIRY_SECONDS: String(18 * DAY),
        }),
      },
    });
  });

  it('keeps idempotency records for retentionPeriod + deadLetterQueueRetentionPeriod: 4 + 14 = 18 days', () => {
    expect(consumer.idempotencyExpiry.toSeconds()).toBe(18 * DAY);
  });

  it('writes its effects to the effect table (EFFECT_TABLE_NAME), with UpdateItem only', () => {
    expectEffectWritesOnly(template, logicalIdOf(effectTable.table));
  });

  it('lets the function consume the source queue only', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['sqs:DeleteMessage', 'sqs:ReceiveMessage']),
            Resource: { 'Fn::GetAtt': [queueId, 'Arn'] },
          }),
        ]),
      },
    });
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (policy) => policy.Properties.PolicyDocument.Statement as { Resource: unknown }[],
    );
    expect(JSON.stringify(statements)).not.toContain(dlqId);
  });

  it('alarms when the dead-letter queue holds at least one visible message, missing data not breaching', () => {
    // The dead-letter queue's alarm among the path's 12 (test/lib/constructs/alarms.test.ts lists them all).
    template.resourceCountIs('AWS::CloudWatch::Alarm', 12);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: Match.absent(),
    });
  });

  it('retains both queues by default', () => {
    for (const id of [queueId, dlqId]) {
      expect(template.findResources('AWS::SQS::Queue')[id]).toMatchObject({
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    }
  });

  it('exposes its parts and warns about nothing', () => {
    expect(consumer.function).toBe(consumer.consumer.function);
    expect(consumer.eventSourceMapping.node.path).toContain('SqsEventSource');
    expect(consumer.eventSource.queue).toBe(consumer.queue);
    expect(consumer.dlqAlarm).toBeDefined();
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
  });
});

describe('SqsConsumer with its settings', () => {
  let stack: Stack;
  let template: Template;
  let consumer: SqsConsumer;
  let topic: Topic;

  beforeAll(() => {
    stack = testStack();
    topic = new Topic(stack, 'Alerts');
    consumer = new SqsConsumer(stack, 'SqsConsumer', {
      idempotencyTable: new IdempotencyTable(stack, 'Idempotency'),
      effectTable: new EffectTable(stack, 'Effects'),
      timeout: Duration.seconds(60),
      maxBatchingWindow: Duration.seconds(20),
      batchSize: 100,
      maxConcurrency: 50,
      enabled: false,
      maxReceiveCount: 8,
      retentionPeriod: Duration.days(2),
      deadLetterQueueRetentionPeriod: Duration.days(7),
      removalPolicy: RemovalPolicy.DESTROY,
      dlqAlarmTopic: topic,
      idempotencyExpiry: Duration.days(10),
    });
    template = templateOf(stack);
  });

  it('derives the visibility timeout: 6 × 60 s timeout + 20 s window = 380 s', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 380,
      MessageRetentionPeriod: 2 * 24 * 3600,
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 8 }),
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      MessageRetentionPeriod: 7 * 24 * 3600,
      RedrivePolicy: Match.absent(),
    });
  });

  it('passes batch size, window, concurrency and the enabled switch to the event source mapping', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 20,
      ScalingConfig: { MaximumConcurrency: 50 },
      Enabled: false,
    });
  });

  it('keeps idempotency records as long as asked (10 days, beyond 2 + 7 days of retention)', () => {
    expect(consumer.idempotencyExpiry.toDays()).toBe(10);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ IDEMPOTENCY_EXPIRY_SECONDS: String(10 * DAY) }) },
    });
  });

  it('notifies the given topic when the alarm fires', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: [{ Ref: logicalIdOf(topic) }],
    });
  });

  it('deletes both queues when asked', () => {
    const queues = Object.values(template.findResources('AWS::SQS::Queue'));
    expect(queues).toHaveLength(2);
    for (const queue of queues) expect(queue.DeletionPolicy).toBe('Delete');
  });

  it('accepts a visibility timeout at or above the rule as given', () => {
    expect(consumer.visibilityTimeout.toSeconds()).toBe(380);
    const { stack: other } = synthConsumer({ visibilityTimeout: Duration.minutes(10) });
    templateOf(other).hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: Match.anyValue(),
      VisibilityTimeout: 600,
    });
    const { consumer: exact } = synthConsumer({ visibilityTimeout: Duration.seconds(180) });
    expect(exact.visibilityTimeout.toSeconds()).toBe(180);
  });
});

describe('minimumVisibilityTimeout', () => {
  it('is exactly 6 × timeout + window for every valid timeout and window', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 900 }), fc.integer({ min: 0, max: 300 }), (timeout, window) => {
        expect(
          minimumVisibilityTimeout(Duration.seconds(timeout), Duration.seconds(window)).toSeconds(),
        ).toBe(6 * timeout + window);
      }),
    );
  });

  it('stays below the SQS maximum of 12 hours even at Lambda and batching-window maximums', () => {
    const largest = minimumVisibilityTimeout(Duration.minutes(15), Duration.seconds(300));
    expect(largest.toSeconds()).toBe(5700);
    expect(largest.toSeconds()).toBeLessThan(Duration.hours(12).toSeconds());
  });
});

describe('SqsConsumer configuration that fails synth', () => {
  const cases: [string, Overrides, RegExp][] = [
    [
      'visibility timeout below 6 × timeout + window',
      { visibilityTimeout: Duration.seconds(179) },
      /visibilityTimeout \(2 minutes 59 seconds\) is below AWS's rule .*6 × function timeout \+ maxBatchingWindow = 6 × 30 seconds \+ 0 seconds = 3 minutes\. Raise it to at least 180 seconds/,
    ],
    [
      'visibility timeout below the rule with a window',
      {
        timeout: Duration.seconds(10),
        maxBatchingWindow: Duration.seconds(5),
        visibilityTimeout: Duration.seconds(64),
      },
      /at least 6 × function timeout \+ maxBatchingWindow = 6 × 10 seconds \+ 5 seconds = 1 minute 5 seconds\. Raise it to at least 65 seconds/,
    ],
    [
      'visibility timeout above 12 hours',
      { visibilityTimeout: Duration.hours(13) },
      /visibilityTimeout must be from 0 seconds to 12 hours, got 13 hours/,
    ],
    [
      'batch size above 10 without a batching window',
      { batchSize: 11 },
      /batchSize above 10 \(got 11\) requires a maxBatchingWindow of at least 1 second/,
    ],
    [
      'batch size above 10,000',
      { batchSize: 10_001, maxBatchingWindow: Duration.seconds(1) },
      /batchSize must be a whole number from 1 to 10000, got 10001/,
    ],
    ['batch size 0', { batchSize: 0 }, /batchSize must be a whole number from 1 to 10000, got 0/],
    [
      'batching window above 300 seconds',
      { maxBatchingWindow: Duration.seconds(301) },
      /maxBatchingWindow must be from 0 seconds to 5 minutes, got 5 minutes 1 second/,
    ],
    [
      'maximum concurrency 1',
      { maxConcurrency: 1 },
      /maxConcurrency must be a whole number from 2 to 1000, got 1\b/,
    ],
    [
      'maximum concurrency 1001',
      { maxConcurrency: 1001 },
      /maxConcurrency must be a whole number from 2 to 1000, got 1001/,
    ],
    [
      'maxReceiveCount 0',
      { maxReceiveCount: 0 },
      /maxReceiveCount must be a whole number from 1 to 1000, got 0/,
    ],
    [
      'maxReceiveCount 1001',
      { maxReceiveCount: 1001 },
      /maxReceiveCount must be a whole number from 1 to 1000, got 1001/,
    ],
    [
      'dead-letter retention equal to the source retention',
      { retentionPeriod: Duration.days(4), deadLetterQueueRetentionPeriod: Duration.days(4) },
      /deadLetterQueueRetentionPeriod \(4 days\) must be longer than retentionPeriod \(4 days\)/,
    ],
    [
      'dead-letter retention shorter than the source retention',
      { deadLetterQueueRetentionPeriod: Duration.days(1) },
      /deadLetterQueueRetentionPeriod \(1 day\) must be longer than retentionPeriod \(4 days\)/,
    ],
    [
      'retention above 14 days',
      { deadLetterQueueRetentionPeriod: Duration.days(15) },
      /deadLetterQueueRetentionPeriod must be from 1 minute to 14 days, got 15 days/,
    ],
    [
      'retention below 60 seconds',
      { retentionPeriod: Duration.seconds(59) },
      /retentionPeriod must be from 1 minute to 14 days, got 59 seconds/,
    ],
  ];

  it.each(cases)('%s', (_name, overrides, message) => {
    const build = () => synthConsumer(overrides);
    expect(build).toThrow(ConfigurationError);
    expect(build).toThrow(message);
    expect(build).toThrow(/^TestStack\/SqsConsumer: /);
  });
});

describe('SqsConsumer warnings', () => {
  it('warns when maxReceiveCount is below 5 (throttled receives count too)', () => {
    const { stack } = synthConsumer({ maxReceiveCount: 3 });
    // Synth prints the warning (CDK's validation report, on console.error): captured and checked here.
    const report = captureConsoleError(CDK_WARNING_REPORT);
    try {
      Annotations.fromStack(stack).hasWarning(
        '/TestStack/SqsConsumer',
        Match.stringLikeRegexp('maxReceiveCount 3 is below 5: throttled receives count too'),
      );
    } finally {
      report.restore();
    }
    expect(report.warnings()).toEqual([
      expect.stringMatching(/^maxReceiveCount 3 is below 5: throttled receives/),
    ]);
  });

  it('uses the defaults it documents', () => {
    expect(SQS_CONSUMER_DEFAULTS).toMatchObject({
      batchSize: 10,
      maxConcurrency: 5,
      enabled: true,
      maxReceiveCount: 5,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    expect(SQS_CONSUMER_DEFAULTS.entry).toMatch(/lambda\/sqs-consumer\/index\.ts$/);
  });
});

describe('SqsConsumer idempotency expiry (an error at synth, derived from the queues)', () => {
  it('derives the default from the retention periods and accepts it given explicitly', () => {
    expect(minimumSqsIdempotencyExpiry(Duration.days(4), Duration.days(14)).toSeconds()).toBe(18 * DAY);
    const { consumer } = synthConsumer({
      retentionPeriod: Duration.days(1),
      deadLetterQueueRetentionPeriod: Duration.days(2),
    });
    expect(consumer.idempotencyExpiry.toSeconds()).toBe(3 * DAY);
    expect(() => synthConsumer({ idempotencyExpiry: Duration.days(18) })).not.toThrow();
    // The largest the rule can ask for (14 + 14 days) is within ConsumerFunction's range.
    expect(() =>
      synthConsumer({
        retentionPeriod: Duration.days(14).minus(Duration.seconds(1)),
        deadLetterQueueRetentionPeriod: Duration.days(14),
      }),
    ).not.toThrow();
  });

  it('refuses one second less than retentionPeriod + deadLetterQueueRetentionPeriod, with the arithmetic and why', () => {
    const error = errorOf({ idempotencyExpiry: Duration.seconds(18 * DAY - 1) });
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toBe(
      'TestStack/SqsConsumer: idempotencyExpiry must be at least retentionPeriod + deadLetterQueueRetentionPeriod = ' +
        '4 days + 14 days = 18 days (1555200 seconds), got 17 days 23 hours 59 minutes 59 seconds (1555199 seconds): ' +
        'a batch that times out returns orders it already completed to the queue, and after maxReceiveCount ' +
        "receives they reach the dead-letter queue; a redrive on the dead-letter queue's last day sends them back " +
        'to the source queue for up to retentionPeriod, and an order whose idempotency record expired by then ' +
        'applies its effect twice. Raise idempotencyExpiry (or leave it unset to derive it), or shorten the ' +
        'retention periods.',
    );
  });

  it('checks the rule against the retention periods given', () => {
    expect(
      errorOf({
        retentionPeriod: Duration.hours(12),
        deadLetterQueueRetentionPeriod: Duration.days(2),
        idempotencyExpiry: Duration.days(2),
      }).message,
    ).toMatch(
      /idempotencyExpiry must be at least retentionPeriod \+ deadLetterQueueRetentionPeriod = 12 hours \+ 2 days = 2 days 12 hours \(216000 seconds\), got 2 days \(172800 seconds\)/,
    );
  });

  it('no longer warns: a shorter expiry is an error, a long retry window within the retention is fine', () => {
    // 5 receives × (6 × 300 s) = 2.5 hours of retries, well inside the 18 days.
    const { stack } = synthConsumer({ timeout: Duration.minutes(5) });
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
  });

  it('reports several broken rules together, each with its own message', () => {
    const error = errorOf({
      batchSize: 11,
      maxConcurrency: 1,
      visibilityTimeout: Duration.seconds(179),
      idempotencyExpiry: Duration.hours(1),
      memorySize: 64,
    });
    expect(error).toBeInstanceOf(ConfigurationErrors);
    expect(error).toBeInstanceOf(ConfigurationError);
    const { errors } = error as ConfigurationErrors;
    expect(errors.map((each) => each.message.split(' ')[1])).toEqual([
      'batchSize',
      'maxConcurrency',
      'visibilityTimeout',
      'idempotencyExpiry',
      'memorySize',
    ]);
    const lines = error.message.split('\n');
    expect(lines[0]).toBe(
      'TestStack/SqsConsumer: 5 rules are broken (each listed below; fix them all before synthesizing again):',
    );
    expect(lines.slice(1)).toEqual(errors.map((each) => `  - ${each.message}`));
    expect(error.message).toMatch(/batchSize above 10 \(got 11\) requires a maxBatchingWindow/);
    expect(error.message).toMatch(
      /idempotencyExpiry must be at least .* = 18 days \(1555200 seconds\), got 1 hour/,
    );
    expect(error.message).toMatch(/memorySize must be a whole number from 128 to 10240, got 64/);
  });
});
