/**
 * One simulated deployment: the resources of a {@link SimulationConfig}, the Lambda service between them, a
 * virtual clock, a seeded random generator and the trace. Producers (`sendMessage`, `putObject`, `publish`,
 * `putRecord`) schedule work at virtual times; `run()` plays it out.
 */
import {
  S3Bucket,
  SnsLambdaSubscription,
  SnsTopic,
  AsyncInvocationQueue,
  type DeliveryFaults,
} from './async';
import {
  AWS_DEFAULTS,
  type EventInvokeConfig,
  type FunctionConfig,
  type IngestionPath,
  type SimulationConfig,
  type StreamEventSourceMappingConfig,
} from './config';
import {
  type DynamoDbStreamEventSourcePoller,
  DynamoDbTable,
  type Item,
  type WriteOptions,
  type WriteResult,
} from './dynamodb-streams';
import { type KinesisEventSourcePoller, KinesisStream, type KinesisRecord } from './kinesis';
import { StreamEventSourcePoller, type StreamRecord, type StreamSource } from './stream-mapping';
import {
  LambdaService,
  NO_SERVICE_FAULTS,
  type DurationModel,
  type FunctionCode,
  type ServiceFaults,
} from './lambda';
import { Random } from './random';
import { Scheduler, type RunLimits, type StopReason } from './scheduler';
import { Sinks } from './sinks';
import { SqsEventSourcePoller, SqsQueue, type SendOptions, type SqsMessage } from './sqs';
import { SqsFifoQueue } from './sqs-fifo';
import { Trace } from './trace';

export type SimulationFaults = ServiceFaults & DeliveryFaults;

export interface SimulationOptions {
  readonly seed: number | string;
  /** The virtual wall clock at time 0 (epoch ms). Default 2025-01-01T00:00:00Z. */
  readonly epochMs?: number;
  readonly duration?: DurationModel;
  readonly faults?: SimulationFaults;
}

export const DEFAULT_EPOCH_MS = Date.UTC(2025, 0, 1);

/** Where records enter each path, found from the configuration. */
export interface EntryPoints {
  /** A standard queue's mapping. */
  readonly sqs?: { readonly queueArn: string; readonly functionId: string; readonly mappingId: string };
  /** A FIFO queue's mapping. */
  readonly fifo?: { readonly queueArn: string; readonly functionId: string; readonly mappingId: string };
  readonly object?: { readonly bucketName: string; readonly topicArn: string; readonly functionId: string };
  readonly stream?: { readonly streamArn: string; readonly functionId: string; readonly mappingId: string };
  /** A DynamoDB table's stream mapping. */
  readonly 'table-stream'?: {
    readonly tableArn: string;
    readonly streamArn: string;
    readonly functionId: string;
    readonly mappingId: string;
    /** The table's key attributes (partition key, then sort key). */
    readonly keyAttributes: readonly string[];
  };
}

export class Simulation {
  readonly scheduler = new Scheduler();
  readonly trace = new Trace();
  readonly random: Random;
  readonly lambda: LambdaService;
  readonly epochMs: number;
  readonly queues = new Map<string, SqsQueue>();
  readonly sqsPollers: SqsEventSourcePoller[] = [];
  readonly topics = new Map<string, SnsTopic>();
  readonly buckets = new Map<string, S3Bucket>();
  readonly streams = new Map<string, KinesisStream>();
  readonly kinesisPollers: KinesisEventSourcePoller[] = [];
  readonly tables = new Map<string, DynamoDbTable>();
  readonly tablePollers: DynamoDbStreamEventSourcePoller[] = [];
  private readonly sinks: Sinks;

