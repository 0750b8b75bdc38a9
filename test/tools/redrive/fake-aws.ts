/**
 * An in-process stand-in for the two AWS services `npm run redrive` calls, speaking their wire protocols over
 * HTTP so the real SDK clients talk to it unchanged: SQS (AWS JSON 1.0, `X-Amz-Target: AmazonSQS.<Action>`) and
 * Lambda's `Invoke` (REST JSON, `POST /2015-03-31/functions/<name>/invocations`). No SDK method is mocked.
 *
 * What it models is what the tool depends on: visibility timeouts and receipt handles (a receive hides a message,
 * only the latest receipt deletes it, a visibility change of 0 shows it again), the MD5 the SDK checks on every
 * received body, and message move tasks: one running task per source queue, the messages moved back to the queue
 * each came from with new message ids, progress advancing on each `ListMessageMoveTasks` (so a test is
 * deterministic), cancellation, and a task that fails part way. moto implements neither `StartMessageMoveTask`
 * nor `ListMessageMoveTasks` (5.2), which is why these are tested here.
 *
 * Every request is recorded (`calls`), and any action can be made to fail the next n times (`failNext`).
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';

export const FAKE_ACCOUNT = '123456789012';
export const FAKE_REGION = 'us-east-1';

export interface FakeMessage {
  readonly messageId: string;
  readonly body: string;
  readonly groupId?: string;
  /** The queue it came from, for a message in a dead-letter queue (where a move task sends it back). */
  readonly originArn?: string;
  receiptHandle?: string;
  visibleAt: number;
  receiveCount: number;
  readonly sentAt: number;
}

export interface FakeQueue {
  readonly name: string;
  readonly url: string;
  readonly arn: string;
  readonly messages: FakeMessage[];
}

export interface FakeMoveTask {
  readonly handle: string;
  readonly sourceArn: string;
  readonly rate?: number;
  readonly toMove: number;
  moved: number;
  status: 'RUNNING' | 'COMPLETED' | 'CANCELLED' | 'FAILED';
  failureReason?: string;
  readonly startedAt: number;
  /** Fails the task once this many messages were moved. */
  failAfter?: { moved: number; reason: string };
}

export interface Call {
  readonly service: 'sqs' | 'lambda';
  readonly action: string;
  readonly params: Record<string, unknown>;
}

export interface Invocation {
  readonly functionName: string;
  readonly invocationType: string;
  readonly payload: unknown;
}

export interface InjectedError {
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

export interface FakeAws {
  readonly endpoint: string;
  readonly calls: Call[];
  readonly invocations: Invocation[];
  createQueue(name: string): FakeQueue;
  queue(urlOrName: string): FakeQueue;
  /** SendMessage's effect, without a request. */
  put(queue: FakeQueue, body: string, options?: { groupId?: string; origin?: FakeQueue }): FakeMessage;
  addFunction(name: string): void;
  /** The next `times` requests of `action` (`Invoke` for Lambda) answer with `error`. */
  failNext(action: string, error: InjectedError, times?: number): void;
  /** How many messages each ListMessageMoveTasks moves (default: the task's rate, else 100). */
  moveStep?: number;
  /** The next move task fails once it has moved `moved` messages. */
  failNextMoveTask(moved: number, reason: string): void;
  readonly moveTasks: FakeMoveTask[];
  /** SQS and Lambda clients pointed here, one attempt per call (no retries to wait for). */
  clients(): { sqs: SQSClient; lambda: LambdaClient };
  actions(service?: Call['service']): string[];
  stop(): Promise<void>;
}

export const THROTTLED: InjectedError = {
  status: 429,
  code: 'TooManyRequestsException',
  message: 'Rate exceeded',
};
export const SERVER_ERROR: InjectedError = {
  status: 500,
  code: 'InternalFailure',
  message: 'We encountered an internal error. Please try again.',
};

const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');

class AwsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function startFakeAws(): Promise<FakeAws> {
  const queues = new Map<string, FakeQueue>();
  const functions = new Set<string>();
  const calls: Call[] = [];
  const invocations: Invocation[] = [];
  const moveTasks: FakeMoveTask[] = [];
  const injected = new Map<string, { error: InjectedError; times: number }>();
  let nextMoveTaskFailure: { moved: number; reason: string } | undefined;
  let endpoint = '';
  const clients: { destroy(): void }[] = [];

