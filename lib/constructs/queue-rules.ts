/**
 * The rules of an SQS queue that feeds a Lambda function through an event source mapping, written once for both
 * queue paths: the standard queue (`SqsConsumer`, lib/constructs/sqs-consumer.ts) and the FIFO queue
 * (`FifoConsumer`, lib/constructs/fifo-consumer.ts), the way aws-cdk-lib's `aws-lambda-event-sources`
 * shares `stream.ts` between its Kinesis and DynamoDB sources. Where the two queue types differ (batch size,
 * batching window, how long a dead-letter queue keeps a message), the rule takes the {@link QueueType} and says
 * why it differs.
 *
 * Each check returns a {@link Check} for the construct's `validateAll`, so one synth reports every broken rule.
 * Sources (AWS documentation):
 * - Lambda developer guide, "Lambda parameters for Amazon SQS event source mappings": `BatchSize` default 10,
 *   at most 10,000 for standard queues and 10 for FIFO queues; `MaximumBatchingWindowInSeconds` default 0,
 *   "Batching window is not supported for FIFO queues"; above 10 messages a batching window of at least 1 second
 *   (`CreateEventSourceMapping`).
 * - Lambda API reference, `ScalingConfig.MaximumConcurrency`: 2 to 1,000; for FIFO queues the concurrent
 *   invocations are capped by the number of message group IDs or this setting, whichever is lower ("Configuring
 *   scaling behavior for SQS event source mappings").
 * - Lambda developer guide, "Creating and configuring an Amazon SQS event source mapping": the queue's visibility
 *   timeout at least six times the function timeout (plus the batching window), so Lambda can retry a throttled
 *   batch.
 * - SQS developer guide, "Amazon SQS message quotas": message retention 60 seconds to 1,209,600 seconds (14 days);
 *   visibility timeout at most 12 hours.
 * - SQS developer guide, "Setting-up dead-letter queue retention": a standard queue's message keeps its original
 *   enqueue timestamp when it moves to the dead-letter queue; a FIFO queue's enqueue timestamp resets.
 * - SQS developer guide, "Learn how to configure a dead-letter queue redrive": a redrive resets the retention
 *   period (a redriven message is a new message, with a new `messageId` and enqueue time).
 */
import { Annotations, Duration, Token, Validations } from 'aws-cdk-lib';
import { Alarm, type IMetric, Stats } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { EventSourceMapping, type IFunction } from 'aws-cdk-lib/aws-lambda';
import { type IQueue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct, IConstruct } from 'constructs';
import {
  assertDurationAtLeastSum,
  assertDurationInRange,
  assertIntegerInRange,
  type Check,
  ConfigurationError,
  describeDuration,
  type NamedDuration,
  sumOfDurations,
} from '../validation';
import {
  ageBelowCheck,
  type AlarmOptions,
  alarmThresholdChecks,
  eventSourceMappingMetric,
  PathAlarms,
} from './alarms';
import { line, mappingFailedLines, type PathFlow } from './dashboard';

/** The two kinds of SQS queue: their rules differ where a rule below says so. */
export type QueueType = 'standard' | 'fifo';

/** Limits of SQS and of Lambda's SQS event source mapping (AWS documentation, above). */
export const SQS_LIMITS = {
  /** Batch size of a standard queue without a batching window. */
  maxBatchSizeWithoutWindow: 10,
  /** Batch size of a standard queue (with a batching window of at least 1 second above 10). */
  maxBatchSize: 10_000,
  /** Batch size of a FIFO queue, which takes no batching window. */
  maxFifoBatchSize: 10,
  maxBatchingWindow: Duration.seconds(300),
  minMaxConcurrency: 2,
  maxMaxConcurrency: 1_000,
  minMaxReceiveCount: 1,
  maxMaxReceiveCount: 1_000,
  maxVisibilityTimeout: Duration.hours(12),
  minRetentionPeriod: Duration.seconds(60),
  maxRetentionPeriod: Duration.days(14),
} as const;

/**
 * Below this many receives a message can reach the dead-letter queue under load without ever failing: a throttled
 * receive counts too. Both paths warn below it (and default to it).
 */
export const RECOMMENDED_MIN_MAX_RECEIVE_COUNT = 5;

/** How both paths encrypt and protect their queues: SQS-managed keys, and every action denied without TLS. */
export const QUEUE_PROTECTION = {
  encryption: QueueEncryption.SQS_MANAGED,
  enforceSSL: true,
} as const;

