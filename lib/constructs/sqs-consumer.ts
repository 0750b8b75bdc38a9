import * as path from 'node:path';
import { Annotations, Duration, RemovalPolicy, Token, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Stats, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { EventSourceMapping } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  assertDurationAtLeastSum,
  assertDurationInRange,
  assertIntegerInRange,
  type Check,
  ConfigurationError,
  describeDuration,
  validateAll,
} from '../validation';
import {
  ConsumerFunction,
  consumerFunctionChecks,
  ConsumerFunctionOptions,
  DEFAULT_TIMEOUT,
} from './consumer-function';
import { EffectTable } from './effect-table';
import { IdempotencyTable } from './idempotency-table';

/** Limits of SQS and of Lambda's SQS event source mapping (AWS documentation). */
export const SQS_LIMITS = {
  /** Batch size without a batching window. */
  maxBatchSizeWithoutWindow: 10,
  maxBatchSize: 10_000,
  maxBatchingWindow: Duration.seconds(300),
  minMaxConcurrency: 2,
  maxMaxConcurrency: 1_000,
  minMaxReceiveCount: 1,
  maxMaxReceiveCount: 1_000,
  maxVisibilityTimeout: Duration.hours(12),
  minRetentionPeriod: Duration.seconds(60),
  maxRetentionPeriod: Duration.days(14),
} as const;

/** Defaults of {@link SqsConsumerProps}, exported so docs and tests name them instead of repeating numbers. */
export const SQS_CONSUMER_DEFAULTS = {
  entry: path.join(__dirname, '..', '..', 'lambda', 'sqs-consumer', 'index.ts'),
  batchSize: 10,
  maxBatchingWindow: Duration.seconds(0),
  maxConcurrency: 5,
  enabled: true,
  maxReceiveCount: 5,
  retentionPeriod: Duration.days(4),
  deadLetterQueueRetentionPeriod: Duration.days(14),
  removalPolicy: RemovalPolicy.RETAIN,
} as const;

/**
 * The visibility-timeout rule AWS recommends for a queue that feeds a Lambda function: at least six times the
 * function timeout plus the maximum batching window, so a batch that is retried after throttling or a slow
 * invocation does not become visible (and get processed twice) while the first attempt still runs.
 */
export function minimumVisibilityTimeout(functionTimeout: Duration, maxBatchingWindow: Duration): Duration {
  return Duration.seconds(6 * functionTimeout.toSeconds() + maxBatchingWindow.toSeconds());
}

/**
 * The shortest idempotency expiry that covers every re-delivery of an SQS message: `retentionPeriod` +
 * `deadLetterQueueRetentionPeriod` (see {@link SqsConsumerProps.idempotencyExpiry}); also its default.
 */
export function minimumSqsIdempotencyExpiry(
  retentionPeriod: Duration,
  deadLetterQueueRetentionPeriod: Duration,
): Duration {
  return retentionPeriod.plus(deadLetterQueueRetentionPeriod);
}

export interface SqsConsumerProps extends ConsumerFunctionOptions {
  /** The table the consumer's idempotency records go to. */
  readonly idempotencyTable: IdempotencyTable;

  /**
   * The table the business action's effects are written to, in the same DynamoDB transaction as the
   * idempotency record (one item per customer and currency).
   */
  readonly effectTable: EffectTable;

  /**
   * How long an idempotency record protects an order: at least `retentionPeriod` +
   * `deadLetterQueueRetentionPeriod` (a shorter value fails synth), within 1 minute to 365 days. A batch that
   * times out returns the orders it already completed to the queue with the others, and after
   * `maxReceiveCount` receives they all reach the dead-letter queue; a redrive on the dead-letter queue's last
   * day (a message keeps its original enqueue time there) sends them back to the source queue, where they can
   * wait up to `retentionPeriod` before Lambda receives them again. An order whose record expired by then
   * would apply its effect a second time. Storage: an idempotency record is ≈200 bytes, so 1 million orders a
   * day kept 18 days is ≈3.6 GB, ≈$0.90 a month at DynamoDB's $0.25 per GB-month (us-east-1, standard table
   * class).
   * @default retentionPeriod + deadLetterQueueRetentionPeriod: 18 days with the defaults (4 days + 14 days)
   */
  readonly idempotencyExpiry?: Duration;

