/**
 * The replay tool's DynamoDB Streams side against a DynamoDB Streams API in this process
 * (local-dynamodb-streams.ts: the service's JSON protocol, records built with `dynamoDbStreamRecord`, the 24 hours
 * on the server's clock) through the real SDK client: the failed range of one shard of a stream with several
 * shards comes back exactly, in order, in the shape the consumer's handler takes; trimmed ranges are reported with
 * what was lost and where to look instead.
 */
import type { DynamoDBRecord } from 'aws-lambda';
import { DEFAULT_TABLE_STREAM_EVENT_NAMES } from '../../../lib/constructs/table-stream-consumer';
import { changeOf } from '../../../lambda/table-stream-consumer/handler';
import { fetchFailedChanges } from '../../../tools/stream-replay/dynamodb-fetch';
import {
  batchProblems,
  DEFAULT_EVENT_NAMES,
  parseEventNames,
  selectBatch,
  toLambdaRecord,
} from '../../../tools/stream-replay/dynamodb-records';
import { type DDBStreamBatchInfo, parseFailureRecords } from '../../../tools/stream-replay/failure-record';
import { FetchError } from '../../../tools/stream-replay/fetch';
import {
  changeRecord,
  ddbFailureRecordFor,
  type LocalDynamoDbStreams,
  type PutChange,
  removal,
  RETENTION_MS,
  startLocalDynamoDbStreams,
  stockChange,
} from './local-dynamodb-streams';

let streams: LocalDynamoDbStreams;

beforeAll(async () => {
  streams = await startLocalDynamoDbStreams();
});

afterAll(async () => {
  await streams.stop();
});

afterEach(() => {
  streams.afterCall = undefined;
  streams.serveEmptyPages(0);
});

function infoOf(value: unknown): DDBStreamBatchInfo {
  const [record] = parseFailureRecords(JSON.stringify(value));
  if (record.source !== 'dynamodb')
    throw new Error(`expected a DynamoDB Streams failure record, got ${record.source}`);
  return record.DDBStreamBatchInfo;
}

const lambdaRecords = (records: readonly PutChange[]) => records.map((record) => record.lambdaRecord);
const fetchAsLambda = async (info: DDBStreamBatchInfo, options = { emptyPageDelayMs: 0 }) => {
  const result = await fetchFailedChanges(streams.client, info, options);
  return { ...result, lambda: result.records.map((record) => toLambdaRecord(record, info.streamArn)) };
};
const iteratorCalls = () =>
  streams.calls
    .filter((call) => call.operation === 'GetShardIterator')
    .map((call) => [call.input.ShardIteratorType, call.input.SequenceNumber]);