/**
 * The visibility-timeout rule AWS recommends for a queue that feeds a Lambda function: at least six times the
 * function timeout plus the maximum batching window, so a batch that is retried after throttling or a slow
 * invocation does not become visible (and get processed twice) while the first attempt still runs. A FIFO queue
 * has no batching window: six times the function timeout.
 */
export function minimumVisibilityTimeout(
  functionTimeout: Duration,
  maxBatchingWindow: Duration = Duration.seconds(0),
): Duration {
  return Duration.seconds(6 * functionTimeout.toSeconds() + maxBatchingWindow.toSeconds());
}

/**
 * The terms of the shortest idempotency expiry that covers every re-delivery of a queue's message, as a timeline
 * from the moment a delivery completes the message's idempotency record (one redrive by an operator):
 * - standard queue: `retentionPeriod` + `deadLetterQueueRetentionPeriod`. A message keeps its original enqueue time
 *   in the dead-letter queue, so it leaves the dead-letter queue at most `deadLetterQueueRetentionPeriod` after it
 *   was sent; a redrive on that last day makes it a new message, which can wait up to `retentionPeriod` again;
 * - FIFO queue: `retentionPeriod` + `deadLetterQueueRetentionPeriod` + `retentionPeriod`. The message can stay in
 *   the source queue up to `retentionPeriod` after its record was completed (receives that time out, until
 *   `maxReceiveCount`); SQS resets its enqueue time when it moves it to a FIFO dead-letter queue, which then keeps
 *   it up to `deadLetterQueueRetentionPeriod` from the move; a redrive on that last day makes it a new message,
 *   which can wait up to `retentionPeriod` again.
 */
export function idempotencyExpiryTerms(
  queueType: QueueType,
  retentionPeriod: Duration,
  deadLetterQueueRetentionPeriod: Duration,
): NamedDuration[] {
  const terms: NamedDuration[] = [
    ['retentionPeriod', retentionPeriod],
    ['deadLetterQueueRetentionPeriod', deadLetterQueueRetentionPeriod],
  ];
  return queueType === 'fifo' ? [...terms, ['retentionPeriod', retentionPeriod]] : terms;
}

/** The shortest idempotency expiry for a queue (the sum of {@link idempotencyExpiryTerms}); also its default. */
export function minimumQueueIdempotencyExpiry(
  queueType: QueueType,
  retentionPeriod: Duration,
  deadLetterQueueRetentionPeriod: Duration,
): Duration {
  return sumOfDurations(
    idempotencyExpiryTerms(queueType, retentionPeriod, deadLetterQueueRetentionPeriod).map(
      ([, term]) => term,
    ),
  );
}

const IDEMPOTENCY_EXPIRY_WHY: Record<QueueType, string> = {
  standard:
    'a batch that times out returns orders it already completed to the queue, and after maxReceiveCount ' +
    "receives they reach the dead-letter queue; a redrive on the dead-letter queue's last day sends them " +
    'back to the source queue for up to retentionPeriod, and an order whose idempotency record expired ' +
    'by then applies its effect twice. Raise idempotencyExpiry (or leave it unset to derive it), or ' +
    'shorten the retention periods.',
  fifo:
    'a batch that times out returns messages it already completed to the queue, where they can stay up to ' +
    'retentionPeriod until maxReceiveCount receives move them to the dead-letter queue; a FIFO dead-letter queue ' +
    'counts its retention from the move (SQS resets the enqueue timestamp), and a redrive on its last day sends ' +
    'them back to the source queue as new messages for up to retentionPeriod again. A message whose idempotency ' +
    'record expired by then applies its effect twice. Raise idempotencyExpiry (or leave it unset to derive it), ' +
    'or shorten the retention periods.',
};

/** The settings of a queue's event source mapping that {@link eventSourceChecks} checks. */
export interface QueueEventSourceSettings {
  readonly batchSize: number;
  /** The batching window asked for; a FIFO queue takes none (only 0 passes). */
  readonly maxBatchingWindow: Duration;
  readonly maxConcurrency: number;
}

/**
 * The event source mapping's rules, in this order: the batching window, the batch size, (standard queues) a batch
 * above 10 with a window of at least 1 second, the maximum concurrency.
 */
