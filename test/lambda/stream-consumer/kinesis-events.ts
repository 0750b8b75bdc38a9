/**
 * Kinesis events as Lambda's event source mapping delivers them, for handler tests: base64 data, one shard,
 * increasing sequence numbers, `eventID` = `shardId:sequenceNumber`. The messages themselves come from the
 * path's domain module (its examples), so these hold for whatever domain a fork puts in `domain.ts`.
 */
import { createLambdaContext } from '../../../tools/shared/lambda-context';
import type { Context, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import type { MessageOf } from '../../../lambda/shared/domain';
import { domain } from '../../../lambda/stream-consumer/domain';

export const SHARD_ID = 'shardId-000000000000';
export const STREAM_ARN = 'arn:aws:kinesis:eu-west-1:123456789012:stream/readings';
const SEQUENCE_BASE = 49_590_338_271_490_256_608_559_692_538_361_571_095_921_575_989_136_588_800n;

/** The n-th sequence number of the shard (56 digits, increasing with n). */
export function sequenceNumber(n: number): string {
  return (SEQUENCE_BASE + BigInt(n) * 1_000n).toString();
}

/** The path's message (whatever the domain module calls it). */
type StreamMessage = MessageOf<typeof domain>;

/** Where a record sits in the shard, and what it carries. */
export type RecordSpec = {
  /** Position in the shard (determines the sequence number). */
  readonly n: number;
  readonly shardId?: string;
} & (
  | {
      /** A message (the JSON of it, base64-encoded, is the data). */
      readonly payload: StreamMessage;
      /** @default the message's own partition key (`domain.partitionKey`) */
      readonly partitionKey?: string;
      readonly data?: never;
    }
  | {
      /** Raw base64 data (a payload that is no valid message, or no JSON at all). */
      readonly data: string;
      readonly partitionKey: string;
      readonly payload?: never;
    }
);

export function kinesisRecord(spec: RecordSpec): KinesisStreamRecord {
  const data = spec.data ?? Buffer.from(JSON.stringify(spec.payload)).toString('base64');
  const partitionKey = spec.partitionKey ?? domain.partitionKey(spec.payload as StreamMessage);
  const shardId = spec.shardId ?? SHARD_ID;
  const seq = sequenceNumber(spec.n);
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey,
      sequenceNumber: seq,
      data,
      approximateArrivalTimestamp: 1_735_689_600 + spec.n,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${shardId}:${seq}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: 'arn:aws:iam::123456789012:role/stream-consumer',
    awsRegion: 'eu-west-1',
    eventSourceARN: STREAM_ARN,
  };
}

/** Base64 of `text`, as Kinesis hands a record's data to Lambda. */
export function base64(text: string): string {
  return Buffer.from(text).toString('base64');
}

export function kinesisEvent(records: KinesisStreamRecord[]): KinesisStreamEvent {
  return { Records: records };
}

export function lambdaContext(): Context {
  return createLambdaContext({ functionName: 'stream-consumer' });
}
