/**
 * The replay tool against a real Kinesis API (kinesalite, in-process): a stream with several shards and
 * partition keys, a failure record naming a range of one shard, exactly those records back, in order.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { runCli } from '../../../tools/stream-replay/cli';
import { KinesisBatchInfo, parseFailureRecords } from '../../../tools/stream-replay/failure-record';
import { fetchFailedRecords, FetchError, ReplayRecord, toJsonLine } from '../../../tools/stream-replay/fetch';
import { parseRedriveTarget, RedriveError, redriveRecords } from '../../../tools/stream-replay/redrive';
import {
  failureRecordFor,
  LocalKinesis,
  PutResult,
  startLocalKinesis,
  TEST_CREDENTIALS,
} from './local-kinesis';

let kinesis: LocalKinesis;
let streamArn: string;
/** Every record put, in put order. */
let all: PutResult[];
/** The shard holding the most records, and its records in order. */
let shardRecords: PutResult[];

const KEYS = ['sensor-a', 'sensor-b', 'sensor-c', 'sensor-d', 'sensor-e', 'sensor-f'];

beforeAll(async () => {
  kinesis = await startLocalKinesis();
  streamArn = await kinesis.createStream('readings', 3);
  all = [];
  for (let i = 0; i < 36; i += 1) {
    const key = KEYS[i % KEYS.length];
    all.push(
      await kinesis.put('readings', key, JSON.stringify({ eventId: `evt-${i}`, sensorId: key, value: i })),
    );
  }
  const byShard = new Map<string, PutResult[]>();
  for (const record of all) byShard.set(record.shardId, [...(byShard.get(record.shardId) ?? []), record]);
  expect(byShard.size).toBeGreaterThan(1); // the test needs several shards
  shardRecords = [...byShard.values()].sort((a, b) => b.length - a.length)[0];
  expect(shardRecords.length).toBeGreaterThanOrEqual(8);
  expect(new Set(shardRecords.map((r) => r.partitionKey)).size).toBeGreaterThan(1);
});

afterAll(async () => {
  jest.restoreAllMocks();
  await kinesis.stop();
});

afterEach(() => {
  jest.restoreAllMocks();
});

/** The KinesisBatchInfo of the one failure record `value` holds. */
function kinesisInfoOf(value: unknown): KinesisBatchInfo {
  const [record] = parseFailureRecords(JSON.stringify(value));
  if (record.source !== 'kinesis') throw new Error(`expected a Kinesis failure record, got ${record.source}`);
  return record.KinesisBatchInfo;
}

const batchInfo = (records: PutResult[], overrides?: Parameters<typeof failureRecordFor>[2]) =>
  kinesisInfoOf(failureRecordFor(streamArn, records, overrides));

const summary = (records: ReplayRecord[]) =>
  records.map((r) => ({
    shardId: r.shardId,
    sequenceNumber: r.sequenceNumber,
    partitionKey: r.partitionKey,
    data: Buffer.from(r.data).toString('utf8'),
  }));

/** A client whose GetRecords answers go through `intercept` first (to inject empty pages, expiry...). */
function interceptingClient(
  intercept: (command: unknown, call: number) => unknown | undefined,
): KinesisClient {
  const client = kinesis.createClient({ region: 'us-east-1' });
  const send = client.send.bind(client);
  let calls = 0;
  jest.spyOn(client, 'send').mockImplementation(((command: unknown) => {
    calls += 1;
    const injected = intercept(command, calls);
    return injected === undefined ? send(command as never) : Promise.resolve(injected);
  }) as never);
  return client;
}

