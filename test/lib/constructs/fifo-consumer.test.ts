import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EffectTable } from '../../../lib/constructs/effect-table';
import {
  FIFO_CONSUMER_DEFAULTS,
  FifoConsumer,
  FifoConsumerProps,
  fifoQueueNameOf,
  MAX_QUEUE_NAME_LENGTH,
  minimumFifoIdempotencyExpiry,
} from '../../../lib/constructs/fifo-consumer';
import { IdempotencyTable } from '../../../lib/constructs/idempotency-table';
import { ConfigurationError, ConfigurationErrors } from '../../../lib/validation';
import { CDK_WARNING_REPORT, captureConsoleError } from '../../helpers/console-capture';
import { nagFindings } from '../../helpers/nag';
import { errorThrownBy, logicalIdOf, templateOf, testApp, testStack } from '../../helpers/synth';
import { expectEffectWritesOnly } from './effect-table-fixtures';

type Overrides = Omit<FifoConsumerProps, 'idempotencyTable' | 'effectTable'>;

const DAY = 86_400;

function synthConsumer(overrides: Overrides = {}): {
  stack: Stack;
  consumer: FifoConsumer;
  effectTable: EffectTable;
} {
  const stack = testStack();
  const idempotencyTable = new IdempotencyTable(stack, 'Idempotency');
  const effectTable = new EffectTable(stack, 'Effects');
  const consumer = new FifoConsumer(stack, 'FifoConsumer', { idempotencyTable, effectTable, ...overrides });
  return { stack, consumer, effectTable };
}

/** The error building the consumer with `overrides` throws. */
function errorOf(overrides: Overrides): Error {
  return errorThrownBy(() => synthConsumer(overrides), overrides);
}

describe('FifoConsumer with its defaults', () => {
  let stack: Stack;
  let consumer: FifoConsumer;
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

  it('makes both queues FIFO, the dead-letter queue on the source queue: redrive policy with maxReceiveCount 5', () => {
    template.resourceCountIs('AWS::SQS::Queue', 2);
    const queues = template.findResources('AWS::SQS::Queue');
    expect(queues[queueId].Properties).toMatchObject({
      FifoQueue: true,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: 5 },
    });
    expect(queues[dlqId].Properties.FifoQueue).toBe(true);
    expect(queues[dlqId].Properties.RedrivePolicy).toBeUndefined();
    expect(consumer.queue.fifo).toBe(true);
    expect(consumer.deadLetterQueue.fifo).toBe(true);
  });

  it('deduplicates by content, across the queue, with the throughput quota per queue (no high throughput)', () => {
    const queues = template.findResources('AWS::SQS::Queue');
    expect(queues[queueId].Properties.ContentBasedDeduplication).toBe(true);
    expect(queues[queueId].Properties.DeduplicationScope).toBeUndefined();
    expect(queues[queueId].Properties.FifoThroughputLimit).toBeUndefined();
    // The dead-letter queue receives only what SQS moves there (with the message id as deduplication id).
    expect(queues[dlqId].Properties.ContentBasedDeduplication).toBeUndefined();
  });

  it('keeps messages 4 days in the source queue and 14 days in the dead-letter queue', () => {
    const queues = template.findResources('AWS::SQS::Queue');
    expect(queues[queueId].Properties.MessageRetentionPeriod).toBe(4 * DAY);
    expect(queues[dlqId].Properties.MessageRetentionPeriod).toBe(14 * DAY);
  });

  it('encrypts both queues with SQS-managed keys and denies every action without TLS on both', () => {
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

  it('derives the visibility timeout: 6 × 30 s timeout (no batching window) = 180 s', () => {
    expect(template.findResources('AWS::SQS::Queue')[queueId].Properties.VisibilityTimeout).toBe(180);
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
      DestinationConfig: Match.absent(),
    });
  });

  it('runs the consumer on nodejs24.x arm64 as fifo-consumer, with no function-level DLQ', () => {
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Timeout: 30,
      MemorySize: 512,
      TracingConfig: { Mode: 'Active' },
      DeadLetterConfig: Match.absent(),
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: 'fifo-consumer',
          IDEMPOTENCY_EXPIRY_SECONDS: String(22 * DAY),
        }),
      },
    });
  });

  it('keeps idempotency records for retention + DLQ retention + retention: 4 + 14 + 4 = 22 days', () => {
    expect(consumer.idempotencyExpiry.toSeconds()).toBe(22 * DAY);
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
      AlarmDescription: Match.stringLikeRegexp('SQS FIFO dead-letter queue'),
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

  it('has no unacknowledged cdk-nag finding (AwsSolutions and Serverless)', () => {
    expect(nagFindings(stack)).toEqual([]);
  });

  it('exposes its parts and warns about nothing', () => {
    expect(consumer.function).toBe(consumer.consumer.function);
    expect(consumer.eventSourceMapping.node.path).toContain('SqsEventSource');
    expect(consumer.eventSource.queue).toBe(consumer.queue);
    // The alarm watches the dead-letter queue (its metric's QueueName is the DLQ's name).
    const dlqMetric = consumer.dlqAlarm.metric as Metric;
    expect(stack.resolve(dlqMetric.dimensions?.QueueName)).toEqual(
      stack.resolve(consumer.deadLetterQueue.queueName),
    );
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
  });
});

