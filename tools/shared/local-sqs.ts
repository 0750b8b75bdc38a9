/**
 * A small SQS API in this process, for tests of code that sends messages (the http path's ingress): an HTTP server
 * on a loopback port that speaks the AWS JSON 1.0 protocol the SDK v3 SQS client uses (`X-Amz-Target:
 * AmazonSQS.<Operation>`), with `SendMessage`, `ReceiveMessage` and `GetQueueUrl`, keeping the messages in memory
 * where a test reads them. No emulator package of SQS ships in the npm registry mirror this project uses, and
 * mocking the SDK's methods would test the mock: this answers the real client over a real socket.
 *
 * Faults, for the failure tests: a queue can be made to answer 5xx (`unavailable`), to drop the connection before
 * storing the message (`reset`), to store it and then drop the connection (`lost-answer`: the send happened, the
 * sender never learns it), or to answer after a delay (`delay`). Requests are not authenticated (any signature).
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A message as the fake stored it. */
export interface LocalSqsMessage {
  readonly messageId: string;
  readonly body: string;
  /** String attributes by name (`IdempotencyKey` → its value). */
  readonly attributes: Readonly<Record<string, string>>;
  readonly sentAt: number;
}

/** What the next requests of a queue meet. Each fault applies to `times` requests (default: every one). */
export type LocalSqsFault =
  | { readonly kind: 'unavailable'; readonly times?: number }
  | { readonly kind: 'reset'; readonly times?: number }
  | { readonly kind: 'lost-answer'; readonly times?: number }
  | { readonly kind: 'delay'; readonly ms: number; readonly times?: number };

export interface LocalSqs {
  readonly endpoint: string;
  /** Creates a queue and returns its URL (`<endpoint>/123456789012/<name>`). */
  createQueue(name: string): string;
  /** Every message sent to the queue, oldest first (received or not). */
  messages(queueUrl: string): readonly LocalSqsMessage[];
  /** The queue's requests meet `fault` from now on (until cleared); `undefined` clears it. */
  setFault(queueUrl: string, fault: LocalSqsFault | undefined): void;
  /** How many requests reached the server (any operation, any queue), faults included. */
  readonly requestCount: number;
  stop(): Promise<void>;
}

const ACCOUNT = '123456789012';

interface QueueState {
  readonly messages: LocalSqsMessage[];
  /** Index of the next message ReceiveMessage hands out (received messages are not made visible again). */
  received: number;
  fault?: { readonly fault: LocalSqsFault; remaining: number };
}

/** Starts the fake on a free loopback port. */
export async function startLocalSqs(): Promise<LocalSqs> {
  const queues = new Map<string, QueueState>();
  let requestCount = 0;
  let endpoint = '';

  const server: Server = createServer((req, res) => {
    requestCount += 1;
    void readBody(req).then((text) => serve(req, res, text));
  });

  const serve = async (req: IncomingMessage, res: ServerResponse, text: string) => {
    const operation = String(req.headers['x-amz-target'] ?? '').replace(/^AmazonSQS\./, '');
    let input: Record<string, unknown>;
    try {
      input = JSON.parse(text || '{}') as Record<string, unknown>;
    } catch {
      return error(res, 400, 'InvalidParameterValue', 'the request body is not JSON');
    }
    if (operation === 'GetQueueUrl') {
      const url = `${endpoint}/${ACCOUNT}/${String(input.QueueName)}`;
      return queues.has(url)
        ? answer(res, { QueueUrl: url })
        : error(res, 400, 'QueueDoesNotExist', 'The specified queue does not exist.');
    }
    const queueUrl = String(input.QueueUrl ?? '');
    const queue = queues.get(queueUrl);
    if (!queue) return error(res, 400, 'QueueDoesNotExist', 'The specified queue does not exist.');
    const fault = takeFault(queue);
    if (fault?.kind === 'unavailable') {
      return error(res, 500, 'InternalError', 'injected: the queue is unavailable');
    }
    if (fault?.kind === 'reset') return void req.socket.destroy();
    if (fault?.kind === 'delay') await new Promise((resolve) => setTimeout(resolve, fault.ms));
    if (operation === 'SendMessage') {
      const body = String(input.MessageBody ?? '');
      const attributes = Object.fromEntries(
        Object.entries((input.MessageAttributes ?? {}) as Record<string, { StringValue?: string }>).map(
          ([name, value]) => [name, String(value.StringValue ?? '')],
        ),
      );
      const message: LocalSqsMessage = { messageId: randomUUID(), body, attributes, sentAt: Date.now() };
      queue.messages.push(message);
      if (fault?.kind === 'lost-answer') return void req.socket.destroy();
      return answer(res, {
        MessageId: message.messageId,
        MD5OfMessageBody: createHash('md5').update(body).digest('hex'),
      });
    }
    if (operation === 'ReceiveMessage') {
      const max = Number(input.MaxNumberOfMessages ?? 1);
      const batch = queue.messages.slice(queue.received, queue.received + max);
      queue.received += batch.length;
      return answer(res, {
        Messages: batch.map((m) => ({
          MessageId: m.messageId,
          ReceiptHandle: `receipt-${m.messageId}`,
          Body: m.body,
          MD5OfBody: createHash('md5').update(m.body).digest('hex'),
        })),
      });
    }
    return error(res, 400, 'UnsupportedOperation', `${operation} is not implemented by the local SQS`);
  };

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    endpoint,
    createQueue(name) {
      const url = `${endpoint}/${ACCOUNT}/${name}`;
      queues.set(url, { messages: [], received: 0 });
      return url;
    },
    messages: (queueUrl) => [...(queues.get(queueUrl)?.messages ?? [])],
    setFault(queueUrl, fault) {
      const queue = queues.get(queueUrl);
      if (!queue) throw new Error(`no local queue ${queueUrl}`);
      queue.fault = fault && { fault, remaining: fault.times ?? Number.POSITIVE_INFINITY };
    },
    get requestCount() {
      return requestCount;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function takeFault(queue: QueueState): LocalSqsFault | undefined {
  if (!queue.fault || queue.fault.remaining <= 0) return undefined;
  queue.fault.remaining -= 1;
  return queue.fault.fault;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function answer(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.0' });
  res.end(JSON.stringify(body));
}

/** An error in the AWS JSON 1.0 shape the SDK reads (`__type`), with SQS's query-compatible error header. */
function error(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, {
    'Content-Type': 'application/x-amz-json-1.0',
    'x-amzn-query-error': `AWS.SimpleQueueService.${code};${status >= 500 ? 'Receiver' : 'Sender'}`,
  });
  res.end(JSON.stringify({ __type: `com.amazonaws.sqs#${code}`, message }));
}
