/**
 * Amazon Kinesis Data Streams and Lambda's Kinesis event source mapping.
 *
 * Stream: a record goes to the shard whose hash key range holds the MD5 of its partition key, and gets the
 * next sequence number of that shard; records older than the retention period are gone.
 *
 * Mapping: each shard is read in order, one batch at a time per shard, or per lane with a `ParallelizationFactor`
 * above 1 (records of one partition key always share a lane, so their order holds). Batches hold up to
 * `BatchSize` records, waiting at most `MaximumBatchingWindowInSeconds`. On a function error (or a timeout, or a
 * response the mapping cannot use):
 * - with `BisectBatchOnFunctionError`, a batch of two or more records is split in two halves, first half
 *   first, "still maintaining record order"; splitting "resets the retry and max age values" (seeds) and does
 *   not count as a retry;
 * - a batch that cannot be split (or when bisect is off) is retried `MaximumRetryAttempts` times (−1: until the
 *   records expire), then its metadata goes to the on-failure destination and the shard moves on;
 * - a batch older than `MaximumRecordAgeInSeconds` goes to the destination without being invoked again.
 * With `ReportBatchItemFailures`, a partial response checkpoints at the lowest failed sequence number: the
 * records before it are done, the rest is retried; with bisect on, "the batch is bisected at the returned
 * sequence number and Lambda retries only the remaining records" (a split, not a retry).
 */
import { readBatchResponse } from './batch-response';
import type { KinesisEventSourceMappingConfig, KinesisStreamConfig } from './config';
import type { LambdaService, TimedOutcome } from './lambda';
import { md5Hex } from './md5';
import { MAPPING_THROTTLE_BACKOFF_MAX_MS, throttleBackoffMs } from './backoff';
import type { Random } from './random';
import type { Scheduler } from './scheduler';
import type { Sinks } from './sinks';
import type { InvocationReason, InvocationRecord, Trace } from './trace';

const HASH_SPACE = 2n ** 128n;

export interface KinesisRecord {
  readonly sequenceNumber: string;
  readonly seq: bigint;
  readonly partitionKey: string;
  readonly hashKey: bigint;
  /** Base64, as Kinesis hands it to Lambda. */
  readonly data: string;
  readonly arrivalAt: number;
  readonly recordId: string;
  readonly shardId: string;
}

export class KinesisShard {
  readonly records: KinesisRecord[] = [];
  private counter = 0n;

  constructor(
    readonly index: number,
    readonly shardId: string,
    readonly startingHashKey: bigint,
    readonly endingHashKey: bigint,
  ) {}

  /** Sequence numbers grow within a shard: "49" + shard index + counter, 56 digits like the real ones. */
  nextSequenceNumber(): string {
    this.counter += 1n;
    return `49${String(this.index).padStart(6, '0')}${this.counter.toString().padStart(48, '0')}`;
  }
}

export function partitionKeyHash(partitionKey: string): bigint {
  return BigInt(`0x${md5Hex(partitionKey)}`);
}

export class KinesisStream {
  readonly shards: KinesisShard[];
  private readonly listeners: ((record: KinesisRecord) => void)[] = [];
  /** Each partition key's hash and shard, computed once: a workload sends thousands of records per key. */
  private readonly routes = new Map<string, { readonly hashKey: bigint; readonly shard: KinesisShard }>();

