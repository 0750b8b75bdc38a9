/**
 * `npm run redrive` as a command against moto in server mode (Python; `npm run test:redrive`, not part of
 * `npm test`): stacks named as the app names them, holding the failure stores and the outputs the command reads,
 * created through moto's CloudFormation; the command run as a real process with the emulator's environment.
 *
 * Between the command and moto sits a recording proxy: every request passes through unchanged, and the test sees
 * which invocations were made with which payloads, and can make a call fail once. moto runs no function
 * (asynchronous invocations are accepted with Docker use turned off, as Lambda accepts them) and has no message
 * move tasks (5.2): the dead-letter queue's move itself is tested against tools' in-process stand-in
 * (dead-letter-queue.test.ts); here, what the command does when SQS refuses it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import {
  GetShardIteratorCommand,
  GetRecordsCommand,
  KinesisClient,
  PutRecordCommand,
} from '@aws-sdk/client-kinesis';
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { type Emulator, startEmulator } from '../../../tools/deploy-local/emulator';
import { invocationRecord, snsEvent, subscriptionDeadLetter } from './samples';

const projectDir = resolve(__dirname, '../../..');
const APP = 'redrive-test';
const STAGE = 'emu';

let emulator: Emulator;
let proxy: RecordingProxy;
let sqs: SQSClient;
let kinesis: KinesisClient;
const outputs: Record<string, Record<string, string>> = {};

interface Recorded {
  readonly action: string;
  readonly invocationType?: string;
  readonly payload?: unknown;
}

interface RecordingProxy {
  readonly endpoint: string;
  readonly recorded: Recorded[];
  /** The next `times` requests of `action` are answered with a server error instead of reaching moto. */
  failNext(action: string, times: number): void;
  stop(): Promise<void>;
}

async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const recorded: Recorded[] = [];
  const failing = new Map<string, number>();
  const { hostname, port } = new URL(target);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const sqsTarget = req.headers['x-amz-target'];
      const invoke = /\/functions\/[^/]+\/invocations/.test(req.url ?? '');
      const action =
        typeof sqsTarget === 'string'
          ? sqsTarget.split('.')[1]
          : invoke
            ? 'Invoke'
            : `${req.method} ${req.url}`;
      recorded.push({
        action,
        ...(invoke
          ? {
              invocationType: String(req.headers['x-amz-invocation-type']),
              payload: JSON.parse(body.toString('utf8')) as unknown,
            }
          : {}),
      });
      const failures = failing.get(action) ?? 0;
      if (failures > 0) {
        failing.set(action, failures - 1);
        res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(
          JSON.stringify({ __type: 'com.amazonaws.sqs#InternalError', message: 'injected by the test' }),
        );
        return;
      }
      const forward = httpRequest(
        {
          hostname,
          port,
          path: req.url,
          method: req.method,
          headers: { ...req.headers, host: `${hostname}:${port}` },
        },
        (upstream) => {
          res.writeHead(upstream.statusCode ?? 500, upstream.headers);
          upstream.pipe(res);
        },
      );
      forward.on('error', (error) => {
        res.writeHead(502);
        res.end(String(error));
      });
      forward.end(body);
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    recorded,
    failNext: (action, times) => failing.set(action, times),
    stop: () => new Promise<void>((done) => server.close(() => done())),
  };
}

