/**
 * Lambda's event source mapping for streams, written once for Kinesis Data Streams (engine/kinesis.ts) and DynamoDB
 * Streams (engine/dynamodb-streams.ts), as the seeds put it: stream event sources "need to maintain record order per
 * shard", and share their error handling (bisect, maximum retry attempts, maximum record age, on-failure
 * destination). What differs per source is the stream itself (how records reach a shard, their sequence numbers,
 * retention), the event record Lambda builds for each, and the name of the batch metadata in an on-failure record
 * (`KinesisBatchInfo`, `DDBStreamBatchInfo`): a {@link StreamSource}.
 *
 * Mapping: each shard is read in order, one batch at a time per shard, or per lane with a `ParallelizationFactor`
 * above 1 (records of one key always share a lane, so their order holds). Batches hold up to `BatchSize` records,
 * waiting at most `MaximumBatchingWindowInSeconds`. Records that match none of the mapping's filters (`FilterCriteria`,
 * engine/event-filter.ts) never reach a batch. On a function error (or a timeout, or a response the mapping cannot
 * use):
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
import type { IngestionPath, StreamEventSourceMappingConfig } from './config';
import { eventFilter } from './event-filter';
import type { LambdaService, TimedOutcome } from './lambda';
import { MAPPING_THROTTLE_BACKOFF_MAX_MS, throttleBackoffMs } from './backoff';
import type { Random } from './random';
import type { Scheduler } from './scheduler';
import type { Sinks } from './sinks';
import type { InvocationReason, InvocationRecord, Trace } from './trace';

export const HASH_SPACE = 2n ** 128n;

/** What the mapping needs of a stream record. */
export interface StreamRecord {
  readonly sequenceNumber: string;
  readonly seq: bigint;
  /** The key whose records stay in order: a Kinesis partition key, a DynamoDB item's key. */
  readonly partitionKey: string;
  /** The key's place in the hash key space (its shard, and its lane within the shard). */
  readonly hashKey: bigint;
  readonly arrivalAt: number;
  readonly recordId: string;
  readonly shardId: string;
}

/** A shard: a hash key range, its records in order, and its sequence numbers. */
export class StreamShard<R extends StreamRecord> {
  readonly records: R[] = [];
  private counter = 0n;

  constructor(
    readonly index: number,
    readonly shardId: string,
    readonly startingHashKey: bigint,
    readonly endingHashKey: bigint,
    /** The n-th sequence number of the shard (they grow within a shard). */
    private readonly sequenceOf: (index: number, counter: bigint) => string,
  ) {}

  nextSequenceNumber(): string {
    this.counter += 1n;
    return this.sequenceOf(this.index, this.counter);
  }
}

/** `count` shards splitting the 128-bit hash key space evenly. */
export function evenShards<R extends StreamRecord>(
  count: number,
  shardIdOf: (index: number) => string,
  sequenceOf: (index: number, counter: bigint) => string,
): StreamShard<R>[] {
  const width = HASH_SPACE / BigInt(count);
  return Array.from({ length: count }, (_, i) => {
    const start = width * BigInt(i);
    const end = i === count - 1 ? HASH_SPACE - 1n : start + width - 1n;
    return new StreamShard<R>(i, shardIdOf(i), start, end, sequenceOf);
  });
}

/** What differs per kind of stream. */
export interface StreamSource<R extends StreamRecord> {
  readonly path: IngestionPath;
  readonly streamArn: string;
  /** How long the stream keeps a record. */
  readonly retentionHours: number;
  readonly shards: readonly StreamShard<R>[];
  /** The key of the batch metadata in an on-failure record. */
  readonly batchInfoKey: 'KinesisBatchInfo' | 'DDBStreamBatchInfo';
  /** Calls `listener` with every record the stream gets. */
  onRecord(listener: (record: R) => void): void;
  /** The record as Lambda puts it in the event (and as filter criteria see it). */
  eventRecord(record: R): Record<string, unknown>;
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

class Lane<R extends StreamRecord> {
  readonly records: R[] = [];
  cursor = 0;
  /** The pieces of the batch in progress, in record order. */
  readonly work: Piece[] = [];
  busy = false;
  scheduled = false;
  gatherSince?: number;
  throttles = 0;

  constructor(
    readonly shard: StreamShard<R>,
    readonly index: number,
  ) {}
}

/**
 * Lambda's event source mapping for a stream (Kinesis Data Streams or DynamoDB Streams): one poller per mapping,
 * one lane per shard (per shard and parallelization slot), the retry, bisection, record age, checkpoint and
 * on-failure logic of the module comment.
 */
export class StreamEventSourcePoller<R extends StreamRecord> {
  private readonly lanes: Lane<R>[];
  private readonly filter?: (eventRecord: Record<string, unknown>) => boolean;

