/**
 * `npm run replay` with DynamoDB Streams failure records, end to end: the command line (in-process and as a real
 * `tsx` process) against an in-process DynamoDB Streams API, and `--invoke` against an in-process Lambda Invoke
 * API running the real table-stream consumer handler over dynalite (its idempotency and effect tables), so a
 * replay is seen to apply the failed changes once, and a second replay to apply nothing.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { Logger } from '@aws-lambda-powertools/logger';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { ItemChange } from '../../../lambda/shared/domain';
import { createIdempotencyDependencies } from '../../../lambda/shared/powertools';
import { domain } from '../../../lambda/table-stream-consumer/domain';
import { createTableStreamConsumerHandler } from '../../../lambda/table-stream-consumer/handler';
import { runCli, USAGE } from '../../../tools/stream-replay/cli';
import { chunkByPayload, invokeWithRecords, parseInvokeTarget } from '../../../tools/stream-replay/invoke';
import { effectsOf } from '../../helpers/domain';
import { useLocalDynamoDb } from '../../helpers/dynamodb';
import { failureRecordFor, type LocalKinesis, startLocalKinesis } from './local-kinesis';
import {
  changeRecord,
  ddbFailureRecordFor,
  type LocalDynamoDbStreams,
  type PutChange,
  removal,
  RETENTION_MS,
  startLocalDynamoDbStreams,
  stockChange,
  TEST_CREDENTIALS,
} from './local-dynamodb-streams';
import { type LocalLambda, startLocalLambda } from './local-lambda';

const db = useLocalDynamoDb();
let streams: LocalDynamoDbStreams;
let lambda: LocalLambda;
let kinesis: LocalKinesis;
let workDir: string;

const CONSUMER = 'table-stream-consumer';

beforeAll(async () => {
  [streams, lambda, kinesis] = await Promise.all([
    startLocalDynamoDbStreams(),
    startLocalLambda(),
    startLocalKinesis(),
  ]);
  workDir = mkdtempSync(path.join(tmpdir(), 'replay-dynamodb-'));
});

afterAll(async () => {
  await Promise.all([streams.stop(), lambda.stop(), kinesis.stop()]);
  rmSync(workDir, { recursive: true, force: true });
});

/** Changes the consumer must not apply (its plan throws for them), by eventId. */
let poison = new Set<string>();

beforeEach(() => {
  poison = new Set();
  lambda.invocations.length = 0;
  // The consumer as deployed, over this test's fresh idempotency and effect tables.
  const handler = createTableStreamConsumerHandler({
    ...createIdempotencyDependencies({
      tableName: db.tableName,
      effectTableName: db.effectTableName,
      expiresAfterSeconds: 24 * 3600,
      client: db.dynamo.client,
      scheme: 'read-then-complete',
    }),
    dependencyRetryDelaysMs: [],
    logger: new Logger({ serviceName: 'replay-test', logLevel: 'SILENT' }),
    plan: (change) => {
      if (poison.has(change.eventId)) throw new Error(`downstream refused ${change.eventId}`);
      return domain.plan(change);
    },
  });
  lambda.deploy(CONSUMER, (event, context) => handler(event as DynamoDBStreamEvent, context));
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
    createDynamoDbStreamsClient: (options) => streams.createClient(options),
    createLambdaClient: (options) => lambda.createClient(options),
    emptyPageDelayMs: 0,
  });
  const lines = out.join('').split('\n').filter(Boolean);
  return { status, lines, json: lines.map((line) => JSON.parse(line) as unknown), stderr: err.join('') };
}

let files = 0;
const file = (content: unknown) => {
  const filePath = path.join(workDir, `failure-${++files}.json`);
  writeFileSync(filePath, typeof content === 'string' ? content : JSON.stringify(content));
  return filePath;
};
const lambdaRecords = (records: readonly PutChange[]) => records.map((record) => record.lambdaRecord);
const sqsMessages = (...bodies: unknown[]) => ({
  Messages: bodies.map((body, i) => ({
    MessageId: `m-${i}`,
    ReceiptHandle: `r-${i}`,
    Body: JSON.stringify(body),
  })),
});