describe('fetchFailedRecords', () => {
  it('returns exactly the records of the named range, in sequence order, from the named shard only', async () => {
    const range = shardRecords.slice(2, 7);
    const result = await fetchFailedRecords(kinesis.client, batchInfo(range), { emptyPageDelayMs: 0 });
    expect(summary(result.records)).toEqual(range);
    expect(result).toEqual(expect.objectContaining({ expected: 5, missing: undefined }));
  });

  it('stops at batchSize even when the range is longer', async () => {
    const range = shardRecords.slice(0, 6);
    const result = await fetchFailedRecords(kinesis.client, batchInfo(range, { batchSize: 2 }));
    expect(summary(result.records)).toEqual(range.slice(0, 2));
    expect(result.missing).toBeUndefined();
  });

  it('stops at the newest record when the range claims more than the shard holds, and says so', async () => {
    const lastTwo = shardRecords.slice(-2);
    const info = batchInfo(lastTwo, { batchSize: 5, endSequenceNumber: '9'.repeat(56) });
    const result = await fetchFailedRecords(kinesis.client, info, { emptyPageDelayMs: 0 });
    expect(summary(result.records)).toEqual(lastTwo);
    expect(result.missing).toMatch(/reached the newest record of the shard before the end of the batch/);
  });

  it('keeps reading through empty pages that are behind the tip', async () => {
    const range = shardRecords.slice(0, 3);
    let injected = 0;
    const client = interceptingClient((command) => {
      if (command instanceof GetRecordsCommand && injected < 2) {
        injected += 1;
        return { Records: [], MillisBehindLatest: 5000, NextShardIterator: command.input.ShardIterator };
      }
      return undefined;
    });
    const result = await fetchFailedRecords(client, batchInfo(range), { emptyPageDelayMs: 0 });
    expect(injected).toBe(2);
    expect(summary(result.records)).toEqual(range);
    client.destroy();
  });

  it('gives up after maxPages and says so', async () => {
    const client = interceptingClient((command) =>
      command instanceof GetRecordsCommand
        ? { Records: [], MillisBehindLatest: 5000, NextShardIterator: command.input.ShardIterator }
        : undefined,
    );
    const result = await fetchFailedRecords(client, batchInfo(shardRecords.slice(0, 3)), {
      maxPages: 3,
      emptyPageDelayMs: 0,
    });
    expect(result.records).toEqual([]);
    expect(result.missing).toBe(
      'stopped after 3 GetRecords calls (--max-pages) before reaching the end of the batch, without finding any record of it',
    );
    client.destroy();
  });

  it('takes a new iterator after the last record read when one expires', async () => {
    const range = shardRecords.slice(0, 4);
    const realNow = Date.now.bind(Date);
    let offset = 0;
    jest.spyOn(Date, 'now').mockImplementation(() => realNow() + offset);
    const client = kinesis.createClient({ region: 'us-east-1' });
    const send = client.send.bind(client);
    const iteratorTypes: string[] = [];
    let getRecordsCalls = 0;
    jest.spyOn(client, 'send').mockImplementation((async (command: unknown) => {
      if (command instanceof GetShardIteratorCommand) iteratorTypes.push(command.input.ShardIteratorType!);
      if (command instanceof GetRecordsCommand && ++getRecordsCalls === 1) {
        // The first page holds 2 records; then 6 minutes pass before the next call (iterators live 5).
        command.input.Limit = 2;
        const page = await send(command);
        offset = 6 * 60_000;
        return page;
      }
      return send(command as never);
    }) as never);

    const result = await fetchFailedRecords(client, batchInfo(range), { emptyPageDelayMs: 0 });
    expect(iteratorTypes).toEqual(['AT_SEQUENCE_NUMBER', 'AFTER_SEQUENCE_NUMBER']);
    expect(summary(result.records)).toEqual(range);
    client.destroy();
  });

  it('reports records trimmed by the retention, and returns the ones still there', async () => {
    const realNow = Date.now.bind(Date);
    const dayAndAHourAgo = realNow() - 25 * 3600_000;
    const now = jest.spyOn(Date, 'now').mockImplementation(() => dayAndAHourAgo);
    await kinesis.createStream('aging', 1);
    const old = [
      await kinesis.put('aging', 'sensor-a', '{"n":1}'),
      await kinesis.put('aging', 'sensor-a', '{"n":2}'),
    ];
    now.mockRestore();
    const recent = [
      await kinesis.put('aging', 'sensor-a', '{"n":3}'),
      await kinesis.put('aging', 'sensor-b', '{"n":4}'),
    ];
    const agingArn = streamArn.replace('stream/readings', 'stream/aging');
    const info = kinesisInfoOf(failureRecordFor(agingArn, [...old, ...recent]));

    const result = await fetchFailedRecords(kinesis.client, info, { emptyPageDelayMs: 0 });
    expect(summary(result.records)).toEqual(recent);
    expect(result.missing).toMatch(
      new RegExp(
        `the record at startSequenceNumber ${old[0].sequenceNumber} is no longer in the stream: it was trimmed ` +
          `\\(records are kept 24 hours after arrival; it arrived .+\\); the first record still there is ${recent[0].sequenceNumber}`,
      ),
    );
  });

  it('fails clearly when every record of the batch was trimmed', async () => {
    // Its own stream: kinesalite deletes trimmed records for good.
    const expiringArn = await kinesis.createStream('expiring', 1);
    const range = [
      await kinesis.put('expiring', 'sensor-a', '{"n":1}'),
      await kinesis.put('expiring', 'sensor-b', '{"n":2}'),
    ];
    const info = kinesisInfoOf(failureRecordFor(expiringArn, range));
    const realNow = Date.now.bind(Date);
    jest.spyOn(Date, 'now').mockImplementation(() => realNow() + 25 * 3600_000);
    await expect(fetchFailedRecords(kinesis.client, info, { emptyPageDelayMs: 0 })).rejects.toThrow(
      /None of the 2 records of shardId-\d+ from \d+ to \d+ can be read: .*trimmed.*kept 24 hours.*use an S3 on-failure destination/,
    );
  });

  it('fails clearly for a stream or shard that does not exist', async () => {
    const info = batchInfo(shardRecords.slice(0, 1));
    await expect(
      fetchFailedRecords(kinesis.client, { ...info, streamArn: streamArn.replace('readings', 'gone') }),
    ).rejects.toThrow(/Stream "gone" or its shard shardId-\d+ was not found/);
    await expect(
      fetchFailedRecords(kinesis.client, { ...info, shardId: 'shardId-000000000042' }),
    ).rejects.toThrow(FetchError);
  });

  it('fails clearly for a sequence number that did not come from the shard', async () => {
    const info = batchInfo(shardRecords.slice(0, 1));
    const otherShard = all.find((r) => r.shardId !== info.shardId)!;
    await expect(
      fetchFailedRecords(kinesis.client, {
        ...info,
        startSequenceNumber: otherShard.sequenceNumber,
        endSequenceNumber: otherShard.sequenceNumber,
      }),
    ).rejects.toThrow(/Kinesis refused startSequenceNumber \d+ for shardId-\d+ of "readings"/);
  });
});

