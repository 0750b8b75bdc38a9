/**
 * The typed configuration of a simulation: the deployed resources that matter to the Lambda service, with AWS's
 * property names in camelCase and AWS's defaults. The engine reads only this; `tools/local/cloudformation.ts`
 * builds it from a synthesized cloud assembly, and tests write it by hand.
 *
 * Resources are referred to by ARN, as CloudFormation wires them.
 */

/**
 * The ingestion path a source belongs to (the report's grouping): an SQS standard queue, an SQS FIFO queue, S3 → SNS
 * (asynchronous invocation), a Kinesis stream, a DynamoDB table's stream.
 */
export type IngestionPath = 'sqs' | 'fifo' | 'object' | 'stream' | 'table-stream';

export interface FunctionConfig {
  /** Stable id in reports: the CloudFormation logical id, or any name in hand-written configs. */
  readonly id: string;
  readonly functionName: string;
  readonly functionArn: string;
  /** `Timeout` (default 3 s). */
  readonly timeoutSeconds: number;
  readonly memorySizeMb: number;
  /** `Environment.Variables`, tokens already replaced by local values. */
  readonly environment: Readonly<Record<string, string>>;
  /** `ReservedConcurrentExecutions`: the most concurrent invocations; more are throttled. */
  readonly reservedConcurrency?: number;
  /** `DeadLetterConfig.TargetArn`: receives failed asynchronous events (never event source mapping records). */
  readonly deadLetterTargetArn?: string;
  /** Where the deployed code is: the asset directory of `cdk.out` and the `Handler` (`index.handler`). */
  readonly code?: { readonly directory: string; readonly handler: string };
}

export interface SqsQueueConfig {
  readonly id: string;
  readonly queueName: string;
  readonly queueArn: string;
  readonly queueUrl: string;
  /** `VisibilityTimeout` (default 30 s). */
  readonly visibilityTimeoutSeconds: number;
  /** `MessageRetentionPeriod` (default 345,600 s = 4 days). */
  readonly messageRetentionSeconds: number;
  /** `RedrivePolicy`: where a message goes once received `maxReceiveCount` times without being deleted. */
  readonly redrivePolicy?: { readonly deadLetterTargetArn: string; readonly maxReceiveCount: number };
  /** `FifoQueue`: message groups, deduplication (engine/sqs-fifo.ts). */
  readonly fifo: boolean;
  /** FIFO: `ContentBasedDeduplication` (default false: every send must carry a deduplication id). */
  readonly contentBasedDeduplication?: boolean;
  /** FIFO: `DeduplicationScope` (`queue`, the default, or `messageGroup` for high throughput). */
  readonly deduplicationScope?: 'queue' | 'messageGroup';
}

export interface SqsEventSourceMappingConfig {
  readonly id: string;
  readonly functionId: string;
  readonly queueArn: string;
  /** `BatchSize` (default 10; above 10 needs a batching window; at most 10 on a FIFO queue). */
  readonly batchSize: number;
  /** `MaximumBatchingWindowInSeconds` (default 0; a FIFO queue takes none). */
  readonly maximumBatchingWindowSeconds: number;
  /** `FunctionResponseTypes` includes `ReportBatchItemFailures`. */
  readonly reportBatchItemFailures: boolean;
  /** `ScalingConfig.MaximumConcurrency` (2–1000); unset: the pollers scale up to the function's concurrency. */
  readonly maximumConcurrency?: number;
  readonly enabled: boolean;
}

export interface KinesisStreamConfig {
  readonly id: string;
  readonly streamName: string;
  readonly streamArn: string;
  /** `ShardCount`; an on-demand stream starts with 4 shards. */
  readonly shardCount: number;
  /** `RetentionPeriodHours` (default 24). */
  readonly retentionHours: number;
}

/**
 * A stream's event source mapping (Kinesis Data Streams or DynamoDB Streams, `EventSourceArn` the stream):
 * the same settings, the same semantics (engine/stream-mapping.ts).
 */