describe('FifoConsumer with its settings', () => {
  let stack: Stack;
  let template: Template;
  let consumer: FifoConsumer;
  let topic: Topic;
  let queueId: string;
  let dlqId: string;

  beforeAll(() => {
    stack = testStack();
    topic = new Topic(stack, 'Alerts');
    consumer = new FifoConsumer(stack, 'FifoConsumer', {
      idempotencyTable: new IdempotencyTable(stack, 'Idempotency'),
      effectTable: new EffectTable(stack, 'Effects'),
      timeout: Duration.seconds(60),
      contentBasedDeduplication: false,
      highThroughput: true,
      batchSize: 1,
      maxBatchingWindow: Duration.seconds(0),
      maxConcurrency: 50,
      enabled: false,
      maxReceiveCount: 8,
      retentionPeriod: Duration.days(7),
      // Shorter than the source queue's: fine for FIFO, whose dead-letter queue counts from the move.
      deadLetterQueueRetentionPeriod: Duration.days(2),
      removalPolicy: RemovalPolicy.DESTROY,
      dlqAlarmTopic: topic,
      idempotencyExpiry: Duration.days(20),
    });
    template = templateOf(stack);
    queueId = logicalIdOf(consumer.queue);
    dlqId = logicalIdOf(consumer.deadLetterQueue);
  });

  it('asks producers for deduplication ids, and turns high throughput on (both settings SQS requires)', () => {
    const source = template.findResources('AWS::SQS::Queue')[queueId].Properties;
    expect(source).toMatchObject({
      FifoQueue: true,
      ContentBasedDeduplication: false,
      DeduplicationScope: 'messageGroup',
      FifoThroughputLimit: 'perMessageGroupId',
    });
  });

  it('derives the visibility timeout from the 60 s timeout (6 × 60 s = 360 s), with the retentions asked for', () => {
    const queues = template.findResources('AWS::SQS::Queue');
    expect(queues[queueId].Properties).toMatchObject({
      VisibilityTimeout: 360,
      MessageRetentionPeriod: 7 * DAY,
      RedrivePolicy: { maxReceiveCount: 8 },
    });
    expect(queues[dlqId].Properties.MessageRetentionPeriod).toBe(2 * DAY);
  });

  it('passes batch size, concurrency and the enabled switch to the event source mapping, and no window', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 1,
      MaximumBatchingWindowInSeconds: Match.absent(),
      ScalingConfig: { MaximumConcurrency: 50 },
      Enabled: false,
    });
  });

  it('keeps idempotency records as long as asked (20 days, beyond 7 + 2 + 7 days)', () => {
    expect(consumer.idempotencyExpiry.toDays()).toBe(20);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 60,
      Environment: { Variables: Match.objectLike({ IDEMPOTENCY_EXPIRY_SECONDS: String(20 * DAY) }) },
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

  it('has no unacknowledged cdk-nag finding with high throughput and an alarm topic either', () => {
    expect(nagFindings(consumer)).toEqual([]);
  });

  it('accepts a visibility timeout at or above the rule as given', () => {
    const { consumer: longer, stack: other } = synthConsumer({ visibilityTimeout: Duration.minutes(10) });
    expect(longer.visibilityTimeout.toSeconds()).toBe(600);
    expect(
      templateOf(other).findResources('AWS::SQS::Queue')[logicalIdOf(longer.queue)].Properties,
    ).toMatchObject({ VisibilityTimeout: 600 });
    const { consumer: exact } = synthConsumer({ visibilityTimeout: Duration.seconds(180) });
    expect(exact.visibilityTimeout.toSeconds()).toBe(180);
  });

  it('accepts batch size 10 and concurrency 2 and 1000, the edges of the ranges', () => {
    for (const overrides of [{ batchSize: 10 }, { maxConcurrency: 2 }, { maxConcurrency: 1000 }]) {
      expect(() => synthConsumer(overrides)).not.toThrow();
    }
  });
});

