import * as path from 'node:path';
import { Annotations, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AttributeType, BillingMode, StreamViewType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { IKey } from 'aws-cdk-lib/aws-kms';
import { FilterCriteria, FilterRule, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { ALARM_DEFAULTS, eventSourceMappingMetric } from './alarms';
import { businessMetrics, line, type PathFlow } from './dashboard';
import { type Check, ConfigurationError, validateAll } from '../validation';
import {
  ConsumerFunction,
  consumerFunctionChecks,
  ConsumerFunctionOptions,
  DEFAULT_TIMEOUT,
} from './consumer-function';
import { EFFECT_KEY_ATTRIBUTE, EffectTable } from './effect-table';
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
  type StreamConsumerAlarms,
  streamEventSourceProps,
  StreamIdempotencyScheme,
  streamMappingChecks,
  type StreamMappingOptions,
  type StreamOnFailureDestination,
  type StreamOnFailureOptions,
  type StreamSourceRules,
} from './stream-rules';

/**
 * How long DynamoDB Streams keeps a stream record: 24 hours, not a setting (DynamoDB developer guide, "Change data
 * capture for DynamoDB Streams"; DynamoDB Streams API reference, `TrimmedDataAccessException`).
 */
export const DYNAMODB_STREAM_RETENTION = Duration.hours(24);

/** The source table's partition key (a string), as on the effect table. */
export const SOURCE_TABLE_KEY_ATTRIBUTE = EFFECT_KEY_ATTRIBUTE;

/** Limits of the table stream path beyond the shared stream rules (AWS documentation). */
export const TABLE_STREAM_LIMITS = {
  /**
   * Filters on one event source mapping: 5 by default, up to 10 with a quota increase (Lambda developer guide,
   * "Control which events Lambda sends to your function").
   */
  filters: { defaultQuota: 5, max: 10 },
  /** A filter pattern's length (CloudFormation `AWS::Lambda::EventSourceMapping Filter`, `Pattern`). */
  filterPatternLength: { max: 4096 },
  /** A time to live attribute's name (DynamoDB API reference, `TimeToLiveSpecification.AttributeName`). */
  timeToLiveAttributeLength: { min: 1, max: 255 },
} as const;

/**
 * The event names that reach the function unless `filters` says otherwise: an item written (`INSERT`) or changed
 * (`MODIFY`). `REMOVE` is left out, deletions by time to live included.
 */
export const DEFAULT_TABLE_STREAM_EVENT_NAMES = ['INSERT', 'MODIFY'] as const;

/** One filter per event name: `{"eventName":["INSERT"]}`, … (filters are ORed: a record passes one to pass). */
export function eventNameFilters(...eventNames: readonly string[]): Array<{ [key: string]: unknown }> {
  return eventNames.map((eventName) => FilterCriteria.filter({ eventName: FilterRule.isEqual(eventName) }));
}

/** How the rules and alarms name DynamoDB Streams, and what its retention implies. */
const DYNAMODB_STREAMS_SOURCE: StreamSourceRules = {
  name: 'DynamoDB Streams',
  startingPositions: [StartingPosition.TRIM_HORIZON, StartingPosition.LATEST],
  retentionName: "DynamoDB Streams' fixed retention",
  retentionTerm: ['the DynamoDB Streams retention', DYNAMODB_STREAM_RETENTION],
  idempotencyExpiryWhy:
    'a stream record can be delivered again as long as the stream keeps it: by Lambda retrying until maxRecordAge, ' +
    'by a split batch, or by an event source mapping re-created at TRIM_HORIZON; a change whose idempotency ' +
    'record expired first applies its effect twice. Raise idempotencyExpiry (or leave it unset: it is the 24-hour ' +
    'retention).',
};

export interface TableStreamConsumerProps extends ConsumerFunctionOptions, StreamMappingOptions {
  /** The table the handler's idempotency records go to. */
  readonly idempotencyTable: IdempotencyTable;
  /**
   * The table the business action's effects are written to, in the same DynamoDB transaction as the
   * idempotency record; `UpdateItem` on it is granted.
   */
  readonly effectTable: EffectTable;
  /**
   * The handler's `index.ts` (its `handler` export is the entry point), for a fork with its own domain.
   * @default lambda/table-stream-consumer/index.ts of this repository
   */
  readonly entry?: string;

  /**
   * The attribute of the source table that holds an item's expiry time (Unix seconds): DynamoDB's time to live
   * deletes the item after that time, within a few days, and writes a `REMOVE` stream record whose `userIdentity`
   * is the DynamoDB service (`type` `Service`, `principalId` `dynamodb.amazonaws.com`). The default `filters` keep
   * those records, like every `REMOVE`, from the function. 1 to 255 characters, not the key `pk`.
   * @default no time to live: items stay until deleted
   */
  readonly timeToLiveAttribute?: string;
  /**
   * A customer managed KMS key for the source table (and so its stream); the function is granted `kms:Decrypt` on
   * it to read the stream.
   * @default the AWS managed key `alias/aws/dynamodb`, as the idempotency and effect tables
   */
  readonly encryptionKey?: IKey;
  /**
   * What happens to the source table, failure queue, topic and bucket created here on `cdk destroy`.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Which stream records invoke the function: Lambda's filter criteria on the event source mapping, as
   * `FilterCriteria.filter({...})` objects (`aws-cdk-lib/aws-lambda`); a record passes when it matches any one of
   * them. A record that matches none never invokes the function and costs no invocation; Lambda drops it (it is not
   * retried and never reaches the on-failure destination). At most 10 filters (5 without a quota increase: a
   * warning above 5), each pattern at most 4096 characters. `[]` turns filtering off: every `INSERT`, `MODIFY` and
   * `REMOVE` invokes the function. To handle deletions by time to live, add
   * `FilterCriteria.filter({ userIdentity: { type: FilterRule.isEqual('Service'), principalId:
   * FilterRule.isEqual('dynamodb.amazonaws.com') } })`.
   * @default `eventNameFilters('INSERT', 'MODIFY')`: items written and changed. `REMOVE` records, the deletions by
   *   time to live among them, are left out: deleting an item is not a business event of this path
   */
  readonly filters?: Array<{ [key: string]: unknown }>;
  /**
   * Records older than this are not sent to the function but to the on-failure destination: 60 seconds to
   * 24 hours. Lambda accepts up to 7 days, but DynamoDB Streams keeps a record 24 hours: an older limit would let
   * records leave the stream before Lambda gives up on them, and nothing would reach the destination (refused).
   * @default Duration.hours(1): the IteratorAge alarm fires long before; a discarded record is still in the stream
   *   for the remaining 23 hours
   */
  readonly maxRecordAge?: Duration;
  /**
   * Where a new event source mapping starts reading: `TRIM_HORIZON` or `LATEST` (DynamoDB Streams takes no
   * `AT_TIMESTAMP`).
   * @default StartingPosition.TRIM_HORIZON: the oldest record still in the stream, so no change written before
   *   the mapping existed (e.g. between the table's creation and the first deploy of the function) is skipped
   */
  readonly startingPosition?: StartingPosition;
  /**
   * The on-failure destination: metadata of the batch given up on (shard, sequence numbers, the stream's ARN) on a
   * queue or topic; the whole invocation record, the changes included, in a bucket.
   * @default { kind: 'queue' }: an SQS queue, SSE-SQS, TLS only, kept 14 days, with an alarm
   */
  readonly onFailure?: StreamOnFailureOptions;
  /**
   * How long an idempotency record protects a change: at least 24 hours, DynamoDB Streams' retention (a shorter
   * value fails synth), at most 365 days. A stream record can be delivered again only while the stream keeps it
   * (Lambda's retries until `maxRecordAge`, split batches, a mapping re-created at `TRIM_HORIZON`), and the record
   * is written after the change entered the stream, so the retention covers the last delivery. Storage: ≈200 bytes
   * per record, so 1 million changes a day kept 1 day is ≈0.2 GB, ≈$0.05 a month at $0.25 per GB-month.
   * @default Duration.hours(24) (the retention)
   */
  readonly idempotencyExpiry?: Duration;
}

/**
 * The DynamoDB Streams path: a source table (partition key `pk`, on-demand, point-in-time recovery, encrypted) with
 * a `NEW_AND_OLD_IMAGES` stream, consumed by a Powertools batch + idempotency handler through an event source mapping
 * with the failure handling of the Kinesis path (shared: lib/constructs/stream-rules.ts): bisect on error, bounded
 * retries, a maximum record age, partial batch responses, an on-failure destination that keeps the failure records
 * for an operator, alarms on IteratorAge and on the failure queue; and filter criteria, so that only the changes the
 * path handles (`INSERT` and `MODIFY` by default) ever invoke the function.
 */
export class TableStreamConsumer extends Construct {
  /** The source table: every change of its items is a stream record. */
  readonly table: Table;
  /** The consumer function. */
  readonly function: NodejsFunction;
  /** The event source mapping's source. */
  readonly eventSource: DynamoEventSource;
  /** The filters on the event source mapping, as resolved (`[]`: none). */
  readonly filters: ReadonlyArray<{ [key: string]: unknown }>;
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

  constructor(scope: Construct, id: string, props: TableStreamConsumerProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const timeout = props.timeout ?? DEFAULT_TIMEOUT;
    const resolved = resolveStreamSettings(props, DYNAMODB_STREAM_RETENTION, { kind: 'queue' });
    const { retentionPeriod, maxRecordAge, retryAttempts, idempotencyExpiry, idempotencyScheme } = resolved;
    this.filters = props.filters ?? eventNameFilters(...DEFAULT_TABLE_STREAM_EVENT_NAMES);

    this.validate(props, resolved, timeout);
    this.settings = { retentionPeriod, maxRecordAge, retryAttempts, idempotencyExpiry, idempotencyScheme };

    this.table = new Table(this, 'SourceTable', {
      partitionKey: { name: SOURCE_TABLE_KEY_ATTRIBUTE, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: props.encryptionKey ? TableEncryption.CUSTOMER_MANAGED : TableEncryption.AWS_MANAGED,
      encryptionKey: props.encryptionKey,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      stream: StreamViewType.NEW_AND_OLD_IMAGES,
      timeToLiveAttribute: props.timeToLiveAttribute,
      removalPolicy,
    });

    const consumer = new ConsumerFunction(this, 'Consumer', {
      entry: props.entry ?? path.join(__dirname, '..', '..', 'lambda', 'table-stream-consumer', 'index.ts'),
      serviceName: 'table-stream-consumer',
      description:
        'Table stream path: DynamoDB stream records, one after the other per item, idempotent per event id',
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
    // Grants the function the stream's reads only (DescribeStream, GetRecords, GetShardIterator on the stream,
    // ListStreams), none of the table's items.
    this.eventSource = new DynamoEventSource(this.table, {
      ...streamEventSourceProps(props, resolved, onFailureDlqOf(this.onFailureDestination)),
      filters: this.filters.length > 0 ? [...this.filters] : undefined,
    });
    this.function.addEventSource(this.eventSource);

    const eventSourceMappingId = this.eventSource.eventSourceMappingId;
    this.alarms = createStreamAlarms(
      this,
      {
        function: this.function,
        eventSourceMappingId,
        timeout,
        // A table's stream has as many shards as the table has partitions, unknown at synth time.
        concurrencyCap: ALARM_DEFAULTS.accountConcurrency,
        capName: "the account's concurrency quota (Lambda's default)",
        tables: [
          { id: 'SourceTable', table: this.table, name: 'the source table' },
          { id: 'IdempotencyTable', table: props.idempotencyTable.table, name: 'the idempotency table' },
          { id: 'EffectTable', table: props.effectTable.table, name: 'the effect table' },
        ],
      },
      this.onFailureDestination,
      resolved,
      {
        consumerLabel: 'Table stream consumer',
        failureRecordAdvice:
          'It names the shard and the sequence numbers of the batch; the records stay in the DynamoDB stream ' +
          '24 hours after their change, so read them before then (a bucket destination keeps them whole).',
      },
      props,
    );
    this.flow = streamFlow(
      'DynamoDB Streams → Lambda (TableStreamConsumer)',
      "Changes of the source table's items, read per shard in order (filtered: INSERT and MODIFY by default); a batch " +
        'Lambda gives up on goes to the on-failure destination.',
      {
        function: this.function,
        eventSourceMappingId,
        destination: this.onFailureDestination,
        in: [
          line(
            eventSourceMappingMetric(eventSourceMappingId, 'PolledEventCount'),
            'changes read from the stream',
          ),
        ],
      },
      businessMetrics(consumer.metricsNamespace, consumer.serviceName),
    );
    acknowledgeStreamConsumerNagFindings(this, this.function, this.onFailureDestination, resolved.onFailure, {
      name: 'DynamoDB Streams',
    });
    // CDK's minimized policy puts dynamodb:ListStreams (from grantStreamRead) in the same `*` statement as X-Ray,
    // whose finding ConsumerFunction acknowledges for X-Ray alone: this says why ListStreams is there too.
    Validations.of(this.function.role!).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray (xray:PutTraceSegments, xray:PutTelemetryRecords) supports no resource-level permissions, and ' +
        "dynamodb:ListStreams, which Lambda's DynamoDB Streams mapping calls and CDK's grantStreamRead grants on *, " +
        "lists the account's stream ARNs only; the stream's data (DescribeStream, GetRecords, GetShardIterator) is " +
        "granted on this table's stream alone, and nothing of the table's items.",
    });
    if (this.filters.length > TABLE_STREAM_LIMITS.filters.defaultQuota) {
      Annotations.of(this).addWarningV2(
        'reliable-lambda:table-stream-filters',
        `${this.filters.length} filters: Lambda takes ${TABLE_STREAM_LIMITS.filters.defaultQuota} per event source ` +
          `mapping unless the account's quota is raised (up to ${TABLE_STREAM_LIMITS.filters.max}); without it the ` +
          'deployment fails.',
      );
    }
  }

  /** Every rule of the props; `validateAll` reports every broken one at once. */
  private validate(
    props: TableStreamConsumerProps,
    resolved: ResolvedStreamSettings,
    timeout: Duration,
  ): void {
    const L = TABLE_STREAM_LIMITS;
    const checks: Check[] = [
      idempotencySchemeCheck(this, props.idempotencyScheme),
      () => {
        const name = props.timeToLiveAttribute;
        if (name === undefined) return;
        const { min, max } = L.timeToLiveAttributeLength;
        if (name.length < min || name.length > max) {
          throw new ConfigurationError(
            this,
            'timeToLiveAttribute',
            `must be ${min} to ${max} characters (a DynamoDB attribute name), got ${name.length}.`,
          );
        }
        if (name === SOURCE_TABLE_KEY_ATTRIBUTE) {
          throw new ConfigurationError(
            this,
            'timeToLiveAttribute',
            `must not be the partition key '${SOURCE_TABLE_KEY_ATTRIBUTE}': a string attribute, and time to live ` +
              'reads a number (the expiry in Unix seconds).',
          );
        }
      },
      () => {
        if (this.filters.length > L.filters.max) {
          throw new ConfigurationError(
            this,
            'filters',
            `must be at most ${L.filters.max}, got ${this.filters.length}: Lambda takes ${L.filters.defaultQuota} ` +
              `filters per event source mapping, ${L.filters.max} with a quota increase. Filters are ORed: merge ` +
              'patterns on the same field into one (FilterRule.or).',
          );
        }
      },
      ...this.filters.map(
        (filter, index): Check =>
          () =>
            checkFilter(this, filter, index),
      ),
      ...streamMappingChecks(this, DYNAMODB_STREAMS_SOURCE, props, resolved),
      ...consumerFunctionChecks(this, { ...props, timeout, idempotencyExpiry: resolved.idempotencyExpiry }),
      iteratorAgeAlarmThresholdCheck(this, resolved),
      ...streamAlarmChecks(this, props, resolved),
    ];
    validateAll(this, checks);
  }
}

/** A filter as Lambda takes it: `{ pattern }`, a JSON object of at most 4096 characters. */
function checkFilter(scope: Construct, filter: unknown, index: number): void {
  const pattern = (filter as { pattern?: unknown } | null)?.pattern;
  const property = `filters[${index}]`;
  if (typeof pattern !== 'string') {
    throw new ConfigurationError(
      scope,
      property,
      "must be a filter made with FilterCriteria.filter({...}) from 'aws-cdk-lib/aws-lambda' (an object with a " +
        `JSON 'pattern' string), got ${JSON.stringify(filter)}.`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(pattern);
  } catch {
    parsed = undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigurationError(
      scope,
      property,
      `pattern must be a JSON object, got ${JSON.stringify(pattern)}.`,
    );
  }
  const max = TABLE_STREAM_LIMITS.filterPatternLength.max;
  if (pattern.length > max) {
    throw new ConfigurationError(
      scope,
      property,
      `pattern must be at most ${max} characters (Lambda's limit for a filter pattern), got ${pattern.length}.`,
    );
  }
}