describe('fetchFailedChanges', () => {
  let streamArn: string;
  let shards: string[];
  /** Per shard, the records put, in order. */
  let byShard: Map<string, PutChange[]>;

  beforeAll(() => {
    streamArn = streams.createStream('stock');
    shards = [streams.addShard(streamArn), streams.addShard(streamArn), streams.addShard(streamArn)];
    byShard = new Map(shards.map((shard) => [shard, []]));
    // 8 items, 4 changes each, items spread over the shards (as DynamoDB keeps an item's changes in one shard).
    for (let n = 0; n < 4; n += 1) {
      for (let group = 1; group <= 8; group += 1) {
        const shard = shards[group % shards.length];
        byShard
          .get(shard)!
          .push(streams.put(streamArn, shard, changeRecord(stockChange(`g${group}-${n}`, group, n))));
      }
    }
  });

  beforeEach(() => {
    streams.calls.length = 0;
  });

  it('returns exactly the records of the range, in sequence order, from the named shard only, as Lambda delivers them', async () => {
    const shardRecords = byShard.get(shards[1])!;
    const range = shardRecords.slice(2, 7);
    const result = await fetchAsLambda(infoOf(ddbFailureRecordFor(streamArn, range)));
    // The API's records (no eventSourceARN, dates and binaries as the SDK parses them) turned back into the event's.
    expect(result.lambda).toEqual(lambdaRecords(range));
    expect(result.trimmed).toBeUndefined();
    expect(result.stoppedEarly).toBeUndefined();
    expect(iteratorCalls()).toEqual([['AT_SEQUENCE_NUMBER', range[0].sequenceNumber]]);
    expect(streams.calls.find((call) => call.operation === 'GetShardIterator')!.input).toEqual(
      expect.objectContaining({ StreamArn: streamArn, ShardId: shards[1] }),
    );
    // The served records really lack eventSourceARN: it is the tool that puts it back.
    expect(result.records[0]).not.toHaveProperty('eventSourceARN');
  });

  it('reads a range of one record', async () => {
    const one = byShard.get(shards[2])!.slice(3, 4);
    expect((await fetchAsLambda(infoOf(ddbFailureRecordFor(streamArn, one)))).lambda).toEqual(
      lambdaRecords(one),
    );
  });

  it('reads through several GetRecords pages (1000 records at most a call) to the end of the range', async () => {
    const arn = streams.createStream('busy');
    const shard = streams.addShard(arn);
    const put = Array.from({ length: 2300 }, (_, i) =>
      streams.put(arn, shard, changeRecord(stockChange(`busy-${i}`, 1 + (i % 40), Math.floor(i / 40)))),
    );
    const range = put.slice(150, 2250);
    const result = await fetchAsLambda(infoOf(ddbFailureRecordFor(arn, range)));
    expect(result.lambda.map((r) => r.dynamodb?.SequenceNumber)).toEqual(range.map((r) => r.sequenceNumber));
    const limits = streams.calls.filter((c) => c.operation === 'GetRecords').map((c) => c.input.Limit);
    expect(limits).toEqual([1000, 1000, 1000]);
  });

  it('keeps reading through empty pages before the records', async () => {
    const range = byShard.get(shards[0])!.slice(0, 3);
    streams.serveEmptyPages(2);
    const result = await fetchAsLambda(infoOf(ddbFailureRecordFor(streamArn, range)));
    expect(result.lambda).toEqual(lambdaRecords(range));
    expect(streams.calls.filter((c) => c.operation === 'GetRecords')).toHaveLength(3);
  });

  it('says so when the newest record of an open shard comes before the end of the range', async () => {
    const shardRecords = byShard.get(shards[0])!;
    const lastTwo = shardRecords.slice(-2);
    const info = infoOf(
      ddbFailureRecordFor(streamArn, lastTwo, { endSequenceNumber: '9'.repeat(30), batchSize: 5 }),
    );
    const result = await fetchAsLambda(info);
    expect(result.lambda).toEqual(lambdaRecords(lastTwo));
    expect(result.stoppedEarly).toBe('reached the newest record of the shard before endSequenceNumber');
  });

  it('says so when the shard is closed before the end of the range', async () => {
    const arn = streams.createStream('rolled');
    const shard = streams.addShard(arn);
    const put = [0, 1].map((n) => streams.put(arn, shard, changeRecord(stockChange(`r-${n}`, 1, n))));
    streams.closeShard(arn, shard);
    const result = await fetchAsLambda(
      infoOf(ddbFailureRecordFor(arn, put, { endSequenceNumber: '9'.repeat(30) })),
    );
    expect(result.lambda).toEqual(lambdaRecords(put));
    expect(result.stoppedEarly).toBe('the shard is closed and has no more records');
  });

  it('gives up after maxPages and says so', async () => {
    const range = byShard.get(shards[0])!.slice(0, 3);
    streams.serveEmptyPages(5);
    const result = await fetchFailedChanges(streams.client, infoOf(ddbFailureRecordFor(streamArn, range)), {
      maxPages: 3,
      emptyPageDelayMs: 0,
    });
    expect(result.records).toEqual([]);
    expect(result.stoppedEarly).toBe(
      'stopped after 3 GetRecords calls (--max-pages) before reaching endSequenceNumber',
    );
  });

  it('takes a new iterator after the last record read when one expires (15 minutes)', async () => {
    const arn = streams.createStream('slow');
    const shard = streams.addShard(arn);
    const put = Array.from({ length: 1500 }, (_, i) =>
      streams.put(arn, shard, changeRecord(stockChange(`slow-${i}`, 1 + (i % 30), Math.floor(i / 30)))),
    );
    // The first page is read, then 16 minutes pass before the next call.
    streams.afterCall = (call) => {
      if (
        call.operation === 'GetRecords' &&
        streams.calls.filter((c) => c.operation === 'GetRecords').length === 1
      ) {
        streams.advanceClock(16 * 60_000);
      }
    };
    const result = await fetchAsLambda(infoOf(ddbFailureRecordFor(arn, put)));
    expect(result.lambda.map((r) => r.dynamodb?.SequenceNumber)).toEqual(put.map((r) => r.sequenceNumber));
    expect(iteratorCalls()).toEqual([
      ['AT_SEQUENCE_NUMBER', put[0].sequenceNumber],
      ['AFTER_SEQUENCE_NUMBER', put[999].sequenceNumber],
    ]);
  });

  it('fails clearly for a stream or a shard that does not exist', async () => {
    const info = infoOf(ddbFailureRecordFor(streamArn, byShard.get(shards[0])!.slice(0, 1)));
    const gone = { ...info, streamArn: streamArn.replace('table/stock/', 'table/gone/') };
    await expect(fetchFailedChanges(streams.client, gone)).rejects.toThrow(FetchError);
    await expect(fetchFailedChanges(streams.client, gone)).rejects.toThrow(
      /The stream of table "gone" .* or its shard shardId-\d{20}-[0-9a-f]{8} was not found \(Requested resource not found: Stream: .*\)\. Check the account and region/,
    );
    await expect(
      fetchFailedChanges(streams.client, { ...info, shardId: 'shardId-00000000000000000000-deadbeef' }),
    ).rejects.toThrow(/or its shard shardId-00000000000000000000-deadbeef was not found/);
  });

  it('fails clearly for a sequence number that is not of the shard', async () => {
    const info = infoOf(ddbFailureRecordFor(streamArn, byShard.get(shards[0])!.slice(0, 1)));
    const other = byShard.get(shards[1])![0].sequenceNumber;
    await expect(
      fetchFailedChanges(streams.client, { ...info, startSequenceNumber: other, endSequenceNumber: other }),
    ).rejects.toThrow(
      /DynamoDB Streams refused startSequenceNumber \d+ for shardId-\S+ of table "stock": Invalid SequenceNumber/,
    );
  });
});

