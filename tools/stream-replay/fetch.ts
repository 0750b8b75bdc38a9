/**
 * Fetches the records an on-failure record names, from the stream itself: a shard iterator at the first
 * sequence number, then GetRecords pages until past the last sequence number or `batchSize` records.
 *
 * What can go wrong, and what this says about it:
 * - Kinesis returns empty pages while it walks through a shard (MillisBehindLatest > 0): keep reading.
 * - An iterator expires after 5 minutes: take a new one after the last record read.
 * - The records were trimmed (older than the stream's retention): Kinesis starts at the oldest record still
 *   there, so the first record comes back with a later sequence number than asked, or none do. Reported as
 *   `missing`, never silently.
 * - The shard was closed by resharding and has no more records (no next iterator): stop.
 */
import {
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetRecordsCommandOutput,
  GetShardIteratorCommand,
  KinesisClient,
  _Record as KinesisRecord,
} from '@aws-sdk/client-kinesis';
import { KinesisBatchInfo, parseStreamArn } from './failure-record';

/** The stream, shard or sequence numbers cannot be read; the message says why. */
export class FetchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FetchError';
  }
}

/** One record as read back from the stream. */
export interface ReplayRecord {
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  readonly approximateArrivalTimestamp?: string;
  /** The data exactly as stored. */
  readonly data: Uint8Array;
}

export interface FetchResult {
  /** The records found, in sequence order. */
  readonly records: ReplayRecord[];
  /** How many the failure record names (`batchSize`). */
  readonly expected: number;
  /**
   * Why fewer than `expected` came back, or `undefined` when all did: the start of the batch was trimmed, the
   * shard ended, the page limit was reached...
   */
  readonly missing?: string;
}

export interface FetchOptions {
  /** GetRecords calls before giving up. @default 1000 */
  readonly maxPages?: number;
  /** Pause after an empty page (Kinesis allows 5 GetRecords per second per shard). @default 200 */
  readonly emptyPageDelayMs?: number;
}

export async function fetchFailedRecords(
  client: KinesisClient,
  info: KinesisBatchInfo,
  options: FetchOptions = {},
): Promise<FetchResult> {
  const { streamName } = parseStreamArn(info.streamArn);
  const maxPages = options.maxPages ?? 1000;
  const emptyPageDelayMs = options.emptyPageDelayMs ?? 200;
  const start = BigInt(info.startSequenceNumber);
  const end = BigInt(info.endSequenceNumber);
  const records: ReplayRecord[] = [];

  const iteratorAt = async (after?: string): Promise<string> => {
    try {
      const { ShardIterator } = await client.send(
        new GetShardIteratorCommand({
          StreamName: streamName,
          ShardId: info.shardId,
          ShardIteratorType: after ? 'AFTER_SEQUENCE_NUMBER' : 'AT_SEQUENCE_NUMBER',
          StartingSequenceNumber: after ?? info.startSequenceNumber,
        }),
      );
      if (!ShardIterator) throw new FetchError(`Kinesis returned no shard iterator for ${info.shardId}.`);
      return ShardIterator;
    } catch (error) {
      throw describeIteratorError(error, streamName, info);
    }
  };

  let iterator = await iteratorAt();
  let missing: string | undefined;
  let stoppedByPageLimit = false;
  let done = false;
  for (let page = 0; !done; page += 1) {
    if (page >= maxPages) {
      missing = `stopped after ${maxPages} GetRecords calls (--max-pages) before reaching the end of the batch`;
      stoppedByPageLimit = true;
      break;
    }
    let response: GetRecordsCommandOutput;
    try {
      response = await client.send(
        new GetRecordsCommand({ ShardIterator: iterator, Limit: Math.min(10_000, info.batchSize) }),
      );
    } catch (error) {
      if ((error as Error).name === 'ExpiredIteratorException') {
        iterator = await iteratorAt(records.at(-1)?.sequenceNumber);
        continue;
      }
      throw error;
    }
    const pageRecords = response.Records ?? [];
    for (const record of pageRecords) {
      const sequenceNumber = BigInt(record.SequenceNumber!);
      if (sequenceNumber < start) continue;
      if (sequenceNumber > end) {
        done = true;
        break;
      }
      records.push(toReplayRecord(info.shardId, record));
      if (records.length >= info.batchSize) {
        done = true;
        break;
      }
    }
    if (done) break;
    if (!response.NextShardIterator) {
      missing = 'the shard is closed and has no more records';
      break;
    }
    if (pageRecords.length === 0 && response.MillisBehindLatest === 0) {
      missing = 'reached the newest record of the shard before the end of the batch';
      break;
    }
    iterator = response.NextShardIterator;
    if (pageRecords.length === 0 && emptyPageDelayMs > 0) await sleep(emptyPageDelayMs);
  }

  const first = records[0];
  if (!first && stoppedByPageLimit) {
    return { records, expected: info.batchSize, missing: `${missing}, without finding any record of it` };
  }
  if (!first || BigInt(first.sequenceNumber) > start) {
    const retention = await retentionHours(client, streamName);
    const trimmed =
      `the record at startSequenceNumber ${info.startSequenceNumber} is no longer in the stream: it was trimmed ` +
      `(records are kept ${retention ? `${retention} hours` : 'for the retention period'} after arrival` +
      `${info.approximateArrivalOfFirstRecord ? `; it arrived ${info.approximateArrivalOfFirstRecord}` : ''})`;
    if (!first) {
      throw new FetchError(
        `None of the ${info.batchSize} records of ${info.shardId} from ${info.startSequenceNumber} to ` +
          `${info.endSequenceNumber} can be read: ${trimmed}. Nothing can be replayed from the stream; keep failure ` +
          'records within the retention, or use an S3 on-failure destination, which stores the records themselves.',
      );
    }
    missing = `${trimmed}; the first record still there is ${first.sequenceNumber}${missing ? `; also ${missing}` : ''}`;
  }
  if (!missing && records.length < info.batchSize) {
    missing = `the range holds ${records.length} of the ${info.batchSize} records the failure record counts`;
  }
  return { records, expected: info.batchSize, missing };
}

