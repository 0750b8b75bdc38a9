/**
 * Re-drives fetched records into a stream: the same data and partition key, one PutRecord at a time, in
 * sequence order, each chained to the previous record of its partition key with `SequenceNumberForOrdering`.
 *
 * Why not PutRecords: a PutRecords request does not guarantee the order of its records, and retrying its
 * partial failures would reorder a key further. One call per record is slower, but a failure batch holds at
 * most `batchSize` records, and per-key order is the point of this path.
 *
 * The re-driven records are new records (new sequence numbers) behind everything already in the stream. The
 * consumer recognises the ones it already applied by their eventId (the idempotency key) for as long as the
 * idempotency records live (by default the stream's retention); the others are applied now, after newer
 * records of their key.
 */
import { KinesisClient, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { parseStreamArn, STREAM_ARN_PATTERN } from './failure-record';
import type { ReplayRecord } from './fetch';

export class RedriveError extends Error {
  constructor(
    message: string,
    /** How many records were put before the failure. */
    readonly redriven: number,
  ) {
    super(message);
    this.name = 'RedriveError';
  }
}

export interface RedriveTarget {
  readonly streamName: string;
  /** From an ARN target; `undefined` for a bare name (the client's region is used). */
  readonly region?: string;
}

/** A target given as a stream name or ARN. */
export function parseRedriveTarget(nameOrArn: string): RedriveTarget {
  if (nameOrArn.startsWith('arn:')) {
    if (!STREAM_ARN_PATTERN.test(nameOrArn)) {
      throw new RedriveError(`--redrive: "${nameOrArn}" is not a Kinesis stream ARN.`, 0);
    }
    const { streamName, region } = parseStreamArn(nameOrArn);
    return { streamName, region };
  }
  if (!/^[a-zA-Z0-9_.-]{1,128}$/.test(nameOrArn)) {
    throw new RedriveError(`--redrive: "${nameOrArn}" is not a stream name (1-128 of a-z A-Z 0-9 _ . -).`, 0);
  }
  return { streamName: nameOrArn };
}

export interface RedrivenRecord {
  readonly sourceSequenceNumber: string;
  readonly partitionKey: string;
  readonly shardId: string;
  readonly sequenceNumber: string;
}

export async function redriveRecords(
  client: KinesisClient,
  records: readonly ReplayRecord[],
  target: RedriveTarget,
): Promise<RedrivenRecord[]> {
  const lastOfKey = new Map<string, string>();
  const done: RedrivenRecord[] = [];
  for (const record of records) {
    try {
      const result = await client.send(
        new PutRecordCommand({
          StreamName: target.streamName,
          PartitionKey: record.partitionKey,
          Data: record.data,
          SequenceNumberForOrdering: lastOfKey.get(record.partitionKey),
        }),
      );
      lastOfKey.set(record.partitionKey, result.SequenceNumber!);
      done.push({
        sourceSequenceNumber: record.sequenceNumber,
        partitionKey: record.partitionKey,
        shardId: result.ShardId!,
        sequenceNumber: result.SequenceNumber!,
      });
    } catch (error) {
      throw new RedriveError(
        `PutRecord to "${target.streamName}" failed for record ${record.sequenceNumber} (partition key ` +
          `"${record.partitionKey}") after ${done.length} of ${records.length} records were re-driven: ` +
          `${(error as Error).message}. Fix the cause and run again: the records already re-driven go in a second ` +
          'time, and the consumer skips them (same eventId, still within the idempotency expiry).',
        done.length,
      );
    }
  }
  return done;
}