  constructor(
    readonly config: SimulationConfig,
    options: SimulationOptions,
  ) {
    this.random = new Random(options.seed);
    this.epochMs = options.epochMs ?? DEFAULT_EPOCH_MS;
    const faults = options.faults ?? { ...NO_SERVICE_FAULTS, snsDeliveryFailure: () => undefined };
    const functions = new Map<string, FunctionConfig>(config.functions.map((f) => [f.id, f]));
    this.sinks = new Sinks(this.scheduler, this.trace);
    this.lambda = new LambdaService(
      this.scheduler,
      this.random.fork('lambda'),
      this.trace,
      functions,
      faults,
      {
        region: config.region,
        accountId: config.accountId,
        epochMs: this.epochMs,
        ...(options.duration && { duration: options.duration }),
      },
    );

    const ids = this.random.fork('ids');
    for (const queue of config.queues) {
      this.queues.set(
        queue.queueArn,
        queue.fifo
          ? new SqsFifoQueue(queue, this.scheduler, ids, this.trace, this.sinks, this.epochMs, 'fifo')
          : new SqsQueue(queue, this.scheduler, ids, this.trace, this.sinks, this.epochMs),
      );
    }
    for (const mapping of config.sqsEventSourceMappings) {
      const queue = this.requireQueue(mapping.queueArn);
      this.sqsPollers.push(
        new SqsEventSourcePoller(
          mapping,
          queue,
          this.scheduler,
          this.lambda,
          this.trace,
          config.region,
          this.epochMs,
        ),
      );
    }

    for (const topic of config.topics) {
      this.topics.set(topic.topicArn, new SnsTopic(topic, this.scheduler, ids, this.epochMs));
    }
    for (const subscription of config.snsSubscriptions) {
      const topic = this.topics.get(subscription.topicArn);
      if (!topic)
        throw new Error(
          `Subscription ${subscription.id}: no topic ${subscription.topicArn} in the configuration.`,
        );
      const queue = new AsyncInvocationQueue(
        subscription.functionId,
        this.eventInvokeConfig(subscription.functionId),
        subscription.id,
        this.scheduler,
        ids,
        this.lambda,
        this.trace,
        this.sinks,
        this.epochMs,
      );
      topic.subscribe(
        new SnsLambdaSubscription(
          subscription,
          topic.config,
          queue,
          this.scheduler,
          this.trace,
          this.sinks,
          faults,
          config.region,
        ),
      );
    }
    for (const bucket of config.buckets) {
      this.buckets.set(
        bucket.bucketName,
        new S3Bucket(bucket, this.topics, this.scheduler, ids, config.region, this.epochMs),
      );
    }

    for (const stream of config.streams) {
      this.streams.set(
        stream.streamArn,
        new KinesisStream(stream, this.scheduler, {
          region: config.region,
          accountId: config.accountId,
          epochMs: this.epochMs,
        }),
      );
    }
    for (const mapping of config.kinesisEventSourceMappings) {
      this.kinesisPollers.push(this.streamPoller(mapping, this.streams.get(mapping.streamArn), ids));
    }

    for (const table of config.tables) {
      this.tables.set(
        table.tableArn,
        new DynamoDbTable(table, this.scheduler, ids, { region: config.region, epochMs: this.epochMs }),
      );
    }
    for (const mapping of config.dynamoDbEventSourceMappings) {
      const stream = [...this.tables.values()].find((t) => t.config.streamArn === mapping.streamArn)?.stream;
      this.tablePollers.push(this.streamPoller(mapping, stream, ids));
    }
  }

  /** Lambda's event source mapping on a stream (Kinesis or DynamoDB Streams: the same mapping). */
  private streamPoller<R extends StreamRecord>(
    mapping: StreamEventSourceMappingConfig,
    stream: StreamSource<R> | undefined,
    ids: Random,
  ): StreamEventSourcePoller<R> {
    if (!stream)
      throw new Error(
        `Event source mapping ${mapping.id}: no stream ${mapping.streamArn} in the configuration.`,
      );
    return new StreamEventSourcePoller(
      mapping,
      stream,
      this.scheduler,
      ids,
      this.lambda,
      this.trace,
      this.sinks,
      this.epochMs,
    );
  }

  setFunctionCode(functionId: string, code: FunctionCode): void {
    this.lambda.setCode(functionId, code);
  }

  /** The first source of each path that the configuration wires to a function. */
  entryPoints(): EntryPoints {
    return entryPointsOf(this.config);
  }