function toReplayRecord(shardId: string, record: KinesisRecord): ReplayRecord {
  return {
    shardId,
    sequenceNumber: record.SequenceNumber!,
    partitionKey: record.PartitionKey!,
    approximateArrivalTimestamp: record.ApproximateArrivalTimestamp?.toISOString(),
    data: record.Data ?? new Uint8Array(),
  };
}

function describeIteratorError(error: unknown, streamName: string, info: KinesisBatchInfo): Error {
  if (error instanceof FetchError) return error;
  const { name, message } = error as Error;
  if (name === 'ResourceNotFoundException') {
    return new FetchError(
      `Stream "${streamName}" or its shard ${info.shardId} was not found (${message}). Check the account and ` +
        'region of your credentials; a shard closed by resharding disappears once its records are past the retention.',
    );
  }
  if (name === 'InvalidArgumentException') {
    return new FetchError(
      `Kinesis refused startSequenceNumber ${info.startSequenceNumber} for ${info.shardId} of "${streamName}": ` +
        `${message}. Was the failure record written for another stream (a stream re-created under the same name)?`,
    );
  }
  return error as Error;
}

async function retentionHours(client: KinesisClient, streamName: string): Promise<number | undefined> {
  try {
    const { StreamDescriptionSummary } = await client.send(
      new DescribeStreamSummaryCommand({ StreamName: streamName }),
    );
    return StreamDescriptionSummary?.RetentionPeriodHours;
  } catch {
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A record as one JSON line: the data decoded (JSON if it is JSON, else UTF-8 text) and as base64. */
export function toJsonLine(record: ReplayRecord): string {
  const text = Buffer.from(record.data).toString('utf8');
  let data: unknown = text;
  try {
    data = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return JSON.stringify({
    shardId: record.shardId,
    sequenceNumber: record.sequenceNumber,
    partitionKey: record.partitionKey,
    approximateArrivalTimestamp: record.approximateArrivalTimestamp,
    data,
    dataBase64: Buffer.from(record.data).toString('base64'),
  });
}
