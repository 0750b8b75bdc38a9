/**
 * The alarms of every path, written once (issue 16): each on one failure signal, with its dimensions, a
 * description that says what it means and what to do first, a link to its runbook section (docs/operations.md), and
 * an action on the stage's alarm topic. The path constructs call the builders that apply to them; the thresholds are
 * props ({@link AlarmThresholds}) with the defaults below.
 *
 * What each signal is (AWS documentation):
 * - SQS: `ApproximateNumberOfMessagesVisible` and `ApproximateAgeOfOldestMessage` are sampled every minute;
 *   `NumberOfMessagesSent` counts `SendMessage` calls, which is how Lambda (on-failure destinations) and SNS
 *   (subscription dead-letter queues) deliver to a queue. A message SQS moves to a source queue's dead-letter queue
 *   under its redrive policy is **not** counted in the dead-letter queue's `NumberOfMessagesSent` (SQS developer
 *   guide, "Available CloudWatch metrics for Amazon SQS"), so a source queue's dead-letter queue gets no arrivals
 *   alarm: its failed records show in the mapping's `FailedInvokeEventCount` instead.
 * - Lambda: `Errors` (function errors: a whole invocation failed; a record reported in `batchItemFailures` is not
 *   one), `Throttles`, `Duration`, `ConcurrentExecutions`, `IteratorAge` (stream mappings), `AsyncEventsDropped`
 *   and `AsyncEventAge` (asynchronous invocation), `DestinationDeliveryFailures` (a destination Lambda could not
 *   write to: the record is lost).
 * - Event source mapping metrics (`MetricsConfig` `EventCount`, dimension `EventSourceMappingUUID`):
 *   `FailedInvokeEventCount` (records of failed invocations, batch item failures included),
 *   `DroppedEventCount` (stream records dropped: record age or retries exhausted, or gone from the stream),
 *   `OnFailureDestinationDeliveredEventCount` (stream records sent to the on-failure destination).
 * - SNS `NumberOfNotificationsFailed`; DynamoDB `ReadThrottleEvents` and `WriteThrottleEvents` (per table, on-demand
 *   tables included: requests above the table's or partition's throughput).
 * - API Gateway HTTP APIs (namespace `AWS/ApiGateway`, dimensions `ApiId` and `Stage`): `Count`, `4xx`, `5xx`,
 *   `Latency`, `IntegrationLatency`. No metric counts the `429`s of a stage's throttle (they are among the `4xx`): the
 *   http path counts them from its access logs with a metric filter (lib/constructs/http-ingress.ts).
 */
import { Duration, Token } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  IMetric,
  Metric,
  Stats,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { IFunction } from 'aws-cdk-lib/aws-lambda';
import { ITopic } from 'aws-cdk-lib/aws-sns';
import { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct, IConstruct } from 'constructs';
import {
  assertDurationInRange,
  assertIntegerInRange,
  type Check,
  ConfigurationError,
  describeDuration,
} from '../validation';

/** The runbook: one section per alarm, each saying what the signal means and what to do. */
export const RUNBOOK_PAGE = 'docs/operations.md';

/** The runbook section (anchor of {@link RUNBOOK_PAGE}) of each kind of alarm. */
export const RUNBOOK = {
  failureStoreMessages: 'failure-store-holds-messages',
  failureStoreAge: 'failure-store-message-ageing',
  failureStoreArrivals: 'failure-store-arrivals',
  sourceQueueAge: 'source-queue-backlog',
  errors: 'function-errors',
  throttles: 'function-throttles',
  duration: 'duration-near-the-timeout',
  concurrency: 'concurrency-near-its-cap',
  iteratorAge: 'iterator-age',
  asyncEventsDropped: 'asynchronous-events-dropped',
  asyncEventAge: 'asynchronous-event-age',
  destinationDeliveryFailures: 'destination-delivery-failures',
  snsDeliveryFailures: 'sns-delivery-failures',
  tableThrottles: 'dynamodb-throttling',
  failedRecords: 'records-failing',
  droppedRecords: 'records-dropped',
  destinationRecords: 'records-sent-to-the-on-failure-destination',
  httpServerErrors: 'http-5xx-answers',
  httpClientErrors: 'http-4xx-answers',
  httpThrottledRequests: 'http-429-throttled-requests',
  httpLatency: 'http-latency-near-the-deadline',
} as const;
export type RunbookSection = (typeof RUNBOOK)[keyof typeof RUNBOOK];

