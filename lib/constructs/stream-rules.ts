/**
 * The rules of a stream event source mapping, written once for both stream paths: Kinesis Data Streams
 * (`StreamConsumer`, lib/constructs/stream-consumer.ts) and DynamoDB Streams (`TableStreamConsumer`,
 * lib/constructs/table-stream-consumer.ts), the way aws-cdk-lib's `aws-lambda-event-sources` shares `stream.ts`
 * (`StreamEventSourceProps`) between its Kinesis and DynamoDB sources. What differs between the two sources (how
 * long the stream keeps a record, the starting positions Lambda accepts, how messages name them) is passed in as a
 * {@link StreamSourceRules}.
 *
 * Each check returns a {@link Check} for the construct's `validateAll`, so one synth reports every broken rule.
 * Sources (AWS documentation):
 * - Lambda developer guide, "Lambda parameters for Amazon Kinesis Data Streams event source mappings" and "Lambda
 *   parameters for Amazon DynamoDB event source mappings": `BatchSize` default 100, at most 10,000 for both;
 *   `MaximumBatchingWindowInSeconds` default 0; `MaximumRecordAgeInSeconds` -1 (infinite, the default) or 60 to
 *   604,800; `MaximumRetryAttempts` -1 (infinite, the default) or 0 to 10,000; `ParallelizationFactor` 1 to 10,
 *   default 1; `StartingPosition` `TRIM_HORIZON` or `LATEST` for DynamoDB Streams, also `AT_TIMESTAMP` for Kinesis.
 * - Lambda API reference, `CreateEventSourceMapping`: `MaximumBatchingWindowInSeconds` 0 to 300 seconds;
 *   `BisectBatchOnFunctionError`, `DestinationConfig`, `MaximumRecordAgeInSeconds`, `MaximumRetryAttempts` and
 *   `ParallelizationFactor` for Kinesis and DynamoDB Streams only.
 * - Lambda developer guide, "Retain discarded batch records for a Kinesis Data Streams event source" and the same
 *   page for DynamoDB: the on-failure destination is an SNS topic, an SQS queue or an S3 bucket; an S3 destination
 *   gets the whole invocation record, the others metadata only (shard, sequence numbers, batch size, ARN).
 *   CloudFormation `AWS::Lambda::EventSourceMapping OnFailure` says the same of Kinesis and DynamoDB.
 * - SQS developer guide, "Amazon SQS message quotas": a queue keeps messages from 60 seconds to 14 days.
 *
 * Deliberately not a rule here: the API reference's "when you set BatchSize to a value greater than 10, you must set
 * MaximumBatchingWindowInSeconds to at least 1", stated there "for streams and Amazon SQS event sources". The stream
 * parameter pages above give BatchSize 100 with a window of 0 as the defaults of both stream sources (what Lambda
 * creates when neither is set), so for streams it would refuse AWS's own defaults; the SQS path enforces it
 * (lib/constructs/queue-rules.ts).
 */
import { Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import { Alarm, type IMetric, Stats } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Alias } from 'aws-cdk-lib/aws-kms';
import {
  DlqDestinationConfig,
  IEventSourceDlq,
  IEventSourceMapping,
  IFunction,
  MetricType,
  StartingPosition,
} from 'aws-cdk-lib/aws-lambda';
import { SnsDlq, SqsDlq, StreamEventSourceProps } from 'aws-cdk-lib/aws-lambda-event-sources';
import { BlockPublicAccess, Bucket, BucketEncryption, IBucket } from 'aws-cdk-lib/aws-s3';
import { ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { SqsSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { IQueue, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
// cdk-nag's own formatting of a resource in a finding id, so the acknowledgement matches the finding exactly.
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import { Construct, IConstruct } from 'constructs';
import {
  assertDurationAtLeastSum,
  assertDurationInRange,
  assertIntegerInRange,
  type Check,
  ConfigurationError,
  describeDuration,
  type NamedDuration,
} from '../validation';
import {
  ageBelowCheck,
  type AlarmOptions,
  alarmThresholdChecks,
  eventSourceMappingMetric,
  PathAlarms,
} from './alarms';
import { line, mappingFailedLines, type PathFlow } from './dashboard';
import { denyTopicAccessWithoutTls } from './tls';

/** Limits of Lambda's stream event source mappings, shared by Kinesis and DynamoDB Streams (sources above). */
export const STREAM_MAPPING_LIMITS = {
  retryAttempts: { min: 0, max: 10_000 },
  maxRecordAge: { min: Duration.seconds(60), max: Duration.seconds(604_800) },
  batchSize: { min: 1, max: 10_000 },
  maxBatchingWindow: { min: Duration.seconds(0), max: Duration.seconds(300) },
  parallelizationFactor: { min: 1, max: 10 },
  /** An SQS queue keeps a message from 60 seconds to 14 days. */
  failureRecordRetention: { min: Duration.seconds(60), max: Duration.days(14) },
} as const;

/** The defaults of this template for both stream paths, each explained on its prop. */
export const STREAM_MAPPING_DEFAULTS = {
  retryAttempts: 2,
  maxRecordAge: Duration.hours(1),
  batchSize: 100,
  maxBatchingWindow: Duration.seconds(0),
  parallelizationFactor: 1,
  startingPosition: StartingPosition.TRIM_HORIZON,
  iteratorAgeAlarmThreshold: Duration.minutes(5),
  failureRecordRetention: Duration.days(14),
} as const;

/**
 * How a stream consumer records that a record was applied (`IDEMPOTENCY_SCHEME` of the function; the handler
 * side is lambda/shared/serial-key-persistence.ts). Both are Powertools idempotency keyed by the record's
 * `eventId` (`eventID` on DynamoDB Streams), with the same stored results and expiry; they differ in what they
 * write per record.
 */
export const StreamIdempotencyScheme = {
  /**
   * Powertools' default: a conditional put claims the key (`INPROGRESS`) before the action, and one
   * `TransactWriteItems` completes it together with the effect after: 1 + 2 × 2 = 5 DynamoDB write units per
   * record (a put and a delete for a failed one). A concurrent duplicate is refused before it is planned. On a
   * stream its drawback is a claim left by a function that crashed or timed out: it holds the reading until the
   * dead invocation's deadline, and Lambda's immediate stream retries meet it ("already in progress") until they
   * run out and the batch goes to the on-failure destination.
   */
  CLAIM_THEN_COMPLETE: 'claim-then-complete',
  /**
   * A strongly consistent read before the action, and the same transaction completing the key with the effect
   * after it: one read unit and 4 write units per record, 16 % less DynamoDB cost than claim-then-complete at
   * on-demand prices (a failed record costs one read), and no claim for a crash to leave behind. Lambda never
   * runs two records of one partition key at once; where two copies of a reading still meet (the same `eventId`
   * under two partition keys in one batch), both are planned and the transaction's condition lets only one
   * commit (lambda/shared/exactly-once.ts).
   */
  READ_THEN_COMPLETE: 'read-then-complete',
} as const;
export type StreamIdempotencyScheme = (typeof StreamIdempotencyScheme)[keyof typeof StreamIdempotencyScheme];

/**
 * Where Lambda sends the description of a batch it gives up on (retries or record age exhausted).
 *
 * - `topic` (the seeds' choice): an SNS topic, encrypted, TLS only. SNS keeps nothing, so a queue is always
 *   subscribed to it (raw delivery: each message body is the failure record itself) and keeps the records for
 *   an operator. Add your own subscriptions (e-mail, chat, a pager) to the topic for fan-out.
 * - `queue`: an SQS queue only (encrypted, TLS only, kept 14 days). Simplest; no fan-out.
 * - `bucket`: an S3 bucket. Lambda writes the whole invocation record, the records' data included, so nothing
 *   depends on the stream's retention any more. No queue, hence no "failure queue has messages" alarm.
 *
 * Each kind accepts an existing resource; by default one is created.
 */
export type StreamOnFailureOptions =
  | { readonly kind: 'topic'; readonly topic?: ITopic }
  | { readonly kind: 'queue'; readonly queue?: IQueue }
  | { readonly kind: 'bucket'; readonly bucket?: IBucket };

/** The on-failure destination as built. */
export interface StreamOnFailureDestination {
  readonly kind: StreamOnFailureOptions['kind'];
  /** The ARN the event source mapping sends failure records to. */
  readonly destinationArn: string;
  /** The topic (kind `topic`). */
  readonly topic?: ITopic;
  /**
   * The queue that keeps failure records: the destination itself (kind `queue`) or the queue subscribed to the
   * topic (kind `topic`). `undefined` for a bucket.
   */
  readonly queue?: IQueue;
  /** The bucket (kind `bucket`). */
  readonly bucket?: IBucket;
}

/** The name of the destination itself: the topic's, the queue's or the bucket's. */
export function destinationNameOf(destination: StreamOnFailureDestination): string {
  switch (destination.kind) {
    case 'topic':
      return destination.topic!.topicName;
    case 'queue':
      return destination.queue!.queueName;
    case 'bucket':
      return destination.bucket!.bucketName;
  }
}

/** The alarms every stream consumer ships with; each notifies the `alarmTopic`, when given. */
export interface StreamConsumerAlarms {
  /** IteratorAge (Maximum, 1 minute) above the threshold for 3 minutes: a shard is blocked or falling behind. */
  readonly iteratorAge: Alarm;
  /** The failure queue holds at least one failure record: a batch was given up on and needs an operator. */
  readonly failureQueueNotEmpty?: Alarm;
  /** Every alarm of the path (lib/constructs/alarms.ts), the two above included. */
  readonly all: readonly Alarm[];
}

/**
 * The settings of a stream event source mapping that mean the same on both stream paths. Each path's props extend
 * this and add what is their own: the stream, `maxRecordAge` (bounded by that stream's retention),
 * `startingPosition` (the positions its source accepts), `onFailure` (each path has its own default) and
 * `idempotencyExpiry` (derived from that retention).
 */
export interface StreamMappingOptions extends AlarmOptions {
  /**
   * Split a failing batch in two and retry each half (the seeds' "bisect batch on function error"): isolates a
   * poison record without holding the whole batch back. Splitting does not use up retries.
   * @default true
   */
  readonly bisectBatchOnError?: boolean;
  /**
   * How many times Lambda retries a failing batch (after splitting, for a batch of one record) before sending
   * it to the on-failure destination: 0 to 10000. Infinite (-1) is refused: it retries until the records
   * leave the stream, blocking the shard and everything behind the poison record for up to the retention.
   * @default 2 (the seeds' MaximumRetryAttempts = 2)
   */
  readonly retryAttempts?: number;
  /**
   * Records per invocation: 1 to 10000. Records are processed one after the other (per-key order), so keep
   * `batchSize` x the time per record well inside the function timeout.
   * @default 100
   */
  readonly batchSize?: number;
  /**
   * How long Lambda may gather records before invoking: 0 to 300 seconds. A maximum, not a fixed wait.
   * @default Duration.seconds(0) (invoke as soon as records are there)
   */
  readonly maxBatchingWindow?: Duration;
  /**
   * Concurrent batches per shard: 1 to 10. Lambda keeps order per partition key (Kinesis) or per item
   * (DynamoDB Streams) at any factor; above 1 the order across keys of a shard is no longer kept.
   * @default 1
   */
  readonly parallelizationFactor?: number;
  /**
   * Whether the event source mapping polls. Turn it off to pause consumption without losing the position.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * How long a created failure queue keeps failure records (60 seconds to 14 days; for a created bucket the
   * lifecycle expiry, rounded up to whole days). Replaying needs the records to be in the stream still, so
   * act within the stream's retention - `maxRecordAge`; the longer retention keeps the evidence.
   * @default Duration.days(14) (the SQS maximum)
   */
  readonly failureRecordRetention?: Duration;
  /**
   * IteratorAge above which the alarm fires; must be below `maxRecordAge`, or records are discarded before
   * anyone hears of it.
   * @default Duration.minutes(5), or half of `maxRecordAge` if that is shorter
   */
  readonly iteratorAgeAlarmThreshold?: Duration;
  /**
   * What the handler writes to the idempotency table per record: see {@link StreamIdempotencyScheme}. Switching
   * is safe at any time: each scheme honours the other's records.
   * @default StreamIdempotencyScheme.READ_THEN_COMPLETE: cheaper, and a crash leaves no claim that blocks the
   *   stream's retries; exactly-once either way (the commit is conditional)
   */
  readonly idempotencyScheme?: StreamIdempotencyScheme;
}

/** The props every stream path's settings are resolved from: the shared ones and the four each path declares. */
export interface StreamMappingProps extends StreamMappingOptions {
  readonly maxRecordAge?: Duration;
  readonly startingPosition?: StartingPosition;
  readonly onFailure?: StreamOnFailureOptions;
  readonly idempotencyExpiry?: Duration;
}

/** The settings of a stream path as resolved: the props with their defaults, some derived from others. */
export interface ResolvedStreamSettings {
  /** How long the stream keeps a record (a Kinesis stream's `retentionPeriod`; 24 hours on DynamoDB Streams). */
  readonly retentionPeriod: Duration;
  readonly maxRecordAge: Duration;
  readonly retryAttempts: number;
  readonly startingPosition: StartingPosition;
  /** The retention unless set: see each path's `idempotencyExpiry`. */
  readonly idempotencyExpiry: Duration;
  readonly idempotencyScheme: StreamIdempotencyScheme;
  /** Five minutes, or half of `maxRecordAge` if that is shorter, unless set. */
  readonly iteratorAgeAlarmThreshold: Duration;
  readonly failureRecordRetention: Duration;
  readonly onFailure: StreamOnFailureOptions;
}

/** Resolves a stream path's shared settings; `retentionPeriod` and the default destination are the path's. */
export function resolveStreamSettings(
  props: StreamMappingProps,
  retentionPeriod: Duration,
  defaultOnFailure: StreamOnFailureOptions,
): ResolvedStreamSettings {
  const D = STREAM_MAPPING_DEFAULTS;
  const maxRecordAge = props.maxRecordAge ?? D.maxRecordAge;
  return {
    retentionPeriod,
    maxRecordAge,
    retryAttempts: props.retryAttempts ?? D.retryAttempts,
    startingPosition: props.startingPosition ?? D.startingPosition,
    idempotencyExpiry: props.idempotencyExpiry ?? retentionPeriod,
    idempotencyScheme: props.idempotencyScheme ?? StreamIdempotencyScheme.READ_THEN_COMPLETE,
    iteratorAgeAlarmThreshold:
      props.iteratorAgeAlarmThreshold ?? minDuration(D.iteratorAgeAlarmThreshold, halfOf(maxRecordAge)),
    failureRecordRetention: props.failureRecordRetention ?? D.failureRecordRetention,
    onFailure: props.onFailure ?? defaultOnFailure,
  };
}

/** What the rules need to know of a stream source, and how its messages name it. */
export interface StreamSourceRules {
  /** The source as messages, alarms and acknowledgements name it: `Kinesis`, `DynamoDB Streams`. */
  readonly name: string;
  /** The starting positions Lambda accepts for this source. */
  readonly startingPositions: readonly StartingPosition[];
  /** How a message names the stream's retention: "the stream's retentionPeriod". */
  readonly retentionName: string;
  /** The retention as a term of the minimum idempotency expiry, e.g. `['retentionPeriod', 24 hours]`. */
  readonly retentionTerm: NamedDuration;
  /** Why the idempotency expiry must be at least the retention: the end of that rule's message. */
  readonly idempotencyExpiryWhy: string;
}

/** `idempotencyScheme` is one of {@link StreamIdempotencyScheme} (a JavaScript caller or a cast can pass any). */
export function idempotencySchemeCheck(scope: IConstruct, scheme: string | undefined): Check {
  const schemes: readonly string[] = Object.values(StreamIdempotencyScheme);
  return () => {
    if (scheme !== undefined && !schemes.includes(scheme)) {
      throw new ConfigurationError(
        scope,
        'idempotencyScheme',
        `must be one of ${schemes.map((s) => `'${s}'`).join(', ')}, got '${String(scheme)}'.`,
      );
    }
  };
}

/** The settings of a stream event source mapping that {@link streamMappingChecks} checks, as given. */
export interface StreamMappingCheckedProps {
  readonly batchSize?: number;
  readonly maxBatchingWindow?: Duration;
  readonly parallelizationFactor?: number;
  /** Only for a source that accepts `StartingPosition.AT_TIMESTAMP` (Kinesis). */
  readonly startingPositionTimestamp?: number;
}

/**
 * The event source mapping's rules, in this order: finite retries within 0 to 10,000; the record age within 60
 * seconds to 7 days and no longer than the stream keeps a record; the batch size, the batching window and the
 * parallelization factor within their ranges; a starting position the source accepts (and its timestamp); the
 * failure records' retention; the idempotency expiry at least the stream's retention.
 */
export function streamMappingChecks(
  scope: IConstruct,
  source: StreamSourceRules,
  props: StreamMappingCheckedProps,
  resolved: ResolvedStreamSettings,
): Check[] {
  const L = STREAM_MAPPING_LIMITS;
  const { maxRecordAge, retentionPeriod, startingPosition } = resolved;
  return [
    () => {
      if (!Token.isUnresolved(resolved.retryAttempts) && resolved.retryAttempts === -1) {
        throw new ConfigurationError(
          scope,
          'retryAttempts',
          'must be finite (0 to 10000), got -1 (infinite). Infinite retries hold a poison record, and every later ' +
            'record of its shard, until it leaves the stream (up to the retention); this template insists that a ' +
            'failing batch reaches the on-failure destination after a bounded number of attempts so the shard moves on.',
        );
      }
      assertIntegerInRange(
        scope,
        'retryAttempts',
        resolved.retryAttempts,
        L.retryAttempts.min,
        L.retryAttempts.max,
        'Lambda retries a failing stream batch at most 10000 times',
      );
    },
    () =>
      assertDurationInRange(
        scope,
        'maxRecordAge',
        maxRecordAge,
        L.maxRecordAge.min,
        L.maxRecordAge.max,
        "Lambda's MaximumRecordAgeInSeconds range; infinite (-1) is not offered for the same reason as infinite retries",
      ),
    () => {
      if (
        !maxRecordAge.isUnresolved() &&
        !retentionPeriod.isUnresolved() &&
        maxRecordAge.toSeconds() > retentionPeriod.toSeconds()
      ) {
        throw new ConfigurationError(
          scope,
          'maxRecordAge',
          `must not exceed ${source.retentionName} (${describeDuration(retentionPeriod)}), got ` +
            `${describeDuration(maxRecordAge)}: records would leave the stream before Lambda gives up on ` +
            'them, and then nothing reaches the on-failure destination and nothing can be replayed.',
        );
      }
    },
    () => assertIntegerInRange(scope, 'batchSize', props.batchSize, L.batchSize.min, L.batchSize.max),
    () =>
      assertDurationInRange(
        scope,
        'maxBatchingWindow',
        props.maxBatchingWindow,
        L.maxBatchingWindow.min,
        L.maxBatchingWindow.max,
      ),
    () =>
      assertIntegerInRange(
        scope,
        'parallelizationFactor',
        props.parallelizationFactor,
        L.parallelizationFactor.min,
        L.parallelizationFactor.max,
      ),
    () => {
      if (!source.startingPositions.includes(startingPosition)) {
        throw new ConfigurationError(
          scope,
          'startingPosition',
          `must be ${source.startingPositions.join(' or ')} for a ${source.name} event source mapping, got ` +
            `${startingPosition} (the positions Lambda accepts for this source).`,
        );
      }
      if (!source.startingPositions.includes(StartingPosition.AT_TIMESTAMP)) return;
      if (
        startingPosition === StartingPosition.AT_TIMESTAMP &&
        props.startingPositionTimestamp === undefined
      ) {
        throw new ConfigurationError(
          scope,
          'startingPositionTimestamp',
          'is required with StartingPosition.AT_TIMESTAMP (Unix time in seconds).',
        );
      }
      if (
        startingPosition !== StartingPosition.AT_TIMESTAMP &&
        props.startingPositionTimestamp !== undefined
      ) {
        throw new ConfigurationError(
          scope,
          'startingPositionTimestamp',
          `only applies with StartingPosition.AT_TIMESTAMP, but startingPosition is ${startingPosition}.`,
        );
      }
    },
    () =>
      assertDurationInRange(
        scope,
        'failureRecordRetention',
        resolved.failureRecordRetention,
        L.failureRecordRetention.min,
        L.failureRecordRetention.max,
        'an SQS queue keeps messages from 60 seconds to 14 days',
      ),
    () =>
      assertDurationAtLeastSum(
        scope,
        'idempotencyExpiry',
        resolved.idempotencyExpiry,
        [source.retentionTerm],
        source.idempotencyExpiryWhy,
      ),
  ];
}

/** The IteratorAge alarm fires below `maxRecordAge` (and at 1 second at the least). */
export function iteratorAgeAlarmThresholdCheck(scope: IConstruct, resolved: ResolvedStreamSettings): Check {
  return () => {
    const { iteratorAgeAlarmThreshold: threshold, maxRecordAge } = resolved;
    if (!threshold.isUnresolved() && !maxRecordAge.isUnresolved()) {
      if (threshold.toSeconds() < 1 || threshold.toSeconds() >= maxRecordAge.toSeconds()) {
        throw new ConfigurationError(
          scope,
          'iteratorAgeAlarmThreshold',
          `must be at least 1 second and below maxRecordAge (${describeDuration(maxRecordAge)}), got ` +
            `${describeDuration(threshold)}: records older than maxRecordAge are discarded, so the alarm would ` +
            'fire only after the damage is done.',
        );
      }
    }
  };
}

/**
 * The settings both stream sources take, as aws-cdk-lib's `StreamEventSourceProps`: bisect on function error,
 * finite retries, the record age, partial batch responses (`ReportBatchItemFailures`, always), the on-failure
 * destination, the batch, the window, the parallelization factor, the starting position and the switch.
 */
export function streamEventSourceProps(
  props: StreamMappingOptions,
  resolved: ResolvedStreamSettings,
  onFailure: IEventSourceDlq,
): StreamEventSourceProps {
  const D = STREAM_MAPPING_DEFAULTS;
  return {
    startingPosition: resolved.startingPosition,
    batchSize: props.batchSize ?? D.batchSize,
    maxBatchingWindow: props.maxBatchingWindow ?? D.maxBatchingWindow,
    parallelizationFactor: props.parallelizationFactor ?? D.parallelizationFactor,
    bisectBatchOnError: props.bisectBatchOnError ?? true,
    retryAttempts: resolved.retryAttempts,
    maxRecordAge: resolved.maxRecordAge,
    reportBatchItemFailures: true,
    onFailure,
    enabled: props.enabled ?? true,
    // The mapping's own metrics (polled, filtered, handed to the function, failed, dropped, sent to the
    // destination): billed as custom metrics.
    metricsConfig: { metrics: [MetricType.EVENT_COUNT] },
  };
}

/**
 * The on-failure destination in `scope` (children `FailureQueue`, `OnFailureTopic`, `SnsManagedKey`,
 * `FailureBucket`, as needed): each created queue SSE-SQS and TLS only, the topic with the AWS managed SNS key and
 * every action denied without TLS, the bucket S3-managed, private, TLS only, expiring its objects.
 */
export function createStreamOnFailureDestination(
  scope: Construct,
  options: StreamOnFailureOptions,
  retention: Duration,
  removalPolicy: RemovalPolicy,
): StreamOnFailureDestination {
  const newQueue = (queueId: string) =>
    new Queue(scope, queueId, {
      encryption: QueueEncryption.SQS_MANAGED, // SSE-SQS: SNS can deliver to it (it cannot with alias/aws/sqs)
      enforceSSL: true,
      retentionPeriod: retention,
      removalPolicy,
    });
  switch (options.kind) {
    case 'topic': {
      const topic = options.topic ?? createOnFailureTopic(scope);
      const queue = newQueue('FailureQueue');
      topic.addSubscription(new SqsSubscription(queue, { rawMessageDelivery: true }));
      return { kind: 'topic', destinationArn: topic.topicArn, topic, queue };
    }
    case 'queue': {
      const queue = options.queue ?? newQueue('FailureQueue');
      return { kind: 'queue', destinationArn: queue.queueArn, queue };
    }
    case 'bucket': {
      const bucket =
        options.bucket ??
        new Bucket(scope, 'FailureBucket', {
          encryption: BucketEncryption.S3_MANAGED,
          enforceSSL: true,
          blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
          removalPolicy,
          lifecycleRules: [
            { expiration: Duration.days(Math.max(1, Math.ceil(retention.toDays({ integral: false })))) },
          ],
        });
      return { kind: 'bucket', destinationArn: bucket.bucketArn, bucket };
    }
  }
}

function createOnFailureTopic(scope: Construct): Topic {
  const topic = new Topic(scope, 'OnFailureTopic', {
    masterKey: Alias.fromAliasName(scope, 'SnsManagedKey', 'alias/aws/sns'),
  });
  // Every action without TLS is denied, not only publishing (`enforceSSL` covers sns:Publish alone).
  denyTopicAccessWithoutTls(topic);
  return topic;
}

/** The destination as the event source mapping takes it (S3 with least privilege). */
export function onFailureDlqOf(destination: StreamOnFailureDestination): IEventSourceDlq {
  if (destination.topic) return new SnsDlq(destination.topic);
  if (destination.bucket) return new LeastPrivilegeS3OnFailureDestination(destination.bucket);
  return new SqsDlq(destination.queue!);
}

/**
 * S3 as the on-failure destination with the two permissions Lambda documents for it (s3:PutObject on the
 * objects, s3:ListBucket on the bucket), instead of `S3OnFailureDestination`'s read-write grant.
 */
export class LeastPrivilegeS3OnFailureDestination implements IEventSourceDlq {
  constructor(private readonly bucket: IBucket) {}

  bind(_target: IEventSourceMapping, targetHandler: IFunction): DlqDestinationConfig {
    targetHandler.addToRolePolicy(
      new PolicyStatement({ actions: ['s3:PutObject'], resources: [this.bucket.arnForObjects('*')] }),
    );
    targetHandler.addToRolePolicy(
      new PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }),
    );
    this.bucket.encryptionKey?.grantEncrypt(targetHandler);
    return { destination: this.bucket.bucketArn };
  }
}

/** How a path's alarms describe it. */
export interface StreamAlarmTexts {
  /** The consumer as the alarm descriptions name it: `Stream consumer`, `Table stream consumer`. */
  readonly consumerLabel: string;
  /** What the operator does with a failure record (the failure queue alarm's last sentence). */
  readonly failureRecordAdvice: string;
}

/** What {@link createStreamAlarms} needs of a stream path beyond its destination and settings. */
export interface StreamAlarmSubjects {
  readonly function: IFunction;
  readonly eventSourceMappingId: string;
  readonly timeout: Duration;
  /** The concurrency the function can reach, and how the description names it. */
  readonly concurrencyCap: number;
  readonly capName: string;
  /** The tables the function writes or reads (throttling on each alarms). */
  readonly tables: readonly { readonly id: string; readonly table: ITable; readonly name: string }[];
}

/**
 * Every alarm of a stream path (lib/constructs/alarms.ts): `IteratorAgeAlarm` (Maximum over 1 minute above the
 * threshold for 3 minutes); when a queue keeps the failure records, `FailureQueueAlarm` (at least one visible
 * message), its age and its arrivals (Lambda sends to it, so `NumberOfMessagesSent` counts them); a topic
 * destination's delivery failures; the mapping's failed, dropped and destination-delivered records; Lambda's
 * `DestinationDeliveryFailures`; the function's errors, throttles, duration and concurrency; throttling on each
 * table. All notify `options.alarmTopic` when given.
 */
export function createStreamAlarms(
  scope: Construct,
  subjects: StreamAlarmSubjects,
  destination: StreamOnFailureDestination,
  resolved: ResolvedStreamSettings,
  texts: StreamAlarmTexts,
  options: AlarmOptions,
): StreamConsumerAlarms {
  const alarms = new PathAlarms(scope, { ...options, label: texts.consumerLabel });
  const fn = subjects.function;
  const iteratorAge = alarms.iteratorAge(fn, resolved.iteratorAgeAlarmThreshold, resolved.maxRecordAge);
  const queue = destination.queue;
  const failureQueue = queue
    ? alarms.failureStore('FailureQueue', queue, {
        name: 'the failure queue',
        why: `Lambda gave up on a batch and sent its failure record there. ${texts.failureRecordAdvice}`,
        retention: resolved.failureRecordRetention,
        arrivals: true,
        messagesAlarmId: 'FailureQueueAlarm',
      })
    : undefined;
  if (destination.topic) {
    alarms.snsDeliveryFailures(
      'OnFailureTopic',
      destination.topic,
      'failure records did not reach a subscriber (the failure queue, or your own); SNS retries SQS deliveries for days.',
    );
  }
  alarms.failedRecords(subjects.eventSourceMappingId, 'the on-failure destination');
  alarms.streamRecordAlarms(subjects.eventSourceMappingId);
  alarms.destinationDeliveryFailures(
    fn,
    'the failure record is lost, and with a queue or topic destination only the stream still has the records, ' +
      'until its retention ends.',
  );
  alarms.functionAlarms(fn, {
    timeout: subjects.timeout,
    concurrencyCap: subjects.concurrencyCap,
    capName: subjects.capName,
  });
  for (const { id, table, name } of subjects.tables) alarms.tableThrottles(id, table, name);
  return { iteratorAge, failureQueueNotEmpty: failureQueue?.messages, all: alarms.all };
}

/** The checks of a stream path's alarm thresholds: ranges, and the failure queue's age below its retention. */
export function streamAlarmChecks(
  scope: IConstruct,
  options: AlarmOptions,
  resolved: ResolvedStreamSettings,
): Check[] {
  const t = options.alarmThresholds ?? {};
  return [
    ...alarmThresholdChecks(scope, t),
    ageBelowCheck(
      scope,
      'alarmThresholds.failureStoreMessageAge',
      t.failureStoreMessageAge,
      resolved.failureRecordRetention,
      'failureRecordRetention',
    ),
  ];
}

/** The flow of a stream path on the stage dashboard (lib/constructs/dashboard.ts). */
export function streamFlow(
  title: string,
  summary: string,
  subjects: Pick<StreamAlarmSubjects, 'function' | 'eventSourceMappingId'> & {
    readonly destination: StreamOnFailureDestination;
    readonly in: readonly IMetric[];
  },
  business: readonly IMetric[],
): PathFlow {
  const esm = (name: Parameters<typeof eventSourceMappingMetric>[1]) =>
    eventSourceMappingMetric(subjects.eventSourceMappingId, name);
  const queue = subjects.destination.queue;
  return {
    title,
    summary,
    in: subjects.in,
    processed: [
      line(esm('PolledEventCount'), 'polled'),
      line(esm('FilteredOutEventCount'), 'filtered out'),
      line(esm('InvokedEventCount'), 'handed to the function'),
    ],
    failed: mappingFailedLines(subjects.eventSourceMappingId, subjects.function),
    failureStores: [
      line(esm('OnFailureDestinationDeliveredEventCount'), 'sent to the destination'),
      line(esm('DroppedEventCount'), 'dropped'),
      ...(queue
        ? [line(queue.metricApproximateNumberOfMessagesVisible(), 'in the failure queue', Stats.MAXIMUM)]
        : []),
    ],
    age: [line(subjects.function.metric('IteratorAge'), 'iterator age (ms)', Stats.MAXIMUM)],
    business,
  };
}

/**
 * The cdk-nag findings every stream consumer has, each acknowledged on its resource with the reason: the function
 * DLQ rule (a mapping invokes synchronously), the failure queue's own DLQ rules (it is the end of the failure
 * path), the AWS managed SNS key's wildcard (a created topic), the topic's subscription DLQ rule, and the S3
 * destination's object wildcard. `failureRecordsReadBy` names what reads the failure queue, when a tool does.
 */
export function acknowledgeStreamConsumerNagFindings(
  scope: IConstruct,
  fn: IFunction,
  destination: StreamOnFailureDestination,
  onFailure: StreamOnFailureOptions,
  source: Pick<StreamSourceRules, 'name'> & { readonly failureRecordsReadBy?: string },
): void {
  Validations.of(fn).acknowledge({
    id: 'Serverless-LambdaDLQ',
    reason:
      `A function dead-letter queue only receives failed asynchronous invocations; the ${source.name} event source ` +
      "mapping invokes synchronously and sends failed batches to the mapping's on-failure destination instead.",
  });
  const queue = destination.queue;
  if (queue instanceof Queue) {
    Validations.of(queue).acknowledge(
      {
        id: 'AwsSolutions-SQS3',
        reason:
          'This queue is itself the end of the failure path (it keeps on-failure records for an operator); a DLQ ' +
          'behind it would only move unread failure records somewhere less visible.',
      },
      {
        id: 'Serverless-SQSRedrivePolicy',
        reason:
          'This queue is itself the end of the failure path (it keeps on-failure records for an operator' +
          `${source.failureRecordsReadBy ? `, read by ${source.failureRecordsReadBy}` : ''}); a redrive policy ` +
          'would move them away after a few reads.',
      },
    );
  }
  if (onFailure.kind === 'topic' && !onFailure.topic) {
    // The default topic is encrypted with the AWS managed key, whose id is unknown at synth time: CDK grants
    // the publisher kms:GenerateDataKey*/Decrypt on `key/*` limited by `kms:ResourceAliases = alias/aws/sns`.
    // The statement is in the function role's default policy.
    Validations.of(fn.role!).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
        reason:
          'CDK grants GenerateDataKey* to publish to the SSE topic; it is limited to the AWS managed SNS key by the ' +
          'kms:ResourceAliases condition.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:<AWS::Region>:<AWS::AccountId>:key/*]',
        reason:
          'The AWS managed key alias/aws/sns has no id known at synth time; the statement is limited to it by the ' +
          'kms:ResourceAliases condition.',
      },
    );
  }
  if (destination.kind === 'topic' && queue) {
    Validations.of(scope).acknowledge({
      id: 'Serverless-SNSRedrivePolicy',
      reason:
        'The only subscription is the failure queue in the same account: SNS retries SQS deliveries with its ' +
        'managed policy (100,015 attempts over 23 days), and the queue uses SSE-SQS so no key policy can block ' +
        'delivery; a subscription DLQ would be a second copy of the same queue.',
    });
  }
  const bucket = destination.bucket;
  if (bucket) {
    Validations.of(fn.role!).acknowledge({
      // The finding names the resource as cdk-nag flattens it, e.g. `<FailureBucket1234.Arn>/*`.
      id: `AwsSolutions-IAM5[Resource::${flattenCfnReference(Stack.of(scope).resolve(bucket.arnForObjects('*')))}]`,
      reason:
        'Lambda names the failure objects itself; s3:PutObject is granted on the objects of this one bucket.',
    });
    if (bucket instanceof Bucket) {
      Validations.of(bucket).acknowledge({
        id: 'AwsSolutions-S1',
        reason:
          'Only the event source mapping writes here (through the function role) and an operator reads; CloudTrail ' +
          'data events are the audit trail where required, without a second bucket to run.',
      });
    }
  }
}

/** Half a duration, in whole seconds (at least 1). */
function halfOf(duration: Duration): Duration {
  if (duration.isUnresolved()) return duration;
  return Duration.seconds(Math.max(1, Math.floor(duration.toSeconds({ integral: false }) / 2)));
}

function minDuration(a: Duration, b: Duration): Duration {
  if (a.isUnresolved() || b.isUnresolved()) return a;
  return a.toSeconds() <= b.toSeconds() ? a : b;
}