  /**
   * SendMessage at virtual time `at` (default: now); a FIFO queue needs `options.messageGroupId`. `then` gets the
   * message, or undefined when a FIFO queue deduplicated the send.
   */
  sendMessage(
    queueArn: string,
    body: string,
    recordId: string,
    at = this.scheduler.now,
    then?: (m: SqsMessage | undefined) => void,
    options?: SendOptions,
  ): void {
    const queue = this.requireQueue(queueArn);
    this.scheduler.at(at, () => {
      const message = queue.send(body, recordId, options);
      then?.(message);
    });
  }

  /** PutObject at `at`; each of `duplicatesAfterMs` makes S3 send its notification once more that much later. */
  putObject(
    bucketName: string,
    key: string,
    options: {
      readonly recordId: string;
      readonly size: number;
      readonly duplicatesAfterMs?: readonly number[];
    },
    at = this.scheduler.now,
  ): void {
    const bucket = this.buckets.get(bucketName);
    if (!bucket) throw new Error(`No bucket "${bucketName}" in the configuration.`);
    this.scheduler.at(at, () => {
      const created = bucket.putObject(key, options);
      for (const delay of options.duplicatesAfterMs ?? []) {
        this.scheduler.after(delay, () => bucket.notify(created.notification, options.recordId));
      }
    });
  }

  /** Publish to a topic at `at` (a message from another publisher than S3). */
  publish(topicArn: string, message: string, recordId: string, at = this.scheduler.now): void {
    const topic = this.topics.get(topicArn);
    if (!topic) throw new Error(`No topic ${topicArn} in the configuration.`);
    this.scheduler.at(at, () => {
      topic.publish(message, recordId);
    });
  }

  /** PutRecord at `at`. */
  putRecord(
    streamArn: string,
    partitionKey: string,
    data: string,
    recordId: string,
    at = this.scheduler.now,
    then?: (record: KinesisRecord) => void,
  ): void {
    const stream = this.streams.get(streamArn);
    if (!stream) throw new Error(`No stream ${streamArn} in the configuration.`);
    this.scheduler.at(at, () => {
      const record = stream.putRecord(partitionKey, data, recordId);
      then?.(record);
    });
  }

  /**
   * PutItem at `at` on a table; `then` gets what DynamoDB did (a stream record, nothing for a write that changed
   * nothing, a refused conditional write).
   */
  putItem(
    tableArn: string,
    item: Item,
    recordId: string,
    at = this.scheduler.now,
    then?: (result: WriteResult) => void,
    options?: WriteOptions,
  ): void {
    const table = this.requireTable(tableArn);
    this.scheduler.at(at, () => {
      const result = table.putItem(item, recordId, options);
      this.noteUnwritten(table, result, recordId);
      then?.(result);
    });
  }

  /** DeleteItem at `at`, or, `byTimeToLive`, the table's time to live deleting the item. */
  deleteItem(
    tableArn: string,
    key: Item,
    recordId: string,
    at = this.scheduler.now,
    then?: (result: WriteResult) => void,
    options?: { readonly byTimeToLive?: boolean },
  ): void {
    const table = this.requireTable(tableArn);
    this.scheduler.at(at, () => {
      const result = table.deleteItem(key, recordId, options);
      this.noteUnwritten(table, result, recordId);
      then?.(result);
    });
  }

  private noteUnwritten(table: DynamoDbTable, result: WriteResult, recordId: string): void {
    if (result.kind === 'written') return;
    this.trace.event({
      at: this.scheduler.now,
      path: 'table-stream',
      kind: 'no-stream-record',
      sourceId: table.config.id,
      recordIds: [recordId],
      detail:
        result.kind === 'unchanged'
          ? `a write to ${table.config.tableName} that changed nothing: no stream record`
          : `a conditional write to ${table.config.tableName} refused (the item changed since): no stream record`,
    });
  }

  private requireTable(arn: string): DynamoDbTable {
    const table = this.tables.get(arn);
    if (!table) throw new Error(`No table ${arn} in the configuration.`);
    return table;
  }