export function eventSourceChecks(
  scope: IConstruct,
  queueType: QueueType,
  { batchSize, maxBatchingWindow, maxConcurrency }: QueueEventSourceSettings,
): Check[] {
  const batchChecks: Check[] =
    queueType === 'fifo'
      ? [
          () => {
            if (!maxBatchingWindow.isUnresolved() && maxBatchingWindow.toMilliseconds() > 0) {
              throw new ConfigurationError(
                scope,
                'maxBatchingWindow',
                `must be 0 for a FIFO queue, got ${describeDuration(maxBatchingWindow)}: Lambda supports no batching window ` +
                  '(MaximumBatchingWindowInSeconds) on an SQS FIFO event source, and invokes the function as soon as ' +
                  `messages are available, at most ${SQS_LIMITS.maxFifoBatchSize} per batch. Leave maxBatchingWindow unset.`,
              );
            }
          },
          () =>
            assertIntegerInRange(
              scope,
              'batchSize',
              batchSize,
              1,
              SQS_LIMITS.maxFifoBatchSize,
              'SQS event source mapping limit for FIFO queues',
            ),
        ]
      : [
          () =>
            assertDurationInRange(
              scope,
              'maxBatchingWindow',
              maxBatchingWindow,
              Duration.seconds(0),
              SQS_LIMITS.maxBatchingWindow,
              'SQS event source mapping limit',
            ),
          () =>
            assertIntegerInRange(
              scope,
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
                scope,
                'batchSize',
                `above ${SQS_LIMITS.maxBatchSizeWithoutWindow} (got ${batchSize}) requires a maxBatchingWindow of at least 1 second (AWS rule for SQS event sources); set maxBatchingWindow or lower batchSize.`,
              );
            }
          },
        ];
  return [
    ...batchChecks,
    () =>
      assertIntegerInRange(
        scope,
        'maxConcurrency',
        maxConcurrency,
        SQS_LIMITS.minMaxConcurrency,
        SQS_LIMITS.maxMaxConcurrency,
        'SQS event source mapping ScalingConfig.MaximumConcurrency limit',
      ),
  ];
}

/** The redrive policy's `maxReceiveCount`: 1 to 1,000. */
export function maxReceiveCountCheck(scope: IConstruct, maxReceiveCount: number): Check {
  return () =>
    assertIntegerInRange(
      scope,
      'maxReceiveCount',
      maxReceiveCount,
      SQS_LIMITS.minMaxReceiveCount,
      SQS_LIMITS.maxMaxReceiveCount,
      'SQS redrive policy limit',
    );
}

/**
 * Both retention periods within SQS's 60 seconds to 14 days; for a standard queue, the dead-letter queue's longer
 * than the source queue's: a message keeps its original enqueue time when it moves, so a dead-letter queue that
 * keeps messages no longer than the source queue would drop them as they arrive. A FIFO queue has no such rule:
 * SQS resets the enqueue time on the move, so its dead-letter queue keeps a message its whole retention period.
 */
export function retentionChecks(
  scope: IConstruct,
  queueType: QueueType,
  retentionPeriod: Duration,
  deadLetterQueueRetentionPeriod: Duration,
): Check[] {
  const ranges = (
    [
      ['retentionPeriod', retentionPeriod],
      ['deadLetterQueueRetentionPeriod', deadLetterQueueRetentionPeriod],
    ] as const
  ).map(
    ([property, value]): Check =>
      () =>
        assertDurationInRange(
          scope,
          property,
          value,
          SQS_LIMITS.minRetentionPeriod,
          SQS_LIMITS.maxRetentionPeriod,
          'SQS message retention limit',
        ),
  );
  if (queueType === 'fifo') return ranges;
  return [
    ...ranges,
    () => {
      if (
        !retentionPeriod.isUnresolved() &&
        !deadLetterQueueRetentionPeriod.isUnresolved() &&
        deadLetterQueueRetentionPeriod.toSeconds() <= retentionPeriod.toSeconds()
      ) {
        throw new ConfigurationError(
          scope,
          'deadLetterQueueRetentionPeriod',
          `(${describeDuration(deadLetterQueueRetentionPeriod)}) must be longer than retentionPeriod (${describeDuration(
            retentionPeriod,
          )}): a message keeps its original enqueue time when it moves to the dead-letter queue, so it would expire there before anyone could redrive it.`,
        );
      }
    },
  ];
}

/**
 * A visibility timeout given explicitly: at most 12 hours, and at least {@link minimumVisibilityTimeout}. Pass
 * `maxBatchingWindow` for a standard queue; a FIFO queue has none, and the message says so by leaving it out.
 */