/**
 * A stream of item changes where a batch failed: item 1 inserted and modified twice, item 2 inserted, item 3
 * removed (a REMOVE the default filter never delivers). The batch Lambda gave up on is `delivered`.
 */
function failedBatch(table: string) {
  const streamArn = streams.createStream(table);
  const shard = streams.addShard(streamArn);
  const changes: ItemChange<unknown>[] = [
    stockChange(`${table}-a0`, 1, 0),
    stockChange(`${table}-b0`, 2, 0),
    removal(`${table}-c9`, 3, 4),
    stockChange(`${table}-a1`, 1, 1),
    stockChange(`${table}-a2`, 1, 2),
  ];
  const put = changes.map((change) => streams.put(streamArn, shard, changeRecord(change)));
  const delivered = put.filter((record) => record.lambdaRecord.eventName !== 'REMOVE');
  const deliveredChanges = changes.filter((change) => change.eventName !== 'REMOVE');
  const failure = ddbFailureRecordFor(streamArn, put, { batchSize: delivered.length });
  return { streamArn, shard, put, delivered, deliveredChanges, failure };
}

describe('printing', () => {
  it("prints the batch's records as Lambda's event holds them, one JSON line each, leaving out what the filter dropped", async () => {
    const batch = failedBatch('print');
    const { status, json, stderr } = await run([file(batch.failure)]);
    expect(status).toBe(0);
    expect(json).toEqual(lambdaRecords(batch.delivered));
    expect(stderr).toMatch(
      /failure record 1\/1: 4 record\(s\) of shardId-\S+ of the stream of table "print", \d+\.\.\d+ \(RetryAttemptsExhausted\)/,
    );
    expect(stderr).toContain(
      `left out 1 record(s) of the range that the mapping's filter never delivered (--event-names INSERT,MODIFY): ` +
        `REMOVE ${batch.put[2].sequenceNumber} {"pk":{"S":"sku-3"}}`,
    );
    expect(stderr).not.toMatch(/warning|error/);
  });

  it('prints one {"Records":[…]} event per failure record with --as-event, from `aws sqs receive-message` output of SNS envelopes', async () => {
    const first = failedBatch('events-1');
    const second = failedBatch('events-2');
    const envelope = (record: unknown) => ({ Type: 'Notification', Message: JSON.stringify(record) });
    const stdin = JSON.stringify(sqsMessages(envelope(first.failure), envelope(second.failure)));
    const { status, json } = await run(['--as-event'], stdin);
    expect(status).toBe(0);
    expect(json).toEqual([
      { Records: lambdaRecords(first.delivered) },
      { Records: lambdaRecords(second.delivered) },
    ]);
  });

  it('prints every record of the range with --event-names all, and says they are not the batch', async () => {
    const batch = failedBatch('all-names');
    const { status, json, stderr } = await run([file(batch.failure), '--event-names', 'all']);
    expect(status).toBe(2);
    expect(json).toEqual(lambdaRecords(batch.put));
    expect(stderr).toMatch(
      /warning: the range holds 5 record\(s\) of the event names all .* but the batch had 4/,
    );
  });

  it('reads Kinesis and DynamoDB Streams failure records from one input, each from its own stream', async () => {
    const batch = failedBatch('mixed');
    const kinesisArn = await kinesis.createStream('mixed-readings', 1);
    const reading = await kinesis.put('mixed-readings', 'sensor-1', '{"eventId":"k-1","value":1}');
    const { status, json } = await run(
      [],
      JSON.stringify(sqsMessages(failureRecordFor(kinesisArn, [reading]), batch.failure)),
    );
    expect(status).toBe(0);
    expect(json).toEqual([
      expect.objectContaining({ sequenceNumber: reading.sequenceNumber, data: { eventId: 'k-1', value: 1 } }),
      ...lambdaRecords(batch.delivered),
    ]);
  });
});