  const fake: FakeAws = {
    get endpoint() {
      return endpoint;
    },
    calls,
    invocations,
    moveTasks,
    createQueue(name) {
      const queue: FakeQueue = {
        name,
        url: `${endpoint}/${FAKE_ACCOUNT}/${name}`,
        arn: `arn:aws:sqs:${FAKE_REGION}:${FAKE_ACCOUNT}:${name}`,
        messages: [],
      };
      queues.set(queue.url, queue);
      return queue;
    },
    queue(urlOrName) {
      const queue = queues.get(urlOrName) ?? [...queues.values()].find((q) => q.name === urlOrName);
      if (!queue) throw new Error(`no queue ${urlOrName}`);
      return queue;
    },
    put(queue, body, options = {}) {
      const message: FakeMessage = {
        messageId: randomUUID(),
        body,
        groupId: options.groupId,
        originArn: options.origin?.arn,
        visibleAt: 0,
        receiveCount: 0,
        sentAt: Date.now(),
      };
      queue.messages.push(message);
      return message;
    },
    addFunction(name) {
      functions.add(name);
    },
    failNext(action, error, times = 1) {
      injected.set(action, { error, times });
    },
    failNextMoveTask(moved, reason) {
      nextMoveTaskFailure = { moved, reason };
    },
    clients() {
      const base = {
        endpoint,
        region: FAKE_REGION,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        maxAttempts: 1,
      };
      const made = { sqs: new SQSClient(base), lambda: new LambdaClient(base) };
      clients.push(made.sqs, made.lambda);
      return made;
    },
    actions(service) {
      return calls.filter((call) => !service || call.service === service).map((call) => call.action);
    },
    async stop() {
      for (const client of clients) client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const visible = (queue: FakeQueue, now = Date.now()) => queue.messages.filter((m) => m.visibleAt <= now);

  function queueOf(url: unknown): FakeQueue {
    const queue = typeof url === 'string' ? queues.get(url) : undefined;
    if (!queue)
      throw new AwsError(
        400,
        'AWS.SimpleQueueService.NonExistentQueue',
        'The specified queue does not exist.',
      );
    return queue;
  }

  function queueOfArn(arn: unknown): FakeQueue {
    const queue = [...queues.values()].find((q) => q.arn === arn);
    if (!queue)
      throw new AwsError(400, 'ResourceNotFoundException', `The resource ${String(arn)} does not exist.`);
    return queue;
  }

  function findByReceipt(queue: FakeQueue, handle: unknown): FakeMessage {
    const message = queue.messages.find((m) => m.receiptHandle !== undefined && m.receiptHandle === handle);
    if (!message)
      throw new AwsError(
        400,
        'ReceiptHandleIsInvalid',
        `The input receipt handle "${String(handle)}" is not valid.`,
      );
    return message;
  }

  /** One step of each running task of `sourceArn`: moves messages back to the queue each came from. */
  function advance(task: FakeMoveTask): void {
    if (task.status !== 'RUNNING') return;
    const source = queueOfArn(task.sourceArn);
    const step = fake.moveStep ?? task.rate ?? 100;
    for (let i = 0; i < step; i += 1) {
      if (task.failAfter && task.moved >= task.failAfter.moved) {
        task.status = 'FAILED';
        task.failureReason = task.failAfter.reason;
        return;
      }
      const message = visible(source)[0];
      if (!message) break;
      source.messages.splice(source.messages.indexOf(message), 1);
      const origin = message.originArn ? queueOfArn(message.originArn) : undefined;
      if (!origin) {
        task.status = 'FAILED';
        task.failureReason = `message ${message.messageId} has no source queue`;
        return;
      }
      // A moved message is a new message: new id, receive count 0, retention from now.
      fake.put(origin, message.body, { groupId: message.groupId });
      task.moved += 1;
    }
    if (visible(source).length === 0 && task.status === 'RUNNING') task.status = 'COMPLETED';
  }

  function taskView(task: FakeMoveTask): Record<string, unknown> {
    return {
      ...(task.status === 'RUNNING' ? { TaskHandle: task.handle } : {}),
      Status: task.status,
      SourceArn: task.sourceArn,
      ...(task.rate !== undefined ? { MaxNumberOfMessagesPerSecond: task.rate } : {}),
      ApproximateNumberOfMessagesMoved: task.moved,
      ApproximateNumberOfMessagesToMove: task.toMove,
      ...(task.failureReason ? { FailureReason: task.failureReason } : {}),
      StartedTimestamp: task.startedAt,
    };
  }

  const sqsActions: Record<string, (params: Record<string, unknown>) => unknown> = {
    GetQueueAttributes(params) {
      const queue = queueOf(params.QueueUrl);
      const now = Date.now();
      const all: Record<string, string> = {
        QueueArn: queue.arn,
        ApproximateNumberOfMessages: String(visible(queue, now).length),
        ApproximateNumberOfMessagesNotVisible: String(queue.messages.length - visible(queue, now).length),
        ApproximateNumberOfMessagesDelayed: '0',
      };
      const names = (params.AttributeNames as string[] | undefined) ?? [];
      const wanted = names.includes('All') ? Object.keys(all) : names;
      return { Attributes: Object.fromEntries(wanted.filter((n) => n in all).map((n) => [n, all[n]])) };
    },
    SendMessage(params) {
      const queue = queueOf(params.QueueUrl);
      const message = fake.put(queue, String(params.MessageBody), {
        groupId: params.MessageGroupId as string | undefined,
      });
      return { MessageId: message.messageId, MD5OfMessageBody: md5(message.body) };
    },
    ReceiveMessage(params) {
      const queue = queueOf(params.QueueUrl);
      const max = Number(params.MaxNumberOfMessages ?? 1);
      const visibility = Number(params.VisibilityTimeout ?? 30);
      const now = Date.now();
      const taken = visible(queue, now).slice(0, max);
      for (const message of taken) {
        message.receiptHandle = randomUUID();
        message.receiveCount += 1;
        message.visibleAt = now + visibility * 1000;
      }
      return {
        Messages: taken.map((m) => ({
          MessageId: m.messageId,
          ReceiptHandle: m.receiptHandle,
          MD5OfBody: md5(m.body),
          Body: m.body,
          Attributes: {
            ApproximateReceiveCount: String(m.receiveCount),
            SentTimestamp: String(m.sentAt),
            ...(m.groupId ? { MessageGroupId: m.groupId } : {}),
          },
        })),
      };
    },
    DeleteMessage(params) {
      const queue = queueOf(params.QueueUrl);
      const message = findByReceipt(queue, params.ReceiptHandle);
      queue.messages.splice(queue.messages.indexOf(message), 1);
      return {};
    },
    ChangeMessageVisibility(params) {
      const queue = queueOf(params.QueueUrl);
      const message = findByReceipt(queue, params.ReceiptHandle);
      message.visibleAt = Date.now() + Number(params.VisibilityTimeout) * 1000;
      return {};
    },
    StartMessageMoveTask(params) {
      const source = queueOfArn(params.SourceArn);
      if (params.DestinationArn !== undefined) {
        throw new AwsError(
          400,
          'InvalidParameterValue',
          'this fake moves messages back to their source only',
        );
      }
      if (moveTasks.some((t) => t.sourceArn === source.arn && t.status === 'RUNNING')) {
        throw new AwsError(
          400,
          'UnsupportedOperation',
          'There is already a task running. Only one active task is allowed per source queue.',
        );
      }
      const rate = params.MaxNumberOfMessagesPerSecond as number | undefined;
      const task: FakeMoveTask = {
        handle: Buffer.from(JSON.stringify({ taskId: randomUUID(), sourceArn: source.arn })).toString(
          'base64',
        ),
        sourceArn: source.arn,
        rate,
        toMove: visible(source).length,
        moved: 0,
        status: 'RUNNING',
        startedAt: Date.now(),
        failAfter: nextMoveTaskFailure,
      };
      nextMoveTaskFailure = undefined;
      moveTasks.push(task);
      return { TaskHandle: task.handle };
    },
    ListMessageMoveTasks(params) {
      const source = queueOfArn(params.SourceArn);
      const tasks = moveTasks.filter((t) => t.sourceArn === source.arn);
      for (const task of tasks) advance(task);
      const max = Number(params.MaxResults ?? 1);
      return { Results: tasks.slice().reverse().slice(0, max).map(taskView) };
    },
    CancelMessageMoveTask(params) {
      const task = moveTasks.find((t) => t.handle === params.TaskHandle);
      if (!task || task.status !== 'RUNNING') {
        throw new AwsError(400, 'ResourceNotFoundException', 'The task is not running.');
      }
      task.status = 'CANCELLED';
      return { ApproximateNumberOfMessagesMoved: task.moved };
    },
  };

  function takeInjected(action: string): InjectedError | undefined {
    const entry = injected.get(action);
    if (!entry || entry.times <= 0) return undefined;
    entry.times -= 1;
    return entry.error;
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const target = request.headers['x-amz-target'];
    if (typeof target === 'string' && target.startsWith('AmazonSQS.')) {
      const action = target.slice('AmazonSQS.'.length);
      const params = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
      calls.push({ service: 'sqs', action, params });
      const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', ...headers });
        response.end(JSON.stringify(body));
      };
      try {
        const failure = takeInjected(action);
        if (failure) throw new AwsError(failure.status, failure.code, failure.message);
        const run = sqsActions[action];
        if (!run) throw new AwsError(400, 'UnsupportedOperation', `${action} is not implemented by the fake`);
        reply(200, run(params));
      } catch (error) {
        if (!(error instanceof AwsError)) throw error;
        reply(
          error.status,
          { __type: `com.amazonaws.sqs#${error.code}`, message: error.message },
          { 'x-amzn-query-error': `${error.code};Sender` },
        );
      }
      return;
    }
    const invoke = /^\/2015-03-31\/functions\/([^/]+)\/invocations/.exec(request.url ?? '');
    if (invoke && request.method === 'POST') {
      const functionName = decodeURIComponent(invoke[1]);
      const invocationType = String(request.headers['x-amz-invocation-type'] ?? 'RequestResponse');
      calls.push({
        service: 'lambda',
        action: 'Invoke',
        params: { FunctionName: functionName, InvocationType: invocationType },
      });
      const fail = (status: number, code: string, message: string) => {
        response.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': code });
        response.end(JSON.stringify({ Type: 'User', message }));
      };
      const failure = takeInjected('Invoke');
      if (failure) return fail(failure.status, failure.code, failure.message);
      const name = functionName.includes(':function:')
        ? functionName.split(':function:')[1].split(':')[0]
        : functionName;
      if (!functions.has(name))
        return fail(404, 'ResourceNotFoundException', `Function not found: ${functionName}`);
      let payload: unknown;
      try {
        payload = JSON.parse(text);
      } catch {
        return fail(400, 'InvalidRequestContentException', 'Could not parse request body into json');
      }
      invocations.push({ functionName: name, invocationType, payload });
      response.writeHead(invocationType === 'Event' ? 202 : 200, { 'content-type': 'application/json' });
      response.end(invocationType === 'Event' ? '' : 'null');
      return;
    }
    response.writeHead(404);
    response.end();
  }

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ message: String(error) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}