  /**
   * Path of the handler's entry file (its `handler` export is the entry point). Point it at your own handler
   * when you fork the template; keep the partial batch response contract (`batchItemFailures`).
   * @default lambda/sqs-consumer/index.ts of this repository
   */
  readonly entry?: string;

  /**
   * Largest number of messages in one invocation. Above 10 AWS requires a batching window of at least 1 second.
   * Valid range: 1 to 10,000.
   * @default 10
   */
  readonly batchSize?: number;

  /**
   * Longest time the event source mapping gathers messages before invoking the function (a maximum, not a fixed
   * wait). Part of the derived visibility timeout. Valid range: 0 to 300 seconds.
   * @default Duration.seconds(0): invoke as soon as messages are available
   */
  readonly maxBatchingWindow?: Duration;

  /**
   * Most concurrent invocations the event source mapping starts (`ScalingConfig.MaximumConcurrency`). The cap
   * protects the account's shared concurrency and the downstream systems; it also keeps the mapping from
   * invoking beyond what the function may run, because a throttled batch returns to the queue with its receive
   * count raised and can reach the dead-letter queue without ever failing. If you give the function reserved
   * concurrency, keep this value at or below it. Valid range: 2 to 1,000.
   * @default 5 (the number of batches Lambda starts polling with; 50 messages in flight at the default batch size)
   */
  readonly maxConcurrency?: number;

  /**
   * Whether the event source mapping polls the queue. Set `false` to stop polling (and its cost) in an idle
   * sandbox; messages wait in the queue until it is enabled again, or until the retention period drops them.
   * @default true
   */
  readonly enabled?: boolean;

  /**
   * How many times a message is received before SQS moves it to the dead-letter queue (the redrive policy of
   * the source queue). Throttled receives count too, so values below 5 send healthy messages to the
   * dead-letter queue under load (a synth warning says so). Valid range: 1 to 1,000.
   * @default 5
   */
  readonly maxReceiveCount?: number;

  /**
   * How long a received message stays hidden before it can be received again. Must be at least
   * 6 × the function timeout + `maxBatchingWindow` (AWS's recommendation); a lower value fails synth.
   * At most 12 hours.
   * @default derived: 6 × timeout + maxBatchingWindow (180 seconds with the default 30-second timeout)
   */
  readonly visibilityTimeout?: Duration;

  /**
   * How long the source queue keeps a message that nobody deleted. Valid range: 60 seconds to 14 days. Part of
   * the minimum (and default) `idempotencyExpiry`.
   * @default Duration.days(4) (SQS's default)
   */
  readonly retentionPeriod?: Duration;

  /**
   * How long the dead-letter queue keeps a message. Must be longer than `retentionPeriod`: for a standard queue
   * a message keeps its original enqueue time when it is moved, so a dead-letter queue with the same retention
   * would drop it as soon as it arrives. Valid range: 60 seconds to 14 days. Part of the minimum (and default)
   * `idempotencyExpiry`.
   * @default Duration.days(14) (the maximum)
   */
  readonly deadLetterQueueRetentionPeriod?: Duration;

  /**
   * What happens to both queues (and the messages in them) on `cdk destroy` or when they leave the app.
   * @default RemovalPolicy.RETAIN: messages waiting in the dead-letter queue need a person, not a delete.
   *   Sandboxes pass `DESTROY` (the stack uses the stage's `retainData`).
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Where the dead-letter-queue alarm notifies (an SNS topic, e.g. subscribed by e-mail or a chat bot) when it
   * goes into ALARM.
   * @default no action: the alarm is visible in CloudWatch only
   */
  readonly dlqAlarmTopic?: ITopic;
}