  constructor(
    readonly mapping: StreamEventSourceMappingConfig,
    private readonly stream: StreamSource<R>,
    private readonly scheduler: Scheduler,
    private readonly random: Random,
    private readonly lambda: LambdaService,
    private readonly trace: Trace,
    private readonly sinks: Sinks,
    private readonly epochMs: number,
  ) {
    const factor = mapping.parallelizationFactor;
    this.lanes = stream.shards.flatMap((shard) =>
      Array.from({ length: factor }, (_, i) => new Lane(shard, i)),
    );
    if (mapping.filters && mapping.filters.length > 0) this.filter = eventFilter(mapping.filters);
    stream.onRecord((record) => {
      // "If none of your filters are satisfied, Lambda discards the record": it never reaches a batch.
      if (this.filter && !this.filter(this.stream.eventRecord(record))) {
        this.trace.event({
          at: this.scheduler.now,
          path: this.stream.path,
          kind: 'filtered',
          sourceId: this.mapping.id,
          recordIds: [record.recordId],
          detail: `${record.shardId}:${record.sequenceNumber} matches none of the mapping's filters: not sent to the function`,
        });
        return;
      }
      const shard = this.stream.shards.find((s) => s.shardId === record.shardId)!;
      const lane = this.lanes[shard.index * factor + Number(record.hashKey % BigInt(factor))];
      lane.records.push(record);
      this.wake(lane);
    });
  }

  private wake(lane: Lane<R>, delayMs = 0): void {
    if (lane.scheduled || lane.busy || !this.mapping.enabled) return;
    lane.scheduled = true;
    this.scheduler.after(delayMs, () => {
      lane.scheduled = false;
      return this.step(lane);
    });
  }

  private get retentionMs(): number {
    return this.stream.retentionHours * 3_600_000;
  }

  private async step(lane: Lane<R>): Promise<void> {
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
      path: this.stream.path,
      sourceId: this.mapping.id,
      event: { Records: records.map((r) => this.stream.eventRecord(r)) },
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
    lane: Lane<R>,
    piece: Piece,
    records: readonly R[],
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

  private retryOrDiscard(lane: Lane<R>, piece: Piece): void {
    piece.retries += 1;
    piece.reason = 'retry';
    const max = this.mapping.maximumRetryAttempts;
    if (max >= 0 && piece.retries > max) {
      this.discard(lane, piece, 'RetryAttemptsExhausted');
    }
  }

  private replaceHead(lane: Lane<R>, pieces: Piece[]): void {
    lane.work.splice(0, 1, ...pieces);
  }

  private splitEvent(lane: Lane<R>, piece: Piece, detail: string): void {
    this.trace.event({
      at: this.scheduler.now,
      path: this.stream.path,
      kind: 'split',
      sourceId: this.mapping.id,
      recordIds: lane.records.slice(piece.start, piece.end).map((r) => r.recordId),
      detail: `${lane.shard.shardId}: ${detail}`,
    });
  }

  /** The piece leaves the lane: its metadata goes to the on-failure destination, and the shard moves on. */
  private discard(
    lane: Lane<R>,
    piece: Piece,
    condition: 'RetryAttemptsExhausted' | 'RecordAgeExceeded',
  ): void {
    lane.work.shift();
    lane.cursor = piece.end;
    const records = lane.records.slice(piece.start, piece.end);
    const recordIds = records.map((r) => r.recordId);
    const destination = this.mapping.onFailureDestinationArn;
    if (!destination) {
      this.trace.event({
        at: this.scheduler.now,
        path: this.stream.path,
        kind: 'discarded',
        sourceId: this.mapping.id,
        recordIds,
        detail: `${condition}: ${records.length} records of ${lane.shard.shardId} skipped (no on-failure destination)`,
      });
      return;
    }
    const last = piece.last;
    this.sinks.send(destination, {
      path: this.stream.path,
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
        [this.stream.batchInfoKey]: {
          shardId: lane.shard.shardId,
          startSequenceNumber: records[0].sequenceNumber,
          endSequenceNumber: records[records.length - 1].sequenceNumber,
          approximateArrivalOfFirstRecord: new Date(this.epochMs + records[0].arrivalAt).toISOString(),
          approximateArrivalOfLastRecord: new Date(
            this.epochMs + records[records.length - 1].arrivalAt,
          ).toISOString(),
          batchSize: records.length,
          streamArn: this.stream.streamArn,
        },
      },
    });
  }

  /** Records of the piece that expired from the stream while it was retried are gone. True if none is left. */
  private dropExpired(lane: Lane<R>, piece: Piece): boolean {
    const now = this.scheduler.now;
    let first = piece.start;
    while (first < piece.end && now - lane.records[first].arrivalAt >= this.retentionMs) first += 1;
    if (first === piece.start) return false;
    this.trace.event({
      at: now,
      path: this.stream.path,
      kind: 'expired',
      sourceId: this.mapping.id,
      recordIds: lane.records.slice(piece.start, first).map((r) => r.recordId),
      detail: `${first - piece.start} records of ${lane.shard.shardId} expired from the stream (retention ${this.stream.retentionHours} h) while being retried`,
    });
    piece.start = first;
    lane.cursor = Math.max(lane.cursor, first);
    if (first < piece.end) return false;
    lane.work.shift();
    lane.cursor = piece.end;
    return true;
  }

  private skipExpired(lane: Lane<R>): void {
    const now = this.scheduler.now;
    const expired: R[] = [];
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
        path: this.stream.path,
        kind: 'expired',
        sourceId: this.mapping.id,
        recordIds: expired.map((r) => r.recordId),
        detail: `${expired.length} records of ${lane.shard.shardId} expired from the stream (retention ${this.stream.retentionHours} h) before they were processed`,
      });
    }
  }
}
