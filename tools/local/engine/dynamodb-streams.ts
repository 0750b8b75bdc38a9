/**
 * A DynamoDB table with a stream, and Lambda's DynamoDB Streams event source mapping: the stream event source
 * mapping of engine/stream-mapping.ts (shared with Kinesis: order per shard, bisection, retries, maximum record age,
 * checkpoint at the lowest failed sequence number, on-failure destination), on a table's stream. Each statement is
 * from the AWS documentation, checked by test/tools/local/dynamodb-streams.test.ts:
 *
 * - "Whenever an application creates, updates, or deletes items in the table, DynamoDB Streams writes a stream
 *   record with the primary key attributes of the items that were modified": `INSERT` (no item had the key),
 *   `MODIFY`, `REMOVE`, with the images the stream's view type keeps ("Change data capture for DynamoDB Streams").
 * - "Each stream record appears exactly once in the stream", and "for each item that is modified in a DynamoDB table,
 *   the stream records appear in the same sequence as the actual modifications to the item" (same page): an item's
 *   records go to one shard (by the hash of the item's key, as a Kinesis partition key does), with growing sequence
 *   numbers; Lambda processes each shard in order.
 * - A write that changes nothing writes no stream record (a `PutItem` or `UpdateItem` "that does not change any data
 *   in an item"), and neither does deleting an item that is not there.
 * - "All data in DynamoDB Streams is subject to a 24-hour lifetime": a record older than that is gone, retried or not.
 * - A deletion by time to live is a `REMOVE` whose `userIdentity` is `{ type: "Service", principalId:
 *   "dynamodb.amazonaws.com" }` ("DynamoDB Streams and Time to Live").
 * - The mapping's filter criteria (engine/event-filter.ts) see the record as Lambda builds it; a record matching no
 *   filter never invokes the function.
 * - The on-failure record carries `DDBStreamBatchInfo` (shard, start and end sequence numbers, arrivals, batch size,
 *   stream ARN) where Kinesis's carries `KinesisBatchInfo` ("Retain discarded records for a DynamoDB event source").
 *
 * Not modelled: shards closing and splitting over time (a real stream's shards roll over every few hours), the
 * number of shards (DynamoDB decides it from the table's partitions), `KEYS_ONLY`/`NEW_IMAGE`/`OLD_IMAGE` beyond
 * which images a record carries.
 */
import { dynamoDbStreamRecord } from '../../shared/aws-events';
import { AWS_DEFAULTS, type DynamoDbTableConfig } from './config';
import { md5Hex } from './md5';
import type { Random } from './random';
import type { Scheduler } from './scheduler';
import {
  evenShards,
  type StreamEventSourcePoller,
  type StreamRecord,
  type StreamShard,
  type StreamSource,
} from './stream-mapping';

export type Item = Readonly<Record<string, unknown>>;

export interface TableStreamRecord extends StreamRecord {
  /** `eventID`: unique per change. */
  readonly eventId: string;
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  readonly keys: Item;
  readonly newImage?: Item;
  readonly oldImage?: Item;
  readonly byTimeToLive: boolean;
  /** The logical record whose write left the item as this change's old image shows it. */
  readonly oldImageWrittenBy?: string;
}

export type TableStreamShard = StreamShard<TableStreamRecord>;

/** Outcome of a write: the stream record, or why there is none. */
export type WriteResult =
  | { readonly kind: 'written'; readonly record?: TableStreamRecord }
  | { readonly kind: 'unchanged' }
  | { readonly kind: 'condition-failed' };

export interface WriteOptions {
  /**
   * A conditional write (a producer's retry): applied only if the item is still as the write of this logical record
   * left it, otherwise refused (`ConditionalCheckFailedException`).
   */
  readonly onlyIfLastWrittenBy?: string;
}

/** The table's items, and its stream. */
export class DynamoDbTable {
  private readonly items = new Map<string, { readonly item: Item; readonly writtenBy: string }>();
  readonly stream?: DynamoDbStream;

  constructor(
    readonly config: DynamoDbTableConfig,
    scheduler: Scheduler,
    random: Random,
    identity: { readonly region: string; readonly epochMs: number },
  ) {
    if (config.streamArn && config.streamViewType)
      this.stream = new DynamoDbStream(config, scheduler, random, identity);
  }

  /** The item's key attributes; throws if one is missing (DynamoDB's ValidationException). */
  keyOf(item: Item): Item {
    return Object.fromEntries(
      this.config.keyAttributes.map((name) => {
        if (item[name] === undefined || item[name] === null) {
          throw new Error(
            `PutItem on ${this.config.tableName}: "One of the required keys was not given a value" (${name})`,
          );
        }
        return [name, item[name]];
      }),
    );
  }

  getItem(key: Item): Item | undefined {
    return this.items.get(keyString(key))?.item;
  }

  /** PutItem: the whole item. */
  putItem(item: Item, recordId: string, options: WriteOptions = {}): WriteResult {
    const keys = this.keyOf(item);
    const id = keyString(keys);
    const before = this.items.get(id);
    if (options.onlyIfLastWrittenBy !== undefined && before?.writtenBy !== options.onlyIfLastWrittenBy) {
      return { kind: 'condition-failed' };
    }
    if (before && canonical(before.item) === canonical(item)) return { kind: 'unchanged' };
    this.items.set(id, { item, writtenBy: recordId });
    const record = this.stream?.append({
      eventName: before ? 'MODIFY' : 'INSERT',
      keys,
      newImage: item,
      ...(before && { oldImage: before.item, oldImageWrittenBy: before.writtenBy }),
      byTimeToLive: false,
      recordId,
    });
    return { kind: 'written', ...(record && { record }) };
  }