/**
 * The SQS ingestion path: a source queue with its dead-letter queue on the queue itself (redrive policy), the
 * consumer function fed by an event source mapping that reports batch item failures, and an alarm as soon as
 * one message reaches the dead-letter queue.
 *
 * How a failing message flows: the handler reports it in `batchItemFailures`; it becomes visible again after
 * the visibility timeout; each receive raises its receive count; at `maxReceiveCount` SQS moves it to the
 * dead-letter queue and the alarm fires. The function has no dead-letter queue of its own: that one only
 * catches asynchronous invocations and never sees an SQS message.
 */
export class SqsConsumer extends Construct {
  /** The source queue producers send to. */
  readonly queue: Queue;
  /** The source queue's dead-letter queue (reached at `maxReceiveCount`). */
  readonly deadLetterQueue: Queue;
  /** The consumer function with its log group and idempotency access. */
  readonly consumer: ConsumerFunction;
  /** The consumer's Lambda function (same as `consumer.function`). */
  readonly function: NodejsFunction;
  /** The event source as added to the function. */
  readonly eventSource: SqsEventSource;
  /** The event source mapping it created. */
  readonly eventSourceMapping: EventSourceMapping;
  /** In ALARM while the dead-letter queue holds at least one visible message. */
  readonly dlqAlarm: Alarm;
  /** The visibility timeout the source queue got (derived or given). */
  readonly visibilityTimeout: Duration;
  /** How long idempotency records protect an order (derived or given). */
  readonly idempotencyExpiry: Duration;