describe('FifoConsumer queue names (CloudFormation would generate FIFO names too long for SQS)', () => {
  /** The queue names of a consumer in a stack named `stackName`. */
  function queueNames(stackName: string): string[] {
    const stack = new Stack(testApp(), stackName, { stackName });
    const consumer = new FifoConsumer(stack, 'FifoConsumer', {
      idempotencyTable: new IdempotencyTable(stack, 'Idempotency'),
      effectTable: new EffectTable(stack, 'Effects'),
    });
    const queues = templateOf(stack).findResources('AWS::SQS::Queue');
    return [consumer.queue, consumer.deadLetterQueue].map(
      (queue) => queues[logicalIdOf(queue)].Properties.QueueName as string,
    );
  }

  it('names both queues after the stack and the construct, ending in .fifo', () => {
    expect(queueNames('reliable-lambda-sandbox-fifo')).toEqual([
      expect.stringMatching(/^reliable-lambda-sandbox-fifo-FifoConsumer-[0-9A-F]{8}-Queue\.fifo$/),
      expect.stringMatching(/^reliable-lambda-sandbox-fifo-FifoConsumer-[0-9A-F]{8}-DeadLetterQueue\.fifo$/),
    ]);
  });

  it("stays within SQS's 80 characters (the suffix included) for the longest stack name the app allows", () => {
    // appName 30 characters, stage 20 (lib/config.ts): 56 characters with the path.
    const longest = `${'a'.repeat(30)}-${'s'.repeat(20)}-fifo`;
    const names = [...queueNames(longest), ...queueNames('reliable-lambda-sandbox-fifo')];
    for (const name of names) {
      expect(name.length).toBeLessThanOrEqual(MAX_QUEUE_NAME_LENGTH);
      expect(name).toMatch(/^[A-Za-z0-9_-]+\.fifo$/);
    }
    // Two stages of one app never share a name.
    const other = queueNames(`${'a'.repeat(30)}-${'t'.repeat(20)}-fifo`);
    expect(other.filter((name) => names.includes(name))).toEqual([]);
  });

  it('gives two consumers in one stack names of their own', () => {
    const stack = testStack();
    const a = new Stack(stack, 'A');
    expect(fifoQueueNameOf(a, 'Queue')).not.toEqual(fifoQueueNameOf(stack, 'Queue'));
  });
});

