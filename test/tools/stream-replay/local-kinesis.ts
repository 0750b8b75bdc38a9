/**
 * A real Kinesis API in-process (kinesalite) for the replay tool's tests. The SDK v3 Kinesis client speaks
 * HTTP/2 by default; kinesalite needs HTTP/1.1, hence NodeHttpHandler (see FIELD-NOTES).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateStreamCommand,
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  PutRecordCommand,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';

// kinesalite ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const kinesalite = require('kinesalite') as (options: Record<string, number>) => Server;

export const TEST_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

export interface PutResult {
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  readonly data: string;
}

export interface LocalKinesis {
  readonly endpoint: string;
  readonly client: KinesisClient;
  createClient(options: { region: string; endpoint?: string }): KinesisClient;
  /** Creates a stream and waits until it is ACTIVE; returns its ARN. */
  createStream(name: string, shardCount: number): Promise<string>;
  /** PutRecord, one at a time (so the order is the call order). */
  put(streamName: string, partitionKey: string, data: string): Promise<PutResult>;
  /** Every record of a shard from its start. */
  readShard(streamName: string, shardId: string): Promise<PutResult[]>;
  stop(): Promise<void>;
}

export async function startLocalKinesis(): Promise<LocalKinesis> {
  const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const createClient = (options: { region: string; endpoint?: string }) =>
    new KinesisClient({
      region: options.region,
      endpoint: options.endpoint ?? endpoint,
      credentials: TEST_CREDENTIALS,
      requestHandler: new NodeHttpHandler(),
    });
  const client = createClient({ region: 'us-east-1' });
  return {
    endpoint,
    client,
    createClient,
    async createStream(name, shardCount) {
      await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shardCount }));
      for (;;) {
        const { StreamDescription } = await client.send(new DescribeStreamCommand({ StreamName: name }));
        if (StreamDescription?.StreamStatus === 'ACTIVE') return StreamDescription.StreamARN!;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    async put(streamName, partitionKey, data) {
      const result = await client.send(
        new PutRecordCommand({ StreamName: streamName, PartitionKey: partitionKey, Data: Buffer.from(data) }),
      );
      return { shardId: result.ShardId!, sequenceNumber: result.SequenceNumber!, partitionKey, data };
    },
    async readShard(streamName, shardId) {
      const { ShardIterator } = await client.send(
        new GetShardIteratorCommand({
          StreamName: streamName,
          ShardId: shardId,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      );
      const { Records = [] } = await client.send(new GetRecordsCommand({ ShardIterator, Limit: 10_000 }));
      return Records.map((record) => ({
        shardId,
        sequenceNumber: record.SequenceNumber!,
        partitionKey: record.PartitionKey!,
        data: Buffer.from(record.Data!).toString('utf8'),
      }));
    },
    async stop() {
      client.destroy();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}

/** An on-failure record as Lambda writes it to an SNS/SQS destination, naming `records` of one shard. */
export function failureRecordFor(
  streamArn: string,
  records: readonly PutResult[],
  overrides: { batchSize?: number; endSequenceNumber?: string } = {},
) {
  return {
    requestContext: {
      requestId: 'c9b8fa9f-5a7f-4f8e-9a3c-0e2d6c1f5b11',
      functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:stream-consumer',
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: 3,
    },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    version: '1.0',
    timestamp: '2025-01-01T00:10:00.000Z',
    KinesisBatchInfo: {
      shardId: records[0].shardId,
      startSequenceNumber: records[0].sequenceNumber,
      endSequenceNumber: overrides.endSequenceNumber ?? records[records.length - 1].sequenceNumber,
      approximateArrivalOfFirstRecord: '2025-01-01T00:00:00.000Z',
      approximateArrivalOfLastRecord: '2025-01-01T00:00:05.000Z',
      batchSize: overrides.batchSize ?? records.length,
      streamArn,
    },
  };
}