  constructor(scope: Construct, id: string, props: SqsConsumerProps) {
    super(scope, id);
    const defaults = SQS_CONSUMER_DEFAULTS;
    const batchSize = props.batchSize ?? defaults.batchSize;
    const maxBatchingWindow = props.maxBatchingWindow ?? defaults.maxBatchingWindow;
    const maxConcurrency = props.maxConcurrency ?? defaults.maxConcurrency;
    const maxReceiveCount = props.maxReceiveCount ?? defaults.maxReceiveCount;
    const retentionPeriod = props.retentionPeriod ?? defaults.retentionPeriod;
    const deadLetterQueueRetentionPeriod =
      props.deadLetterQueueRetentionPeriod ?? defaults.deadLetterQueueRetentionPeriod;
    const removalPolicy = props.removalPolicy ?? defaults.removalPolicy;
    const timeout = props.timeout ?? DEFAULT_TIMEOUT;
    this.visibilityTimeout = props.visibilityTimeout ?? minimumVisibilityTimeout(timeout, maxBatchingWindow);
    this.idempotencyExpiry =
      props.idempotencyExpiry ?? minimumSqsIdempotencyExpiry(retentionPeriod, deadLetterQueueRetentionPeriod);

    // Every rule is checked before anything is built, and every broken one is reported at once.
    validateAll(this, [
      ...this.eventSourceChecks(batchSize, maxBatchingWindow, maxConcurrency),
      () =>
        assertIntegerInRange(
          this,
          'maxReceiveCount',
          maxReceiveCount,
          SQS_LIMITS.minMaxReceiveCount,
          SQS_LIMITS.maxMaxReceiveCount,
          'SQS redrive policy limit',
        ),
      ...this.retentionChecks(retentionPeriod, deadLetterQueueRetentionPeriod),
      ...this.visibilityTimeoutChecks(props.visibilityTimeout, timeout, maxBatchingWindow),
      () =>
        assertDurationAtLeastSum(
          this,
          'idempotencyExpiry',
          this.idempotencyExpiry,
          [
            ['retentionPeriod', retentionPeriod],
            ['deadLetterQueueRetentionPeriod', deadLetterQueueRetentionPeriod],
          ],
          'a batch that times out returns orders it already completed to the queue, and after maxReceiveCount ' +
            "receives they reach the dead-letter queue; a redrive on the dead-letter queue's last day sends them " +
            'back to the source queue for up to retentionPeriod, and an order whose idempotency record expired ' +
            'by then applies its effect twice. Raise idempotencyExpiry (or leave it unset to derive it), or ' +
            'shorten the retention periods.',
        ),
      ...consumerFunctionChecks(this, { ...props, idempotencyExpiry: this.idempotencyExpiry }),
    ]);
    if (!Token.isUnresolved(maxReceiveCount) && maxReceiveCount < defaults.maxReceiveCount) {
      Annotations.of(this).addWarningV2(
        'reliable-lambda:sqs-max-receive-count',
        `maxReceiveCount ${maxReceiveCount} is below ${defaults.maxReceiveCount}: throttled receives count too, so under load healthy messages can reach the dead-letter queue without ever failing.`,
      );
    }

    this.consumer = new ConsumerFunction(this, 'Consumer', {
      entry: props.entry ?? defaults.entry,
      serviceName: 'sqs-consumer',
      description: 'Consumes order messages from the SQS source queue (Powertools batch + idempotency)',
      idempotencyTable: props.idempotencyTable,
      effectTable: props.effectTable,
      timeout,
      memorySize: props.memorySize,
      idempotencyExpiry: this.idempotencyExpiry,
      logLevel: props.logLevel,
      logRetention: props.logRetention,
    });
    this.function = this.consumer.function;

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      retentionPeriod: deadLetterQueueRetentionPeriod,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      removalPolicy,
    });
    this.queue = new Queue(this, 'Queue', {
      visibilityTimeout: this.visibilityTimeout,
      retentionPeriod,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount },
      removalPolicy,
    });

    this.eventSource = new SqsEventSource(this.queue, {
      batchSize,
      // Omitted when zero so the template says "no window" the way AWS does by default.
      maxBatchingWindow: maxBatchingWindow.toSeconds() > 0 ? maxBatchingWindow : undefined,
      maxConcurrency,
      reportBatchItemFailures: true,
      enabled: props.enabled ?? defaults.enabled,
    });
    this.function.addEventSource(this.eventSource);
    this.eventSourceMapping = this.function.node.children.find(
      (child): child is EventSourceMapping => child instanceof EventSourceMapping,
    )!;

    this.dlqAlarm = new Alarm(this, 'DeadLetterQueueAlarm', {
      alarmDescription:
        'Messages reached the SQS dead-letter queue: they failed maxReceiveCount times. Read the consumer logs ' +
        'for their messageId, fix the cause, then redrive them to the source queue (docs/sqs-path.md).',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: Stats.MAXIMUM,
      }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    if (props.dlqAlarmTopic) {
      this.dlqAlarm.addAlarmAction(new SnsAction(props.dlqAlarmTopic));
    }

    this.acknowledgeNagFindings();
  }

  private eventSourceChecks(batchSize: number, maxBatchingWindow: Duration, maxConcurrency: number): Check[] {
    return [
      () =>
        assertDurationInRange(
          this,
          'maxBatchingWindow',
          maxBatchingWindow,
          Duration.seconds(0),
          SQS_LIMITS.maxBatchingWindow,
          'SQS event source mapping limit',
        ),
      () =>
        assertIntegerInRange(
          this,
          'batchSize',
          batchSize,
          1,
          SQS_LIMITS.maxBatchSize,
          'SQS event source mapping limit',
        ),
      () => {
        if (
          !Token.isUnresolved(batchSize) &&
          !maxBatchingWindow.isUnresolved() &&
          batchSize > SQS_LIMITS.maxBatchSizeWithoutWindow &&
          maxBatchingWindow.toSeconds() < 1
        ) {
          throw new ConfigurationError(
            this,
            'batchSize',
            `above ${SQS_LIMITS.maxBatchSizeWithoutWindow} (got ${batchSize}) requires a maxBatchingWindow of at least 1 second (AWS rule for SQS event sources); set maxBatchingWindow or lower batchSize.`,
          );
        }
      },
      () =>
        assertIntegerInRange(
          this,
          'maxConcurrency',
          maxConcurrency,
          SQS_LIMITS.minMaxConcurrency,
          SQS_LIMITS.maxMaxConcurrency,
          'SQS event source mapping ScalingConfig.MaximumConcurrency limit',
        ),
    ];
  }

  private retentionChecks(retentionPeriod: Duration, deadLetterQueueRetentionPeriod: Duration): Check[] {
    return [
      ...(
        [
          ['retentionPeriod', retentionPeriod],
          ['deadLetterQueueRetentionPeriod', deadLetterQueueRetentionPeriod],
        ] as const
      ).map(
        ([property, value]): Check =>
          () =>
            assertDurationInRange(
              this,
              property,
              value,
              SQS_LIMITS.minRetentionPeriod,
              SQS_LIMITS.maxRetentionPeriod,
              'SQS message retention limit',
            ),
      ),
      () => {
        if (
          !retentionPeriod.isUnresolved() &&
          !deadLetterQueueRetentionPeriod.isUnresolved() &&
          deadLetterQueueRetentionPeriod.toSeconds() <= retentionPeriod.toSeconds()
        ) {
          throw new ConfigurationError(
            this,
            'deadLetterQueueRetentionPeriod',
            `(${describeDuration(deadLetterQueueRetentionPeriod)}) must be longer than retentionPeriod (${describeDuration(
              retentionPeriod,
            )}): a message keeps its original enqueue time when it moves to the dead-letter queue, so it would expire there before anyone could redrive it.`,
          );
        }
      },
    ];
  }

  private visibilityTimeoutChecks(
    requested: Duration | undefined,
    functionTimeout: Duration,
    maxBatchingWindow: Duration,
  ): Check[] {
    if (requested === undefined) return [];
    return [
      () =>
        assertDurationInRange(
          this,
          'visibilityTimeout',
          requested,
          Duration.seconds(0),
          SQS_LIMITS.maxVisibilityTimeout,
          'SQS visibility timeout limit',
        ),
      () => {
        const minimum = minimumVisibilityTimeout(functionTimeout, maxBatchingWindow);
        if (!requested.isUnresolved() && requested.toSeconds() < minimum.toSeconds()) {
          throw new ConfigurationError(
            this,
            'visibilityTimeout',
            `(${describeDuration(requested)}) is below AWS's rule for a queue feeding Lambda: at least 6 × function timeout + maxBatchingWindow = 6 × ${describeDuration(
              functionTimeout,
            )} + ${describeDuration(maxBatchingWindow)} = ${describeDuration(
              minimum,
            )}. Raise it to at least ${minimum.toSeconds()} seconds, or leave it unset to derive it.`,
          );
        }
      },
    ];
  }

  /** cdk-nag findings that do not fit a queue-fed consumer, each acknowledged on its resource with the reason. */
  private acknowledgeNagFindings(): void {
    Validations.of(this.function).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason:
        'A function dead-letter queue only receives failed asynchronous invocations; this function is invoked ' +
        'synchronously by an SQS event source mapping, so failed messages go to the dead-letter queue configured on ' +
        'the source queue (redrive policy at maxReceiveCount), as AWS recommends.',
    });
    Validations.of(this.eventSourceMapping).acknowledge({
      id: 'Serverless-LambdaEventSourceMappingDestination',
      reason:
        'SQS event source mappings do not support on-failure destinations; failed messages go to the source ' +
        "queue's dead-letter queue (redrive policy at maxReceiveCount).",
    });
    // (AwsSolutions-SQS3 already recognises this queue as a dead-letter queue; only the Serverless rule fires.)
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason:
        'This queue is the dead-letter queue of the source queue; a dead-letter queue of its own would hide the ' +
        'messages that need a person. An operator redrives them back to the source queue (StartMessageMoveTask) ' +
        'once the cause is fixed, and the alarm fires on the first one.',
    });
  }
}