/** `docs/operations.md#<section>`: where an alarm's description sends the reader. */
export function runbookLink(section: RunbookSection): string {
  return `${RUNBOOK_PAGE}#${section}`;
}

/**
 * The thresholds of a path's alarms. Every one has a default (below); a path construct takes them as its
 * `alarmThresholds` prop. Counts are per 5-minute period unless said otherwise.
 */
export interface AlarmThresholds {
  /**
   * Age of the oldest message in a dead-letter or on-failure queue at which its alarm fires: a failure nobody has
   * handled yet, getting closer to the queue's retention, when SQS deletes it.
   * @default half the queue's retention (7 days with the 14-day default)
   */
  readonly failureStoreMessageAge?: Duration;
  /**
   * Age of the oldest message in a source queue at which the backlog alarm fires; must be below the queue's
   * retention (SQS deletes older messages unprocessed).
   * @default 1 hour, or half the retention if that is shorter
   */
  readonly sourceQueueMessageAge?: Duration;
  /**
   * Function errors (whole invocations failed) per 5 minutes.
   * @default 1
   */
  readonly errors?: number;
  /**
   * Throttled invocations per 5 minutes.
   * @default 1
   */
  readonly throttles?: number;
  /**
   * The share of the function timeout the longest invocation of 5 minutes may take before the duration alarm
   * fires (0.1 to 1): an invocation near its timeout is about to be killed mid-batch.
   * @default 0.8
   */
  readonly durationOfTimeout?: number;
  /**
   * The share of the concurrency cap ({@link concurrencyCap}) at which the concurrency alarm fires (0.1 to 1), on the
   * maximum of each minute for 5 minutes.
   * @default 0.8
   */
  readonly concurrencyOfCap?: number;
  /**
   * The concurrency the function can reach: the mapping's `maxConcurrency` on a queue path; shards × parallelization
   * factor on a provisioned Kinesis stream created here; otherwise the account's concurrency quota per Region.
   * @default per path, as above (1000, Lambda's default quota, where nothing smaller applies)
   */
  readonly concurrencyCap?: number;
  /**
   * How many 5-minute periods in a row must have failed records (`FailedInvokeEventCount`, batch item failures
   * included) before the failing-records alarm fires: one failure is retried and may pass; records that keep
   * failing are heading for the dead-letter queue or on-failure destination.
   * @default 3 (15 minutes)
   */
  readonly failedRecordsPeriods?: number;
  /**
   * Age of the oldest event in Lambda's asynchronous queue (`AsyncEventAge`, maximum) at which its alarm fires;
   * below `maxEventAge`, when Lambda gives up on the event.
   * @default 30 minutes, or half of `maxEventAge` if that is shorter
   */
  readonly asyncEventAge?: Duration;
  /**
   * Throttle events of a DynamoDB table (reads or writes) per 5 minutes.
   * @default 1
   */
  readonly tableThrottleEvents?: number;
}

/** The defaults of {@link AlarmThresholds} that are not derived from another setting. */
export const ALARM_DEFAULTS = {
  sourceQueueMessageAge: Duration.hours(1),
  errors: 1,
  throttles: 1,
  durationOfTimeout: 0.8,
  concurrencyOfCap: 0.8,
  /** Lambda's default concurrency quota per account and Region. */
  accountConcurrency: 1000,
  failedRecordsPeriods: 3,
  asyncEventAge: Duration.minutes(30),
  tableThrottleEvents: 1,
  /** The period of every count alarm. */
  period: Duration.minutes(5),
} as const;

