import * as path from 'node:path';
import { Duration, Names, RemovalPolicy } from 'aws-cdk-lib';
import { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { EventSourceMapping, MetricType } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { ITopic } from 'aws-cdk-lib/aws-sns';
import { DeduplicationScope, FifoThroughputLimit, Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct, IConstruct } from 'constructs';
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

/** Defaults of {@link FifoConsumerProps}, exported so docs and tests name them instead of repeating numbers. */
export const FIFO_CONSUMER_DEFAULTS = {
  entry: path.join(__dirname, '..', '..', 'lambda', 'fifo-consumer', 'index.ts'),
  contentBasedDeduplication: true,
  highThroughput: false,
  batchSize: 10,
  maxConcurrency: 5,
  enabled: true,
  maxReceiveCount: 5,
  retentionPeriod: Duration.days(4),
  deadLetterQueueRetentionPeriod: Duration.days(14),
  removalPolicy: RemovalPolicy.RETAIN,
} as const;

/**
 * The shortest idempotency expiry that covers every re-delivery of a FIFO queue's message: `retentionPeriod` +
 * `deadLetterQueueRetentionPeriod` + `retentionPeriod` (see {@link FifoConsumerProps.idempotencyExpiry}); also
 * its default.
 */
export function minimumFifoIdempotencyExpiry(
  retentionPeriod: Duration,
  deadLetterQueueRetentionPeriod: Duration,
): Duration {
  return minimumQueueIdempotencyExpiry('fifo', retentionPeriod, deadLetterQueueRetentionPeriod);
}

/** SQS's limit on a queue's name: 80 characters, a FIFO queue's `.fifo` suffix included ("Amazon SQS FIFO queue quotas"). */
export const MAX_QUEUE_NAME_LENGTH = 80;

/**
 * The name of one of a {@link FifoConsumer}'s queues: `<construct path, hashed when shortened>-<role>.fifo`, at most
 * {@link MAX_QUEUE_NAME_LENGTH} characters of letters, digits, dashes and underscores. The path starts with the
 * stack's name (`<appName>-<stage>-fifo`), so every stage and construct gets its own names.
 *
 * Why the queues are named at all: CloudFormation's generated name for a FIFO queue (stack name, logical id, a random
 * suffix, then `.fifo`) is not cut to SQS's 80 characters, and creating the queue then fails ("must end with .fifo
 * suffix and be 1 to 80 in length"; aws/aws-cdk#11041, aws-cloudformation/cloudformation-coverage-roadmap#280). The
 * stack name and the dead-letter queue's logical id alone are 64 characters in this app, before the random suffix
 * and `.fifo`. A name CloudFormation does not generate costs two things: a change that needs a new queue cannot
 * replace it in place (only `FifoQueue` and `QueueName` need one, the registry schema's create-only properties, and
 * no prop here changes either), and after `cdk destroy` SQS refuses the same name for 60 seconds, so wait a minute
 * before deploying the stack again.
 */
export function fifoQueueNameOf(scope: IConstruct, role: string): string {
  const suffix = `-${role}.fifo`;
  return `${Names.uniqueResourceName(scope, {
    maxLength: MAX_QUEUE_NAME_LENGTH - suffix.length,
    separator: '-',
    allowedSpecialCharacters: '-_',
  })}${suffix}`;
}

export interface FifoConsumerProps extends ConsumerFunctionOptions, AlarmOptions {
  /** The table the consumer's idempotency records go to. */
  readonly idempotencyTable: IdempotencyTable;

  /**
   * The table the business action's effects are written to, in the same DynamoDB transaction as the
   * idempotency record.
   */
  readonly effectTable: EffectTable;

  /**
   * How long an idempotency record protects a message: at least `retentionPeriod` +
   * `deadLetterQueueRetentionPeriod` + `retentionPeriod` (a shorter value fails synth), within 1 minute to
   * 365 days. A batch that times out returns the messages it already completed to the queue, where they can stay
   * up to `retentionPeriod` until `maxReceiveCount` receives move them to the dead-letter queue. Unlike a standard
   * queue's, a FIFO dead-letter queue counts its retention from the move (SQS resets the enqueue timestamp), so
   * the messages can wait there up to `deadLetterQueueRetentionPeriod`; a redrive on its last day sends them back
   * to the source queue as new messages, which can wait up to `retentionPeriod` again. A message whose record
   * expired by then would apply its effect a second time. SQS's own deduplication (5 minutes) covers a producer's
   * retry, not these re-deliveries. Storage: an idempotency record is ≈200 bytes, so 1 million messages a day kept
   * 22 days is ≈4.4 GB, ≈$1.10 a month at DynamoDB's $0.25 per GB-month (us-east-1, standard table class).
   * @default retentionPeriod + deadLetterQueueRetentionPeriod + retentionPeriod: 22 days with the defaults
   *   (4 days + 14 days + 4 days)
   */
  readonly idempotencyExpiry?: Duration;

  /**
   * Path of the handler's entry file (its `handler` export is the entry point). Point it at your own handler
   * when you fork the template; keep the partial batch response contract (`batchItemFailures`).
   * @default lambda/fifo-consumer/index.ts of this repository
   */
  readonly entry?: string;

  /**
   * Whether SQS derives each message's deduplication id from its body (a SHA-256 hash of the body, not its
   * attributes): a message whose body equals one sent within the last 5 minutes (the deduplication interval) is
   * accepted but not delivered. With `false`, every producer must send a `MessageDeduplicationId` with each
   * message (`SendMessage` fails without one); choose it when two distinct messages can have the same body, or
   * when the producer has an id of its own. An explicit `MessageDeduplicationId` overrides the hash either way.
   * @default true
   */
  readonly contentBasedDeduplication?: boolean;

  /**
   * High throughput for FIFO queues: deduplication per message group (`DeduplicationScope: messageGroup`) and the
   * throughput quota per message group id (`FifoThroughputLimit: perMessageGroupId`), the two settings SQS requires
   * for it. Deduplication then only compares messages of the same group: the same deduplication id (or body) in two
   * groups is two messages. Order stays per message group either way.
   * @default false: deduplication across the queue, the throughput quota per queue
   */
  readonly highThroughput?: boolean;

  /**
   * Largest number of messages in one invocation. A batch may mix message groups; the messages of one group stay
   * in order. Valid range: 1 to 10 (Lambda's limit for FIFO queues).
   * @default 10
   */
  readonly batchSize?: number;

  /**
   * Not supported for FIFO queues: Lambda takes no batching window (`MaximumBatchingWindowInSeconds`) on an SQS
   * FIFO event source and invokes as soon as messages are available. Accepted only as 0, so that props copied from
   * the standard path fail synth with that reason instead of failing the deployment.
   * @default Duration.seconds(0): no window
   */
  readonly maxBatchingWindow?: Duration;

  /**
   * Most concurrent invocations the event source mapping starts (`ScalingConfig.MaximumConcurrency`). For a FIFO
   * queue Lambda runs at most one batch per message group at a time, so the concurrency is the smaller of the
   * number of active message groups and this value. Keep it at or below the function's reserved concurrency, if it
   * has one: a throttled batch returns to the queue with its receive count raised. Valid range: 2 to 1,000.
   * @default 5
   */
  readonly maxConcurrency?: number;

  /**
   * Whether the event source mapping polls the queue. Set `false` to stop polling (and its cost) in an idle
   * sandbox; messages wait in the queue until it is enabled again, or until the retention period drops them.
   * @default true
   */
  readonly enabled?: boolean;

  /**
   * How many times a message is received before SQS moves it to the dead-letter queue (the redrive policy of the
   * source queue). A message that keeps failing blocks the later messages of its group until it moves: about
   * `maxReceiveCount` × `visibilityTimeout` (15 minutes with the defaults), and the messages held back with it in
   * every receive move with it (docs/fifo-path.md); other groups go on. Throttled receives
   * count too, so values below 5 send healthy messages to the dead-letter queue under load (a synth warning says
   * so). Valid range: 1 to 1,000.
   * @default 5
   */
  readonly maxReceiveCount?: number;

  /**
   * How long a received message stays hidden before it can be received again; while it is hidden, the later
   * messages of its group wait. Must be at least 6 × the function timeout (AWS's recommendation; a FIFO queue has
   * no batching window to add); a lower value fails synth. At most 12 hours.
   * @default derived: 6 × timeout (180 seconds with the default 30-second timeout)
   */
  readonly visibilityTimeout?: Duration;

  /**
   * How long the source queue keeps a message that nobody deleted. Valid range: 60 seconds to 14 days. Counted
   * twice in the minimum (and default) `idempotencyExpiry`: before the move to the dead-letter queue and after a
   * redrive.
   * @default Duration.days(4) (SQS's default)
   */
  readonly retentionPeriod?: Duration;

  /**
   * How long the dead-letter queue keeps a message, counted from the move: SQS resets a message's enqueue
   * timestamp when it moves it to a FIFO dead-letter queue (a standard queue keeps the original one). So, unlike
   * the standard path, it need not be longer than `retentionPeriod`: any value gives an operator that long to
   * redrive. Valid range: 60 seconds to 14 days. Part of the minimum (and default) `idempotencyExpiry`.
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
 * The SQS FIFO ingestion path: a FIFO source queue with a FIFO dead-letter queue on the queue itself (redrive
 * policy; SQS requires a FIFO queue's dead-letter queue to be FIFO too), the consumer function fed by an event
 * source mapping that reports batch item failures, and an alarm as soon as one message reaches the dead-letter
 * queue. Both queues are encrypted with SQS-managed keys and deny every action without TLS, and are named by
 * {@link fifoQueueNameOf} (CloudFormation's generated FIFO names can exceed SQS's 80 characters).
 *
 * Order per message group is the guarantee: Lambda delivers a group's messages in order, a batch may mix groups,
 * and it finishes a failed group's retries before it receives more of that group. A message that keeps failing
 * blocks its own group until `maxReceiveCount` moves it to the dead-letter queue, together with the messages held
 * back behind it in every receive (docs/fifo-path.md); the group's later messages then run; other groups are not
 * held up. The function has no dead-letter queue of its own: that one only
 * catches asynchronous invocations and never sees an SQS message.
 */
export class FifoConsumer extends Construct {
  /** The FIFO source queue producers send to (with a `MessageGroupId`). */
  readonly queue: Queue;
  /** The source queue's FIFO dead-letter queue (reached at `maxReceiveCount`). */
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
  /** How long idempotency records protect a message (derived or given). */
  readonly idempotencyExpiry: Duration;

  constructor(scope: Construct, id: string, props: FifoConsumerProps) {
    super(scope, id);
    const defaults = FIFO_CONSUMER_DEFAULTS;
    const batchSize = props.batchSize ?? defaults.batchSize;
    const maxConcurrency = props.maxConcurrency ?? defaults.maxConcurrency;
    const maxReceiveCount = props.maxReceiveCount ?? defaults.maxReceiveCount;
    const retentionPeriod = props.retentionPeriod ?? defaults.retentionPeriod;
    const deadLetterQueueRetentionPeriod =
      props.deadLetterQueueRetentionPeriod ?? defaults.deadLetterQueueRetentionPeriod;
    const removalPolicy = props.removalPolicy ?? defaults.removalPolicy;
    const highThroughput = props.highThroughput ?? defaults.highThroughput;
    const timeout = props.timeout ?? DEFAULT_TIMEOUT;
    this.visibilityTimeout = props.visibilityTimeout ?? minimumVisibilityTimeout(timeout);
    this.idempotencyExpiry =
      props.idempotencyExpiry ??
      minimumFifoIdempotencyExpiry(retentionPeriod, deadLetterQueueRetentionPeriod);

    // Every rule is checked before anything is built, and every broken one is reported at once.
    validateAll(this, [
      ...eventSourceChecks(this, 'fifo', {
        batchSize,
        maxBatchingWindow: props.maxBatchingWindow ?? Duration.seconds(0),
        maxConcurrency,
      }),
      maxReceiveCountCheck(this, maxReceiveCount),
      ...retentionChecks(this, 'fifo', retentionPeriod, deadLetterQueueRetentionPeriod),
      ...visibilityTimeoutChecks(this, props.visibilityTimeout, timeout),
      idempotencyExpiryCheck(
        this,
        'fifo',
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
      serviceName: 'fifo-consumer',
      description:
        'Consumes messages from the SQS FIFO source queue, in order per message group (Powertools FIFO batch + idempotency)',
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
      queueName: fifoQueueNameOf(this, 'DeadLetterQueue'),
      fifo: true,
      retentionPeriod: deadLetterQueueRetentionPeriod,
      ...QUEUE_PROTECTION,
      removalPolicy,
    });
    this.queue = new Queue(this, 'Queue', {
      queueName: fifoQueueNameOf(this, 'Queue'),
      fifo: true,
      contentBasedDeduplication: props.contentBasedDeduplication ?? defaults.contentBasedDeduplication,
      // Both settings or neither: SQS applies high throughput only with the two together.
      ...(highThroughput && {
        deduplicationScope: DeduplicationScope.MESSAGE_GROUP,
        fifoThroughputLimit: FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
      }),
      visibilityTimeout: this.visibilityTimeout,
      retentionPeriod,
      ...QUEUE_PROTECTION,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount },
      removalPolicy,
    });

    // No batching window: a FIFO event source takes none (CDK's SqsEventSource refuses one, even 0).
    this.eventSource = new SqsEventSource(this.queue, {
      batchSize,
      maxConcurrency,
      reportBatchItemFailures: true,
      enabled: props.enabled ?? defaults.enabled,
      // The mapping's own metrics (polled, handed to the function, failed, deleted): billed as custom metrics.
      metricsConfig: { metrics: [MetricType.EVENT_COUNT] },
    });
    this.function.addEventSource(this.eventSource);
    this.eventSourceMapping = eventSourceMappingOf(this.function);

    const subjects = {
      queueType: 'fifo',
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
        'They failed maxReceiveCount times, and the later messages ' +
        'of their groups have run since. Read the consumer logs for their messageId and message group, fix the ' +
        'cause, then decide whether redriving them to the source queue, after their group, is still right.',
    } as const;
    const alarms = queueConsumerAlarms(this, subjects, {
      alarmTopic: props.alarmTopic ?? props.dlqAlarmTopic,
      alarmThresholds: props.alarmThresholds,
    });
    this.dlqAlarm = alarms.deadLetterQueue;
    this.alarms = alarms.all;
    this.flow = queueFlow(
      'SQS FIFO → Lambda (FifoConsumer)',
      'Messages sent to the source queue; a message that keeps failing moves to the dead-letter queue at maxReceiveCount.',
      subjects,
      businessMetrics(this.consumer.metricsNamespace, this.consumer.serviceName),
    );

    acknowledgeQueueConsumerNagFindings(this.function, this.eventSourceMapping, this.deadLetterQueue);
  }
}
