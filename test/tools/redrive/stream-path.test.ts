/**
 * `npm run redrive -- stream|table-stream`: each failure record on the failure queue is handed to
 * `npm run replay` (tools/stream-replay/, its command line called in-process), which fetches the records it names
 * from the stream and puts them back; the failure record is deleted only when the replay exited 0. Kinesis is
 * kinesalite, the failure queue the in-process SQS stand-in.
 */
import { Journal } from '../../../tools/redrive/journal';
import { exitCodeOf } from '../../../tools/redrive/report';
import { type RedriveRequest, redrivePath } from '../../../tools/redrive/run';
import {
  failureRecordFor,
  type LocalKinesis,
  startLocalKinesis,
  TEST_CREDENTIALS,
} from '../stream-replay/local-kinesis';
import { type FakeAws, type FakeQueue, SERVER_ERROR, startFakeAws } from './fake-aws';

let aws: FakeAws;
let kinesis: LocalKinesis;
let failureQueue: FakeQueue;
let lines: string[];
const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };

beforeAll(async () => {
  kinesis = await startLocalKinesis();
  // The replay tool makes its own Kinesis client from the default credential chain.
  process.env.AWS_ACCESS_KEY_ID = TEST_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = TEST_CREDENTIALS.secretAccessKey;
});
afterAll(async () => {
  await kinesis.stop();
  process.env.AWS_ACCESS_KEY_ID = saved.id;
  process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
  if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
  if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
});
beforeEach(async () => {
  aws = await startFakeAws();
  failureQueue = aws.createQueue('stream-FailureQueue');
  lines = [];
});
afterEach(() => aws.stop());

let streams = 0;
async function streamWithRecords(count: number) {
  const name = `readings-${(streams += 1)}`;
  const arn = await kinesis.createStream(name, 1);
  const records = [];
  for (let i = 0; i < count; i += 1) records.push(await kinesis.put(name, `sensor-${i % 2}`, `{"n":${i}}`));
  return { name, arn, records };
}

function run(
  streamName: string,
  request: Partial<RedriveRequest> = {},
  path: 'stream' | 'table-stream' = 'stream',
) {
  return redrivePath(
    aws.clients(),
    {
      stackName: `reliable-lambda-test-${path}`,
      outputs: { FailureQueueUrl: failureQueue.url, StreamName: streamName, ConsumerFunctionName: 'f' },
    },
    {
      path,
      print: (line) => lines.push(line),
      journal: new Journal(),
      replayArgs: ['--endpoint', kinesis.endpoint],
      timing: { waitSeconds: 0, sleep: async () => undefined },
      ...request,
    },
  );
}

/** As the failure queue holds it: the SNS notification of the on-failure topic. */
const asNotification = (record: unknown) =>
  JSON.stringify({ Type: 'Notification', MessageId: 'n-1', Message: JSON.stringify(record) });

it('replays the records a failure record names back into the stream, then deletes the failure record', async () => {
  const { name, arn, records } = await streamWithRecords(3);
  aws.put(failureQueue, asNotification(failureRecordFor(arn, records)));

  const reports = await run(name);

  const shard = await kinesis.readShard(name, records[0].shardId);
  expect(shard.slice(3).map((r) => [r.partitionKey, r.data])).toEqual(
    records.map((r) => [r.partitionKey, r.data]),
  );
  expect(failureQueue.messages).toHaveLength(0);
  expect(reports[0].counts).toMatchObject({ redriven: 1, left: 0 });
  expect(exitCodeOf(reports)).toBe(0);
  expect(lines.join('\n')).toMatch(/re-drove 3 record\(s\)/);
});

it('a dry run asks the replay tool for its dry run: nothing is put, nothing deleted', async () => {
  const { name, arn, records } = await streamWithRecords(2);
  aws.put(failureQueue, asNotification(failureRecordFor(arn, records)));
  const reports = await run(name, { dryRun: true });
  expect(await kinesis.readShard(name, records[0].shardId)).toHaveLength(2);
  expect(failureQueue.messages).toHaveLength(1);
  expect(failureQueue.messages[0].visibleAt).toBeLessThanOrEqual(Date.now());
  expect(reports[0].counts).toMatchObject({ wouldRedrive: 1 });
  expect(lines.join('\n')).toMatch(/dry run: would put 2 record/);
});

