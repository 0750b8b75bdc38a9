/**
 * A DynamoDB Streams API in-process, for the replay tool's tests: there is no DynamoDB Streams emulator here
 * (dynalite has no Streams API), so this small HTTP server speaks the service's JSON protocol for the calls the
 * tool makes, and the real SDK client (`@aws-sdk/client-dynamodb-streams`) is pointed at it. Nothing of the SDK is
 * mocked: requests are signed, serialized and sent, answers and errors parsed, as against AWS.
 *
 * What it serves, as the DynamoDB Streams API reference describes it:
 * - `POST /`, `X-Amz-Target: DynamoDBStreams_20120810.<Operation>`, `Content-Type: application/x-amz-json-1.0`;
 *   errors as `{"__type":"com.amazonaws.dynamodb.v20120810#<Name>","message":…}` with status 400 (the SDK reads
 *   the name after `#`).
 * - `GetShardIterator` (`TRIM_HORIZON`, `LATEST`, `AT_SEQUENCE_NUMBER`, `AFTER_SEQUENCE_NUMBER`): an unknown
 *   stream or shard is `ResourceNotFoundException`; a sequence number older than the trim point (24 hours) is
 *   `TrimmedDataAccessException`. A sequence number that is not a record of the shard is answered with
 *   `ValidationException` here: the reference does not say what AWS answers then, so the tool must only report it.
 * - `GetRecords` (`Limit` at most 1000): records from the iterator's position, oldest first;
 *   `NextShardIterator` unless the shard is closed and read to its end; an iterator is valid 15 minutes
 *   (`ExpiredIteratorException`), and one whose next record was trimmed since it was issued gets
 *   `TrimmedDataAccessException`.
 * - `DescribeStream`: the stream's shards with their sequence number ranges (the tool does not need it; served
 *   for completeness of what a reader of a stream calls).
 *
 * A record is served in the API's shape, which is not Lambda's: Lambda's event adds `eventSourceARN` to each
 * record, which `GetRecords` does not have (API reference, `Record`), and spells the identity of a deletion by
 * time to live `userIdentity: {type, principalId}` where the API has `{Type, PrincipalId}` (API reference,
 * `Identity`). `ApproximateCreationDateTime` is epoch seconds and binary attribute values are base64, as in any
 * DynamoDB JSON answer. Records are built with
 * tools/shared/aws-events.ts `dynamoDbStreamRecord` (what the handler tests feed the handler), and served without
 * `eventSourceARN`.
 *
 * Time is the server's own clock (`advanceClock`), so a test ages records past the 24 hours without waiting.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { ItemChange } from '../../../lambda/shared/domain';
import { examples } from '../../../lambda/table-stream-consumer/domain';
import { dynamoDbStreamRecord, type DynamoDbStreamRecordOptions } from '../../../tools/shared/aws-events';

export const TEST_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
export const TEST_REGION = 'eu-west-1';
const ACCOUNT = '123456789012';

/** DynamoDB Streams keeps a stream record 24 hours. */
export const RETENTION_MS = 24 * 3600_000;
/** How long a shard iterator can be used (DynamoDB Streams API reference, `GetShardIterator`). */
const ITERATOR_LIFETIME_MS = 15 * 60_000;
const TARGET_PREFIX = 'DynamoDBStreams_20120810.';
const ERROR_PREFIX = 'com.amazonaws.dynamodb.v20120810#';

/** A change as a test writes it; the stream's ARN, the sequence number and the time are the server's. */
export type ChangeOptions = Omit<
  DynamoDbStreamRecordOptions,
  'sequenceNumber' | 'streamArn' | 'approximateCreationDateTime'
>;

/** A record as it was put: in Lambda's shape (with `eventSourceARN`), and where it is. */
export interface PutChange {
  readonly shardId: string;
  readonly sequenceNumber: string;
  /** The record as Lambda's event holds it (what the handler takes). */
  readonly lambdaRecord: Record<string, unknown>;
  /** When the change entered the stream (server clock, ms). */
  readonly createdAt: number;
}

interface ServedRecord extends PutChange {
  /** The record as GetRecords returns it. */
  readonly apiRecord: Record<string, unknown>;
}

interface Shard {
  readonly shardId: string;
  readonly records: ServedRecord[];
  closed: boolean;
}

interface Stream {
  readonly streamArn: string;
  readonly tableName: string;
  readonly shards: Map<string, Shard>;
}

interface IteratorState {
  readonly streamArn: string;
  readonly shardId: string;
  /** The next record is the first with a sequence number at least this. */
  readonly from: string;
  readonly issuedAt: number;
}

export interface ApiCall {
  readonly operation: string;
  readonly input: Record<string, unknown>;
}