describe('toJsonLine', () => {
  it('decodes JSON data and keeps the exact bytes as base64', () => {
    const record: ReplayRecord = {
      shardId: 's',
      sequenceNumber: '1',
      partitionKey: 'k',
      data: Buffer.from('{"a":1}'),
    };
    expect(JSON.parse(toJsonLine(record))).toEqual({
      shardId: 's',
      sequenceNumber: '1',
      partitionKey: 'k',
      data: { a: 1 },
      dataBase64: Buffer.from('{"a":1}').toString('base64'),
    });
    expect(JSON.parse(toJsonLine({ ...record, data: Buffer.from('plain') })).data).toBe('plain');
  });
});

describe('redriveRecords', () => {
  it('puts the records into the target with the same data and partition keys, keeping per-key order', async () => {
    await kinesis.createStream('replayed', 2);
    const range = shardRecords.slice(0, 8);
    const { records } = await fetchFailedRecords(kinesis.client, batchInfo(range), { emptyPageDelayMs: 0 });
    const redriven = await redriveRecords(kinesis.client, records, parseRedriveTarget('replayed'));
    expect(redriven.map((r) => r.sourceSequenceNumber)).toEqual(range.map((r) => r.sequenceNumber));

    const target: PutResult[] = [];
    for (const shardId of new Set(redriven.map((r) => r.shardId))) {
      target.push(...(await kinesis.readShard('replayed', shardId)));
    }
    for (const key of new Set(range.map((r) => r.partitionKey))) {
      expect(target.filter((r) => r.partitionKey === key).map((r) => r.data)).toEqual(
        range.filter((r) => r.partitionKey === key).map((r) => r.data),
      );
    }
    expect(target).toHaveLength(range.length);
  });

  it('stops at the first failure and says how far it got', async () => {
    const { records } = await fetchFailedRecords(kinesis.client, batchInfo(shardRecords.slice(0, 2)));
    await expect(
      redriveRecords(kinesis.client, records, parseRedriveTarget('no-such-stream')),
    ).rejects.toThrow(RedriveError);
    await expect(
      redriveRecords(kinesis.client, records, parseRedriveTarget('no-such-stream')),
    ).rejects.toThrow(
      /PutRecord to "no-such-stream" failed for record \d+ \(partition key "sensor-\w"\) after 0 of 2 records/,
    );
  });

  it('takes a name or an ARN, and rejects anything else', () => {
    expect(parseRedriveTarget('replayed')).toEqual({ streamName: 'replayed' });
    expect(parseRedriveTarget('arn:aws:kinesis:eu-west-1:123456789012:stream/replayed')).toEqual({
      streamName: 'replayed',
      region: 'eu-west-1',
    });
    expect(() => parseRedriveTarget('arn:aws:sqs:eu-west-1:123456789012:q')).toThrow(
      /not a Kinesis stream ARN/,
    );
    expect(() => parseRedriveTarget('has spaces')).toThrow(/not a stream name/);
  });
});