describe('FifoConsumer configuration that fails synth', () => {
  const cases: [string, Overrides, RegExp][] = [
    [
      'a batching window (FIFO event sources take none)',
      { maxBatchingWindow: Duration.seconds(1) },
      /maxBatchingWindow must be 0 for a FIFO queue, got 1 second: Lambda supports no batching window \(MaximumBatchingWindowInSeconds\) on an SQS FIFO event source, and invokes the function as soon as messages are available, at most 10 per batch\. Leave maxBatchingWindow unset\./,
    ],
    [
      'a batching window of a few milliseconds',
      { maxBatchingWindow: Duration.millis(500) },
      /maxBatchingWindow must be 0 for a FIFO queue, got 500 milliseconds/,
    ],
    [
      'batch size 11 (FIFO limit 10)',
      { batchSize: 11 },
      /batchSize must be a whole number from 1 to 10, got 11 \(SQS event source mapping limit for FIFO queues\)/,
    ],
    [
      'batch size 11 even with a batching window',
      { batchSize: 11, maxBatchingWindow: Duration.seconds(5) },
      /batchSize must be a whole number from 1 to 10, got 11/,
    ],
    ['batch size 0', { batchSize: 0 }, /batchSize must be a whole number from 1 to 10, got 0/],
    ['batch size 2.5', { batchSize: 2.5 }, /batchSize must be a whole number from 1 to 10, got 2\.5/],
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
      /maxReceiveCount must be a whole number from 1 to 1000, got 0 \(SQS redrive policy limit\)/,
    ],
    [
      'maxReceiveCount 1001',
      { maxReceiveCount: 1001 },
      /maxReceiveCount must be a whole number from 1 to 1000, got 1001/,
    ],
    [
      'visibility timeout below 6 × timeout',
      { visibilityTimeout: Duration.seconds(179) },
      /visibilityTimeout \(2 minutes 59 seconds\) is below AWS's rule for a queue feeding Lambda: at least 6 × function timeout = 6 × 30 seconds = 3 minutes\. Raise it to at least 180 seconds, or leave it unset to derive it\./,
    ],
    [
      'visibility timeout below 6 × a longer timeout',
      { timeout: Duration.seconds(100), visibilityTimeout: Duration.seconds(599) },
      /at least 6 × function timeout = 6 × 1 minute 40 seconds = 10 minutes\. Raise it to at least 600 seconds/,
    ],
    [
      'visibility timeout above 12 hours',
      { visibilityTimeout: Duration.hours(13) },
      /visibilityTimeout must be from 0 seconds to 12 hours, got 13 hours/,
    ],
    [
      'retention above 14 days',
      { retentionPeriod: Duration.days(15) },
      /retentionPeriod must be from 1 minute to 14 days, got 15 days \(SQS message retention limit\)/,
    ],
    [
      'retention below 60 seconds',
      { retentionPeriod: Duration.seconds(59) },
      /retentionPeriod must be from 1 minute to 14 days, got 59 seconds/,
    ],
    [
      'dead-letter retention above 14 days',
      { deadLetterQueueRetentionPeriod: Duration.days(15) },
      /deadLetterQueueRetentionPeriod must be from 1 minute to 14 days, got 15 days/,
    ],
    [
      'dead-letter retention below 60 seconds',
      { deadLetterQueueRetentionPeriod: Duration.seconds(30) },
      /deadLetterQueueRetentionPeriod must be from 1 minute to 14 days, got 30 seconds/,
    ],
    [
      'a function timeout above 15 minutes',
      { timeout: Duration.minutes(16) },
      /timeout must be from 1 second to 15 minutes, got 16 minutes/,
    ],
    [
      'memory below 128 MB',
      { memorySize: 64 },
      /memorySize must be a whole number from 128 to 10240, got 64/,
    ],
  ];

  it.each(cases)('%s', (_name, overrides, message) => {
    const build = () => synthConsumer(overrides);
    expect(build).toThrow(ConfigurationError);
    expect(build).toThrow(message);
    expect(build).toThrow(/^TestStack\/FifoConsumer: /);
  });
});

describe('FifoConsumer retention periods (the dead-letter queue counts from the move)', () => {
  it('accepts a dead-letter retention equal to or shorter than the source retention, unlike the standard path', () => {
    for (const deadLetterQueueRetentionPeriod of [Duration.days(4), Duration.days(1), Duration.minutes(1)]) {
      expect(() =>
        synthConsumer({ retentionPeriod: Duration.days(4), deadLetterQueueRetentionPeriod }),
      ).not.toThrow();
    }
  });
});

