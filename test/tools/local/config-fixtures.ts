/**
 * Hand-written simulation configurations for engine tests: one function behind each kind of source, with
 * AWS's defaults unless a test overrides a field.
 */
import {
  arnOf,
  AWS_DEFAULTS,
  DEFAULT_ACCOUNT,
  DEFAULT_REGION,
  queueUrlOf,
  type DynamoDbTableConfig,
  type EventInvokeConfig,
  type FunctionConfig,
  type HttpApiConfig,
  type KinesisEventSourceMappingConfig,
  type SimulationConfig,
  type SqsEventSourceMappingConfig,
  type SqsQueueConfig,
  type StreamEventSourceMappingConfig,
} from '../../../tools/local/engine/config';

export function functionConfig(id: string, overrides: Partial<FunctionConfig> = {}): FunctionConfig {
  return {
    id,
    functionName: id,
    functionArn: arnOf('lambda', id),
    timeoutSeconds: 30,
    memorySizeMb: 256,
    environment: {},
    ...overrides,
  };
}

function emptyConfig(): SimulationConfig {
  return {
    region: DEFAULT_REGION,
    accountId: DEFAULT_ACCOUNT,
    functions: [],
    queues: [],
    sqsEventSourceMappings: [],
    streams: [],
    kinesisEventSourceMappings: [],
    tables: [],
    dynamoDbEventSourceMappings: [],
    topics: [],
    snsSubscriptions: [],
    buckets: [],
    eventInvokeConfigs: [],
  };
}

/** A stream mapping with AWS's defaults (Kinesis or DynamoDB Streams: the same settings). */
function streamMapping(
  id: string,
  functionId: string,
  streamArn: string,
  onFailureDestinationArn: string,
): StreamEventSourceMappingConfig {
  return {
    id,
    functionId,
    streamArn,
    batchSize: AWS_DEFAULTS.kinesisBatchSize,
    maximumBatchingWindowSeconds: 0,
    bisectBatchOnFunctionError: false,
    maximumRetryAttempts: -1,
    maximumRecordAgeSeconds: -1,
    parallelizationFactor: 1,
    reportBatchItemFailures: false,
    onFailureDestinationArn,
    startingPosition: 'TRIM_HORIZON',
    enabled: true,
  };
}

export const STREAM_ARN = arnOf('kinesis', 'readings');
export const STREAM_DESTINATION_ARN = arnOf('sns', 'stream-on-failure');

export function kinesisConfig(
  mapping: Partial<KinesisEventSourceMappingConfig> = {},
  stream: { shardCount?: number; retentionHours?: number } = {},
  fn: Partial<FunctionConfig> = {},
): SimulationConfig {
  return {
    ...emptyConfig(),
    functions: [functionConfig('stream-consumer', fn)],
    streams: [
      {
        id: 'Stream',
        streamName: 'readings',
        streamArn: STREAM_ARN,
        shardCount: stream.shardCount ?? 1,
        retentionHours: stream.retentionHours ?? AWS_DEFAULTS.kinesisRetentionHours,
      },
    ],
    topics: [{ id: 'OnFailure', topicName: 'stream-on-failure', topicArn: STREAM_DESTINATION_ARN }],
    kinesisEventSourceMappings: [
      {
        ...streamMapping('StreamMapping', 'stream-consumer', STREAM_ARN, STREAM_DESTINATION_ARN),
        ...mapping,
      },
    ],
  };
}

/** The stream mapping as `StreamConsumer` deploys it (bisect, 2 retries, 1 h record age, partial batch responses). */
export function deployedKinesisConfig(shardCount = 4): SimulationConfig {
  return kinesisConfig(
    {
      batchSize: 100,
      bisectBatchOnFunctionError: true,
      maximumRetryAttempts: 2,
      maximumRecordAgeSeconds: 3600,
      reportBatchItemFailures: true,
    },
    { shardCount },
  );
}

export const QUEUE_ARN = arnOf('sqs', 'orders');
export const DLQ_ARN = arnOf('sqs', 'orders-dlq');

