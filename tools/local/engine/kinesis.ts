/**
 * Amazon Kinesis Data Streams, and Lambda's Kinesis event source mapping: the stream event source mapping of
 * engine/stream-mapping.ts (written once for Kinesis and DynamoDB Streams) on a Kinesis stream.
 *
 * Stream: a record goes to the shard whose hash key range holds the MD5 of its partition key, and gets the
 * next sequence number of that shard; records older than the retention period are gone.
 */
import type { KinesisStreamConfig } from './config';
import { md5Hex } from './md5';
import type { Scheduler } from './scheduler';
import {
  evenShards,
  type StreamEventSourcePoller,
  type StreamRecord,
  type StreamShard,
  type StreamSource,
} from './stream-mapping';

export interface KinesisRecord extends StreamRecord {
  /** Base64, as Kinesis hands it to Lambda. */
  readonly data: string;
}

export type KinesisShard = StreamShard<KinesisRecord>;

export function partitionKeyHash(partitionKey: string): bigint {
  return BigInt(`0x${md5Hex(partitionKey)}`);
}

export class KinesisStream implements StreamSource<KinesisRecord> {
  readonly path = 'stream' as const;
  readonly batchInfoKey = 'KinesisBatchInfo' as const;
  readonly shards: KinesisShard[];
  private readonly listeners: ((record: KinesisRecord) => void)[] = [];
  /** Each partition key's hash and shard, computed once: a workload sends thousands of records per key. */
  private readonly routes = new Map<string, { readonly hashKey: bigint; readonly shard: KinesisShard }>();

  constructor(
    readonly config: KinesisStreamConfig,
    private readonly scheduler: Scheduler,
    private readonly identity: {
      readonly region: string;
      readonly accountId: string;
      readonly epochMs: number;
    },
  ) {
    this.shards = evenShards<KinesisRecord>(
      config.shardCount,
      (i) => `shardId-${String(i).padStart(12, '0')}`,
      // Sequence numbers grow within a shard: "49" + shard index + counter, 56 digits like the real ones.
      (index, counter) => `49${String(index).padStart(6, '0')}${counter.toString().padStart(48, '0')}`,
    );
  }

  get streamArn(): string {
    return this.config.streamArn;
  }

  get retentionHours(): number {
    return this.config.retentionHours;
  }

  onRecord(listener: (record: KinesisRecord) => void): void {
    this.listeners.push(listener);
  }

  /** PutRecord: data is the record's bytes as a UTF-8 string. */
  putRecord(partitionKey: string, data: string, recordId: string): KinesisRecord {
    const { hashKey, shard } = this.routeOf(partitionKey);
    const sequenceNumber = shard.nextSequenceNumber();
    const record: KinesisRecord = {
      sequenceNumber,
      seq: BigInt(sequenceNumber),
      partitionKey,
      hashKey,
      data: Buffer.from(data, 'utf8').toString('base64'),
      arrivalAt: this.scheduler.now,
      recordId,
      shardId: shard.shardId,
    };
    shard.records.push(record);
    for (const listener of this.listeners) listener(record);
    return record;
  }

  eventRecord(record: KinesisRecord): Record<string, unknown> {
    return {
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: record.partitionKey,
        sequenceNumber: record.sequenceNumber,
        data: record.data,
        approximateArrivalTimestamp: (this.identity.epochMs + record.arrivalAt) / 1000,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `${record.shardId}:${record.sequenceNumber}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: `arn:aws:iam::${this.identity.accountId}:role/lambda-role`,
      awsRegion: this.identity.region,
      eventSourceARN: this.config.streamArn,
    };
  }

  private routeOf(partitionKey: string): { readonly hashKey: bigint; readonly shard: KinesisShard } {
    let route = this.routes.get(partitionKey);
    if (!route) {
      const hashKey = partitionKeyHash(partitionKey);
      const shard = this.shards.find((s) => hashKey >= s.startingHashKey && hashKey <= s.endingHashKey)!;
      route = { hashKey, shard };
      this.routes.set(partitionKey, route);
    }
    return route;
  }
}

/** Lambda's Kinesis event source mapping: the stream mapping on a Kinesis stream. */
export type KinesisEventSourcePoller = StreamEventSourcePoller<KinesisRecord>;
