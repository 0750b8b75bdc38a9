import * as path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { EventSourceMapping, MetricType } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { validateAll } from '../validation';
import type { AlarmOptions } from './alarms';
import { businessMetrics, type PathFlow } from './dashboard';
import {
  ConsumerFunction,
  consumerFunctionChecks,
  ConsumerFunctionOptions,
  DEFAULT_TIMEOUT,
} from './consumer-function';
import { EffectTable } from './effect-table';
import { IdempotencyTable } from './idempotency-table';
import {
  acknowledgeQueueConsumerNagFindings,
  eventSourceChecks,
  eventSourceMappingOf,
  idempotencyExpiryCheck,
  maxReceiveCountCheck,
  minimumQueueIdempotencyExpiry,
  minimumVisibilityTimeout,
  QUEUE_PROTECTION,
  queueAlarmChecks,
  queueConsumerAlarms,
  queueFlow,
  retentionChecks,
  visibilityTimeoutChecks,
  warnOnLowMaxReceiveCount,
} from './queue-rules';

// The queue rules live in queue-rules.ts, shared with the FIFO path; named here too for the code that reads them
// from this module.
export { minimumVisibilityTimeout, SQS_LIMITS } from './queue-rules';

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
 * The shortest idempotency expiry that covers every re-delivery of an SQS message: `retentionPeriod` +
 * `deadLetterQueueRetentionPeriod` (see {@link SqsConsumerProps.idempotencyExpiry}); also its default.
 */
export function minimumSqsIdempotencyExpiry(
  retentionPeriod: Duration,
  deadLetterQueueRetentionPeriod: Duration,
): Duration {
  return minimumQueueIdempotencyExpiry('standard', retentionPeriod, deadLetterQueueRetentionPeriod);
}

export interface SqsConsumerProps extends ConsumerFunctionOptions, AlarmOptions {
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
   * Where the alarms notify: the same as `alarmTopic`, the name this prop had when the dead-letter queue had the
   * only alarm.
   * @default no action
   * @deprecated use `alarmTopic`, which every alarm of the path notifies
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
  /** Every alarm of the path (lib/constructs/alarms.ts), `dlqAlarm` included; each notifies `alarmTopic`. */
  readonly alarms: readonly Alarm[];
  /** The path's row of the stage dashboard (lib/constructs/dashboard.ts). */
  readonly flow: PathFlow;
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
      ...eventSourceChecks(this, 'standard', { batchSize, maxBatchingWindow, maxConcurrency }),
      maxReceiveCountCheck(this, maxReceiveCount),
      ...retentionChecks(this, 'standard', retentionPeriod, deadLetterQueueRetentionPeriod),
      ...visibilityTimeoutChecks(this, props.visibilityTimeout, timeout, maxBatchingWindow),
      idempotencyExpiryCheck(
        this,
        'standard',
        this.idempotencyExpiry,
        retentionPeriod,
        deadLetterQueueRetentionPeriod,
      ),
      ...consumerFunctionChecks(this, { ...props, idempotencyExpiry: this.idempotencyExpiry }),
      ...queueAlarmChecks(this, props, retentionPeriod, deadLetterQueueRetentionPeriod),
    ]);
    warnOnLowMaxReceiveCount(this, maxReceiveCount);

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
      metricsNamespace: props.metricsNamespace,
    });
    this.function = this.consumer.function;

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      retentionPeriod: deadLetterQueueRetentionPeriod,
      ...QUEUE_PROTECTION,
      removalPolicy,
    });
    this.queue = new Queue(this, 'Queue', {
      visibilityTimeout: this.visibilityTimeout,
      retentionPeriod,
      ...QUEUE_PROTECTION,
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
      // The mapping's own metrics (polled, handed to the function, failed, deleted): billed as custom metrics.
      metricsConfig: { metrics: [MetricType.EVENT_COUNT] },
    });
    this.function.addEventSource(this.eventSource);
    this.eventSourceMapping = eventSourceMappingOf(this.function);

    const subjects = {
      queueType: 'standard',
      queue: this.queue,
      deadLetterQueue: this.deadLetterQueue,
      function: this.function,
      timeout,
      maxConcurrency,
      retentionPeriod,
      deadLetterQueueRetentionPeriod,
      eventSourceMappingId: this.eventSourceMapping.eventSourceMappingId,
      tables: [
        { id: 'IdempotencyTable', table: props.idempotencyTable.table, name: 'the idempotency table' },
        { id: 'EffectTable', table: props.effectTable.table, name: 'the effect table' },
      ],
      deadLetterQueueWhy:
        'They failed maxReceiveCount times. Read the consumer logs ' +
        'for their messageId, fix the cause, then redrive them to the source queue (docs/sqs-path.md).',
    } as const;
    const alarms = queueConsumerAlarms(this, subjects, {
      alarmTopic: props.alarmTopic ?? props.dlqAlarmTopic,
      alarmThresholds: props.alarmThresholds,
    });
    this.dlqAlarm = alarms.deadLetterQueue;
    this.alarms = alarms.all;
    this.flow = queueFlow(
      'SQS → Lambda (SqsConsumer)',
      'Messages sent to the source queue; a message that keeps failing moves to the dead-letter queue at maxReceiveCount.',
      subjects,
      businessMetrics(this.consumer.metricsNamespace, this.consumer.serviceName),
    );

    acknowledgeQueueConsumerNagFindings(this.function, this.eventSourceMapping, this.deadLetterQueue);
  }
}