  constructor(
    readonly config: KinesisStreamConfig,
    private readonly scheduler: Scheduler,
  ) {
    const width = HASH_SPACE / BigInt(config.shardCount);
    this.shards = Array.from({ length: config.shardCount }, (_, i) => {
      const start = width * BigInt(i);
      const end = i === config.shardCount - 1 ? HASH_SPACE - 1n : start + width - 1n;
      return new KinesisShard(i, `shardId-${String(i).padStart(12, '0')}`, start, end);
    });
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

/** A contiguous part of a lane's records, [start, end), and its retry state. */
interface Piece {
  start: number;
  readonly end: number;
  retries: number;
  /** Age is measured from here: the oldest record's arrival, reset to the split time by a split. */
  ageBase: number;
  invocations: number;
  reason: InvocationReason;
  last?: { readonly record: InvocationRecord; readonly outcome: TimedOutcome };
}

class Lane {
  readonly records: KinesisRecord[] = [];
  cursor = 0;
  /** The pieces of the batch in progress, in record order. */
  readonly work: Piece[] = [];
  busy = false;
  scheduled = false;
  gatherSince?: number;
  throttles = 0;

  constructor(
    readonly shard: KinesisShard,
    readonly index: number,
  ) {}
}

export class KinesisEventSourcePoller {
  private readonly lanes: Lane[];

  constructor(
    readonly mapping: KinesisEventSourceMappingConfig,
    private readonly stream: KinesisStream,
    private readonly scheduler: Scheduler,
    private readonly random: Random,
    private readonly lambda: LambdaService,
    private readonly trace: Trace,
    private readonly sinks: Sinks,
    private readonly region: string,
    private readonly accountId: string,
    private readonly epochMs: number,
  ) {
    const factor = mapping.parallelizationFactor;
    this.lanes = stream.shards.flatMap((shard) =>
      Array.from({ length: factor }, (_, i) => new Lane(shard, i)),
    );
    stream.onRecord((record) => {
      const shard = this.stream.shards.find((s) => s.shardId === record.shardId)!;
      const lane = this.lanes[shard.index * factor + Number(record.hashKey % BigInt(factor))];
      lane.records.push(record);
      this.wake(lane);
    });
  }

  private wake(lane: Lane, delayMs = 0): void {
    if (lane.scheduled || lane.busy || !this.mapping.enabled) return;
    lane.scheduled = true;
    this.scheduler.after(delayMs, () => {
      lane.scheduled = false;
      return this.step(lane);
    });
  }

  private get retentionMs(): number {
    return this.stream.config.retentionHours * 3_600_000;
  }

  private async step(lane: Lane): Promise<void> {
    if (lane.busy) return;
    const now = this.scheduler.now;
    if (lane.work.length === 0) {
      this.skipExpired(lane);
      const available = lane.records.length - lane.cursor;
      if (available === 0) return;
      const windowMs = this.mapping.maximumBatchingWindowSeconds * 1000;
      if (windowMs > 0 && available < this.mapping.batchSize) {
        lane.gatherSince ??= now;
        if (now < lane.gatherSince + windowMs) {
          this.wake(lane, lane.gatherSince + windowMs - now);
          return;
        }
      }
      lane.gatherSince = undefined;
      const end = Math.min(lane.records.length, lane.cursor + this.mapping.batchSize);
      lane.work.push({
        start: lane.cursor,
        end,
        retries: 0,
        ageBase: lane.records[lane.cursor].arrivalAt,
        invocations: 0,
        reason: 'new',
      });
    }
    const piece = lane.work[0];
    if (this.dropExpired(lane, piece)) return this.step(lane);
    const maxAge = this.mapping.maximumRecordAgeSeconds;
    if (maxAge >= 0 && now - piece.ageBase > maxAge * 1000) {
      this.discard(lane, piece, 'RecordAgeExceeded');
      return this.step(lane);
    }
    const records = lane.records.slice(piece.start, piece.end);
    const result = await this.lambda.invoke({
      functionId: this.mapping.functionId,
      path: 'stream',
      sourceId: this.mapping.id,
      event: { Records: records.map((r) => this.eventRecord(r)) },
      recordIds: records.map((r) => r.recordId),
      itemIds: records.map((r) => r.sequenceNumber),
      reason: lane.throttles > 0 ? 'throttle-retry' : piece.reason,
      attempt: piece.retries + 1,
      shardId: lane.shard.shardId,
      lane: lane.index,
    });
    if (result.status === 'throttled') {
      // Not a function error: retried until the records are too old or expire, without using a retry.
      lane.throttles += 1;
      this.wake(lane, throttleBackoffMs(lane.throttles, MAPPING_THROTTLE_BACKOFF_MAX_MS));
      return;
    }
    lane.throttles = 0;
    lane.busy = true;
    piece.invocations += 1;
    piece.last = { record: result.record, outcome: result.outcome };
    this.scheduler.after(result.durationMs, () =>
      this.complete(lane, piece, records, result.record, result.outcome),
    );
  }

  private complete(
    lane: Lane,
    piece: Piece,
    records: readonly KinesisRecord[],
    record: InvocationRecord,
    outcome: TimedOutcome,
  ): void {
    lane.busy = false;
    const now = this.scheduler.now;
    let lowestFailed: number | undefined;
    let failed = outcome.kind !== 'returned';
    if (outcome.kind === 'returned' && this.mapping.reportBatchItemFailures) {
      const response = readBatchResponse(outcome.payload, new Set(records.map((r) => r.sequenceNumber)));
      if (response.kind === 'invalid') {
        record.outcome = 'invalid-response';
        record.error = { errorType: 'InvalidBatchResponse', errorMessage: response.reason };
        failed = true;
      } else if (response.kind === 'partial') {
        record.outcome = 'partial-failure';
        record.failedItemIds = response.failedItemIds;
        const lowest = response.failedItemIds.map((id) => BigInt(id)).reduce((a, b) => (b < a ? b : a));
        lowestFailed = records.findIndex((r) => r.seq === lowest);
      }
    }

    if (lowestFailed !== undefined) {
      // Checkpoint at the lowest failed sequence number: the records before it are done.
      const retryFrom = piece.start + lowestFailed;
      lane.cursor = retryFrom;
      if (this.mapping.bisectBatchOnFunctionError && lowestFailed > 0) {
        this.replaceHead(lane, [
          {
            start: retryFrom,
            end: piece.end,
            retries: 0,
            ageBase: now,
            invocations: 0,
            reason: 'after-partial-failure',
          },
        ]);
        this.splitEvent(
          lane,
          piece,
          `split at the lowest failed sequence number: ${piece.end - retryFrom} records left`,
        );
      } else {
        piece.start = retryFrom;
        this.retryOrDiscard(lane, piece);
      }
    } else if (failed) {
      const size = piece.end - piece.start;
      if (this.mapping.bisectBatchOnFunctionError && size > 1) {
        const middle = piece.start + Math.floor(size / 2);
        this.replaceHead(lane, [
          { start: piece.start, end: middle, retries: 0, ageBase: now, invocations: 0, reason: 'split' },
          { start: middle, end: piece.end, retries: 0, ageBase: now, invocations: 0, reason: 'split' },
        ]);
        this.splitEvent(
          lane,
          piece,
          `batch of ${size} split into ${middle - piece.start} + ${piece.end - middle}`,
        );
      } else {
        this.retryOrDiscard(lane, piece);
      }
    } else {
      lane.work.shift();
      lane.cursor = piece.end;
    }
    this.wake(lane);
  }

  private retryOrDiscard(lane: Lane, piece: Piece): void {
    piece.retries += 1;
    piece.reason = 'retry';
    const max = this.mapping.maximumRetryAttempts;
    if (max >= 0 && piece.retries > max) {
      this.discard(lane, piece, 'RetryAttemptsExhausted');
    }
  }

  private replaceHead(lane: Lane, pieces: Piece[]): void {
    lane.work.splice(0, 1, ...pieces);
  }

  private splitEvent(lane: Lane, piece: Piece, detail: string): void {
    this.trace.event({
      at: this.scheduler.now,
      path: 'stream',
      kind: 'split',
      sourceId: this.mapping.id,
      recordIds: lane.records.slice(piece.start, piece.end).map((r) => r.recordId),
      detail: `${lane.shard.shardId}: ${detail}`,
    });
  }

  /** The piece leaves the lane: its metadata goes to the on-failure destination, and the shard moves on. */
  private discard(lane: Lane, piece: Piece, condition: 'RetryAttemptsExhausted' | 'RecordAgeExceeded'): void {
    lane.work.shift();
    lane.cursor = piece.end;
    const records = lane.records.slice(piece.start, piece.end);
    const recordIds = records.map((r) => r.recordId);
    const destination = this.mapping.onFailureDestinationArn;
    if (!destination) {
      this.trace.event({
        at: this.scheduler.now,
        path: 'stream',
        kind: 'discarded',
        sourceId: this.mapping.id,
        recordIds,
        detail: `${condition}: ${records.length} records of ${lane.shard.shardId} skipped (no on-failure destination)`,
      });
      return;
    }
    const last = piece.last;
    this.sinks.send(destination, {
      path: 'stream',
      kind: 'on-failure-destination',
      recordIds,
      condition,
      message: {
        requestContext: {
          requestId: last?.record.requestId ?? this.random.uuid(),
          functionArn: this.lambda.functionConfig(this.mapping.functionId).functionArn,
          condition,
          approximateInvokeCount: piece.invocations,
        },
        ...(last && {
          responseContext: {
            statusCode: 200,
            executedVersion: '$LATEST',
            ...(last.outcome.kind !== 'returned' && { functionError: 'Unhandled' }),
          },
        }),
        version: '1.0',
        timestamp: new Date(this.epochMs + this.scheduler.now).toISOString(),
        KinesisBatchInfo: {
          shardId: lane.shard.shardId,
          startSequenceNumber: records[0].sequenceNumber,
          endSequenceNumber: records[records.length - 1].sequenceNumber,
          approximateArrivalOfFirstRecord: new Date(this.epochMs + records[0].arrivalAt).toISOString(),
          approximateArrivalOfLastRecord: new Date(
            this.epochMs + records[records.length - 1].arrivalAt,
          ).toISOString(),
          batchSize: records.length,
          streamArn: this.stream.config.streamArn,
        },
      },
    });
  }

  /** Records of the piece that expired from the stream while it was retried are gone. True if none is left. */
  private dropExpired(lane: Lane, piece: Piece): boolean {
    const now = this.scheduler.now;
    let first = piece.start;
    while (first < piece.end && now - lane.records[first].arrivalAt >= this.retentionMs) first += 1;
    if (first === piece.start) return false;
    this.trace.event({
      at: now,
      path: 'stream',
      kind: 'expired',
      sourceId: this.mapping.id,
      recordIds: lane.records.slice(piece.start, first).map((r) => r.recordId),
      detail: `${first - piece.start} records of ${lane.shard.shardId} expired from the stream (retention ${this.stream.config.retentionHours} h) while being retried`,
    });
    piece.start = first;
    lane.cursor = Math.max(lane.cursor, first);
    if (first < piece.end) return false;
    lane.work.shift();
    lane.cursor = piece.end;
    return true;
  }

  private skipExpired(lane: Lane): void {
    const now = this.scheduler.now;
    const expired: KinesisRecord[] = [];
    while (
      lane.cursor < lane.records.length &&
      now - lane.records[lane.cursor].arrivalAt >= this.retentionMs
    ) {
      expired.push(lane.records[lane.cursor]);
      lane.cursor += 1;
    }
    if (expired.length > 0) {
      this.trace.event({
        at: now,
        path: 'stream',
        kind: 'expired',
        sourceId: this.mapping.id,
        recordIds: expired.map((r) => r.recordId),
        detail: `${expired.length} records of ${lane.shard.shardId} expired from the stream (retention ${this.stream.config.retentionHours} h) before they were processed`,
      });
    }
  }

  private eventRecord(record: KinesisRecord): Record<string, unknown> {
    return {
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: record.partitionKey,
        sequenceNumber: record.sequenceNumber,
        data: record.data,
        approximateArrivalTimestamp: (this.epochMs + record.arrivalAt) / 1000,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `${record.shardId}:${record.sequenceNumber}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: `arn:aws:iam::${this.accountId}:role/lambda-role`,
      awsRegion: this.region,
      eventSourceARN: this.stream.config.streamArn,
    };
  }
}