  run(limits?: RunLimits): Promise<StopReason> {
    return this.scheduler.run(limits);
  }

  /** Which path a source (event source mapping or subscription id) belongs to. */
  pathOfSource(sourceId: string): IngestionPath | undefined {
    const mapping = this.config.sqsEventSourceMappings.find((m) => m.id === sourceId);
    if (mapping) return this.queues.get(mapping.queueArn)?.path ?? 'sqs';
    if (this.config.kinesisEventSourceMappings.some((m) => m.id === sourceId)) return 'stream';
    if (this.config.dynamoDbEventSourceMappings.some((m) => m.id === sourceId)) return 'table-stream';
    if (this.config.snsSubscriptions.some((s) => s.id === sourceId)) return 'object';
    return undefined;
  }

  /**
   * A short name for an ARN in reports: the queue, topic or function name, or its logical id when the
   * configuration came from a template (ids are `<stack>/<logical id>` there, and names are long).
   */
  nameOf(arn: string): string {
    const found =
      this.config.queues.find((q) => q.queueArn === arn) ??
      this.config.topics.find((t) => t.topicArn === arn) ??
      this.config.functions.find((f) => f.functionArn === arn);
    if (!found) return arn;
    if (found.id.includes('/')) return found.id.slice(found.id.indexOf('/') + 1);
    return 'queueName' in found
      ? found.queueName
      : 'topicName' in found
        ? found.topicName
        : found.functionName;
  }

  private requireQueue(arn: string): SqsQueue {
    const queue = this.queues.get(arn);
    if (!queue) throw new Error(`No queue ${arn} in the configuration.`);
    return queue;
  }

  private eventInvokeConfig(functionId: string): EventInvokeConfig {
    return (
      this.config.eventInvokeConfigs.find((c) => c.functionId === functionId) ?? {
        functionId,
        maximumRetryAttempts: AWS_DEFAULTS.asyncMaximumRetryAttempts,
        maximumEventAgeSeconds: AWS_DEFAULTS.asyncMaximumEventAgeSeconds,
      }
    );
  }
}

/** The first source of each path that a configuration wires to a function. */
export function entryPointsOf(config: SimulationConfig): EntryPoints {
  const isFifo = (queueArn: string) => config.queues.find((q) => q.queueArn === queueArn)?.fifo === true;
  const sqsMapping = config.sqsEventSourceMappings.find((m) => !isFifo(m.queueArn));
  const fifoMapping = config.sqsEventSourceMappings.find((m) => isFifo(m.queueArn));
  const streamMapping = config.kinesisEventSourceMappings[0];
  const tableMapping = config.dynamoDbEventSourceMappings[0];
  const table = tableMapping && config.tables.find((t) => t.streamArn === tableMapping.streamArn);
  const subscription = config.snsSubscriptions[0];
  const bucket =
    subscription &&
    config.buckets.find((b) => b.topicNotifications.some((n) => n.topicArn === subscription.topicArn));
  return {
    ...(sqsMapping && {
      sqs: { queueArn: sqsMapping.queueArn, functionId: sqsMapping.functionId, mappingId: sqsMapping.id },
    }),
    ...(fifoMapping && {
      fifo: {
        queueArn: fifoMapping.queueArn,
        functionId: fifoMapping.functionId,
        mappingId: fifoMapping.id,
      },
    }),
    ...(subscription &&
      bucket && {
        object: {
          bucketName: bucket.bucketName,
          topicArn: subscription.topicArn,
          functionId: subscription.functionId,
        },
      }),
    ...(streamMapping && {
      stream: {
        streamArn: streamMapping.streamArn,
        functionId: streamMapping.functionId,
        mappingId: streamMapping.id,
      },
    }),
    ...(tableMapping &&
      table && {
        'table-stream': {
          tableArn: table.tableArn,
          streamArn: tableMapping.streamArn,
          functionId: tableMapping.functionId,
          mappingId: tableMapping.id,
          keyAttributes: table.keyAttributes,
        },
      }),
  };
}
