/**
 * Fetches the records a DynamoDB Streams on-failure record names, from the stream itself: a shard iterator at
 * `startSequenceNumber` (`GetShardIterator AT_SEQUENCE_NUMBER`), then `GetRecords` pages up to and including
 * `endSequenceNumber`.
 *
 * Unlike the Kinesis side, it reads the whole range rather than stopping at `batchSize` records: the mapping's
 * filter criteria (by default only INSERT and MODIFY reach the function) drop records before Lambda batches them,
 * so the range between the batch's first and last record can hold records the function never received. Which of
 * them were the batch is decided afterwards (dynamodb-records.ts, `--event-names`).
 *
 * What can go wrong, and what this says about it:
 * - The records are older than 24 hours, the only retention DynamoDB Streams has: `GetShardIterator` at the first
 *   sequence number answers `TrimmedDataAccessException`. The shard is then read from `TRIM_HORIZON` (its oldest
 *   record still there) for whatever part of the range is left, and the start of the range is reported trimmed,
 *   never silently.
 * - A record is trimmed while it is being read (`TrimmedDataAccessException` from `GetRecords`): the same, from
 *   `TRIM_HORIZON`.
 * - An iterator expires after 15 minutes: take a new one after the last record read.
 * - DynamoDB Streams has no `MillisBehindLatest`: an open shard answers empty pages at its newest record. A few
 *   empty pages in a row after records were read (or from the trim horizon) mean the newest record was reached
 *   before the end of the range.
 * - The shard was closed (DynamoDB rolls shards over every few hours) and has no more records: no next iterator.
 */
import {
  type _Record as StreamsRecord,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type ShardIteratorType,
} from '@aws-sdk/client-dynamodb-streams';
import { DDBStreamBatchInfo, parseDynamoDbStreamArn } from './failure-record';
import { FetchError } from './fetch';

/** How long DynamoDB Streams keeps a stream record (not configurable). */
export const DYNAMODB_STREAM_RETENTION_HOURS = 24;
/** `GetRecords` returns at most 1000 records a call. */
const MAX_LIMIT = 1000;
/** Empty pages in a row, after records were read, taken as the newest record of an open shard. */
const EMPTY_PAGES_AT_TIP = 3;

export interface DynamoDbFetchOptions {
  /** GetRecords calls before giving up. @default 1000 */
  readonly maxPages?: number;
  /** Pause after an empty page (DynamoDB Streams allows about 5 GetRecords per second per shard). @default 200 */
  readonly emptyPageDelayMs?: number;
}

export interface DynamoDbFetchResult {
  /** The records of the range still in the stream, in sequence order, as the DynamoDB Streams API returns them. */
  readonly records: StreamsRecord[];
  /**
   * Set when records of the range are gone (older than the 24 hours): those after `lostAfter` (from
   * `startSequenceNumber` when it is not set) and before `firstLeft` (to `endSequenceNumber` when it is not set).
   */
  readonly trimmed?: { readonly lostAfter?: string; readonly firstLeft?: string };
  /** Why the read stopped before `endSequenceNumber`, if it did: the shard ended, its newest record, the page limit. */
  readonly stoppedEarly?: string;
}

