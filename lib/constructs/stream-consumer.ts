import * as path from 'node:path';
import { Duration, Names, RemovalPolicy, Validations } from 'aws-cdk-lib';
import {
  IStream,
  StreamConsumer as KinesisStreamConsumer,
  Stream,
  StreamEncryption,
  StreamMode,
} from 'aws-cdk-lib/aws-kinesis';
import { IKey } from 'aws-cdk-lib/aws-kms';
import { StartingPosition } from 'aws-cdk-lib/aws-lambda';
import {
  KinesisConsumerEventSource,
  KinesisEventSource,
  KinesisEventSourceProps,
} from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { ALARM_DEFAULTS } from './alarms';
import { businessMetrics, line, type PathFlow } from './dashboard';
import {
  assertDurationInRange,
  assertIntegerInRange,
  type Check,
  ConfigurationError,
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
import {
  acknowledgeStreamConsumerNagFindings,
  createStreamAlarms,
  streamAlarmChecks,
  streamFlow,
  createStreamOnFailureDestination,
  idempotencySchemeCheck,
  iteratorAgeAlarmThresholdCheck,
  onFailureDlqOf,
  type ResolvedStreamSettings,
  resolveStreamSettings,
  STREAM_MAPPING_DEFAULTS,
  STREAM_MAPPING_LIMITS,
  streamEventSourceProps,
  StreamIdempotencyScheme,
  streamMappingChecks,
  type StreamConsumerAlarms,
  type StreamMappingOptions,
  type StreamOnFailureDestination,
  type StreamOnFailureOptions,
  type StreamSourceRules,
} from './stream-rules';

// The stream rules both stream paths share live in stream-rules.ts; re-exported here, where they were first.
export {
  LeastPrivilegeS3OnFailureDestination,
  StreamIdempotencyScheme,
  type StreamConsumerAlarms,
  type StreamOnFailureDestination,
  type StreamOnFailureOptions,
} from './stream-rules';

/** Limits of Kinesis Data Streams and of Lambda's Kinesis event source mapping (AWS API reference). */
export const STREAM_LIMITS = {
  retentionPeriod: { min: Duration.hours(24), max: Duration.hours(8760) },
  ...STREAM_MAPPING_LIMITS,
  shardCount: { min: 1, max: 10_000 },
} as const;

/** The defaults of this template, each explained on its prop. */
export const STREAM_DEFAULTS = {
  retentionPeriod: Duration.hours(24),
  ...STREAM_MAPPING_DEFAULTS,
} as const;

/** Why a reading's idempotency record must outlive the stream's retention (the end of that rule's message). */
const IDEMPOTENCY_EXPIRY_WHY =
  'anything still in the stream can be delivered again: by a replay (npm run replay) or an event source ' +
  'mapping re-created at TRIM_HORIZON, as well as by Lambda retrying until maxRecordAge; a reading whose ' +
  'idempotency record expired first applies its effect twice. Raise idempotencyExpiry (or leave it unset: ' +
  'it is the retention), or shorten retentionPeriod.';

export interface StreamConsumerProps extends ConsumerFunctionOptions, StreamMappingOptions {
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
   * Records older than this are not sent to the function but to the on-failure destination: 60 seconds to
   * 7 days, and no longer than `retentionPeriod`. Bounds how long throttling or outages hold a shard back.
   * @default Duration.hours(1): the IteratorAge alarm fires long before; a discarded record can still be
   *   replayed from the stream for the remaining 23 hours of the default retention
   */
  readonly maxRecordAge?: Duration;
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
  /** Every alarm of the path; IteratorAge and failure-queue alarms by name. */
  readonly alarms: StreamConsumerAlarms;
  /** The path's row of the stage dashboard (lib/constructs/dashboard.ts). */
  readonly flow: PathFlow;
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
    const timeout = props.timeout ?? DEFAULT_TIMEOUT;
    const resolved = resolveStreamSettings(props, retentionPeriod, { kind: 'topic' });
    const { maxRecordAge, retryAttempts, idempotencyExpiry, idempotencyScheme } = resolved;

    this.validate(props, resolved, timeout);
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
      metricsNamespace: props.metricsNamespace,
      environment: { IDEMPOTENCY_SCHEME: idempotencyScheme },
    });
    this.function = consumer.function;

    this.onFailureDestination = createStreamOnFailureDestination(
      this,
      resolved.onFailure,
      resolved.failureRecordRetention,
      removalPolicy,
    );

    const sourceProps: KinesisEventSourceProps = {
      ...streamEventSourceProps(props, resolved, onFailureDlqOf(this.onFailureDestination)),
      startingPositionTimestamp: props.startingPositionTimestamp,
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

    const eventSourceMappingId = this.eventSource.eventSourceMappingId;
    // A provisioned stream created here runs at most shards × parallelization factor batches at once; an on-demand or
    // existing stream's shards are not known at synth time: the account's quota is the cap then.
    const concurrencyCap =
      props.stream === undefined && props.shardCount !== undefined
        ? props.shardCount * (props.parallelizationFactor ?? STREAM_MAPPING_DEFAULTS.parallelizationFactor)
        : ALARM_DEFAULTS.accountConcurrency;
    this.alarms = createStreamAlarms(
      this,
      {
        function: this.function,
        eventSourceMappingId,
        timeout,
        concurrencyCap,
        capName:
          props.stream === undefined && props.shardCount !== undefined
            ? 'shards × parallelizationFactor'
            : "the account's concurrency quota (Lambda's default)",
        tables: [
          { id: 'IdempotencyTable', table: props.idempotencyTable.table, name: 'the idempotency table' },
          { id: 'EffectTable', table: props.effectTable.table, name: 'the effect table' },
        ],
      },
      this.onFailureDestination,
      resolved,
      {
        consumerLabel: 'Stream consumer',
        failureRecordAdvice:
          'Replay it with tools/replay-stream-failure.ts while the records are still in the stream.',
      },
      props,
    );
    this.flow = streamFlow(
      'Kinesis → Lambda (StreamConsumer)',
      'Records put on the stream, read per shard in order; a batch Lambda gives up on goes to the on-failure destination.',
      {
        function: this.function,
        eventSourceMappingId,
        destination: this.onFailureDestination,
        in: [line(this.stream.metricIncomingRecords(), 'put on the stream')],
      },
      businessMetrics(consumer.metricsNamespace, consumer.serviceName),
    );
    acknowledgeStreamConsumerNagFindings(this, this.function, this.onFailureDestination, resolved.onFailure, {
      name: 'Kinesis',
      failureRecordsReadBy: 'tools/replay-stream-failure.ts',
    });
    if (props.encryptionKey) {
      Validations.of(this).acknowledge({
        id: 'AwsSolutions-KDS3',
        reason:
          'The caller passed a customer managed key on purpose (compliance); the default is alias/aws/kinesis.',
      });
    }
  }

  /** Every rule of the props; `validateAll` reports every broken one at once. */
  private validate(props: StreamConsumerProps, resolved: ResolvedStreamSettings, timeout: Duration): void {
    const L = STREAM_LIMITS;
    const { idempotencyExpiry, retentionPeriod } = resolved;
    const source: StreamSourceRules = {
      name: 'Kinesis',
      startingPositions: [
        StartingPosition.TRIM_HORIZON,
        StartingPosition.LATEST,
        StartingPosition.AT_TIMESTAMP,
      ],
      retentionName: "the stream's retentionPeriod",
      retentionTerm: ['retentionPeriod', retentionPeriod],
      idempotencyExpiryWhy: IDEMPOTENCY_EXPIRY_WHY,
    };
    const checks: Check[] = [
      idempotencySchemeCheck(this, props.idempotencyScheme),
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
      ...streamMappingChecks(this, source, props, resolved),
      ...consumerFunctionChecks(this, { ...props, timeout, idempotencyExpiry }),
      iteratorAgeAlarmThresholdCheck(this, resolved),
      ...streamAlarmChecks(this, props, resolved),
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
}