describe('a range past the 24 hours', () => {
  it('reports every record of the batch lost when the whole range was trimmed, and where to look instead', async () => {
    const arn = streams.createStream('expired');
    const shard = streams.addShard(arn);
    const put = [0, 1, 2].map((n) => streams.put(arn, shard, changeRecord(stockChange(`x-${n}`, 7, n))));
    const info = infoOf(ddbFailureRecordFor(arn, put));
    streams.advanceClock(RETENTION_MS + 3600_000);
    streams.calls.length = 0;

    const fetched = await fetchFailedChanges(streams.client, info, { emptyPageDelayMs: 0 });
    expect(fetched.records).toEqual([]);
    expect(fetched.trimmed).toEqual({});
    // Nothing is left in the (open) shard: a few empty pages from the trim horizon, not --max-pages of them.
    expect(fetched.stoppedEarly).toBe('reached the newest record of the shard before endSequenceNumber');
    expect(streams.calls.filter((call) => call.operation === 'GetRecords')).toHaveLength(3);
    // GetShardIterator at the start was refused (TrimmedDataAccessException); what is left was looked for.
    expect(iteratorCalls()).toEqual([
      ['AT_SEQUENCE_NUMBER', put[0].sequenceNumber],
      ['TRIM_HORIZON', undefined],
    ]);
    const problems = batchProblems(
      info,
      fetched,
      selectBatch([], DEFAULT_EVENT_NAMES),
      DEFAULT_EVENT_NAMES,
      new Date(streams.now()),
    );
    expect(problems.countMismatch).toBeUndefined();
    expect(problems.trimmed).toBe(
      `all 3 records of the batch can no longer be read: the stream's records from startSequenceNumber ` +
        `${put[0].sequenceNumber} to endSequenceNumber ${put[2].sequenceNumber} were trimmed. DynamoDB Streams ` +
        `keeps a stream record 24 hours, not longer (not configurable); the batch's first record arrived ` +
        `${info.approximateArrivalOfFirstRecord}, 25 h 0 min ago. What is lost is the changes themselves (which ` +
        'item, old and new image); look instead at the source table "expired": its items as they are now (aws ' +
        'dynamodb get-item / scan --table-name expired), and as they were around the failure through ' +
        'point-in-time recovery (aws dynamodb restore-table-to-point-in-time --source-table-name expired ' +
        `--target-table-name expired-restored --restore-date-time ${new Date(Date.parse(info.approximateArrivalOfFirstRecord!) - 1000).toISOString()}); ` +
        "the consumer's log lines for these sequence numbers (record failed, invalid payload) name the item keys " +
        '(partitionKey). An S3 on-failure destination keeps the records themselves.',
    );
  });

  it('returns the records still there when only the start of the range was trimmed, and says what was lost', async () => {
    const arn = streams.createStream('aging');
    const shard = streams.addShard(arn);
    const old = [0, 1].map((n) => streams.put(arn, shard, changeRecord(stockChange(`o-${n}`, 3, n))));
    streams.advanceClock(12 * 3600_000);
    const recent = [2, 3].map((n) => streams.put(arn, shard, changeRecord(stockChange(`o-${n}`, 3, n))));
    streams.advanceClock(12 * 3600_000 + 60_000);
    const info = infoOf(ddbFailureRecordFor(arn, [...old, ...recent]));

    const fetched = await fetchAsLambda(info);
    expect(fetched.lambda).toEqual(lambdaRecords(recent));
    expect(fetched.trimmed).toEqual({ firstLeft: recent[0].sequenceNumber });
    const problems = batchProblems(
      info,
      fetched,
      selectBatch(fetched.lambda, DEFAULT_EVENT_NAMES),
      DEFAULT_EVENT_NAMES,
    );
    expect(problems.trimmed).toMatch(
      new RegExp(
        `^2 of the 4 records of the batch can no longer be read: the stream's records from startSequenceNumber ` +
          `${old[0].sequenceNumber} up to ${recent[0].sequenceNumber} were trimmed\\. DynamoDB Streams keeps a ` +
          'stream record 24 hours',
      ),
    );
  });

  it('goes on from what is left when records are trimmed between the iterator and its use', async () => {
    const arn = streams.createStream('edge');
    const shard = streams.addShard(arn);
    const old = [0, 1].map((n) => streams.put(arn, shard, changeRecord(stockChange(`e-${n}`, 4, n))));
    streams.advanceClock(RETENTION_MS - 60_000);
    const recent = [2, 3].map((n) => streams.put(arn, shard, changeRecord(stockChange(`e-${n}`, 4, n))));
    const info = infoOf(ddbFailureRecordFor(arn, [...old, ...recent]));
    streams.calls.length = 0;
    // The iterator is taken while the old records are 23 h 59 min old; they pass the 24 hours before GetRecords.
    streams.afterCall = (call) => {
      if (call.operation === 'GetShardIterator' && streams.calls.length === 1) streams.advanceClock(120_000);
    };

    const fetched = await fetchAsLambda(info);
    expect(fetched.lambda).toEqual(lambdaRecords(recent));
    expect(fetched.trimmed).toEqual({ firstLeft: recent[0].sequenceNumber });
    expect(streams.calls.map((call) => [call.operation, call.input.ShardIteratorType])).toEqual([
      ['GetShardIterator', 'AT_SEQUENCE_NUMBER'], // granted: the old records are still there
      ['GetRecords', undefined], // TrimmedDataAccessException: they are not any more
      ['GetShardIterator', 'TRIM_HORIZON'],
      ['GetRecords', undefined],
    ]);
  });
});