  /** DeleteItem, or DynamoDB's time to live deleting an expired item (`byTimeToLive`). */
  deleteItem(key: Item, recordId: string, options: { readonly byTimeToLive?: boolean } = {}): WriteResult {
    const keys = this.keyOf(key);
    const id = keyString(keys);
    const before = this.items.get(id);
    if (!before) return { kind: 'unchanged' };
    this.items.delete(id);
    const record = this.stream?.append({
      eventName: 'REMOVE',
      keys,
      oldImage: before.item,
      oldImageWrittenBy: before.writtenBy,
      byTimeToLive: options.byTimeToLive ?? false,
      recordId,
    });
    return { kind: 'written', ...(record && { record }) };
  }
}

/** A table's stream: shards by the hash of the item's key, 24 hours of records. */
export class DynamoDbStream implements StreamSource<TableStreamRecord> {
  readonly path = 'table-stream' as const;
  readonly batchInfoKey = 'DDBStreamBatchInfo' as const;
  readonly retentionHours: number;
  readonly shards: TableStreamShard[];
  private readonly listeners: ((record: TableStreamRecord) => void)[] = [];
  /** Each item key's hash and shard, computed once. */
  private readonly routes = new Map<string, { readonly hashKey: bigint; readonly shard: TableStreamShard }>();
  /** Each record's event record, built once (its images marshalled to DynamoDB JSON). */
  private readonly built = new WeakMap<TableStreamRecord, Record<string, unknown>>();

  constructor(
    readonly config: DynamoDbTableConfig,
    private readonly scheduler: Scheduler,
    private readonly random: Random,
    private readonly identity: { readonly region: string; readonly epochMs: number },
  ) {
    this.retentionHours = AWS_DEFAULTS.dynamoDbStreamRetentionHours;
    const created = String(Math.floor(identity.epochMs / 1000)).padStart(20, '0');
    this.shards = evenShards<TableStreamRecord>(
      config.streamShardCount,
      // Like DynamoDB's: shardId-<20 digits>-<8 hex>.
      (i) => `shardId-${created}-${md5Hex(`${config.tableName}:${i}`).slice(0, 8)}`,
      // 21 to 40 digits, growing within a shard.
      (index, counter) => `${index + 1}${String(counter).padStart(26, '0')}`,
    );
  }

  get streamArn(): string {
    return this.config.streamArn!;
  }

  onRecord(listener: (record: TableStreamRecord) => void): void {
    this.listeners.push(listener);
  }

  append(
    change: Omit<
      TableStreamRecord,
      'sequenceNumber' | 'seq' | 'partitionKey' | 'hashKey' | 'arrivalAt' | 'shardId' | 'eventId'
    >,
  ): TableStreamRecord {
    const partitionKey = keyString(change.keys);
    let route = this.routes.get(partitionKey);
    if (!route) {
      const hash = BigInt(`0x${md5Hex(partitionKey)}`);
      route = {
        hashKey: hash,
        shard: this.shards.find((s) => hash >= s.startingHashKey && hash <= s.endingHashKey)!,
      };
      this.routes.set(partitionKey, route);
    }
    const { hashKey, shard } = route;
    const sequenceNumber = shard.nextSequenceNumber();
    const view = this.config.streamViewType;
    const record: TableStreamRecord = {
      ...change,
      // Images the view type keeps.
      newImage: view === 'NEW_IMAGE' || view === 'NEW_AND_OLD_IMAGES' ? change.newImage : undefined,
      oldImage: view === 'OLD_IMAGE' || view === 'NEW_AND_OLD_IMAGES' ? change.oldImage : undefined,
      eventId: this.random.hex(32),
      sequenceNumber,
      seq: BigInt(sequenceNumber),
      partitionKey,
      hashKey,
      arrivalAt: this.scheduler.now,
      shardId: shard.shardId,
    };
    shard.records.push(record);
    for (const listener of this.listeners) listener(record);
    return record;
  }

  /**
   * The record as Lambda's DynamoDB Streams event carries it (tools/shared/aws-events.ts): a new object each time
   * (a handler may change its event), its marshalled images built once.
   */
  eventRecord(record: TableStreamRecord): Record<string, unknown> {
    let built = this.built.get(record);
    if (!built) {
      built = this.build(record);
      this.built.set(record, built);
    }
    return { ...built, dynamodb: { ...(built.dynamodb as Record<string, unknown>) } };
  }

  private build(record: TableStreamRecord): Record<string, unknown> {
    const built = dynamoDbStreamRecord({
      eventId: record.eventId,
      eventName: record.eventName,
      keys: record.keys,
      ...(record.newImage && { newImage: record.newImage }),
      ...(record.oldImage && { oldImage: record.oldImage }),
      sequenceNumber: record.sequenceNumber,
      streamArn: this.streamArn,
      approximateCreationDateTime: Math.floor((this.identity.epochMs + record.arrivalAt) / 1000),
      byTimeToLive: record.byTimeToLive,
    });
    const dynamodb = built.dynamodb as Record<string, unknown>;
    return { ...built, dynamodb: { ...dynamodb, StreamViewType: this.config.streamViewType } };
  }
}

/** Lambda's DynamoDB Streams event source mapping: the stream mapping on a table's stream. */
export type DynamoDbStreamEventSourcePoller = StreamEventSourcePoller<TableStreamRecord>;

/** An item's key as one string, as the handler writes it: `name=value` per key attribute, sorted, joined by `&`. */
export function keyString(keys: Item): string {
  return Object.keys(keys)
    .sort()
    .map((name) => `${name}=${String(keys[name])}`)
    .join('&');
}

/** A value's JSON with object keys sorted: two items are the same item when these are equal. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}