describe('FifoConsumer warnings', () => {
  it('warns when maxReceiveCount is below 5 (throttled receives count too)', () => {
    const { stack } = synthConsumer({ maxReceiveCount: 3 });
    // Synth prints the warning (CDK's validation report, on console.error): captured and checked here.
    const report = captureConsoleError(CDK_WARNING_REPORT);
    try {
      Annotations.fromStack(stack).hasWarning(
        '/TestStack/FifoConsumer',
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
    expect(FIFO_CONSUMER_DEFAULTS).toMatchObject({
      contentBasedDeduplication: true,
      highThroughput: false,
      batchSize: 10,
      maxConcurrency: 5,
      enabled: true,
      maxReceiveCount: 5,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    expect(FIFO_CONSUMER_DEFAULTS.retentionPeriod.toDays()).toBe(4);
    expect(FIFO_CONSUMER_DEFAULTS.deadLetterQueueRetentionPeriod.toDays()).toBe(14);
    expect(FIFO_CONSUMER_DEFAULTS.entry).toMatch(/lambda\/fifo-consumer\/index\.ts$/);
  });
});

describe('FifoConsumer idempotency expiry (an error at synth, derived from the queues)', () => {
  it('derives the default from the retention periods and accepts it given explicitly', () => {
    expect(minimumFifoIdempotencyExpiry(Duration.days(4), Duration.days(14)).toSeconds()).toBe(22 * DAY);
    const { consumer } = synthConsumer({
      retentionPeriod: Duration.days(1),
      deadLetterQueueRetentionPeriod: Duration.days(2),
    });
    expect(consumer.idempotencyExpiry.toSeconds()).toBe(4 * DAY);
    expect(() => synthConsumer({ idempotencyExpiry: Duration.days(22) })).not.toThrow();
    // The largest the rule can ask for (14 + 14 + 14 days) is within ConsumerFunction's range.
    const { consumer: longest } = synthConsumer({
      retentionPeriod: Duration.days(14),
      deadLetterQueueRetentionPeriod: Duration.days(14),
    });
    expect(longest.idempotencyExpiry.toDays()).toBe(42);
  });

  it('refuses one second less than retention + DLQ retention + retention, with the arithmetic and why', () => {
    const error = errorOf({ idempotencyExpiry: Duration.seconds(22 * DAY - 1) });
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toBe(
      'TestStack/FifoConsumer: idempotencyExpiry must be at least retentionPeriod + deadLetterQueueRetentionPeriod + ' +
        'retentionPeriod = 4 days + 14 days + 4 days = 22 days (1900800 seconds), got 21 days 23 hours 59 minutes ' +
        '59 seconds (1900799 seconds): a batch that times out returns messages it already completed to the queue, ' +
        'where they can stay up to retentionPeriod until maxReceiveCount receives move them to the dead-letter ' +
        'queue; a FIFO dead-letter queue counts its retention from the move (SQS resets the enqueue timestamp), and ' +
        'a redrive on its last day sends them back to the source queue as new messages for up to retentionPeriod ' +
        'again. A message whose idempotency record expired by then applies its effect twice. Raise ' +
        'idempotencyExpiry (or leave it unset to derive it), or shorten the retention periods.',
    );
  });

  it('refuses the standard path’s rule (retention + DLQ retention = 18 days): it misses the second wait', () => {
    expect(errorOf({ idempotencyExpiry: Duration.days(18) }).message).toMatch(
      /idempotencyExpiry must be at least .* = 22 days \(1900800 seconds\), got 18 days/,
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
      /idempotencyExpiry must be at least retentionPeriod \+ deadLetterQueueRetentionPeriod \+ retentionPeriod = 12 hours \+ 2 days \+ 12 hours = 3 days \(259200 seconds\), got 2 days \(172800 seconds\)/,
    );
  });

  it('refuses an expiry above 365 days (ConsumerFunction’s range)', () => {
    expect(errorOf({ idempotencyExpiry: Duration.days(366) }).message).toMatch(
      /idempotencyExpiry must be from 1 minute to 365 days, got 366 days/,
    );
  });

  it('reports every broken rule together, each with its own message', () => {
    const error = errorOf({
      maxBatchingWindow: Duration.seconds(5),
      batchSize: 11,
      maxConcurrency: 1,
      maxReceiveCount: 0,
      retentionPeriod: Duration.days(15),
      visibilityTimeout: Duration.seconds(179),
      idempotencyExpiry: Duration.hours(1),
      memorySize: 64,
    });
    expect(error).toBeInstanceOf(ConfigurationErrors);
    expect(error).toBeInstanceOf(ConfigurationError);
    const { errors } = error as ConfigurationErrors;
    expect(errors.map((each) => each.message.split(' ')[1])).toEqual([
      'maxBatchingWindow',
      'batchSize',
      'maxConcurrency',
      'maxReceiveCount',
      'retentionPeriod',
      'visibilityTimeout',
      'idempotencyExpiry',
      'memorySize',
    ]);
    const lines = error.message.split('\n');
    expect(lines[0]).toBe(
      'TestStack/FifoConsumer: 8 rules are broken (each listed below; fix them all before synthesizing again):',
    );
    expect(lines.slice(1)).toEqual(errors.map((each) => `  - ${each.message}`));
  });
});
