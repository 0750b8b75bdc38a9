/**
 * Kinesis events as Lambda's event source mapping delivers them, for handler tests: base64 data, one shard,
 * increasing sequence numbers, `eventID` = `shardId:sequenceNumber`.
 */
import { createLambdaContext } from '../../../tools/shared/lambda-context';
import type { Context, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import type { SensorReading } from '../../../lambda/stream-consumer/domain';

export const SHARD_ID = 'shardId-000000000000';
export const STREAM_ARN = 'arn:aws:kinesis:eu-west-1:123456789012:stream/readings';
const SEQUENCE_BASE = 49_590_338_271_490_256_608_559_692_538_361_571_095_921_575_989_136_588_800n;

/** The n-th sequence number of the shard (56 digits, increasing with n). */
export function sequenceNumber(n: number): string {
  return (SEQUENCE_BASE + BigInt(n) * 1_000n).toString();
}

/** A valid reading; `n` makes its eventId unique within a test (prefix it per test for uniqueness across). */
export function reading(n: number, overrides: Partial<SensorReading> = {}): SensorReading {
  return {
    eventId: `evt-${n}`,
    sensorId: 'sensor-a',
    recordedAt: new Date(Date.UTC(2025, 0, 1, 0, 0, n)).toISOString(),
    metric: 'temperature',
    value: 20 + n / 10,
    ...overrides,
  };
}

export interface RecordSpec {
  /** Position in the shard (determines the sequence number). */
  readonly n: number;
  /** Raw base64 data; by default the JSON of `payload`. */
  readonly data?: string;
  readonly payload?: unknown;
  /** @default the payload's sensorId, else 'sensor-a' */
  readonly partitionKey?: string;
  readonly shardId?: string;
}

export function kinesisRecord(spec: RecordSpec): KinesisStreamRecord {
  const payload = spec.payload ?? reading(spec.n);
  const data = spec.data ?? Buffer.from(JSON.stringify(payload)).toString('base64');
  const partitionKey = spec.partitionKey ?? (payload as { sensorId?: string }).sensorId ?? 'sensor-a';
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

export function kinesisEvent(records: KinesisStreamRecord[]): KinesisStreamEvent {
  return { Records: records };
}

export function lambdaContext(): Context {
  return createLambdaContext({ functionName: 'stream-consumer' });
}