/** A stack of the test app, created in moto's CloudFormation; returns its outputs. */
async function createStack(cloudformation: CloudFormationClient, path: string, template: object) {
  const StackName = `${APP}-${STAGE}-${path}`;
  await cloudformation.send(new CreateStackCommand({ StackName, TemplateBody: JSON.stringify(template) }));
  for (;;) {
    const { Stacks = [] } = await cloudformation.send(new DescribeStacksCommand({ StackName }));
    const status = Stacks[0]?.StackStatus ?? '';
    if (status === 'CREATE_COMPLETE') {
      return Object.fromEntries((Stacks[0].Outputs ?? []).map((o) => [o.OutputKey!, o.OutputValue!]));
    }
    if (!status.endsWith('IN_PROGRESS'))
      throw new Error(`${StackName}: ${status} ${Stacks[0]?.StackStatusReason}`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

const queue = (redrive?: string) => ({
  Type: 'AWS::SQS::Queue',
  Properties: redrive
    ? { RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [redrive, 'Arn'] }, maxReceiveCount: 5 } }
    : {},
});
const ref = (name: string) => ({ Value: { Ref: name } });

beforeAll(async () => {
  emulator = await startEmulator({ projectDir });
  // Lambda's asynchronous invoke accepted without running the function (moto would need Docker to run it).
  await fetch(`${emulator.endpoint}/moto-api/config`, {
    method: 'POST',
    body: JSON.stringify({ lambda: { use_docker: false } }),
  });
  proxy = await startRecordingProxy(emulator.endpoint);
  const base = {
    endpoint: emulator.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  };
  sqs = new SQSClient({ ...base, useQueueUrlAsEndpoint: false });
  kinesis = new KinesisClient({ ...base, requestHandler: new NodeHttpHandler() });
  const cloudformation = new CloudFormationClient(base);
  outputs.sqs = await createStack(cloudformation, 'sqs', {
    Resources: { DeadLetterQueue: queue(), Queue: queue('DeadLetterQueue') },
    Outputs: {
      QueueUrl: ref('Queue'),
      DeadLetterQueueUrl: ref('DeadLetterQueue'),
      DeadLetterQueueArn: { Value: { 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] } },
    },
  });
  outputs.object = await createStack(cloudformation, 'object', {
    Resources: {
      OnFailureQueue: queue(),
      SubscriptionDeadLetterQueue: queue(),
      ObjectCreatedTopic: { Type: 'AWS::SNS::Topic' },
      Role: {
        Type: 'AWS::IAM::Role',
        Properties: {
          AssumeRolePolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
            ],
          },
        },
      },
      Consumer: {
        Type: 'AWS::Lambda::Function',
        Properties: {
          Runtime: 'nodejs22.x',
          Handler: 'index.handler',
          Role: { 'Fn::GetAtt': ['Role', 'Arn'] },
          Code: { ZipFile: 'exports.handler = async () => undefined;' },
        },
      },
    },
    Outputs: {
      OnFailureQueueUrl: ref('OnFailureQueue'),
      SubscriptionDeadLetterQueueUrl: ref('SubscriptionDeadLetterQueue'),
      ObjectCreatedTopicArn: ref('ObjectCreatedTopic'),
      ConsumerFunctionName: ref('Consumer'),
    },
  });
  outputs.stream = await createStack(cloudformation, 'stream', {
    Resources: {
      Stream: { Type: 'AWS::Kinesis::Stream', Properties: { ShardCount: 1 } },
      FailureQueue: queue(),
    },
    Outputs: {
      StreamName: ref('Stream'),
      StreamArn: { Value: { 'Fn::GetAtt': ['Stream', 'Arn'] } },
      FailureQueueUrl: ref('FailureQueue'),
    },
  });
  cloudformation.destroy();
}, 120_000);

afterAll(async () => {
  sqs?.destroy();
  kinesis?.destroy();
  await proxy?.stop();
  await emulator?.stop();
});

const journalDir = mkdtempSync(join(tmpdir(), 'redrive-emulator-'));

/** `npm run redrive -- <args>` as a process, against the emulator through the proxy. */
function redrive(...args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((done, fail) => {
    const child = spawn(
      join(projectDir, 'node_modules', '.bin', 'tsx'),
      [
        'tools/redrive/cli.ts',
        ...args,
        '--app-name',
        APP,
        '--stage',
        STAGE,
        '--emulator',
        '--journal',
        join(journalDir, 'journal.jsonl'),
      ],
      {
        cwd: projectDir,
        env: { ...emulator.env, AWS_ENDPOINT_URL: proxy.endpoint },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', fail);
    child.on('exit', (code) => done({ code: code ?? -1, output }));
  });
}

async function depth(queueUrl: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible)
  );
}

const send = (queueUrl: string, body: unknown) =>
  sqs.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: typeof body === 'string' ? body : JSON.stringify(body),
    }),
  );

describe('sqs: the dead-letter queue', () => {
  beforeAll(async () => {
    for (const id of ['o-1', 'o-2', 'o-3']) await send(outputs.sqs.DeadLetterQueueUrl, { orderId: id });
  });

  it('a dry run finds the stack by stage, counts the messages, shows a sample, and changes nothing', async () => {
    const { code, output } = await redrive('sqs', '--dry-run');
    expect(output).toMatch(`stack ${APP}-${STAGE}-sqs`);
    expect(output).toMatch(/about 3 message\(s\)/);
    expect(output).toMatch(/"orderId":"o-1"/);
    expect(output).toMatch(/new message ids/);
    expect(code).toBe(0);
    expect(await depth(outputs.sqs.DeadLetterQueueUrl)).toBe(3);
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: outputs.sqs.DeadLetterQueueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 0,
      }),
    );
    expect(Messages).toHaveLength(3);
  });

  it('when SQS cannot run a message move task (moto has none), every message stays and the exit code is 1', async () => {
    const { code, output } = await redrive('sqs');
    expect(output).toMatch(/left: cannot list the queue's message move tasks/);
    expect(output).toMatch(/redrive: 0 redriven, 3 left/);
    expect(code).toBe(1);
    expect(await depth(outputs.sqs.DeadLetterQueueUrl)).toBe(3);
    expect(proxy.recorded.map((r) => r.action)).not.toContain('DeleteMessage');
  });
});