export interface StreamEventSourceMappingConfig {
  readonly id: string;
  readonly functionId: string;
  readonly streamArn: string;
  /** `BatchSize` (default 100). */
  readonly batchSize: number;
  /** `MaximumBatchingWindowInSeconds` (default 0). */
  readonly maximumBatchingWindowSeconds: number;
  /** `BisectBatchOnFunctionError` (default false). */
  readonly bisectBatchOnFunctionError: boolean;
  /** `MaximumRetryAttempts` (−1 = until the record expires, the default; 0–10,000). */
  readonly maximumRetryAttempts: number;
  /** `MaximumRecordAgeInSeconds` (−1 = no limit, the default; 60–604,800). */
  readonly maximumRecordAgeSeconds: number;
  /** `ParallelizationFactor` (1–10, default 1): concurrent batches per shard, in order per partition key. */
  readonly parallelizationFactor: number;
  readonly reportBatchItemFailures: boolean;
  /** `DestinationConfig.OnFailure.Destination`: an SQS queue or SNS topic ARN. */
  readonly onFailureDestinationArn?: string;
  readonly startingPosition: 'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP';
  readonly enabled: boolean;
  /** `FilterCriteria.Filters[].Pattern` (engine/event-filter.ts): records matching none never invoke. */
  readonly filters?: readonly string[];
}

export type KinesisEventSourceMappingConfig = StreamEventSourceMappingConfig;

/** `AWS::DynamoDB::Table` with its stream (`StreamSpecification`). */
export interface DynamoDbTableConfig {
  readonly id: string;
  readonly tableName: string;
  readonly tableArn: string;
  /** `KeySchema`: the partition key's attribute name, then the sort key's if any. */
  readonly keyAttributes: readonly string[];
  /** `StreamSpecification.StreamViewType`; absent: the table has no stream. */
  readonly streamViewType?: 'KEYS_ONLY' | 'NEW_IMAGE' | 'OLD_IMAGE' | 'NEW_AND_OLD_IMAGES';
  /** `Fn::GetAtt <table>.StreamArn` (`<table ARN>/stream/<label>`). */
  readonly streamArn?: string;
  /**
   * Shards of the stream. DynamoDB decides them from the table's partitions, which no template shows: the
   * simulator's choice (AWS_DEFAULTS.dynamoDbStreamShardCount).
   */
  readonly streamShardCount: number;
}

export interface SnsTopicConfig {
  readonly id: string;
  readonly topicName: string;
  readonly topicArn: string;
}

/** An SNS subscription with `Protocol: lambda`: SNS invokes the function asynchronously. */
export interface SnsLambdaSubscriptionConfig {
  readonly id: string;
  readonly topicArn: string;
  readonly functionId: string;
  readonly subscriptionArn: string;
  /** `RedrivePolicy.deadLetterTargetArn`: messages SNS could not deliver (delivery failures only). */
  readonly deadLetterTargetArn?: string;
}

export interface S3BucketConfig {
  readonly id: string;
  readonly bucketName: string;
  readonly bucketArn: string;
  readonly versioned: boolean;
  /** Event notifications to SNS topics (`TopicConfigurations`). */
  readonly topicNotifications: readonly { readonly events: readonly string[]; readonly topicArn: string }[];
}

/**
 * An API Gateway HTTP API (`AWS::ApiGatewayV2::Api`) whose stage invokes functions synchronously (engine/http.ts):
 * the stage's throttle (`DefaultRouteSettings`) and each route to a Lambda proxy integration.
 */
export interface HttpApiConfig {
  readonly id: string;
  readonly apiName: string;
  /** `AWS::ApiGatewayV2::Stage` `StageName` (`$default`). */
  readonly stageName: string;
  /** `DefaultRouteSettings.ThrottlingRateLimit`, requests per second; unset: the account's. */
  readonly rateLimit?: number;
  /** `DefaultRouteSettings.ThrottlingBurstLimit`, requests; unset: the account's. */
  readonly burstLimit?: number;
  /** `AWS::ApiGatewayV2::Route`s whose target is a Lambda proxy integration: `POST /orders` → the function. */
  readonly routes: readonly { readonly routeKey: string; readonly functionId: string }[];
}