describe('the batch among the records of the range', () => {
  let streamArn: string;
  let shard: string;

  beforeAll(() => {
    streamArn = streams.createStream('filtered');
    shard = streams.addShard(streamArn);
  });

  it("leaves out what the mapping's default filter drops (REMOVE, time to live included), and counts the rest against batchSize", async () => {
    const put = [
      streams.put(streamArn, shard, changeRecord(stockChange('f-0', 9, 0))),
      streams.put(streamArn, shard, changeRecord(removal('f-rm', 10, 2))),
      streams.put(streamArn, shard, changeRecord(stockChange('f-1', 9, 1))),
      streams.put(streamArn, shard, changeRecord(removal('f-ttl', 11, 0), { byTimeToLive: true })),
      streams.put(streamArn, shard, changeRecord(stockChange('f-2', 9, 2))),
    ];
    // The batch Lambda gave up on held the three changes the filter let through; its range spans all five.
    const delivered = [put[0], put[2], put[4]];
    const info = infoOf(ddbFailureRecordFor(streamArn, put, { batchSize: 3 }));
    const fetched = await fetchAsLambda(info);
    expect(fetched.lambda).toEqual(lambdaRecords(put));

    const selection = selectBatch(fetched.lambda, DEFAULT_EVENT_NAMES);
    expect(selection.batch).toEqual(lambdaRecords(delivered));
    expect(selection.dropped.map((r) => r.eventID)).toEqual(['f-rm', 'f-ttl']);
    expect(batchProblems(info, fetched, selection, DEFAULT_EVENT_NAMES)).toEqual({});

    // Told the mapping has no filter, the count no longer matches: said, so the function is not invoked with them.
    const all = selectBatch(fetched.lambda, parseEventNames('all'));
    expect(batchProblems(info, fetched, all, parseEventNames('all')).countMismatch).toBe(
      'the range holds 5 record(s) of the event names all (--event-names), but the batch had 3: the ' +
        "mapping's filter criteria let fewer through (records it filters out are among these). Pass the event " +
        'names its filter lets through with --event-names (the TableStreamConsumer default is INSERT,MODIFY; ' +
        '"all" for a mapping without filters)',
    );
    // And the other way round.
    const inserts = parseEventNames('INSERT');
    expect(batchProblems(info, fetched, selectBatch(fetched.lambda, inserts), inserts).countMismatch).toMatch(
      /holds 1 record\(s\) of the event names INSERT .* batch had 3: .* let more through \(records it delivered are left out\)/,
    );
  });

  it('takes the default from the construct', () => {
    expect(DEFAULT_EVENT_NAMES).toEqual(DEFAULT_TABLE_STREAM_EVENT_NAMES);
  });

  it.each([
    ['INSERT,MODIFY', ['INSERT', 'MODIFY']],
    ['remove, insert', ['REMOVE', 'INSERT']],
    ['all', ['INSERT', 'MODIFY', 'REMOVE']],
  ])('reads --event-names %s', (text, names) => {
    expect(parseEventNames(text)).toEqual(names);
  });

  it.each(['', 'UPDATE', 'INSERT,DELETE'])('refuses --event-names "%s"', (text) => {
    expect(() => parseEventNames(text)).toThrow(
      /--event-names takes INSERT, MODIFY and REMOVE, comma-separated, or "all"/,
    );
  });
});