export async function fetchFailedChanges(
  client: DynamoDBStreamsClient,
  info: DDBStreamBatchInfo,
  options: DynamoDbFetchOptions = {},
): Promise<DynamoDbFetchResult> {
  const maxPages = options.maxPages ?? 1000;
  const emptyPageDelayMs = options.emptyPageDelayMs ?? 200;
  const start = BigInt(info.startSequenceNumber);
  const end = BigInt(info.endSequenceNumber);
  const records: StreamsRecord[] = [];
  /** Where records went missing: after this record (or from the start: `{}`). */
  let gap: { lostAfter?: string } | undefined;

  const iterator = async (type: ShardIteratorType, sequenceNumber?: string): Promise<string | 'trimmed'> => {
    try {
      const { ShardIterator } = await client.send(
        new GetShardIteratorCommand({
          StreamArn: info.streamArn,
          ShardId: info.shardId,
          ShardIteratorType: type,
          SequenceNumber: sequenceNumber,
        }),
      );
      if (!ShardIterator)
        throw new FetchError(`DynamoDB Streams returned no shard iterator for ${info.shardId}.`);
      return ShardIterator;
    } catch (error) {
      if ((error as Error).name === 'TrimmedDataAccessException') return 'trimmed';
      throw describeIteratorError(error, info);
    }
  };
  const lastRead = () => records.at(-1)?.dynamodb?.SequenceNumber;
  /** Goes on after the last record read (or at the start); from the oldest record left when that is trimmed. */
  const resume = async (): Promise<string> => {
    const last = lastRead();
    const next = await (last
      ? iterator('AFTER_SEQUENCE_NUMBER', last)
      : gap
        ? iterator('TRIM_HORIZON')
        : iterator('AT_SEQUENCE_NUMBER', info.startSequenceNumber));
    if (next !== 'trimmed') return next;
    gap ??= { lostAfter: last };
    const horizon = await iterator('TRIM_HORIZON');
    if (horizon === 'trimmed')
      throw new FetchError(`DynamoDB Streams refused TRIM_HORIZON for ${info.shardId}.`);
    return horizon;
  };

  let shardIterator = await resume();
  let stoppedEarly: string | undefined;
  let sawRecord = false;
  let emptyInARow = 0;
  let trimmedReads = 0;
  for (let page = 0; ; page += 1) {
    if (page >= maxPages) {
      stoppedEarly = `stopped after ${maxPages} GetRecords calls (--max-pages) before reaching endSequenceNumber`;
      break;
    }
    let response: GetRecordsCommandOutput;
    try {
      response = await client.send(new GetRecordsCommand({ ShardIterator: shardIterator, Limit: MAX_LIMIT }));
    } catch (error) {
      const name = (error as Error).name;
      if (name === 'ExpiredIteratorException') {
        shardIterator = await resume();
        continue;
      }
      if (name === 'TrimmedDataAccessException' && trimmedReads < 3) {
        // The iterator's next record was trimmed after the iterator was issued: go on from what is left.
        trimmedReads += 1;
        gap ??= { lostAfter: lastRead() };
        shardIterator = await resume();
        continue;
      }
      throw error;
    }
    const pageRecords = response.Records ?? [];
    const after = BigInt(lastRead() ?? '0');
    let done = false;
    for (const record of pageRecords) {
      sawRecord = true;
      const sequenceNumber = BigInt(record.dynamodb?.SequenceNumber ?? '0');
      if (sequenceNumber < start || sequenceNumber <= after) continue;
      if (sequenceNumber > end) {
        done = true;
        break;
      }
      records.push(record);
      if (sequenceNumber === end) {
        done = true;
        break;
      }
    }
    if (done) break;
    if (!response.NextShardIterator) {
      stoppedEarly = 'the shard is closed and has no more records';
      break;
    }
    emptyInARow = pageRecords.length === 0 ? emptyInARow + 1 : 0;
    // From the trim horizon, an open shard with nothing left of the range answers empty pages from the start.
    if ((sawRecord || gap) && emptyInARow >= EMPTY_PAGES_AT_TIP) {
      stoppedEarly = 'reached the newest record of the shard before endSequenceNumber';
      break;
    }
    shardIterator = response.NextShardIterator;
    if (pageRecords.length === 0 && emptyPageDelayMs > 0) await sleep(emptyPageDelayMs);
  }

  const first = records[0]?.dynamodb?.SequenceNumber;
  // Read from the trim horizon without being told: the start of the range is missing all the same.
  if (!gap && first !== undefined && BigInt(first) > start) gap = {};
  if (!gap) return { records, ...(stoppedEarly !== undefined && { stoppedEarly }) };
  const lostAfter = gap.lostAfter;
  const firstLeft = records.find(
    (record) => lostAfter === undefined || BigInt(record.dynamodb!.SequenceNumber!) > BigInt(lostAfter),
  )?.dynamodb?.SequenceNumber;
  return {
    records,
    trimmed: { ...(lostAfter !== undefined && { lostAfter }), ...(firstLeft !== undefined && { firstLeft }) },
    ...(stoppedEarly !== undefined && { stoppedEarly }),
  };
}

function describeIteratorError(error: unknown, info: DDBStreamBatchInfo): Error {
  if (error instanceof FetchError) return error;
  const { name, message } = error as Error;
  const { tableName } = parseDynamoDbStreamArn(info.streamArn);
  if (name === 'ResourceNotFoundException') {
    return new FetchError(
      `The stream of table "${tableName}" (${info.streamArn}) or its shard ${info.shardId} was not found ` +
        `(${message}). Check the account and region of your credentials. A stream disabled and enabled again, or a ` +
        'table re-created, has a new ARN; a closed shard disappears once its records are past the 24 hours.',
    );
  }
  if (name === 'ValidationException') {
    return new FetchError(
      `DynamoDB Streams refused startSequenceNumber ${info.startSequenceNumber} for ${info.shardId} of ` +
        `table "${tableName}": ${message}. Was the failure record written for another stream?`,
    );
  }
  return error as Error;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