export function visibilityTimeoutChecks(
  scope: IConstruct,
  requested: Duration | undefined,
  functionTimeout: Duration,
  maxBatchingWindow?: Duration,
): Check[] {
  if (requested === undefined) return [];
  return [
    () =>
      assertDurationInRange(
        scope,
        'visibilityTimeout',
        requested,
        Duration.seconds(0),
        SQS_LIMITS.maxVisibilityTimeout,
        'SQS visibility timeout limit',
      ),
    () => {
      const minimum = minimumVisibilityTimeout(functionTimeout, maxBatchingWindow);
      if (requested.isUnresolved() || requested.toSeconds() >= minimum.toSeconds()) return;
      const rule =
        maxBatchingWindow === undefined
          ? `6 × function timeout = 6 × ${describeDuration(functionTimeout)}`
          : `6 × function timeout + maxBatchingWindow = 6 × ${describeDuration(
              functionTimeout,
            )} + ${describeDuration(maxBatchingWindow)}`;
      throw new ConfigurationError(
        scope,
        'visibilityTimeout',
        `(${describeDuration(requested)}) is below AWS's rule for a queue feeding Lambda: at least ${rule} = ${describeDuration(
          minimum,
        )}. Raise it to at least ${minimum.toSeconds()} seconds, or leave it unset to derive it.`,
      );
    },
  ];
}

/** `idempotencyExpiry` at least {@link minimumQueueIdempotencyExpiry}, with the arithmetic and why. */
export function idempotencyExpiryCheck(
  scope: IConstruct,
  queueType: QueueType,
  idempotencyExpiry: Duration,
  retentionPeriod: Duration,
  deadLetterQueueRetentionPeriod: Duration,
): Check {
  return () =>
    assertDurationAtLeastSum(
      scope,
      'idempotencyExpiry',
      idempotencyExpiry,
      idempotencyExpiryTerms(queueType, retentionPeriod, deadLetterQueueRetentionPeriod),
      IDEMPOTENCY_EXPIRY_WHY[queueType],
    );
}

/** A synth warning when `maxReceiveCount` is below {@link RECOMMENDED_MIN_MAX_RECEIVE_COUNT}. */
export function warnOnLowMaxReceiveCount(scope: IConstruct, maxReceiveCount: number): void {
  if (Token.isUnresolved(maxReceiveCount) || maxReceiveCount >= RECOMMENDED_MIN_MAX_RECEIVE_COUNT) return;
  Annotations.of(scope).addWarningV2(
    'reliable-lambda:sqs-max-receive-count',
    `maxReceiveCount ${maxReceiveCount} is below ${RECOMMENDED_MIN_MAX_RECEIVE_COUNT}: throttled receives count too, so under load healthy messages can reach the dead-letter queue without ever failing.`,
  );
}

/** The event source mapping `fn.addEventSource` created (the function's only one). */
export function eventSourceMappingOf(fn: IFunction): EventSourceMapping {
  return fn.node.children.find((child): child is EventSourceMapping => child instanceof EventSourceMapping)!;
}

/** What {@link queueConsumerAlarms} needs of a queue path. */
export interface QueueAlarmSubjects {
  readonly queueType: QueueType;
  readonly queue: IQueue;
  readonly deadLetterQueue: IQueue;
  readonly function: IFunction;
  readonly timeout: Duration;
  readonly maxConcurrency: number;
  readonly retentionPeriod: Duration;
  readonly deadLetterQueueRetentionPeriod: Duration;
  readonly eventSourceMappingId: string;
  /** The tables the function writes (idempotency, effects): throttling on each alarms. */
  readonly tables: readonly { readonly id: string; readonly table: ITable; readonly name: string }[];
  /** Why messages are in the dead-letter queue and what to do, for its alarms. */
  readonly deadLetterQueueWhy: string;
}

/** The alarms of a queue path. */
export interface QueueConsumerAlarms {
  /** `DeadLetterQueueAlarm`: the dead-letter queue holds a message (the maximum of each minute). */
  readonly deadLetterQueue: Alarm;
  /** Every alarm of the path, this one included. */
  readonly all: readonly Alarm[];
}

/**
 * Every alarm of a queue path (lib/constructs/alarms.ts): the dead-letter queue (messages, age of the oldest; no
 * arrivals alarm, because SQS does not count a redrive-policy move in the dead-letter queue's `NumberOfMessagesSent`),
 * the source queue's backlog, records failing (event source mapping), the function (errors, throttles, duration,
 * concurrency against `maxConcurrency`) and throttling on each table.
 */