describe('a range past the 24 hours', () => {
  it('says what was lost and where to look instead, prints nothing, invokes nothing, and exits 2', async () => {
    const batch = failedBatch('trimmed');
    streams.advanceClock(RETENTION_MS + 3600_000);
    const { status, lines, stderr } = await run([file(batch.failure), '--invoke', CONSUMER, '--execute']);
    expect(status).toBe(2);
    expect(lines).toEqual([]);
    expect(stderr).toMatch(
      /warning: all 4 records of the batch can no longer be read: .* were trimmed\. DynamoDB Streams keeps a stream record 24 hours/,
    );
    expect(stderr).toMatch(
      /the source table "trimmed": its items as they are now .* point-in-time recovery \(aws dynamodb restore-table-to-point-in-time --source-table-name trimmed/,
    );
    expect(stderr).toContain('not invoked: no record of the batch is left to replay.');
    expect(lambda.invocations).toEqual([]);
  });
});

describe('--invoke', () => {
  it('is a dry run without --execute: nothing is invoked', async () => {
    const batch = failedBatch('dry');
    const { status, json, stderr } = await run([file(batch.failure), '--invoke', CONSUMER]);
    expect(status).toBe(0);
    expect(json).toEqual(lambdaRecords(batch.delivered));
    expect(stderr).toContain(
      `dry run: would invoke "${CONSUMER}" with the 4 record(s) above, in sequence order, as {"Records":[...]}; add --execute to do it.`,
    );
    expect(lambda.invocations).toEqual([]);
  });

  it('re-invokes the consumer with the batch: the changes not applied yet are applied once, the others answered from its idempotency records', async () => {
    const batch = failedBatch('apply');
    // Before giving up, the consumer applied the first two changes (a retry of the batch failed on item 1's a1).
    const client = lambda.createClient({ region: 'eu-west-1' });
    await client.send(
      new InvokeCommand({
        FunctionName: CONSUMER,
        Payload: Buffer.from(JSON.stringify({ Records: lambdaRecords(batch.delivered.slice(0, 2)) })),
      }),
    );
    client.destroy();
    expect(await db.effects()).toEqual(effectsOf(domain.plan, batch.deliveredChanges.slice(0, 2) as never[]));
    lambda.invocations.length = 0;

    const replay = await run([file(batch.failure), '--invoke', CONSUMER, '--execute']);
    expect(replay.status).toBe(0);
    expect(replay.stderr).toContain(`invoked "${CONSUMER}" once with 4 record(s): none failed`);
    expect(lambda.invocations).toEqual([
      {
        functionName: CONSUMER,
        invocationType: 'RequestResponse',
        event: { Records: lambdaRecords(batch.delivered) },
      },
    ]);
    // Every delivered change applied exactly once; the REMOVE the filter dropped, never.
    const once = effectsOf(domain.plan, batch.deliveredChanges as never[]);
    expect(await db.effects()).toEqual(once);

    // A second replay (an operator running it again) applies nothing more.
    expect((await run([file(batch.failure), '--invoke', CONSUMER, '--execute'])).status).toBe(0);
    expect(await db.effects()).toEqual(once);
  });

  it('stops at the first invocation that reports failed records, says which, and exits 3', async () => {
    const first = failedBatch('poisoned');
    const second = failedBatch('after-poison');
    poison = new Set(['poisoned-a1']);
    const result = await run(
      ['-', '--invoke', CONSUMER, '--execute'],
      JSON.stringify(sqsMessages(first.failure, second.failure)),
    );
    expect(result.status).toBe(3);
    // a1 failed; a2, a later change of the same item, was held back; item 2's change was applied.
    const [a1, a2] = [first.put[3], first.put[4]];
    expect(result.stderr).toContain(
      `error: "${CONSUMER}" reported 2 of the 4 record(s) it was given failed or held back (after a failure, an ` +
        `item's later changes wait): ${a1.sequenceNumber}, ${a2.sequenceNumber}.`,
    );
    expect(result.stderr).toContain('the replay stops here: 1 later failure record(s) were not replayed.');
    expect(lambda.invocations).toHaveLength(1);
    expect(await db.effects()).toEqual(
      effectsOf(
        domain.plan,
        first.deliveredChanges.filter((c) => !['poisoned-a1', 'poisoned-a2'].includes(c.eventId)) as never[],
      ),
    );
  });

  it("does not invoke when the records do not match the batch (the filter given is not the mapping's)", async () => {
    const batch = failedBatch('mismatch');
    const { status, stderr } = await run([
      file(batch.failure),
      '--invoke',
      CONSUMER,
      '--execute',
      '--event-names',
      'all',
    ]);
    expect(status).toBe(2);
    expect(stderr).toContain(
      'not invoked: the records above are not the batch Lambda gave up on (see the warning).',
    );
    expect(lambda.invocations).toEqual([]);
  });

  it('fails clearly for a function that does not exist', async () => {
    const batch = failedBatch('no-function');
    const { status, stderr } = await run([file(batch.failure), '--invoke', 'no-such-function', '--execute']);
    expect(status).toBe(1);
    expect(stderr).toContain(
      'note: the failure record is of function "table-stream-consumer"; invoking "no-such-function" as asked.',
    );
    expect(stderr).toMatch(
      /error: invocation 1\/1 of "no-such-function" \(4 record\(s\)\) failed after 0 of 4 record\(s\) were handed over: ResourceNotFoundException: Function not found/,
    );
  });

  it('fails clearly when the function fails as a whole', async () => {
    const batch = failedBatch('crashing');
    lambda.deploy('crashing', async () => {
      throw new TypeError('cannot read properties of undefined');
    });
    const { status, stderr } = await run([file(batch.failure), '--invoke', 'crashing', '--execute']);
    expect(status).toBe(1);
    expect(stderr).toMatch(
      /error: invocation 1\/1 of "crashing" \(4 record\(s\)\): the function failed \(Unhandled\): TypeError: cannot read properties of undefined\./,
    );
  });

  it('sends a batch larger than one invocation carries in consecutive invocations, in order, and stops after one that reports failures', async () => {
    const batch = failedBatch('chunks');
    const records = lambdaRecords(batch.delivered) as unknown as DynamoDBRecord[];
    // Room for two records an invocation, not three.
    const sizes = records.map((record) => Buffer.byteLength(JSON.stringify(record)) + 1);
    const maxPayloadBytes = '{"Records":[]}'.length + Math.max(sizes[0] + sizes[1], sizes[2] + sizes[3]);
    expect(Math.min(sizes[0] + sizes[1] + sizes[2], sizes[1] + sizes[2] + sizes[3])).toBeGreaterThan(
      maxPayloadBytes - '{"Records":[]}'.length,
    );
    expect(chunkByPayload(records, maxPayloadBytes).map((chunk) => chunk.length)).toEqual([2, 2]);

    const client = lambda.createClient({ region: 'eu-west-1' });
    poison = new Set(['chunks-b0']);
    const result = await invokeWithRecords(client, parseInvokeTarget(CONSUMER), records, { maxPayloadBytes });
    expect(result).toEqual({ invocations: [2], failed: [batch.delivered[1].sequenceNumber], notSent: 2 });

    poison = new Set();
    const again = await invokeWithRecords(client, parseInvokeTarget(CONSUMER), records, { maxPayloadBytes });
    expect(again).toEqual({ invocations: [2, 2], failed: [], notSent: 0 });
    expect(
      lambda.invocations.map((i) => (i.event as DynamoDBStreamEvent).Records.map((r) => r.eventID)),
    ).toEqual([
      ['chunks-a0', 'chunks-b0'],
      ['chunks-a0', 'chunks-b0'],
      ['chunks-a1', 'chunks-a2'],
    ]);
    expect(await db.effects()).toEqual(effectsOf(domain.plan, batch.deliveredChanges as never[]));
    client.destroy();
  });

  it('takes a function name, a qualified name or an ARN (its region used)', () => {
    expect(parseInvokeTarget('table-stream-consumer')).toEqual({ functionName: 'table-stream-consumer' });
    expect(parseInvokeTarget('table-stream-consumer:live')).toEqual({
      functionName: 'table-stream-consumer:live',
    });
    expect(parseInvokeTarget('arn:aws:lambda:eu-central-1:123456789012:function:consumer')).toEqual({
      functionName: 'arn:aws:lambda:eu-central-1:123456789012:function:consumer',
      region: 'eu-central-1',
    });
    expect(() => parseInvokeTarget('has spaces')).toThrow(
      /--invoke: "has spaces" is not a function name or ARN/,
    );
  });
});

describe('options for the other source', () => {
  it.each<[string, () => unknown, string[], RegExp]>([
    [
      '--redrive with a DynamoDB Streams failure record',
      () => failedBatch('redrive').failure,
      ['--redrive', 'readings'],
      /error: --redrive <stream> puts records into a Kinesis stream, but failure record 1 is of a DynamoDB Streams mapping, and a DynamoDB stream cannot be written to: replay it with --invoke <function>/,
    ],
    [
      '--invoke with a Kinesis failure record',
      () =>
        failureRecordFor('arn:aws:kinesis:us-east-1:000000000000:stream/readings', [
          { shardId: 'shardId-000000000000', sequenceNumber: '1', partitionKey: 'k', data: '' },
        ]),
      ['--invoke', CONSUMER],
      /error: --invoke <function> only apply to DynamoDB Streams failure records, but failure record 1 is of a Kinesis mapping: replay it with --redrive <stream>/,
    ],
    [
      '--as-event and --event-names with a Kinesis failure record',
      () =>
        failureRecordFor('arn:aws:kinesis:us-east-1:000000000000:stream/readings', [
          { shardId: 'shardId-000000000000', sequenceNumber: '1', partitionKey: 'k', data: '' },
        ]),
      ['--as-event', '--event-names', 'INSERT'],
      /error: --as-event, --event-names <list> only apply to DynamoDB Streams failure records/,
    ],
  ])('refuses %s before fetching anything', async (_name, input, argv, message) => {
    streams.calls.length = 0;
    const { status, stderr } = await run([file(input()), ...argv]);
    expect(status).toBe(1);
    expect(stderr).toMatch(message);
    expect(streams.calls).toEqual([]);
  });

  it.each<[string, string[], RegExp]>([
    ['--redrive and --invoke together', ['--redrive', 's', '--invoke', 'f'], /do not go together/],
    [
      '--execute alone',
      ['--execute'],
      /--execute only applies with --redrive <stream> \(Kinesis\) or --invoke <function> \(DynamoDB Streams\)/,
    ],
    ['a bad --event-names', ['--event-names', 'DELETE'], /--event-names takes INSERT, MODIFY and REMOVE/],
  ])('refuses %s', async (_name, argv, message) => {
    const { status, stderr } = await run(argv, '{}');
    expect(status).toBe(1);
    expect(stderr).toMatch(message);
  });

  it('says in its usage which options apply to which source', () => {
    const kinesisPart = USAGE.slice(
      USAGE.indexOf('Kinesis (KinesisBatchInfo)'),
      USAGE.indexOf('DynamoDB Streams (DDBStreamBatchInfo)'),
    );
    const ddbPart = USAGE.slice(
      USAGE.indexOf('DynamoDB Streams (DDBStreamBatchInfo)'),
      USAGE.indexOf('Exit status'),
    );
    expect(kinesisPart).toContain('--redrive <stream>');
    for (const option of ['--event-names <list>', '--as-event', '--invoke <function>'])
      expect(ddbPart).toContain(option);
    expect(USAGE.slice(USAGE.indexOf('Both sources'), USAGE.indexOf('Kinesis (KinesisBatchInfo)'))).toMatch(
      /--region[\s\S]*--endpoint[\s\S]*--max-pages[\s\S]*--execute/,
    );
    expect(ddbPart).toContain('keeps a record 24 hours and cannot be written to');
  });
});

describe('tools/replay-stream-failure.ts as a command', () => {
  it('runs with tsx against a DynamoDB Streams endpoint and prints the records', async () => {
    const batch = failedBatch('command');
    const root = path.join(__dirname, '..', '..', '..');
    const child = spawn(
      path.join(root, 'node_modules', '.bin', 'tsx'),
      ['tools/replay-stream-failure.ts', '--endpoint', streams.endpoint, '--as-event'],
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
    child.stdin.end(JSON.stringify(batch.failure));
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect({ status, stderr }).toEqual({ status: 0, stderr: expect.stringContaining('failure record 1/1') });
    expect(JSON.parse(stdout)).toEqual({ Records: lambdaRecords(batch.delivered) });
  });
});