/** `AWS::Lambda::EventInvokeConfig`: asynchronous invocation settings of a function. */
export interface EventInvokeConfig {
  readonly functionId: string;
  /** `MaximumRetryAttempts` (0–2, default 2). */
  readonly maximumRetryAttempts: number;
  /** `MaximumEventAgeInSeconds` (60–21,600, default 21,600). */
  readonly maximumEventAgeSeconds: number;
  readonly onSuccessDestinationArn?: string;
  readonly onFailureDestinationArn?: string;
}

export interface SimulationConfig {
  readonly region: string;
  readonly accountId: string;
  readonly functions: readonly FunctionConfig[];
  readonly queues: readonly SqsQueueConfig[];
  readonly sqsEventSourceMappings: readonly SqsEventSourceMappingConfig[];
  readonly streams: readonly KinesisStreamConfig[];
  readonly kinesisEventSourceMappings: readonly KinesisEventSourceMappingConfig[];
  readonly tables: readonly DynamoDbTableConfig[];
  /** Event source mappings whose source is a table's stream. */
  readonly dynamoDbEventSourceMappings: readonly StreamEventSourceMappingConfig[];
  readonly topics: readonly SnsTopicConfig[];
  readonly snsSubscriptions: readonly SnsLambdaSubscriptionConfig[];
  readonly buckets: readonly S3BucketConfig[];
  readonly eventInvokeConfigs: readonly EventInvokeConfig[];
  /** HTTP APIs that invoke functions synchronously (the http path); absent in hand-written configs without one. */
  readonly httpApis?: readonly HttpApiConfig[];
}

export const DEFAULT_REGION = 'us-east-1';
export const DEFAULT_ACCOUNT = '123456789012';

/** AWS defaults, named once. */
export const AWS_DEFAULTS = {
  functionTimeoutSeconds: 3,
  sqsVisibilityTimeoutSeconds: 30,
  sqsRetentionSeconds: 345_600,
  sqsBatchSize: 10,
  kinesisBatchSize: 100,
  kinesisRetentionHours: 24,
  /** "DynamoDB Streams ... stores this information in a log for up to 24 hours" (DynamoDB developer guide). */
  dynamoDbStreamRetentionHours: 24,
  /** Shards of a table's stream: an assumption (DynamoDB decides from the table's partitions). */
  dynamoDbStreamShardCount: 4,
  onDemandShardCount: 4,
  asyncMaximumRetryAttempts: 2,
  asyncMaximumEventAgeSeconds: 21_600,
  /** Concurrent batches an SQS event source mapping starts with ("Lambda reads up to five batches at a time"). */
  sqsInitialConcurrency: 5,
  /** Unreserved account concurrency (the default quota). */
  accountConcurrency: 1000,
} as const;

/** Helpers to build hand-written configs with ARNs that look like AWS's. */
export function arnOf(
  service: 'sqs' | 'sns' | 'lambda' | 'kinesis' | 's3' | 'dynamodb',
  name: string,
  region = DEFAULT_REGION,
  account = DEFAULT_ACCOUNT,
): string {
  switch (service) {
    case 'lambda':
      return `arn:aws:lambda:${region}:${account}:function:${name}`;
    case 'kinesis':
      return `arn:aws:kinesis:${region}:${account}:stream/${name}`;
    case 's3':
      return `arn:aws:s3:::${name}`;
    case 'dynamodb':
      return `arn:aws:dynamodb:${region}:${account}:table/${name}`;
    default:
      return `arn:aws:${service}:${region}:${account}:${name}`;
  }
}

export function queueUrlOf(name: string, region = DEFAULT_REGION, account = DEFAULT_ACCOUNT): string {
  return `https://sqs.${region}.amazonaws.com/${account}/${name}`;
}