describe('runCli', () => {
  let workDir: string;

  beforeAll(() => {
    workDir = mkdtempSync(path.join(tmpdir(), 'replay-stream-failure-'));
  });

  afterAll(() => {
    rmSync(workDir, { recursive: true, force: true });
  });

  async function run(argv: string[], stdin = '') {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const out: string[] = [];
    const err: string[] = [];
    stdout.on('data', (chunk) => out.push(String(chunk)));
    stderr.on('data', (chunk) => err.push(String(chunk)));
    const status = await runCli(argv, {
      stdin: Readable.from([stdin]),
      stdout,
      stderr,
      createClient: (options) => kinesis.createClient(options),
      emptyPageDelayMs: 0,
    });
    const lines = out.join('').split('\n').filter(Boolean);
    return { status, lines, stderr: err.join('') };
  }

  const file = (name: string, content: unknown) => {
    const filePath = path.join(workDir, name);
    writeFileSync(filePath, typeof content === 'string' ? content : JSON.stringify(content));
    return filePath;
  };

  it('prints the records of a failure record file as JSON lines, in order', async () => {
    const range = shardRecords.slice(1, 4);
    const { status, lines, stderr } = await run([file('raw.json', failureRecordFor(streamArn, range))]);
    expect(status).toBe(0);
    expect(lines.map((line) => JSON.parse(line))).toEqual(
      range.map((r) =>
        expect.objectContaining({
          sequenceNumber: r.sequenceNumber,
          partitionKey: r.partitionKey,
          data: JSON.parse(r.data),
        }),
      ),
    );
    expect(stderr).toMatch(
      /failure record 1\/1: 3 record\(s\) of shardId-\d+, .* \(RetryAttemptsExhausted\)/,
    );
  });

  it('reads `aws sqs receive-message` output holding SNS envelopes from standard input', async () => {
    const first = shardRecords.slice(0, 2);
    const second = shardRecords.slice(5, 6);
    const envelope = (records: PutResult[]) =>
      JSON.stringify({ Type: 'Notification', Message: JSON.stringify(failureRecordFor(streamArn, records)) });
    const stdin = JSON.stringify({ Messages: [{ Body: envelope(first) }, { Body: envelope(second) }] });
    const { status, lines } = await run(['-'], stdin);
    expect(status).toBe(0);
    expect(lines.map((line) => JSON.parse(line).sequenceNumber)).toEqual(
      [...first, ...second].map((r) => r.sequenceNumber),
    );
  });

  it('re-drives only with --execute; a dry run puts nothing', async () => {
    await kinesis.createStream('cli-target', 1);
    const range = shardRecords.slice(0, 3);
    const input = file('redrive.json', failureRecordFor(streamArn, range));

    const dry = await run([input, '--redrive', 'cli-target']);
    expect(dry.status).toBe(0);
    expect(dry.stderr).toMatch(/dry run: would put 3 record\(s\) into "cli-target".*add --execute/);
    expect(await kinesis.readShard('cli-target', 'shardId-000000000000')).toEqual([]);

    const executed = await run([input, '--redrive', 'cli-target', '--execute']);
    expect(executed.status).toBe(0);
    expect(executed.stderr).toMatch(/re-drove 3 record\(s\) into "cli-target"/);
    const target = await kinesis.readShard('cli-target', 'shardId-000000000000');
    expect(target.map((r) => [r.partitionKey, r.data])).toEqual(range.map((r) => [r.partitionKey, r.data]));
  });

  it('exits 2 when records are missing', async () => {
    const info = failureRecordFor(streamArn, shardRecords.slice(-1), {
      batchSize: 3,
      endSequenceNumber: '9'.repeat(56),
    });
    const { status, lines, stderr } = await run([file('short.json', info)]);
    expect(status).toBe(2);
    expect(lines).toHaveLength(1);
    expect(stderr).toMatch(/warning: 1 of 3 record\(s\) found: reached the newest record/);
  });

  it.each<[string, string[], string, RegExp]>([
    ['not JSON', [], 'hello', /error: the input is not JSON/],
    ['not a failure record', [], '{"hello":"world"}', /error: input: not an on-failure record/],
    [
      'a missing file',
      ['/nonexistent/failure.json'],
      '',
      /error: cannot read \/nonexistent\/failure.json: no such file/,
    ],
    ['--execute without --redrive', ['--execute'], '', /--execute only applies with --redrive/],
    ['two files', ['a.json', 'b.json'], '', /Expected at most one file, got 2/],
    ['an unknown option', ['--bogus'], '', /Unknown option '--bogus'/],
    ['a bad --max-pages', ['--max-pages', '0'], '', /--max-pages must be a positive whole number/],
    [
      'a bad --redrive target',
      ['--redrive', 'arn:aws:sqs:x'],
      '',
      /error: --redrive: "arn:aws:sqs:x" is not a Kinesis stream ARN/,
    ],
  ])('exits 1 with a clear message for %s', async (_name, argv, stdin, message) => {
    const input = argv.includes('--redrive')
      ? [file('ok.json', failureRecordFor(streamArn, shardRecords.slice(0, 1))), ...argv]
      : argv;
    const { status, stderr } = await run(input, stdin);
    expect(status).toBe(1);
    expect(stderr).toMatch(message);
  });

  it('prints its usage with --help', async () => {
    const { status, lines } = await run(['--help']);
    expect(status).toBe(0);
    // Named the way the README runs it; package.json's `replay` script is this tool.
    expect(lines[0]).toBe('Usage: npm run replay -- [options] [file]');
    expect(lines.join('\n')).not.toContain('npx tsx');
    const { scripts } = JSON.parse(readFileSync(path.join(__dirname, '../../../package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(scripts.replay).toBe('tsx tools/replay-stream-failure.ts');
  });
});

describe('tools/replay-stream-failure.ts as a command', () => {
  it('runs with tsx, reads standard input and prints the records', async () => {
    const range = shardRecords.slice(0, 2);
    const root = path.join(__dirname, '..', '..', '..');
    const child = spawn(
      path.join(root, 'node_modules', '.bin', 'tsx'),
      ['tools/replay-stream-failure.ts', '--endpoint', kinesis.endpoint],
      {
        cwd: root,
        env: {
          ...process.env,
          AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
          AWS_SESSION_TOKEN: '',
          AWS_PROFILE: '',
          NODE_NO_WARNINGS: '1',
        },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += String(chunk)));
    child.stderr.on('data', (chunk) => (stderr += String(chunk)));
    child.stdin.end(JSON.stringify(failureRecordFor(streamArn, range)));
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect({ status, stderr }).toEqual({ status: 0, stderr: expect.stringContaining('failure record 1/1') });
    expect(
      stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).sequenceNumber),
    ).toEqual(range.map((r) => r.sequenceNumber));
  });
});