describe("the output: what the consumer's handler takes", () => {
  it('gives records the handler turns into the changes that were written', async () => {
    const arn = streams.createStream('handler');
    const shard = streams.addShard(arn);
    const changes = [
      stockChange('h-0', 21, 0),
      stockChange('h-1', 21, 1),
      stockChange('h-2', 22, 0),
      removal('h-3', 21, 1),
    ];
    const put = changes.map((change) => streams.put(arn, shard, changeRecord(change)));
    const fetched = await fetchAsLambda(infoOf(ddbFailureRecordFor(arn, put)));
    expect(fetched.lambda.map((record) => changeOf(record))).toEqual(changes);
  });

  it("turns the SDK's dates and binary values back into the JSON of the event", () => {
    const record = toLambdaRecord(
      {
        eventID: 'e-1',
        eventName: 'REMOVE',
        eventVersion: '1.1',
        eventSource: 'aws:dynamodb',
        awsRegion: 'eu-west-1',
        dynamodb: {
          ApproximateCreationDateTime: new Date(1_767_225_600_000),
          Keys: { pk: { B: Buffer.from('key') } },
          OldImage: {
            pk: { B: Buffer.from('key') },
            tags: { BS: [Buffer.from('a'), Buffer.from('b')] },
            nested: {
              M: { list: { L: [{ B: Buffer.from('x') }, { N: '1' }, { NULL: true }] }, s: { SS: ['a'] } },
            },
          },
          SequenceNumber: '300000000000000000001',
          SizeBytes: 40,
          StreamViewType: 'NEW_AND_OLD_IMAGES',
        },
        userIdentity: { Type: 'Service', PrincipalId: 'dynamodb.amazonaws.com' },
      },
      'arn:aws:dynamodb:eu-west-1:123456789012:table/t/stream/2026-01-01T00:00:00.000',
    );
    expect(record).toEqual<DynamoDBRecord>({
      eventID: 'e-1',
      eventName: 'REMOVE',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'eu-west-1',
      dynamodb: {
        ApproximateCreationDateTime: 1_767_225_600,
        Keys: { pk: { B: 'a2V5' } },
        OldImage: {
          pk: { B: 'a2V5' },
          tags: { BS: ['YQ==', 'Yg=='] },
          nested: { M: { list: { L: [{ B: 'eA==' }, { N: '1' }, { NULL: true }] }, s: { SS: ['a'] } } },
        },
        SequenceNumber: '300000000000000000001',
        SizeBytes: 40,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
      userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' },
      eventSourceARN: 'arn:aws:dynamodb:eu-west-1:123456789012:table/t/stream/2026-01-01T00:00:00.000',
    });
  });
});