export function queueConsumerAlarms(
  scope: Construct,
  subjects: QueueAlarmSubjects,
  options: AlarmOptions,
): QueueConsumerAlarms {
  const alarms = new PathAlarms(scope, options);
  const kind = subjects.queueType === 'fifo' ? 'SQS FIFO dead-letter queue' : 'SQS dead-letter queue';
  const { messages: deadLetterQueue } = alarms.failureStore('DeadLetterQueue', subjects.deadLetterQueue, {
    name: `the ${kind}`,
    why: subjects.deadLetterQueueWhy,
    retention: subjects.deadLetterQueueRetentionPeriod,
    arrivals: false,
    messagesAlarmId: 'DeadLetterQueueAlarm',
  });
  alarms.sourceQueueBacklog(subjects.queue, subjects.retentionPeriod);
  alarms.failedRecords(subjects.eventSourceMappingId, `the ${kind} at maxReceiveCount`);
  alarms.functionAlarms(subjects.function, {
    timeout: subjects.timeout,
    concurrencyCap: subjects.maxConcurrency,
    capName: "the event source mapping's maxConcurrency",
  });
  for (const { id, table, name } of subjects.tables) alarms.tableThrottles(id, table, name);
  return { deadLetterQueue, all: alarms.all };
}

/** The checks of a queue path's alarm thresholds: ranges, and the ages below the retentions they protect. */
export function queueAlarmChecks(
  scope: IConstruct,
  options: AlarmOptions,
  retentionPeriod: Duration,
  deadLetterQueueRetentionPeriod: Duration,
): Check[] {
  const t = options.alarmThresholds ?? {};
  return [
    ...alarmThresholdChecks(scope, t),
    ageBelowCheck(
      scope,
      'alarmThresholds.sourceQueueMessageAge',
      t.sourceQueueMessageAge,
      retentionPeriod,
      'retentionPeriod',
    ),
    ageBelowCheck(
      scope,
      'alarmThresholds.failureStoreMessageAge',
      t.failureStoreMessageAge,
      deadLetterQueueRetentionPeriod,
      'deadLetterQueueRetentionPeriod',
    ),
  ];
}

/** The flow of a queue path on the stage dashboard (lib/constructs/dashboard.ts). */
export function queueFlow(
  title: string,
  summary: string,
  subjects: Pick<QueueAlarmSubjects, 'queue' | 'deadLetterQueue' | 'function' | 'eventSourceMappingId'>,
  business: readonly IMetric[],
): PathFlow {
  const esm = (name: Parameters<typeof eventSourceMappingMetric>[1]) =>
    eventSourceMappingMetric(subjects.eventSourceMappingId, name);
  return {
    title,
    summary,
    in: [line(subjects.queue.metricNumberOfMessagesSent(), 'sent to the queue')],
    processed: [
      line(esm('PolledEventCount'), 'polled'),
      line(esm('InvokedEventCount'), 'handed to the function'),
      line(esm('DeletedEventCount'), 'done (deleted)'),
    ],
    failed: mappingFailedLines(subjects.eventSourceMappingId, subjects.function),
    failureStores: [
      line(subjects.deadLetterQueue.metricApproximateNumberOfMessagesVisible(), 'in the DLQ', Stats.MAXIMUM),
    ],
    age: [
      line(subjects.queue.metricApproximateAgeOfOldestMessage(), 'source queue (s)', Stats.MAXIMUM),
      line(subjects.deadLetterQueue.metricApproximateAgeOfOldestMessage(), 'DLQ (s)', Stats.MAXIMUM),
    ],
    business,
  };
}

/** cdk-nag findings that do not fit a queue-fed consumer, each acknowledged on its resource with the reason. */
export function acknowledgeQueueConsumerNagFindings(
  fn: IConstruct,
  eventSourceMapping: IConstruct,
  deadLetterQueue: IConstruct,
): void {
  Validations.of(fn).acknowledge({
    id: 'Serverless-LambdaDLQ',
    reason:
      'A function dead-letter queue only receives failed asynchronous invocations; this function is invoked ' +
      'synchronously by an SQS event source mapping, so failed messages go to the dead-letter queue configured on ' +
      'the source queue (redrive policy at maxReceiveCount), as AWS recommends.',
  });
  Validations.of(eventSourceMapping).acknowledge({
    id: 'Serverless-LambdaEventSourceMappingDestination',
    reason:
      'SQS event source mappings do not support on-failure destinations; failed messages go to the source ' +
      "queue's dead-letter queue (redrive policy at maxReceiveCount).",
  });
  // (AwsSolutions-SQS3 already recognises this queue as a dead-letter queue; only the Serverless rule fires.)
  Validations.of(deadLetterQueue).acknowledge({
    id: 'Serverless-SQSRedrivePolicy',
    reason:
      'This queue is the dead-letter queue of the source queue; a dead-letter queue of its own would hide the ' +
      'messages that need a person. An operator redrives them back to the source queue (StartMessageMoveTask) ' +
      'once the cause is fixed, and the alarm fires on the first one.',
  });
}