export interface LocalDynamoDbStreams {
  readonly endpoint: string;
  /** A client of the test region, pointed at the server. */
  readonly client: DynamoDBStreamsClient;
  createClient(options: { region: string; endpoint?: string }): DynamoDBStreamsClient;
  /** A stream of a new table; returns its ARN. */
  createStream(tableName: string): string;
  /** A new open shard of the stream; returns its id. */
  addShard(streamArn: string): string;
  /** Appends a change to a shard now (server clock); sequence numbers increase across the whole server. */
  put(streamArn: string, shardId: string, change: ChangeOptions): PutChange;
  closeShard(streamArn: string, shardId: string): void;
  /** Moves the server's clock (records age, iterators expire). */
  advanceClock(ms: number): void;
  now(): number;
  /** The next `count` GetRecords answers are empty pages that leave the iterator where it was. */
  serveEmptyPages(count: number): void;
  /** Every call received, in order. */
  readonly calls: ApiCall[];
  /** Called after each call is answered (e.g. to age the records between two calls); `undefined`: nothing. */
  afterCall: ((call: ApiCall) => void) | undefined;
  stop(): Promise<void>;
}

export async function startLocalDynamoDbStreams(): Promise<LocalDynamoDbStreams> {
  const streams = new Map<string, Stream>();
  const calls: ApiCall[] = [];
  let clockOffset = 0;
  let emptyPages = 0;
  let sequence = 0n;
  let shardCount = 0;
  const now = () => Date.now() + clockOffset;
  const isTrimmed = (record: ServedRecord) => now() - record.createdAt > RETENTION_MS;

  const error = (status: number, name: string, message: string) => ({
    status,
    body: { __type: `${ERROR_PREFIX}${name}`, message },
  });

  function shardOf(input: Record<string, unknown>): Shard | ReturnType<typeof error> {
    const stream = streams.get(String(input.StreamArn));
    if (!stream) {
      return error(
        400,
        'ResourceNotFoundException',
        `Requested resource not found: Stream: ${String(input.StreamArn)} not found`,
      );
    }
    const shard = stream.shards.get(String(input.ShardId));
    if (!shard) {
      return error(
        400,
        'ResourceNotFoundException',
        `Requested resource not found: Shard: ${String(input.ShardId)} in Stream: ${stream.streamArn} not found`,
      );
    }
    return shard;
  }

  const encodeIterator = (state: IteratorState) => Buffer.from(JSON.stringify(state)).toString('base64');

  function getShardIterator(input: Record<string, unknown>) {
    const shard = shardOf(input);
    if (!('records' in shard)) return shard;
    const type = String(input.ShardIteratorType);
    const base = { streamArn: String(input.StreamArn), shardId: shard.shardId, issuedAt: now() };
    const live = shard.records.filter((record) => !isTrimmed(record));
    const next = (after: bigint) => String(after + 1n);
    if (type === 'TRIM_HORIZON') {
      return ok({
        ShardIterator: encodeIterator({ ...base, from: live[0]?.sequenceNumber ?? next(lastOf(shard)) }),
      });
    }
    if (type === 'LATEST')
      return ok({ ShardIterator: encodeIterator({ ...base, from: next(lastOf(shard)) }) });
    if (type !== 'AT_SEQUENCE_NUMBER' && type !== 'AFTER_SEQUENCE_NUMBER') {
      return error(400, 'ValidationException', `Invalid ShardIteratorType: ${type}`);
    }
    const asked = input.SequenceNumber;
    if (typeof asked !== 'string') {
      return error(400, 'ValidationException', `SequenceNumber is required with ${type}`);
    }
    const record = shard.records.find((r) => r.sequenceNumber === asked);
    if (record && isTrimmed(record)) {
      return error(400, 'TrimmedDataAccessException', 'The data you are trying to access has been trimmed.');
    }
    if (!record) {
      return error(400, 'ValidationException', `Invalid SequenceNumber ${asked} for shard ${shard.shardId}`);
    }
    return ok({
      ShardIterator: encodeIterator({
        ...base,
        from: type === 'AT_SEQUENCE_NUMBER' ? asked : next(BigInt(asked)),
      }),
    });
  }

  function getRecords(input: Record<string, unknown>) {
    const limit = input.Limit === undefined ? 1000 : Number(input.Limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      return error(
        400,
        'ValidationException',
        `1 validation error detected: Value '${String(input.Limit)}' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 1000`,
      );
    }
    let state: IteratorState;
    try {
      state = JSON.parse(
        Buffer.from(String(input.ShardIterator), 'base64').toString('utf8'),
      ) as IteratorState;
    } catch {
      return error(400, 'ValidationException', 'Invalid ShardIterator');
    }
    const shard = shardOf({ StreamArn: state.streamArn, ShardId: state.shardId });
    if (!('records' in shard)) return shard;
    if (now() - state.issuedAt > ITERATOR_LIFETIME_MS) {
      return error(
        400,
        'ExpiredIteratorException',
        `Iterator expired. The iterator was created at time ${new Date(state.issuedAt).toISOString()} while right now it is ${new Date(now()).toISOString()} which is further in the future than the tolerated delay of 900000 milliseconds.`,
      );
    }
    const from = BigInt(state.from);
    const ahead = shard.records.filter((record) => BigInt(record.sequenceNumber) >= from);
    if (ahead[0] && isTrimmed(ahead[0])) {
      return error(400, 'TrimmedDataAccessException', 'The data you are trying to access has been trimmed.');
    }
    if (emptyPages > 0) {
      emptyPages -= 1;
      return ok({ Records: [], NextShardIterator: encodeIterator({ ...state, issuedAt: now() }) });
    }
    const page = ahead.slice(0, limit);
    const nextFrom = page.length > 0 ? String(BigInt(page[page.length - 1].sequenceNumber) + 1n) : state.from;
    const readToEnd = page.length === ahead.length;
    return ok({
      Records: page.map((record) => record.apiRecord),
      ...(!(shard.closed && readToEnd) && {
        NextShardIterator: encodeIterator({ ...state, from: nextFrom, issuedAt: now() }),
      }),
    });
  }

  function describeStream(input: Record<string, unknown>) {
    const stream = streams.get(String(input.StreamArn));
    if (!stream) {
      return error(
        400,
        'ResourceNotFoundException',
        `Requested resource not found: Stream: ${String(input.StreamArn)} not found`,
      );
    }
    return ok({
      StreamDescription: {
        StreamArn: stream.streamArn,
        StreamLabel: stream.streamArn.split('/stream/')[1],
        StreamStatus: 'ENABLED',
        StreamViewType: 'NEW_AND_OLD_IMAGES',
        TableName: stream.tableName,
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        Shards: [...stream.shards.values()]
          .filter(
            (shard) =>
              !shard.records.length || shard.records.some((record) => !isTrimmed(record)) || !shard.closed,
          )
          .map((shard) => ({
            ShardId: shard.shardId,
            SequenceNumberRange: {
              ...(shard.records[0] && { StartingSequenceNumber: shard.records[0].sequenceNumber }),
              ...(shard.closed &&
                shard.records.length > 0 && {
                  EndingSequenceNumber: shard.records[shard.records.length - 1].sequenceNumber,
                }),
            },
          })),
      },
    });
  }

  const operations: Record<string, (input: Record<string, unknown>) => { status: number; body: unknown }> = {
    GetShardIterator: getShardIterator,
    GetRecords: getRecords,
    DescribeStream: describeStream,
  };

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const target = String(request.headers['x-amz-target'] ?? '');
      const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : '';
      let answer: { status: number; body: unknown };
      if (request.method !== 'POST' || request.headers['content-type'] !== 'application/x-amz-json-1.0') {
        answer = error(400, 'SerializationException', 'expected a POST of application/x-amz-json-1.0');
      } else if (!operations[operation]) {
        answer = error(400, 'UnknownOperationException', `unknown operation ${target}`);
      } else {
        const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
        const call = { operation, input };
        calls.push(call);
        answer = operations[operation](input);
        local.afterCall?.(call);
      }
      const body = JSON.stringify(answer.body, (_key, value: unknown) =>
        value instanceof Uint8Array ? Buffer.from(value).toString('base64') : value,
      );
      response.writeHead(answer.status, {
        'content-type': 'application/x-amz-json-1.0',
        'content-length': Buffer.byteLength(body),
        'x-amzn-requestid': randomBytes(16).toString('hex'),
      });
      response.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const createClient = (options: { region: string; endpoint?: string }) =>
    new DynamoDBStreamsClient({
      region: options.region,
      endpoint: options.endpoint ?? endpoint,
      credentials: TEST_CREDENTIALS,
      requestHandler: new NodeHttpHandler(),
      maxAttempts: 1,
    });
  const client = createClient({ region: TEST_REGION });

  const streamOf = (streamArn: string) => {
    const stream = streams.get(streamArn);
    if (!stream) throw new Error(`no stream ${streamArn}`);
    return stream;
  };
  const shardIn = (streamArn: string, shardId: string) => {
    const shard = streamOf(streamArn).shards.get(shardId);
    if (!shard) throw new Error(`no shard ${shardId} in ${streamArn}`);
    return shard;
  };

  const local: LocalDynamoDbStreams = {
    endpoint,
    client,
    createClient,
    calls,
    afterCall: undefined,
    createStream(tableName) {
      const label = new Date(now()).toISOString().replace('Z', '');
      const streamArn = `arn:aws:dynamodb:${TEST_REGION}:${ACCOUNT}:table/${tableName}/stream/${label}`;
      streams.set(streamArn, { streamArn, tableName, shards: new Map() });
      return streamArn;
    },
    addShard(streamArn) {
      shardCount += 1;
      // shardId-<20 digits>-<8 hex>: the shape (and the 28-65 length) of a DynamoDB Streams shard id.
      const shardId = `shardId-${String(now()).padStart(20, '0')}-${shardCount.toString(16).padStart(8, '0')}`;
      streamOf(streamArn).shards.set(shardId, { shardId, records: [], closed: false });
      return shardId;
    },
    put(streamArn, shardId, change) {
      const shard = shardIn(streamArn, shardId);
      if (shard.closed) throw new Error(`shard ${shardId} is closed`);
      sequence += 1n;
      // 21 digits, with gaps between records (sequence numbers of a shard increase, they are not consecutive).
      const sequenceNumber = String(300_000_000_000_000_000_000n + sequence * 1000n);
      const createdAt = now();
      const lambdaRecord = dynamoDbStreamRecord({
        ...change,
        sequenceNumber,
        streamArn,
        approximateCreationDateTime: Math.floor(createdAt / 1000),
      });
      // The API's record: no eventSourceARN, and its Identity spelled PrincipalId/Type (API reference, `Identity`)
      // where Lambda's event has principalId/type.
      const {
        eventSourceARN: _dropped,
        userIdentity,
        ...rest
      } = lambdaRecord as {
        eventSourceARN: string;
        userIdentity?: { type: string; principalId: string };
      } & Record<string, unknown>;
      const apiRecord = {
        ...rest,
        ...(userIdentity && {
          userIdentity: { PrincipalId: userIdentity.principalId, Type: userIdentity.type },
        }),
      };
      const served: ServedRecord = { shardId, sequenceNumber, lambdaRecord, createdAt, apiRecord };
      shard.records.push(served);
      return { shardId, sequenceNumber, lambdaRecord, createdAt };
    },
    closeShard(streamArn, shardId) {
      shardIn(streamArn, shardId).closed = true;
    },
    advanceClock(ms) {
      clockOffset += ms;
    },
    now,
    serveEmptyPages(count) {
      emptyPages = count;
    },
    async stop() {
      client.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
  return local;
}

function ok(body: unknown) {
  return { status: 200, body };
}

function lastOf(shard: Shard): bigint {
  const last = shard.records[shard.records.length - 1];
  return last ? BigInt(last.sequenceNumber) : 0n;
}

// Fixtures: the path's domain changes as stream records, and the failure record of a batch of them.

/** A change of the domain as the stream records it (the item's key from its itemKey `pk=…`). */
export function changeRecord(
  change: ItemChange<unknown>,
  options: { byTimeToLive?: boolean } = {},
): ChangeOptions {
  return {
    eventId: change.eventId,
    eventName: change.eventName,
    keys: Object.fromEntries(change.itemKey.split('&').map((pair) => pair.split('=') as [string, string])),
    newImage: change.newItem as Record<string, unknown> | undefined,
    oldImage: change.oldItem as Record<string, unknown> | undefined,
    byTimeToLive: options.byTimeToLive,
  };
}

/** Change `n` of item `group`: 0 inserts it, later ones modify it. */
export const stockChange = (id: string, group: number, n: number) =>
  examples.valid(id, { group, variant: n });

/** The removal of item `group` after change `n`, by a user or by time to live. */
export function removal(id: string, group: number, n: number): ItemChange<unknown> {
  const last = stockChange(`${id}-before`, group, n);
  return { eventId: id, eventName: 'REMOVE', itemKey: last.itemKey, oldItem: last.newItem };
}

/** The on-failure record Lambda writes for a batch of `records` (first to last of one shard). */
export function ddbFailureRecordFor(
  streamArn: string,
  records: readonly PutChange[],
  overrides: { batchSize?: number; endSequenceNumber?: string } = {},
) {
  return {
    requestContext: {
      requestId: '12a8a0fa-f8d2-4d42-a6e3-72bae7d1e2f9',
      functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:table-stream-consumer',
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: 4,
    },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    version: '1.0',
    timestamp: new Date(records[records.length - 1].createdAt + 60_000).toISOString(),
    DDBStreamBatchInfo: {
      shardId: records[0].shardId,
      startSequenceNumber: records[0].sequenceNumber,
      endSequenceNumber: overrides.endSequenceNumber ?? records[records.length - 1].sequenceNumber,
      approximateArrivalOfFirstRecord: new Date(records[0].createdAt).toISOString().replace(/\.\d+Z$/, 'Z'),
      approximateArrivalOfLastRecord: new Date(records[records.length - 1].createdAt)
        .toISOString()
        .replace(/\.\d+Z$/, 'Z'),
      batchSize: overrides.batchSize ?? records.length,
      streamArn,
    },
  };
}
