/**
 * The classic duplicate, end to end over real sockets: the client (tools/http-client/) → a local stand-in for API
 * Gateway (tools/shared/local-api.ts) → the http path's real handler → dynalite (the idempotency store) and the
 * local SQS. The server accepts and enqueues the order, but its answer is lost (the client's attempt times out, or
 * the connection drops); the client retries with the same Idempotency-Key and body, and exactly one message is
 * enqueued.
 */
import { ACCEPTED_ID_FIELD } from '../../../lambda/http-ingress/handler';
import { domain, examples } from '../../../lambda/sqs-consumer/domain';
import { submit } from '../../../tools/http-client/client';
import { type LocalApi, startLocalApi } from '../../../tools/shared/local-api';
import { type LocalSqs, startLocalSqs } from '../../../tools/shared/local-sqs';
import { useLocalDynamoDb } from '../../helpers/dynamodb';
import { createEnqueue, ingressHarness, localSqsClient } from '../../lambda/http-ingress/harness';

const db = useLocalDynamoDb();
let sqs: LocalSqs;
let queueUrl: string;
let api: LocalApi | undefined;
let queues = 0;

beforeAll(async () => {
  sqs = await startLocalSqs();
});
afterAll(async () => {
  await sqs.stop();
});
beforeEach(() => {
  queues += 1;
  queueUrl = sqs.createQueue(`classic-${queues}`);
});
afterEach(async () => {
  await api?.stop();
  api = undefined;
});

function handler() {
  return ingressHarness({
    tableName: db.tableName,
    client: db.dynamo.client,
    enqueue: createEnqueue(localSqsClient(sqs.endpoint), queueUrl),
  }).handler;
}

const FAST_RETRIES = { baseDelayMs: 50, maxDelayMs: 200, deadlineMs: 10_000 };

describe('the classic duplicate', () => {
  it('the answer is late (the client timed out after the server finished): the retry gets the stored 202, one message', async () => {
    api = await startLocalApi(handler(), {
      functionTimeoutMs: 5000,
      beforeAnswer: (request) => (request === 1 ? 1500 : undefined),
    });
    const order = examples.valid('classic-1');
    const result = await submit(order, {
      url: `${api.endpoint}/orders`,
      policy: { ...FAST_RETRIES, attemptTimeoutMs: 500 },
    });
    expect(result.ok).toBe(true);
    expect(result.attempts[0]).toMatchObject({ error: 'timeout', outcome: 'retry' });
    expect(result.attempts.at(-1)).toMatchObject({ status: 202, replayed: true });
    const messages = sqs.messages(queueUrl);
    expect(messages).toHaveLength(1);
    expect(result.body).toEqual({
      status: 'accepted',
      [ACCEPTED_ID_FIELD]: domain.idempotencyKey(examples.valid('classic-1')),
      messageId: messages[0].messageId,
    });
    expect(api.invocations).toBe(result.attempts.length);
  });

  it('the connection drops after the server finished: the retry gets the stored 202, one message', async () => {
    api = await startLocalApi(handler(), {
      functionTimeoutMs: 5000,
      beforeAnswer: (request) => (request === 1 ? 'drop' : undefined),
    });
    const result = await submit(examples.valid('classic-2'), {
      url: `${api.endpoint}/orders`,
      policy: FAST_RETRIES,
    });
    expect(result.ok).toBe(true);
    expect(result.attempts.map((a) => a.status ?? 'no answer')).toEqual(['no answer', 202]);
    expect(result.attempts[1].replayed).toBe(true);
    expect(sqs.messages(queueUrl)).toHaveLength(1);
  });

  it('the first request is still running when the retry arrives: 409, then the stored 202, one message', async () => {
    // The first SendMessage takes 400 ms (within the function's SQS request timeout, 500 ms here); the client gives
    // up on its attempt after 150 ms, while the function is still enqueuing.
    sqs.setFault(queueUrl, { kind: 'delay', ms: 400, times: 1 });
    api = await startLocalApi(handler(), { functionTimeoutMs: 5000 });
    const result = await submit(examples.valid('classic-3'), {
      url: `${api.endpoint}/orders`,
      policy: { ...FAST_RETRIES, attemptTimeoutMs: 150 },
    });
    expect(result.ok).toBe(true);
    const statuses = result.attempts.map((a) => a.status ?? a.error);
    expect(statuses[0]).toBe('timeout');
    expect(statuses).toContain(409);
    expect(statuses.at(-1)).toBe(202);
    expect(result.attempts.find((a) => a.status === 409)?.retryAfterMs).toBe(1000);
    expect(sqs.messages(queueUrl)).toHaveLength(1);
  });

  it('without the key the same loss would enqueue twice: a new key per attempt is a new order submission', async () => {
    api = await startLocalApi(handler(), {
      functionTimeoutMs: 5000,
      beforeAnswer: (request) => (request === 1 ? 'drop' : undefined),
    });
    const order = examples.valid('classic-4');
    await submit(order, {
      url: `${api.endpoint}/orders`,
      idempotencyKey: 'first',
      policy: { maxAttempts: 1 },
    });
    await submit(order, {
      url: `${api.endpoint}/orders`,
      idempotencyKey: 'second',
      policy: { maxAttempts: 1 },
    });
    // Two messages of one order: the SQS consumer still applies it once, by orderId (its own idempotency key).
    const key = domain.idempotencyKey(examples.valid('classic-4'));
    expect(sqs.messages(queueUrl).map((m) => domain.idempotencyKey(JSON.parse(m.body)))).toEqual([key, key]);
  });
});