export function sqsConfig(
  mapping: Partial<SqsEventSourceMappingConfig> = {},
  queue: Partial<SqsQueueConfig> = {},
  fn: Partial<FunctionConfig> = {},
): SimulationConfig {
  return {
    ...emptyConfig(),
    functions: [functionConfig('sqs-consumer', fn)],
    queues: [
      {
        id: 'Queue',
        queueName: 'orders',
        queueArn: QUEUE_ARN,
        queueUrl: queueUrlOf('orders'),
        visibilityTimeoutSeconds: 180,
        messageRetentionSeconds: AWS_DEFAULTS.sqsRetentionSeconds,
        redrivePolicy: { deadLetterTargetArn: DLQ_ARN, maxReceiveCount: 5 },
        fifo: false,
        ...queue,
      },
      {
        id: 'DeadLetterQueue',
        queueName: 'orders-dlq',
        queueArn: DLQ_ARN,
        queueUrl: queueUrlOf('orders-dlq'),
        visibilityTimeoutSeconds: 30,
        messageRetentionSeconds: 1_209_600,
        fifo: false,
      },
    ],
    sqsEventSourceMappings: [
      {
        id: 'QueueMapping',
        functionId: 'sqs-consumer',
        queueArn: QUEUE_ARN,
        batchSize: 10,
        maximumBatchingWindowSeconds: 0,
        reportBatchItemFailures: true,
        maximumConcurrency: 5,
        enabled: true,
        ...mapping,
      },
    ],
  };
}

export const TOPIC_ARN = arnOf('sns', 'object-created');
export const SUBSCRIPTION_DLQ_ARN = arnOf('sqs', 'subscription-dlq');
export const ASYNC_ON_FAILURE_ARN = arnOf('sqs', 'object-on-failure');
export const BUCKET = 'uploads-bucket';

export function asyncConfig(
  invoke: Partial<EventInvokeConfig> = {},
  fn: Partial<FunctionConfig> = {},
  options: { subscriptionDlq?: boolean } = {},
): SimulationConfig {
  return {
    ...emptyConfig(),
    functions: [functionConfig('object-consumer', fn)],
    queues: [SUBSCRIPTION_DLQ_ARN, ASYNC_ON_FAILURE_ARN].map((arn) => ({
      id: arn.split(':').pop()!,
      queueName: arn.split(':').pop()!,
      queueArn: arn,
      queueUrl: queueUrlOf(arn.split(':').pop()!),
      visibilityTimeoutSeconds: 30,
      messageRetentionSeconds: 1_209_600,
      fifo: false,
    })),
    topics: [{ id: 'Topic', topicName: 'object-created', topicArn: TOPIC_ARN }],
    snsSubscriptions: [
      {
        id: 'Subscription',
        topicArn: TOPIC_ARN,
        functionId: 'object-consumer',
        subscriptionArn: `${TOPIC_ARN}:0d1f0a6c-0000-4000-8000-000000000000`,
        ...((options.subscriptionDlq ?? true) && { deadLetterTargetArn: SUBSCRIPTION_DLQ_ARN }),
      },
    ],
    buckets: [
      {
        id: 'Bucket',
        bucketName: BUCKET,
        bucketArn: arnOf('s3', BUCKET),
        versioned: true,
        topicNotifications: [{ events: ['s3:ObjectCreated:*'], topicArn: TOPIC_ARN }],
      },
    ],
    eventInvokeConfigs: [
      {
        functionId: 'object-consumer',
        maximumRetryAttempts: 2,
        maximumEventAgeSeconds: 21_600,
        onFailureDestinationArn: ASYNC_ON_FAILURE_ARN,
        ...invoke,
      },
    ],
  };
}

export const FIFO_QUEUE_ARN = arnOf('sqs', 'ledger.fifo');
export const FIFO_DLQ_ARN = arnOf('sqs', 'ledger-dlq.fifo');