it("leaves a failure record the replay cannot serve, with the replay's own reason", async () => {
  const { name, arn, records } = await streamWithRecords(1);
  const missingShard = failureRecordFor(arn, records);
  missingShard.KinesisBatchInfo.shardId = 'shardId-000000000009';
  aws.put(failureQueue, asNotification(missingShard));
  aws.put(failureQueue, 'garbage');

  const reports = await run(name);

  expect(failureQueue.messages).toHaveLength(2);
  expect(reports[0].counts).toMatchObject({ redriven: 0, left: 2 });
  expect(exitCodeOf(reports)).toBe(1);
  expect(lines.join('\n')).toMatch(/left .*shardId-000000000009/);
});

it('a failure record replayed but not deleted is not replayed again: the next run only deletes it', async () => {
  const { name, arn, records } = await streamWithRecords(2);
  aws.put(failureQueue, asNotification(failureRecordFor(arn, records)));
  aws.failNext('DeleteMessage', SERVER_ERROR);
  const journal = new Journal();
  await run(name, { journal });
  expect(failureQueue.messages).toHaveLength(1);
  const second = await run(name, { journal });
  expect(failureQueue.messages).toHaveLength(0);
  expect(await kinesis.readShard(name, records[0].shardId)).toHaveLength(4);
  expect(second[0].counts).toMatchObject({ alreadyRedriven: 1, redriven: 0 });
});

describe('table-stream: a DynamoDB Streams batch goes to the consumer, invoked by the replay', () => {
  const ddbFailure = JSON.stringify({
    requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 3 },
    DDBStreamBatchInfo: {
      shardId: 'shardId-00000001712385967261-abcdef12',
      startSequenceNumber: '100000000000000000001',
      endSequenceNumber: '100000000000000000009',
      batchSize: 2,
      streamArn: 'arn:aws:dynamodb:us-east-1:123456789012:table/stock/stream/2025-01-01T00:00:00.000',
    },
  });

  function fakeReplay(status: number, stderr: string) {
    const calls: { argv: string[]; input: string }[] = [];
    const runner = async (argv: readonly string[], input: string) => {
      calls.push({ argv: [...argv], input });
      return { status, stdout: '', stderr };
    };
    return { calls, runner };
  }

  it('runs npm run replay -- - --invoke <consumer> --execute with the failure record, and deletes it on exit 0', async () => {
    aws.put(failureQueue, ddbFailure);
    const replay = fakeReplay(0, 'invoked "f" with 2 record(s): none failed.\n');
    const reports = await run('unused', { replay: replay.runner }, 'table-stream');
    expect(replay.calls).toEqual([
      { argv: ['-', '--invoke', 'f', '--execute', '--endpoint', kinesis.endpoint], input: ddbFailure },
    ]);
    expect(failureQueue.messages).toHaveLength(0);
    expect(reports[0].counts.redriven).toBe(1);
    expect(lines.join('\n')).toMatch(/none failed/);
  });

  it("a dry run asks for the replay's dry run (no --execute) and keeps the record", async () => {
    aws.put(failureQueue, ddbFailure);
    const replay = fakeReplay(0, 'dry run: would invoke "f" with the 2 record(s) above\n');
    const reports = await run('unused', { replay: replay.runner, dryRun: true }, 'table-stream');
    expect(replay.calls[0].argv).toEqual(['-', '--invoke', 'f', '--endpoint', kinesis.endpoint]);
    expect(failureQueue.messages).toHaveLength(1);
    expect(reports[0].counts.wouldRedrive).toBe(1);
  });

  it.each([
    [1, 'error: Stream or shard not found'],
    [2, 'warning: 1 of 2 record(s) found: trimmed by the 24-hour retention'],
    [3, 'error: "f" reported 1 of the 2 record(s) it was given failed'],
  ])('leaves the failure record when the replay exits %i, with its reason', async (status, stderr) => {
    aws.put(failureQueue, ddbFailure);
    const replay = fakeReplay(status, `${stderr}\n`);
    const reports = await run('unused', { replay: replay.runner }, 'table-stream');
    expect(failureQueue.messages).toHaveLength(1);
    expect(reports[0].counts.left).toBe(1);
    expect(exitCodeOf(reports)).toBe(1);
    expect(lines.join('\n')).toContain(stderr);
  });
});
