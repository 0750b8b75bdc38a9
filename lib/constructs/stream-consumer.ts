import * as path from 'node:path';
import { Duration, Names, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import {
  IStream,
  StreamConsumer as KinesisStreamConsumer,
  Stream,
  StreamEncryption,
  StreamMode,
} from 'aws-cdk-lib/aws-kinesis';
import { Alias, IKey } from 'aws-cdk-lib/aws-kms';
import {
  DlqDestinationConfig,
  IEventSourceDlq,
  IEventSourceMapping,
  IFunction,
  StartingPosition,
} from 'aws-cdk-lib/aws-lambda';
import {
  KinesisConsumerEventSource,
  KinesisEventSource,
  KinesisEventSourceProps,
  SnsDlq,
  SqsDlq,
} from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { BlockPublicAccess, Bucket, BucketEncryption, IBucket } from 'aws-cdk-lib/aws-s3';
import { ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { SqsSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { IQueue, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
// cdk-nag's own formatting of a resource in a finding id, so the acknowledgement matches the finding exactly.
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
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
import { denyTopicAccessWithoutTls } from './tls';

/** Limits of Kinesis Data Streams and of Lambda's Kinesis event source mapping (AWS API reference). */
export const STREAM_LIMITS = {
  retentionPeriod: { min: Duration.hours(24), max: Duration.hours(8760) },
  retryAttempts: { min: 0, max: 10_000 },
  maxRecordAge: { min: Duration.seconds(60), max: Duration.seconds(604_800) },
  batchSize: { min: 1, max: 10_000 },
  maxBatchingWindow: { min: Duration.seconds(0), max: Duration.seconds(300) },
  parallelizationFactor: { min: 1, max: 10 },
  shardCount: { min: 1, max: 10_000 },
  /** An SQS queue keeps a message from 60 seconds to 14 days. */
  failureRecordRetention: { min: Duration.seconds(60), max: Duration.days(14) },
} as const;

/** The defaults of this template, each explained on its prop. */
export const STREAM_DEFAULTS = {
  retentionPeriod: Duration.hours(24),
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
 * How the stream consumer records that a reading was applied (`IDEMPOTENCY_SCHEME` of the function; the handler
 * side is lambda/shared/serial-key-persistence.ts). Both are Powertools idempotency keyed by the reading's
 * `eventId`, with the same stored results and expiry; they differ in what they write per record.
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

/** The alarms every stream consumer ships with. Add actions (an SNS topic, a pager) in your stack. */
export interface StreamConsumerAlarms {
  /** IteratorAge (Maximum, 1 minute) above the threshold for 3 minutes: a shard is blocked or falling behind. */
  readonly iteratorAge: Alarm;
  /** The failure queue holds at least one failure record: a batch was given up on and needs an operator. */
  readonly failureQueueNotEmpty?: Alarm;
}

export interface StreamConsumerProps extends ConsumerFunctionOptions {
  /** The table the handler's idempotency records go to. */
  readonly idempotencyTable: IdempotencyTable;
  /**
   * The table the business action's effects are written to, in the same DynamoDB transaction as the
   * idempotency record (one item per sensor and metric); `UpdateItem` on it is granted.
   */
  readonly effectTable: EffectTable;
  /**
   * The handler's `index.ts` (its `handler` export is the entry point), for a fork with its own domain.
   * @default lambda/stream-consumer/index.ts of this repository
   */
  readonly entry?: string;

  /**
   * An existing stream to consume. When set, the stream-shaping props (`shardCount`, `encryptionKey`) must not
   * be; `retentionPeriod` then states the existing stream's retention, which the checks below rely on.
   * @default a new stream is created
   */
  readonly stream?: IStream;
  /**
   * Shards of a new stream in provisioned mode (1 MB/s or 1000 records/s of writes each).
   * @default undefined: on-demand mode, which scales shards with the traffic and needs no capacity planning
   */
  readonly shardCount?: number;
  /**
   * How long the stream keeps records: 24 to 8760 hours. Also the window in which a failure record on the
   * destination can still be replayed (the destination names the records, only S3 holds their data), and so
   * the default and minimum `idempotencyExpiry`. For an existing stream, state its retention here.
   * @default Duration.hours(24) (the stream's free retention)
   */
  readonly retentionPeriod?: Duration;
  /**
   * A customer managed KMS key for a new stream. cdk-nag's KDS3 warns that customer managed keys add cost per
   * producer and consumer call; set one only when compliance requires it.
   * @default the AWS managed key `alias/aws/kinesis` (encrypted, no key to manage, no extra KMS cost)
   */
  readonly encryptionKey?: IKey;
  /**
   * What happens to a stream, failure queue and bucket created here on `cdk destroy`.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

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
   * Records older than this are not sent to the function but to the on-failure destination: 60 seconds to
   * 7 days, and no longer than `retentionPeriod`. Bounds how long throttling or outages hold a shard back.
   * @default Duration.hours(1): the IteratorAge alarm fires long before; a discarded record can still be
   *   replayed from the stream for the remaining 23 hours of the default retention
   */
  readonly maxRecordAge?: Duration;
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
   * Where a new event source mapping starts reading.
   * @default StartingPosition.TRIM_HORIZON: the oldest record still in the stream, so nothing written before
   *   the mapping existed (e.g. between stream creation and the first deploy of the function) is skipped
   */
  readonly startingPosition?: StartingPosition;
  /**
   * Start time (Unix seconds) for `StartingPosition.AT_TIMESTAMP`; required with it, refused otherwise.
   * @default none
   */
  readonly startingPositionTimestamp?: number;
  /**
   * Concurrent batches per shard: 1 to 10. Lambda keeps order per partition key at any factor; above 1 the
   * order across keys of a shard is no longer kept.
   * @default 1
   */
  readonly parallelizationFactor?: number;
  /**
   * Whether the event source mapping polls. Turn it off to pause consumption without losing the position.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * Read through a dedicated enhanced fan-out consumer (push over HTTP/2, 2 MB/s per shard for this function
   * alone, ~70 ms latency) instead of sharing the shard's 2 MB/s read throughput with other consumers.
   * Costs per consumer-shard-hour and per GB read.
   * @default false
   */
  readonly enhancedFanOut?: boolean;

  /**
   * The on-failure destination.
   * @default { kind: 'topic' } (the seeds' SNS topic) with a subscribed queue that keeps the records
   */
  readonly onFailure?: StreamOnFailureOptions;
  /**
   * How long a created failure queue keeps failure records (60 seconds to 14 days; for a created bucket the
   * lifecycle expiry, rounded up to whole days). Replaying needs the records to be in the stream still, so
   * act within `retentionPeriod` - `maxRecordAge`; the longer retention keeps the evidence.
   * @default Duration.days(14) (the SQS maximum)
   */
  readonly failureRecordRetention?: Duration;

  /**
   * Where both alarms notify (alarm action).
   * @default no action: the alarms are visible in CloudWatch only
   */
  readonly alarmTopic?: ITopic;
  /**
   * IteratorAge above which the alarm fires; must be below `maxRecordAge`, or records are discarded before
   * anyone hears of it.
   * @default Duration.minutes(5), or half of `maxRecordAge` if that is shorter
   */
  readonly iteratorAgeAlarmThreshold?: Duration;

  /**
   * How long an idempotency record protects a reading: at least `retentionPeriod` (a shorter value fails synth),
   * within 1 minute to 365 days (Kinesis's longest retention). Anything still in the stream can be delivered
   * again: by Lambda's retries until `maxRecordAge` (at most the retention), by a replay (`npm run replay`), or
   * by an event source mapping re-created at `TRIM_HORIZON`; a reading whose record expired first would apply
   * its effect a second time. A record is written when the reading is processed, after it entered the stream,
   * so the retention alone covers the last delivery, however long it runs. Storage: an idempotency record is
   * ≈200 bytes, so 1 million readings a day kept 1 day is ≈0.2 GB, ≈$0.05 a month at DynamoDB's $0.25 per
   * GB-month (us-east-1, standard table class), and kept 365 days ≈73 GB, ≈$18.25 a month.
   * @default `retentionPeriod` (1 day with the default retention)
   */
  readonly idempotencyExpiry?: Duration;
  /**
   * What the handler writes to the idempotency table per record: see {@link StreamIdempotencyScheme}. Switching
   * is safe at any time: each scheme honours the other's records.
   * @default StreamIdempotencyScheme.READ_THEN_COMPLETE: cheaper, and a crash leaves no claim that blocks the
   *   stream's retries; exactly-once either way (the commit is conditional)
   */
  readonly idempotencyScheme?: StreamIdempotencyScheme;
}

/**
 * The stream path: a Kinesis data stream (encrypted, on-demand by default) consumed by a Powertools batch +
 * idempotency handler through an event source mapping with the seeds' failure handling: bisect on error,
 * bounded retries, a maximum record age, partial batch responses and an on-failure destination that keeps
 * the failure records for an operator; alarms on IteratorAge and on the failure queue.
 */
export class StreamConsumer extends Construct {
  /** The stream consumed (created here unless one was passed). */
  readonly stream: IStream;
  /** The consumer function. */
  readonly function: NodejsFunction;
  /** The event source mapping's source (classic polling, or enhanced fan-out). */
  readonly eventSource: KinesisEventSource | KinesisConsumerEventSource;
  /** The enhanced fan-out consumer, when `enhancedFanOut` is on. */
  readonly streamConsumer?: KinesisStreamConsumer;
  /** Where failure records go, and the queue that keeps them. */
  readonly onFailureDestination: StreamOnFailureDestination;
  /** IteratorAge and failure-queue alarms. */
  readonly alarms: StreamConsumerAlarms;
  /** The settings as resolved (defaults applied), for outputs and documentation. */
  readonly settings: {
    readonly retentionPeriod: Duration;
    readonly maxRecordAge: Duration;
    readonly retryAttempts: number;
    readonly idempotencyExpiry: Duration;
    readonly idempotencyScheme: StreamIdempotencyScheme;
  };

  constructor(scope: Construct, id: string, props: StreamConsumerProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const retentionPeriod = props.retentionPeriod ?? STREAM_DEFAULTS.retentionPeriod;
    const maxRecordAge = props.maxRecordAge ?? STREAM_DEFAULTS.maxRecordAge;
    const retryAttempts = props.retryAttempts ?? STREAM_DEFAULTS.retryAttempts;
    const timeout = props.timeout ?? DEFAULT_TIMEOUT;
    const idempotencyExpiry = props.idempotencyExpiry ?? retentionPeriod;
    const iteratorAgeAlarmThreshold =
      props.iteratorAgeAlarmThreshold ??
      minDuration(STREAM_DEFAULTS.iteratorAgeAlarmThreshold, halfOf(maxRecordAge));
    const failureRecordRetention = props.failureRecordRetention ?? STREAM_DEFAULTS.failureRecordRetention;
    const idempotencyScheme = props.idempotencyScheme ?? StreamIdempotencyScheme.READ_THEN_COMPLETE;

    this.validate(props, {
      retentionPeriod,
      maxRecordAge,
      retryAttempts,
      timeout,
      idempotencyExpiry,
      iteratorAgeAlarmThreshold,
      failureRecordRetention,
    });
    this.settings = { retentionPeriod, maxRecordAge, retryAttempts, idempotencyExpiry, idempotencyScheme };

    this.stream = props.stream ?? this.createStream(props, retentionPeriod, removalPolicy);

    const consumer = new ConsumerFunction(this, 'Consumer', {
      entry: props.entry ?? path.join(__dirname, '..', '..', 'lambda', 'stream-consumer', 'index.ts'),
      serviceName: 'stream-consumer',
      description:
        'Stream path: Kinesis records, one after the other per partition key, idempotent per event id',
      idempotencyTable: props.idempotencyTable,
      effectTable: props.effectTable,
      timeout,
      memorySize: props.memorySize,
      idempotencyExpiry,
      logLevel: props.logLevel,
      logRetention: props.logRetention,
      environment: { IDEMPOTENCY_SCHEME: idempotencyScheme },
    });
    this.function = consumer.function;

    this.onFailureDestination = this.createOnFailureDestination(
      props.onFailure ?? { kind: 'topic' },
      failureRecordRetention,
      removalPolicy,
    );

    const sourceProps: KinesisEventSourceProps = {
      startingPosition: props.startingPosition ?? STREAM_DEFAULTS.startingPosition,
      startingPositionTimestamp: props.startingPositionTimestamp,
      batchSize: props.batchSize ?? STREAM_DEFAULTS.batchSize,
      maxBatchingWindow: props.maxBatchingWindow ?? STREAM_DEFAULTS.maxBatchingWindow,
      parallelizationFactor: props.parallelizationFactor ?? STREAM_DEFAULTS.parallelizationFactor,
      bisectBatchOnError: props.bisectBatchOnError ?? true,
      retryAttempts,
      maxRecordAge,
      reportBatchItemFailures: true,
      onFailure: this.onFailureDlq(),
      enabled: props.enabled ?? true,
    };
    if (props.enhancedFanOut) {
      this.streamConsumer = new KinesisStreamConsumer(this, 'EnhancedFanOutConsumer', {
        stream: this.stream,
        streamConsumerName: Names.uniqueResourceName(this, { maxLength: 128, separator: '-' }),
      });
      this.eventSource = new KinesisConsumerEventSource(this.streamConsumer, sourceProps);
    } else {
      this.eventSource = new KinesisEventSource(this.stream, sourceProps);
    }
    this.function.addEventSource(this.eventSource);

    this.alarms = this.createAlarms(iteratorAgeAlarmThreshold, maxRecordAge);
    if (props.alarmTopic) {
      const action = new SnsAction(props.alarmTopic);
      this.alarms.iteratorAge.addAlarmAction(action);
      this.alarms.failureQueueNotEmpty?.addAlarmAction(action);
    }
    this.acknowledgeNagFindings(props);
  }

  /** Every rule of the props; `validateAll` reports every broken one at once. */
  private validate(
    props: StreamConsumerProps,
    resolved: {
      retentionPeriod: Duration;
      maxRecordAge: Duration;
      retryAttempts: number;
      timeout: Duration;
      idempotencyExpiry: Duration;
      iteratorAgeAlarmThreshold: Duration;
      failureRecordRetention: Duration;
    },
  ): void {
    const L = STREAM_LIMITS;
    const schemes: readonly string[] = Object.values(StreamIdempotencyScheme);
    const { idempotencyExpiry, maxRecordAge, retentionPeriod } = resolved;
    const startingPosition = props.startingPosition ?? STREAM_DEFAULTS.startingPosition;
    const checks: Check[] = [
      () => {
        if (props.idempotencyScheme !== undefined && !schemes.includes(props.idempotencyScheme)) {
          throw new ConfigurationError(
            this,
            'idempotencyScheme',
            `must be one of ${schemes.map((s) => `'${s}'`).join(', ')}, got '${String(props.idempotencyScheme)}'.`,
          );
        }
      },
      () => {
        if (props.stream && props.shardCount !== undefined) {
          throw new ConfigurationError(
            this,
            'shardCount',
            'only applies to a stream created here; an existing stream (`stream`) keeps its own capacity.',
          );
        }
      },
      () => {
        if (props.stream && props.encryptionKey) {
          throw new ConfigurationError(
            this,
            'encryptionKey',
            'only applies to a stream created here; an existing stream (`stream`) keeps its own encryption.',
          );
        }
      },
      () => assertIntegerInRange(this, 'shardCount', props.shardCount, L.shardCount.min, L.shardCount.max),
      () =>
        assertDurationInRange(
          this,
          'retentionPeriod',
          retentionPeriod,
          L.retentionPeriod.min,
          L.retentionPeriod.max,
          'Kinesis keeps records from 24 hours to 365 days',
        ),
      () => {
        if (!Token.isUnresolved(resolved.retryAttempts) && resolved.retryAttempts === -1) {
          throw new ConfigurationError(
            this,
            'retryAttempts',
            'must be finite (0 to 10000), got -1 (infinite). Infinite retries hold a poison record, and every later ' +
              'record of its shard, until it leaves the stream (up to the retention); this template insists that a ' +
              'failing batch reaches the on-failure destination after a bounded number of attempts so the shard moves on.',
          );
        }
        assertIntegerInRange(
          this,
          'retryAttempts',
          resolved.retryAttempts,
          L.retryAttempts.min,
          L.retryAttempts.max,
          'Lambda retries a failing stream batch at most 10000 times',
        );
      },
      () =>
        assertDurationInRange(
          this,
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
            this,
            'maxRecordAge',
            `must not exceed the stream's retentionPeriod (${describeDuration(retentionPeriod)}), got ` +
              `${describeDuration(maxRecordAge)}: records would leave the stream before Lambda gives up on ` +
              'them, and then nothing reaches the on-failure destination and nothing can be replayed.',
          );
        }
      },
      () => assertIntegerInRange(this, 'batchSize', props.batchSize, L.batchSize.min, L.batchSize.max),
      () =>
        assertDurationInRange(
          this,
          'maxBatchingWindow',
          props.maxBatchingWindow,
          L.maxBatchingWindow.min,
          L.maxBatchingWindow.max,
        ),
      () =>
        assertIntegerInRange(
          this,
          'parallelizationFactor',
          props.parallelizationFactor,
          L.parallelizationFactor.min,
          L.parallelizationFactor.max,
        ),
      () => {
        if (
          startingPosition === StartingPosition.AT_TIMESTAMP &&
          props.startingPositionTimestamp === undefined
        ) {
          throw new ConfigurationError(
            this,
            'startingPositionTimestamp',
            'is required with StartingPosition.AT_TIMESTAMP (Unix time in seconds).',
          );
        }
        if (
          startingPosition !== StartingPosition.AT_TIMESTAMP &&
          props.startingPositionTimestamp !== undefined
        ) {
          throw new ConfigurationError(
            this,
            'startingPositionTimestamp',
            `only applies with StartingPosition.AT_TIMESTAMP, but startingPosition is ${startingPosition}.`,
          );
        }
      },
      () =>
        assertDurationInRange(
          this,
          'failureRecordRetention',
          resolved.failureRecordRetention,
          L.failureRecordRetention.min,
          L.failureRecordRetention.max,
          'an SQS queue keeps messages from 60 seconds to 14 days',
        ),
      () =>
        assertDurationAtLeastSum(
          this,
          'idempotencyExpiry',
          idempotencyExpiry,
          [['retentionPeriod', retentionPeriod]],
          'anything still in the stream can be delivered again: by a replay (npm run replay) or an event source ' +
            'mapping re-created at TRIM_HORIZON, as well as by Lambda retrying until maxRecordAge; a reading whose ' +
            'idempotency record expired first applies its effect twice. Raise idempotencyExpiry (or leave it unset: ' +
            'it is the retention), or shorten retentionPeriod.',
        ),
      ...consumerFunctionChecks(this, { ...props, timeout: resolved.timeout, idempotencyExpiry }),
      () => {
        const threshold = resolved.iteratorAgeAlarmThreshold;
        if (!threshold.isUnresolved() && !maxRecordAge.isUnresolved()) {
          if (threshold.toSeconds() < 1 || threshold.toSeconds() >= maxRecordAge.toSeconds()) {
            throw new ConfigurationError(
              this,
              'iteratorAgeAlarmThreshold',
              `must be at least 1 second and below maxRecordAge (${describeDuration(maxRecordAge)}), got ` +
                `${describeDuration(threshold)}: records older than maxRecordAge are discarded, so the alarm would ` +
                'fire only after the damage is done.',
            );
          }
        }
      },
    ];
    validateAll(this, checks);
  }

  private createStream(props: StreamConsumerProps, retentionPeriod: Duration, removalPolicy: RemovalPolicy) {
    return new Stream(this, 'Stream', {
      retentionPeriod,
      streamMode: props.shardCount === undefined ? StreamMode.ON_DEMAND : StreamMode.PROVISIONED,
      shardCount: props.shardCount,
      encryption: props.encryptionKey ? StreamEncryption.KMS : StreamEncryption.MANAGED,
      encryptionKey: props.encryptionKey,
      removalPolicy,
    });
  }

  private createOnFailureDestination(
    options: StreamOnFailureOptions,
    retention: Duration,
    removalPolicy: RemovalPolicy,
  ): StreamOnFailureDestination {
    const newQueue = (queueId: string) =>
      new Queue(this, queueId, {
        encryption: QueueEncryption.SQS_MANAGED, // SSE-SQS: SNS can deliver to it (it cannot with alias/aws/sqs)
        enforceSSL: true,
        retentionPeriod: retention,
        removalPolicy,
      });
    switch (options.kind) {
      case 'topic': {
        const topic = options.topic ?? this.createOnFailureTopic();
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
          new Bucket(this, 'FailureBucket', {
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

  private createOnFailureTopic(): Topic {
    const topic = new Topic(this, 'OnFailureTopic', {
      masterKey: Alias.fromAliasName(this, 'SnsManagedKey', 'alias/aws/sns'),
    });
    // Every action without TLS is denied, not only publishing (`enforceSSL` covers sns:Publish alone).
    denyTopicAccessWithoutTls(topic);
    return topic;
  }

  private onFailureDlq(): IEventSourceDlq {
    const destination = this.onFailureDestination;
    if (destination.topic) return new SnsDlq(destination.topic);
    if (destination.bucket) return new LeastPrivilegeS3OnFailureDestination(destination.bucket);
    return new SqsDlq(destination.queue!);
  }

  private createAlarms(threshold: Duration, maxRecordAge: Duration): StreamConsumerAlarms {
    const iteratorAge = new Alarm(this, 'IteratorAgeAlarm', {
      alarmDescription:
        `Stream consumer ${this.node.path}: the oldest record waiting is older than ` +
        `${describeDuration(threshold)}. A poison record is being retried or the function cannot keep up; ` +
        `records older than ${describeDuration(maxRecordAge)} go to the on-failure destination.`,
      metric: this.function.metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(1) }),
      threshold: threshold.toMilliseconds(),
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    const queue = this.onFailureDestination.queue;
    const failureQueueNotEmpty = queue
      ? new Alarm(this, 'FailureQueueAlarm', {
          alarmDescription:
            `Stream consumer ${this.node.path}: Lambda gave up on a batch and sent its failure record to the ` +
            'failure queue. Replay it with tools/replay-stream-failure.ts while the records are still in the stream.',
          metric: queue.metricApproximateNumberOfMessagesVisible({
            statistic: 'Maximum',
            period: Duration.minutes(1),
          }),
          threshold: 1,
          comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        })
      : undefined;
    return { iteratorAge, failureQueueNotEmpty };
  }

  private acknowledgeNagFindings(props: StreamConsumerProps): void {
    Validations.of(this.function).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason:
        'A function dead-letter queue only receives failed asynchronous invocations; the Kinesis event source ' +
        "mapping invokes synchronously and sends failed batches to the mapping's on-failure destination instead.",
    });
    const queue = this.onFailureDestination.queue;
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
            'This queue is itself the end of the failure path (it keeps on-failure records for an operator, read by ' +
            'tools/replay-stream-failure.ts); a redrive policy would move them away after a few reads.',
        },
      );
    }
    if (props.onFailure === undefined || (props.onFailure.kind === 'topic' && !props.onFailure.topic)) {
      // The default topic is encrypted with the AWS managed key, whose id is unknown at synth time: CDK grants
      // the publisher kms:GenerateDataKey*/Decrypt on `key/*` limited by `kms:ResourceAliases = alias/aws/sns`.
      // The statement is in the function role's default policy.
      Validations.of(this.function.role!).acknowledge(
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
    if (this.onFailureDestination.kind === 'topic' && queue) {
      Validations.of(this).acknowledge({
        id: 'Serverless-SNSRedrivePolicy',
        reason:
          'The only subscription is the failure queue in the same account: SNS retries SQS deliveries with its ' +
          'managed policy (100,015 attempts over 23 days), and the queue uses SSE-SQS so no key policy can block ' +
          'delivery; a subscription DLQ would be a second copy of the same queue.',
      });
    }
    const bucket = this.onFailureDestination.bucket;
    if (bucket) {
      Validations.of(this.function.role!).acknowledge({
        // The finding names the resource as cdk-nag flattens it, e.g. `<FailureBucket1234.Arn>/*`.
        id: `AwsSolutions-IAM5[Resource::${flattenCfnReference(Stack.of(this).resolve(bucket.arnForObjects('*')))}]`,
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
    if (props.encryptionKey) {
      Validations.of(this).acknowledge({
        id: 'AwsSolutions-KDS3',
        reason:
          'The caller passed a customer managed key on purpose (compliance); the default is alias/aws/kinesis.',
      });
    }
  }
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

/** Half a duration, in whole seconds (at least 1). */
function halfOf(duration: Duration): Duration {
  if (duration.isUnresolved()) return duration;
  return Duration.seconds(Math.max(1, Math.floor(duration.toSeconds({ integral: false }) / 2)));
}

function minDuration(a: Duration, b: Duration): Duration {
  if (a.isUnresolved() || b.isUnresolved()) return a;
  return a.toSeconds() <= b.toSeconds() ? a : b;
}