describe('object: the on-failure destination and the subscription DLQ', () => {
  const events = [snsEvent('emu/a.txt'), snsEvent('emu/b.txt')];

  beforeAll(async () => {
    for (const event of events)
      await send(
        outputs.object.OnFailureQueueUrl,
        invocationRecord(event, { functionName: outputs.object.ConsumerFunctionName }),
      );
    await send(
      outputs.object.OnFailureQueueUrl,
      invocationRecord(undefined, { functionName: outputs.object.ConsumerFunctionName, omitPayload: true }),
    );
    await send(
      outputs.object.SubscriptionDeadLetterQueueUrl,
      subscriptionDeadLetter('emu/c.txt', { topicArn: outputs.object.ObjectCreatedTopicArn }),
    );
  });

  it('re-invokes each event asynchronously, deletes what was accepted, leaves and reports the rest', async () => {
    const before = proxy.recorded.length;
    const { code, output } = await redrive('object');
    const invokes = proxy.recorded.slice(before).filter((r) => r.action === 'Invoke');
    expect(invokes.map((r) => r.invocationType)).toEqual(['Event', 'Event', 'Event']);
    expect(invokes.slice(0, 2).map((r) => r.payload)).toEqual(events);
    const redelivered = invokes[2].payload as {
      Records: { EventSubscriptionArn: string; Sns: { TopicArn: string } }[];
    };
    expect(redelivered.Records[0].Sns.TopicArn).toBe(outputs.object.ObjectCreatedTopicArn);
    expect(output).toMatch(/requestPayload is missing/);
    expect(output).toMatch(/redrive: 3 redriven, 1 left/);
    expect(code).toBe(1);
    expect(await depth(outputs.object.OnFailureQueueUrl)).toBe(1);
    expect(await depth(outputs.object.SubscriptionDeadLetterQueueUrl)).toBe(0);
  });

  it('running it again re-drives nothing twice: only the record it cannot re-drive is there, and stays', async () => {
    const before = proxy.recorded.length;
    const { code, output } = await redrive('object');
    expect(proxy.recorded.slice(before).filter((r) => r.action === 'Invoke')).toHaveLength(0);
    expect(output).toMatch(/redrive: 0 redriven, 1 left/);
    expect(code).toBe(1);
    expect(await depth(outputs.object.OnFailureQueueUrl)).toBe(1);
  });

  it('a record whose delete failed after the invocation was accepted is deleted by the next run, not invoked again', async () => {
    await send(
      outputs.object.OnFailureQueueUrl,
      invocationRecord(snsEvent('emu/d.txt'), { functionName: outputs.object.ConsumerFunctionName }),
    );
    // Every attempt of the SDK's retries (5, the smoke test's clients) fails.
    proxy.failNext('DeleteMessage', 5);
    const before = proxy.recorded.length;
    const first = await redrive('object', '--store', 'on-failure');
    expect(first.output).toMatch(/could not be deleted/);
    expect(first.code).toBe(1);
    const second = await redrive('object', '--store', 'on-failure');
    expect(second.output).toMatch(/deleted now, not redriven again/);
    const invokes = proxy.recorded.slice(before).filter((r) => r.action === 'Invoke');
    expect(invokes.map((r) => r.payload)).toEqual([snsEvent('emu/d.txt')]);
    expect(await depth(outputs.object.OnFailureQueueUrl)).toBe(1); // the record without a payload, still
  });
});

describe('stream: the failure queue, through npm run replay', () => {
  it("puts the failure record's records back into the stream, then deletes the failure record", async () => {
    const StreamName = outputs.stream.StreamName;
    const put = [];
    for (const n of [1, 2, 3]) {
      put.push(
        await kinesis.send(
          new PutRecordCommand({ StreamName, PartitionKey: 'sensor-1', Data: Buffer.from(`{"n":${n}}`) }),
        ),
      );
    }
    const failure = {
      requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 3 },
      KinesisBatchInfo: {
        shardId: put[0].ShardId,
        startSequenceNumber: put[0].SequenceNumber,
        endSequenceNumber: put[2].SequenceNumber,
        batchSize: 3,
        streamArn: outputs.stream.StreamArn,
      },
    };
    await send(outputs.stream.FailureQueueUrl, {
      Type: 'Notification',
      MessageId: 'n-1',
      Message: JSON.stringify(failure),
    });

    const dry = await redrive('stream', '--dry-run');
    expect(dry.output).toMatch(/would put 3 record/);
    expect(dry.code).toBe(0);

    const { code, output } = await redrive('stream');
    expect(output).toMatch(/re-drove 3 record\(s\)/);
    expect(code).toBe(0);
    expect(await depth(outputs.stream.FailureQueueUrl)).toBe(0);
    const { ShardIterator } = await kinesis.send(
      new GetShardIteratorCommand({ StreamName, ShardId: put[0].ShardId, ShardIteratorType: 'TRIM_HORIZON' }),
    );
    const { Records = [] } = await kinesis.send(new GetRecordsCommand({ ShardIterator }));
    expect(Records.map((r) => Buffer.from(r.Data!).toString())).toEqual([
      '{"n":1}',
      '{"n":2}',
      '{"n":3}',
      '{"n":1}',
      '{"n":2}',
      '{"n":3}',
    ]);
  });
});

it('a stage with nothing deployed: exit 2 and the stack it looked for', async () => {
  const { code, output } = await redrive('fifo');
  expect(output).toMatch(`stack ${APP}-${STAGE}-fifo is not deployed`);
  expect(code).toBe(2);
});