/** A FIFO queue with a FIFO dead-letter queue, as `FifoConsumer` deploys it (content-based deduplication, batch 10). */
export function fifoConfig(
  mapping: Partial<SqsEventSourceMappingConfig> = {},
  queue: Partial<SqsQueueConfig> = {},
  fn: Partial<FunctionConfig> = {},
): SimulationConfig {
  return {
    ...emptyConfig(),
    functions: [functionConfig('fifo-consumer', fn)],
    queues: [
      {
        id: 'FifoQueue',
        queueName: 'ledger.fifo',
        queueArn: FIFO_QUEUE_ARN,
        queueUrl: queueUrlOf('ledger.fifo'),
        visibilityTimeoutSeconds: 180,
        messageRetentionSeconds: AWS_DEFAULTS.sqsRetentionSeconds,
        redrivePolicy: { deadLetterTargetArn: FIFO_DLQ_ARN, maxReceiveCount: 5 },
        fifo: true,
        contentBasedDeduplication: true,
        ...queue,
      },
      {
        id: 'FifoDeadLetterQueue',
        queueName: 'ledger-dlq.fifo',
        queueArn: FIFO_DLQ_ARN,
        queueUrl: queueUrlOf('ledger-dlq.fifo'),
        visibilityTimeoutSeconds: 30,
        messageRetentionSeconds: 1_209_600,
        fifo: true,
        contentBasedDeduplication: true,
      },
    ],
    sqsEventSourceMappings: [
      {
        id: 'FifoMapping',
        functionId: 'fifo-consumer',
        queueArn: FIFO_QUEUE_ARN,
        batchSize: 10,
        maximumBatchingWindowSeconds: 0,
        reportBatchItemFailures: true,
        maximumConcurrency: 5,
        enabled: true,
        ...mapping,
      },
    ],
  };
}

export const TABLE_ARN = arnOf('dynamodb', 'stock');
export const TABLE_STREAM_ARN = `${TABLE_ARN}/stream/2025-01-01T00:00:00.000`;
export const TABLE_STREAM_DESTINATION_ARN = arnOf('sqs', 'stock-stream-failures');

/**
 * A table with a stream (key `pk`, NEW_AND_OLD_IMAGES, one shard) and its mapping, with AWS's defaults unless a test
 * overrides them.
 */
export function tableStreamConfig(
  mapping: Partial<StreamEventSourceMappingConfig> = {},
  table: Partial<DynamoDbTableConfig> = {},
  fn: Partial<FunctionConfig> = {},
): SimulationConfig {
  return {
    ...emptyConfig(),
    functions: [functionConfig('table-stream-consumer', fn)],
    tables: [
      {
        id: 'SourceTable',
        tableName: 'stock',
        tableArn: TABLE_ARN,
        keyAttributes: ['pk'],
        streamViewType: 'NEW_AND_OLD_IMAGES',
        streamArn: TABLE_STREAM_ARN,
        streamShardCount: 1,
        ...table,
      },
    ],
    queues: [
      {
        id: 'FailureQueue',
        queueName: 'stock-stream-failures',
        queueArn: TABLE_STREAM_DESTINATION_ARN,
        queueUrl: queueUrlOf('stock-stream-failures'),
        visibilityTimeoutSeconds: 30,
        messageRetentionSeconds: 1_209_600,
        fifo: false,
      },
    ],
    dynamoDbEventSourceMappings: [
      {
        ...streamMapping(
          'TableStreamMapping',
          'table-stream-consumer',
          TABLE_STREAM_ARN,
          TABLE_STREAM_DESTINATION_ARN,
        ),
        ...mapping,
      },
    ],
  };
}

/** The filters TableStreamConsumer deploys by default: only INSERT and MODIFY invoke the function. */
export const DEPLOYED_TABLE_STREAM_FILTERS = ['{"eventName":["INSERT"]}', '{"eventName":["MODIFY"]}'];

/**
 * The http path as deployed by default: an HTTP API whose stage throttles at 10 requests per second with a burst
 * of 20, `POST /orders` to an ingress function of 3 s with a reserved concurrency of 50.
 */
export function httpConfig(
  api: Partial<Omit<HttpApiConfig, 'routes'>> = {},
  fn: Partial<FunctionConfig> = {},
): SimulationConfig {
  return {
    ...emptyConfig(),
    functions: [functionConfig('http-ingress', { timeoutSeconds: 3, reservedConcurrency: 50, ...fn })],
    httpApis: [
      {
        id: 'OrdersApi',
        apiName: 'orders',
        stageName: '$default',
        rateLimit: 10,
        burstLimit: 20,
        ...api,
        routes: [{ routeKey: 'POST /orders', functionId: 'http-ingress' }],
      },
    ],
  };
}