/** The props every path construct takes for its alarms. */
export interface AlarmOptions {
  /**
   * Where every alarm of the path notifies (alarm action): the stage's alarm topic (`<appName>-<stage>-alarms`, made
   * by the monitoring stack, with the e-mail subscription of the `alarmEmail` setting).
   * @default no action: the alarms are visible in CloudWatch only
   */
  readonly alarmTopic?: ITopic;
  /**
   * The alarms' thresholds; each unset one takes its default ({@link AlarmThresholds}).
   * @default the defaults
   */
  readonly alarmThresholds?: AlarmThresholds;
}

/** The checks of {@link AlarmThresholds} that need nothing else: ranges of shares and counts. */
export function alarmThresholdChecks(scope: IConstruct, thresholds: AlarmThresholds = {}): Check[] {
  const share = (property: keyof AlarmThresholds, value: number | undefined): Check => {
    return () => {
      if (value === undefined || Token.isUnresolved(value)) return;
      if (!(value >= 0.1 && value <= 1)) {
        throw new ConfigurationError(
          scope,
          `alarmThresholds.${property}`,
          `must be a share from 0.1 to 1, got ${value}.`,
        );
      }
    };
  };
  const count = (property: keyof AlarmThresholds, value: number | undefined, max = 1_000_000): Check => {
    return () => assertIntegerInRange(scope, `alarmThresholds.${property}`, value, 1, max);
  };
  return [
    share('durationOfTimeout', thresholds.durationOfTimeout),
    share('concurrencyOfCap', thresholds.concurrencyOfCap),
    count('errors', thresholds.errors),
    count('throttles', thresholds.throttles),
    count('concurrencyCap', thresholds.concurrencyCap),
    count('failedRecordsPeriods', thresholds.failedRecordsPeriods, 288),
    count('tableThrottleEvents', thresholds.tableThrottleEvents),
  ];
}

/** A threshold that is an age: at least a minute, below `limit` (the retention or maximum age it protects). */
export function ageBelowCheck(
  scope: IConstruct,
  property: string,
  value: Duration | undefined,
  limit: Duration,
  limitName: string,
): Check {
  return () => {
    if (value === undefined || value.isUnresolved() || limit.isUnresolved()) return;
    assertDurationInRange(scope, property, value, Duration.minutes(1), Duration.days(14));
    if (value.toSeconds() >= limit.toSeconds()) {
      throw new ConfigurationError(
        scope,
        property,
        `must be below ${limitName} (${describeDuration(limit)}), got ${describeDuration(value)}: the alarm would ` +
          'fire only after the messages or events are gone.',
      );
    }
  };
}

/** Half a duration, in whole seconds (at least 60). */
export function halfOf(duration: Duration): Duration {
  if (duration.isUnresolved()) return duration;
  return Duration.seconds(Math.max(60, Math.floor(duration.toSeconds() / 2)));
}

/** The shorter of two durations. */
export function shorterOf(a: Duration, b: Duration): Duration {
  if (a.isUnresolved() || b.isUnresolved()) return a;
  return a.toSeconds() <= b.toSeconds() ? a : b;
}

/** A metric of an event source mapping (`MetricsConfig` `EventCount`), by the mapping's UUID. */
export function eventSourceMappingMetric(
  eventSourceMappingId: string,
  metricName:
    | 'PolledEventCount'
    | 'InvokedEventCount'
    | 'FilteredOutEventCount'
    | 'FailedInvokeEventCount'
    | 'DeletedEventCount'
    | 'DroppedEventCount'
    | 'OnFailureDestinationDeliveredEventCount',
  period: Duration = ALARM_DEFAULTS.period,
): Metric {
  return new Metric({
    namespace: 'AWS/Lambda',
    metricName,
    dimensionsMap: { EventSourceMappingUUID: eventSourceMappingId },
    statistic: Stats.SUM,
    period,
  });
}

/** The function alarms of {@link PathAlarms.functionAlarms}, for a path whose words differ from the queue paths'. */
export type FunctionAlarmKind = 'errors' | 'throttles' | 'duration' | 'concurrency';

/** What an alarm is about, in the words its description uses. */
export interface AlarmSpec {
  readonly metric: IMetric;
  readonly threshold: number;
  readonly comparisonOperator?: ComparisonOperator;
  readonly evaluationPeriods?: number;
  readonly datapointsToAlarm?: number;
  /** What it means and what to do first; the runbook link and the path are added. */
  readonly meaning: string;
  readonly runbook: RunbookSection;
}

/**
 * Builds a path's alarms in `scope`: every alarm gets the path's label and its runbook link in the description,
 * and the topic as its action. `all` lists what it built, for tests and the dashboard.
 */
export class PathAlarms {
  /** Every alarm built, in order. */
  readonly all: Alarm[] = [];
  private readonly action?: SnsAction;
  private readonly thresholds: AlarmThresholds;
  private readonly label: string;

  /** `label`: the consumer as the descriptions name it before its construct path (`Stream consumer`). */
  constructor(
    private readonly scope: Construct,
    options: AlarmOptions & { readonly label?: string },
  ) {
    this.action = options.alarmTopic ? new SnsAction(options.alarmTopic) : undefined;
    this.thresholds = options.alarmThresholds ?? {};
    this.label = options.label ? `${options.label} ${scope.node.path}` : scope.node.path;
  }

  /** One alarm, described and with the topic as its action; missing data is not breaching (no traffic, no alarm). */
  alarm(id: string, spec: AlarmSpec): Alarm {
    const alarm = new Alarm(this.scope, id, {
      alarmDescription: `${this.label}: ${spec.meaning} Runbook: ${runbookLink(spec.runbook)}`,
      metric: spec.metric,
      threshold: spec.threshold,
      comparisonOperator: spec.comparisonOperator ?? ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: spec.evaluationPeriods ?? 1,
      datapointsToAlarm: spec.datapointsToAlarm,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    if (this.action) alarm.addAlarmAction(this.action);
    this.all.push(alarm);
    return alarm;
  }

  /**
   * A queue where failures end up (a dead-letter queue, an on-failure queue, a subscription dead-letter queue):
   * `<prefix>MessagesAlarm` unless `messagesAlarmId` names it (an existing alarm keeps its id), at least one
   * visible message; `<prefix>AgeAlarm`, its oldest message older than the threshold; and, when something sends to
   * it (`arrivals`), `<prefix>ArrivalsAlarm` on `NumberOfMessagesSent`, so a queue someone drained still alarms.
   */
  failureStore(
    prefix: string,
    queue: IQueue,
    options: {
      /** The queue in a sentence: "the SQS dead-letter queue". */
      readonly name: string;
      /** Why messages are there and what to do: the description's middle. */
      readonly why: string;
      readonly retention: Duration;
      readonly arrivals: boolean;
      readonly messagesAlarmId?: string;
      /** The period of the visible-messages alarm. @default 1 minute */
      readonly messagesPeriod?: Duration;
    },
  ): { readonly messages: Alarm; readonly age: Alarm; readonly arrivals?: Alarm } {
    const age = this.thresholds.failureStoreMessageAge ?? halfOf(options.retention);
    const messages = this.alarm(options.messagesAlarmId ?? `${prefix}MessagesAlarm`, {
      metric: queue.metricApproximateNumberOfMessagesVisible({
        period: options.messagesPeriod ?? Duration.minutes(1),
        statistic: Stats.MAXIMUM,
      }),
      threshold: 1,
      meaning: `${options.name} holds at least one message. ${options.why}`,
      runbook: RUNBOOK.failureStoreMessages,
    });
    const ageAlarm = this.alarm(`${prefix}AgeAlarm`, {
      metric: queue.metricApproximateAgeOfOldestMessage({
        period: Duration.minutes(5),
        statistic: Stats.MAXIMUM,
      }),
      threshold: age.toSeconds(),
      meaning:
        `the oldest message of ${options.name} is ${describeDuration(age)} old: a failure nobody has handled; SQS ` +
        `deletes it at ${describeDuration(options.retention)}.`,
      runbook: RUNBOOK.failureStoreAge,
    });
    const arrivals = options.arrivals
      ? this.alarm(`${prefix}ArrivalsAlarm`, {
          metric: queue.metricNumberOfMessagesSent({ period: ALARM_DEFAULTS.period, statistic: Stats.SUM }),
          threshold: 1,
          meaning: `messages arrived on ${options.name} in the last 5 minutes (whether or not someone has read them since). ${options.why}`,
          runbook: RUNBOOK.failureStoreArrivals,
        })
      : undefined;
    return { messages, age: ageAlarm, arrivals };
  }

  /** `SourceQueueAgeAlarm`: the source queue's oldest message older than the threshold (a backlog). */
  sourceQueueBacklog(queue: IQueue, retention: Duration): Alarm {
    const age =
      this.thresholds.sourceQueueMessageAge ??
      shorterOf(ALARM_DEFAULTS.sourceQueueMessageAge, halfOf(retention));
    return this.alarm('SourceQueueAgeAlarm', {
      metric: queue.metricApproximateAgeOfOldestMessage({
        period: Duration.minutes(5),
        statistic: Stats.MAXIMUM,
      }),
      threshold: age.toSeconds(),
      meaning:
        `the oldest message of the source queue is ${describeDuration(age)} old: the consumer is not keeping up, ` +
        `is failing, or its mapping is disabled; SQS deletes messages unprocessed at ${describeDuration(retention)}.`,
      runbook: RUNBOOK.sourceQueueAge,
    });
  }

  /**
   * The function's own alarms: `ErrorsAlarm`, `ThrottlesAlarm`, `DurationAlarm` (near the timeout) and
   * `ConcurrencyAlarm` (near `concurrencyCap`).
   */
  functionAlarms(
    fn: IFunction,
    options: {
      readonly timeout: Duration;
      readonly concurrencyCap: number;
      readonly capName: string;
      /**
       * What each alarm means on this path, where it differs from a record-consuming path's (a synchronous path has
       * no records to retry: its callers get an error answer). @default the queue and stream paths' words
       */
      readonly meanings?: Partial<Record<FunctionAlarmKind, string>>;
      /** The throttles alarm's id. @default 'ThrottlesAlarm' */
      readonly throttlesAlarmId?: string;
    },
  ): { errors: Alarm; throttles: Alarm; duration: Alarm; concurrency: Alarm } {
    const meanings = options.meanings ?? {};
    const t = this.thresholds;
    const durationShare = t.durationOfTimeout ?? ALARM_DEFAULTS.durationOfTimeout;
    const cap = t.concurrencyCap ?? options.concurrencyCap;
    const concurrencyShare = t.concurrencyOfCap ?? ALARM_DEFAULTS.concurrencyOfCap;
    const concurrency = Math.max(1, Math.floor(cap * concurrencyShare));
    return {
      errors: this.alarm('ErrorsAlarm', {
        metric: fn.metricErrors({ period: ALARM_DEFAULTS.period, statistic: Stats.SUM }),
        threshold: t.errors ?? ALARM_DEFAULTS.errors,
        meaning:
          meanings.errors ??
          'invocations failed as a whole (an exception or a timeout, not a record reported in batchItemFailures): ' +
            'their records are retried, then reach the dead-letter queue or on-failure destination. Read the ERROR lines ' +
            'of the log group (saved query "failed records by error").',
        runbook: RUNBOOK.errors,
      }),
      throttles: this.alarm(options.throttlesAlarmId ?? 'ThrottlesAlarm', {
        metric: fn.metricThrottles({ period: ALARM_DEFAULTS.period, statistic: Stats.SUM }),
        threshold: t.throttles ?? ALARM_DEFAULTS.throttles,
        meaning:
          meanings.throttles ??
          'invocations were throttled: the account or the function had no concurrency left. Records wait (queues count ' +
            'a receive each time, streams fall behind, asynchronous events age).',
        runbook: RUNBOOK.throttles,
      }),
      duration: this.alarm('DurationAlarm', {
        metric: fn.metricDuration({ period: ALARM_DEFAULTS.period, statistic: Stats.MAXIMUM }),
        threshold: Math.floor(options.timeout.toMilliseconds() * durationShare),
        meaning:
          `an invocation took ${Math.round(durationShare * 100)} % or more of the ${describeDuration(options.timeout)} ` +
          'timeout: ' +
          (meanings.duration ??
            'close to being killed mid-batch (its records then retried, some answered from the idempotency store).'),
        runbook: RUNBOOK.duration,
      }),
      concurrency: this.alarm('ConcurrencyAlarm', {
        metric: fn.metric('ConcurrentExecutions', { period: Duration.minutes(1), statistic: Stats.MAXIMUM }),
        threshold: concurrency,
        evaluationPeriods: 5,
        datapointsToAlarm: 5,
        meaning:
          `the function ran ${concurrency} or more instances at once for 5 minutes, ${Math.round(concurrencyShare * 100)} % ` +
          `of ${options.capName} (${cap}): ` +
          (meanings.concurrency ?? 'at the cap, records wait and the backlog or age alarms follow.'),
        runbook: RUNBOOK.concurrency,
      }),
    };
  }

  /** `FailedRecordsAlarm`: the mapping reported failed records in `failedRecordsPeriods` 5-minute periods in a row. */
  failedRecords(eventSourceMappingId: string, where: string): Alarm {
    const periods = this.thresholds.failedRecordsPeriods ?? ALARM_DEFAULTS.failedRecordsPeriods;
    return this.alarm('FailedRecordsAlarm', {
      metric: eventSourceMappingMetric(eventSourceMappingId, 'FailedInvokeEventCount'),
      threshold: 1,
      evaluationPeriods: periods,
      datapointsToAlarm: periods,
      meaning:
        `records have failed in every 5 minutes for ${periods * 5} minutes (FailedInvokeEventCount, batch item ` +
        `failures included): they are retried, and reach ${where} if they keep failing.`,
      runbook: RUNBOOK.failedRecords,
    });
  }

  /**
   * A stream mapping's `DroppedEventCountAlarm` (records dropped) and `DestinationDeliveredAlarm` (records sent to
   * the on-failure destination; the only signal with a bucket destination, which has no queue to watch).
   */
  streamRecordAlarms(eventSourceMappingId: string): { dropped: Alarm; deliveredToDestination: Alarm } {
    return {
      dropped: this.alarm('DroppedRecordsAlarm', {
        metric: eventSourceMappingMetric(eventSourceMappingId, 'DroppedEventCount'),
        threshold: 1,
        meaning:
          'the event source mapping dropped stream records (retries or record age exhausted, or records that left the ' +
          'stream before they were processed). Those sent to the on-failure destination can be replayed while the ' +
          'stream keeps them.',
        runbook: RUNBOOK.droppedRecords,
      }),
      deliveredToDestination: this.alarm('DestinationDeliveredAlarm', {
        metric: eventSourceMappingMetric(eventSourceMappingId, 'OnFailureDestinationDeliveredEventCount'),
        threshold: 1,
        meaning:
          'the event source mapping sent stream records to the on-failure destination: Lambda gave up on them. ' +
          'Replay them while the stream keeps them.',
        runbook: RUNBOOK.destinationRecords,
      }),
    };
  }

  /** `DestinationDeliveryFailuresAlarm` (unless `id` says otherwise): Lambda could not write to a destination. */
  destinationDeliveryFailures(fn: IFunction, lost: string, id = 'DestinationDeliveryFailuresAlarm'): Alarm {
    return this.alarm(id, {
      metric: fn.metric('DestinationDeliveryFailures', {
        period: ALARM_DEFAULTS.period,
        statistic: Stats.SUM,
      }),
      threshold: 1,
      meaning: `Lambda could not send a failed record to the on-failure destination: ${lost}`,
      runbook: RUNBOOK.destinationDeliveryFailures,
    });
  }

  /** `AsyncEventsDroppedAlarm` and `AsyncEventAgeAlarm` of an asynchronously invoked function. */
  asyncInvocation(fn: IFunction, maxEventAge: Duration): { dropped: Alarm; age: Alarm } {
    const age = this.thresholds.asyncEventAge ?? shorterOf(ALARM_DEFAULTS.asyncEventAge, halfOf(maxEventAge));
    return {
      dropped: this.alarm('AsyncEventsDroppedAlarm', {
        metric: fn.metric('AsyncEventsDropped', { period: ALARM_DEFAULTS.period, statistic: Stats.SUM }),
        threshold: 1,
        meaning:
          'Lambda dropped asynchronous events without running them to success (retries or event age exhausted): with an ' +
          'on-failure destination they are there; without one they are lost.',
        runbook: RUNBOOK.asyncEventsDropped,
      }),
      age: this.alarm('AsyncEventAgeAlarm', {
        metric: fn.metric('AsyncEventAge', { period: ALARM_DEFAULTS.period, statistic: Stats.MAXIMUM }),
        threshold: age.toMilliseconds(),
        meaning:
          `an asynchronous event waited ${describeDuration(age)} in Lambda's queue (throttles or retries); at ` +
          `${describeDuration(maxEventAge)} (maxEventAge) Lambda gives up on it.`,
        runbook: RUNBOOK.asyncEventAge,
      }),
    };
  }

  /** `<prefix>DeliveryFailuresAlarm`: SNS could not deliver notifications (`NumberOfNotificationsFailed`). */
  snsDeliveryFailures(prefix: string, topic: ITopic, where: string): Alarm {
    return this.alarm(`${prefix}DeliveryFailuresAlarm`, {
      metric: topic.metricNumberOfNotificationsFailed({
        period: ALARM_DEFAULTS.period,
        statistic: Stats.SUM,
      }),
      threshold: 1,
      meaning: `SNS could not deliver notifications of the topic: ${where}`,
      runbook: RUNBOOK.snsDeliveryFailures,
    });
  }

  /**
   * `<prefix>ReadThrottlesAlarm` and `<prefix>WriteThrottlesAlarm` of a DynamoDB table. `consequence`: what throttling
   * does on this path, after "DynamoDB throttled reads of <name>: " (@default the record-consuming paths' retries).
   */
  tableThrottles(
    prefix: string,
    table: ITable,
    name: string,
    consequence?: string,
  ): { reads: Alarm; writes: Alarm } {
    const threshold = this.thresholds.tableThrottleEvents ?? ALARM_DEFAULTS.tableThrottleEvents;
    const metric = (metricName: string) =>
      new Metric({
        namespace: 'AWS/DynamoDB',
        metricName,
        dimensionsMap: { TableName: table.tableName },
        statistic: Stats.SUM,
        period: ALARM_DEFAULTS.period,
      });
    const meaning = (what: string) =>
      `DynamoDB throttled ${what} of ${name}: ` +
      (consequence ??
        'the handlers retry within the invocation, then fail the record (retried later); sustained throttling sends ' +
          'records to the dead-letter queue or on-failure destination.');
    return {
      reads: this.alarm(`${prefix}ReadThrottlesAlarm`, {
        metric: metric('ReadThrottleEvents'),
        threshold,
        meaning: meaning('reads'),
        runbook: RUNBOOK.tableThrottles,
      }),
      writes: this.alarm(`${prefix}WriteThrottlesAlarm`, {
        metric: metric('WriteThrottleEvents'),
        threshold,
        meaning: meaning('writes'),
        runbook: RUNBOOK.tableThrottles,
      }),
    };
  }

  /**
   * `IteratorAgeAlarm`: the oldest record of the stream mapping older than `threshold` for 3 minutes (the maximum of
   * each minute).
   */
  iteratorAge(fn: IFunction, threshold: Duration, maxRecordAge: Duration): Alarm {
    return this.alarm('IteratorAgeAlarm', {
      metric: fn.metric('IteratorAge', { statistic: Stats.MAXIMUM, period: Duration.minutes(1) }),
      threshold: threshold.toMilliseconds(),
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      meaning:
        `the oldest record waiting is older than ${describeDuration(threshold)}. A poison record is being retried or ` +
        `the function cannot keep up; records older than ${describeDuration(maxRecordAge)} go to the on-failure ` +
        'destination.',
      runbook: RUNBOOK.iteratorAge,
    });
  }
}
