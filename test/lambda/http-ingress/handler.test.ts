/**
 * The http path's ingress handler against dynalite (the idempotency store) and the local SQS (the queue), over
 * real sockets: what a caller gets for each request, what is stored with its Idempotency-Key, and what reaches the
 * queue. Each status code of docs/http-path.md is shown here (or in the client's tests for API Gateway's own).
 */
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ACCEPTED_ID_FIELD, RETRY_AFTER_SECONDS, scopedKey } from '../../../lambda/http-ingress/handler';
import { PROBLEM_CONTENT_TYPE } from '../../../lambda/http-ingress/problem';
import { IDEMPOTENCY_KEY_ATTRIBUTE } from '../../../lambda/http-ingress/queue';
import type { Enqueue } from '../../../lambda/http-ingress/queue';
import { domain, examples } from '../../../lambda/sqs-consumer/domain';
import { invalidJsonBody, schemaIssuesOf } from '../../helpers/domain';
import { SIDE_EFFECT_LOG_MESSAGE } from '../../../lambda/shared/side-effect';
import { httpApiEvent, type HttpEventOptions } from '../../../tools/shared/http-events';
import { createLambdaContext } from '../../../tools/shared/lambda-context';
import { type LocalSqs, startLocalSqs } from '../../../tools/shared/local-sqs';
import { unreachableDynamoDbClient, useLocalDynamoDb } from '../../helpers/dynamodb';
import { createEnqueue, ingressHarness, type IngressHarness, localSqsClient } from './harness';

const db = useLocalDynamoDb();
let sqs: LocalSqs;
let queueUrl: string;
let queueCount = 0;

beforeAll(async () => {
  sqs = await startLocalSqs();
});
afterAll(async () => {
  await sqs.stop();
});
beforeEach(() => {
  queueCount += 1;
  queueUrl = sqs.createQueue(`orders-${queueCount}`);
});

function harness(
  options: { enqueue?: Enqueue; client?: Parameters<typeof ingressHarness>[0]['client'] } = {},
) {
  return ingressHarness({
    tableName: db.tableName,
    client: options.client ?? db.dynamo.client,
    enqueue: options.enqueue ?? createEnqueue(localSqsClient(sqs.endpoint), queueUrl),
  });
}

const JSON_HEADERS = { 'Content-Type': 'application/json' };

/** A POST /orders of `body` with `key` (none when undefined); `extra` may change the method, headers, caller. */
function post(h: IngressHarness, body: unknown, key: string | undefined, extra: HttpEventOptions = {}) {
  const headers = { ...JSON_HEADERS, ...(key !== undefined && { 'Idempotency-Key': key }), ...extra.headers };
  return h.handler(
    httpApiEvent({ ...extra, body, headers }),
    createLambdaContext({ functionName: 'http-ingress-test', timeoutMs: 5000 }),
  );
}

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Record<string, unknown>;
}

function read(result: APIGatewayProxyStructuredResultV2): Answer {
  return {
    status: result.statusCode ?? 0,
    headers: (result.headers ?? {}) as Record<string, string>,
    body: JSON.parse(result.body ?? '{}') as Record<string, unknown>,
  };
}

async function records() {
  return db.idempotencyRecords();
}

function expectProblem(answer: Answer, status: number, slug: string): void {
  expect(answer.status).toBe(status);
  expect(answer.headers['Content-Type']).toBe(PROBLEM_CONTENT_TYPE);
  expect(answer.body).toMatchObject({ type: `urn:reliable-lambda:problem:${slug}`, status });
  expect(answer.body.title).toEqual(expect.any(String));
  expect(answer.body.detail).toEqual(expect.any(String));
}

describe('POST /orders', () => {
  it('202: enqueues the order once, answers its id, and stores the answer with the key', async () => {
    const h = harness();
    const order = examples.valid('o-1');
    const answer = read(await post(h, order, 'key-1'));
    expect(answer.status).toBe(202);
    expect(answer.headers['Content-Type']).toBe('application/json');
    expect(answer.headers['Idempotent-Replayed']).toBeUndefined();
    const sent = sqs.messages(queueUrl);
    expect(sent).toHaveLength(1);
    expect(answer.body).toEqual({
      status: 'accepted',
      [ACCEPTED_ID_FIELD]: domain.idempotencyKey(order),
      messageId: sent[0].messageId,
    });
    // The order as validated goes downstream, with the key as a message attribute.
    expect(JSON.parse(sent[0].body)).toEqual(order);
    expect(sent[0].attributes[IDEMPOTENCY_KEY_ATTRIBUTE]).toBe('key-1');
    const stored = await records();
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ status: 'COMPLETED', data: answer.body });
    expect(stored[0].id).toMatch(/^http-ingress\.submitOrder#/);
    expect(h.logs.info.filter(([message]) => message === SIDE_EFFECT_LOG_MESSAGE)).toHaveLength(1);
  });

  it('202 replayed: the same key and body again get the first answer, and nothing more is enqueued', async () => {
    const h = harness();
    const order = examples.valid('o-2');
    const first = read(await post(h, order, 'key-2'));
    // The same JSON with its keys in another order is the same body.
    const reordered = Object.fromEntries(Object.entries(order).reverse());
    const second = read(await post(h, reordered, '"key-2"'));
    expect(second.status).toBe(202);
    expect(second.body).toEqual(first.body);
    expect(second.headers['Idempotent-Replayed']).toBe('true');
    expect(sqs.messages(queueUrl)).toHaveLength(1);
  });

  it('422: the same key with another body is refused and enqueues nothing', async () => {
    const h = harness();
    const order = examples.valid('o-3');
    await post(h, order, 'key-3');
    const answer = read(await post(h, examples.withOtherContent(order), 'key-3'));
    expectProblem(answer, 422, 'idempotency-key-reused');
    expect(answer.body.idempotencyKey).toBe('key-3');
    expect(sqs.messages(queueUrl)).toHaveLength(1);
    // The stored answer is the first request's, untouched.
    expect((await records())[0]).toMatchObject({ status: 'COMPLETED' });
  });

  it('409: a request whose key is still in progress gets Retry-After, and its retry gets the first answer', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const real = createEnqueue(localSqsClient(sqs.endpoint), queueUrl);
    const h = harness({
      enqueue: async (body, key) => {
        await held;
        return real(body, key);
      },
    });
    const order = examples.valid('o-4');
    const first = post(h, order, 'key-4');
    // The first request's claim is written before it enqueues.
    await waitFor(async () => (await records()).some((record) => record.status === 'INPROGRESS'));
    const concurrent = read(await post(h, order, 'key-4'));
    expectProblem(concurrent, 409, 'request-in-progress');
    expect(concurrent.headers['Retry-After']).toBe(String(RETRY_AFTER_SECONDS.inProgress));
    release();
    const answered = read(await first);
    expect(answered.status).toBe(202);
    const retried = read(await post(h, order, 'key-4'));
    expect(retried).toMatchObject({ status: 202, body: answered.body });
    expect(sqs.messages(queueUrl)).toHaveLength(1);
  });

  it('400: a request without Idempotency-Key is refused before anything is stored or enqueued', async () => {
    const h = harness();
    const answer = read(await post(h, examples.valid('o-5'), undefined));
    expectProblem(answer, 400, 'missing-idempotency-key');
    expect(answer.body.detail).toMatch(/requires an Idempotency-Key header/);
    expect(await records()).toEqual([]);
    expect(sqs.messages(queueUrl)).toEqual([]);
  });

  it.each([
    ['an unterminated quoted string', '"abc'],
    ['a list (the header sent twice)', 'a,b'],
    ['a key with a space', 'two words'],
    ['a key too long', 'k'.repeat(256)],
    ['an empty quoted string', '""'],
  ])('400: a malformed Idempotency-Key (%s) is refused', async (_what, key) => {
    const h = harness();
    const answer = read(await post(h, examples.valid('o-6'), key));
    expectProblem(answer, 400, 'invalid-idempotency-key');
    expect(sqs.messages(queueUrl)).toEqual([]);
  });

  it('400: an invalid body lists every issue with a JSON Pointer, and claims nothing (the fixed body may reuse the key)', async () => {
    const h = harness();
    const order = examples.valid('o-7');
    // The domain's invalid examples that are JSON, merged: a body with several issues at once.
    const invalid = examples
      .invalid('o-7')
      .flatMap((example) => {
        try {
          return [JSON.parse(example.body) as Record<string, unknown>];
        } catch {
          return [];
        }
      })
      .reduce((merged, body) => ({ ...merged, ...body }), {});
    const bad = JSON.parse(invalidJsonBody(examples, 'o-7')) as Record<string, unknown>;
    Object.assign(bad, invalid);
    const expected = schemaIssuesOf(domain.schema, JSON.stringify(bad)).map(
      (issue) => `/${issue.slice(0, issue.indexOf(': ')).split('.').join('/')}`,
    );
    expect(expected.length).toBeGreaterThan(0);
    const answer = read(await post(h, bad, 'key-7'));
    expectProblem(answer, 400, 'invalid-body');
    const errors = answer.body.errors as { pointer: string; detail: string }[];
    expect(errors.map((issue) => issue.pointer).sort()).toEqual([...new Set(expected)].sort());
    for (const issue of errors) expect(issue.detail).toEqual(expect.any(String));
    expect(answer.body.detail).toMatch(new RegExp(`${errors.length} issues?`));
    expect(await records()).toEqual([]);
    // Fixed, the same key is accepted.
    expect(read(await post(h, order, 'key-7')).status).toBe(202);
  });

  it('400: a body that is not JSON says so', async () => {
    const answer = read(await post(harness(), 'orderId=o-8', 'key-8'));
    expectProblem(answer, 400, 'invalid-body');
    expect(answer.body.errors).toEqual([
      { pointer: '', detail: expect.stringMatching(/^the body is not JSON/) },
    ]);
  });

  it('415: a body that is not sent as JSON is refused', async () => {
    const answer = read(
      await post(harness(), examples.valid('o-9'), 'key-9', {
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      }),
    );
    expectProblem(answer, 415, 'unsupported-media-type');
  });

  it('405: another method than POST is refused with Allow', async () => {
    const answer = read(await post(harness(), undefined, 'key-10', { method: 'GET' }));
    expectProblem(answer, 405, 'method-not-allowed');
    expect(answer.headers.Allow).toBe('POST');
  });

  it('503: the queue unreachable, the order is not accepted and nothing is stored as done; the retry is accepted', async () => {
    const h = harness();
    const order = examples.valid('o-11');
    sqs.setFault(queueUrl, { kind: 'unavailable' });
    const answer = read(await post(h, order, 'key-11'));
    expectProblem(answer, 503, 'temporarily-unavailable');
    expect(answer.headers['Retry-After']).toBe(String(RETRY_AFTER_SECONDS.unavailable));
    expect(sqs.messages(queueUrl)).toEqual([]);
    // The claim was released: no record at all, so nothing answers a retry as done.
    expect(await records()).toEqual([]);
    sqs.setFault(queueUrl, undefined);
    const retried = read(await post(h, order, 'key-11'));
    expect(retried.status).toBe(202);
    expect(sqs.messages(queueUrl)).toHaveLength(1);
  });

  it('503: a queue that is not listening at all (connection refused) is the same', async () => {
    const h = harness({ enqueue: createEnqueue(localSqsClient('http://127.0.0.1:9'), queueUrl) });
    const answer = read(await post(h, examples.valid('o-12'), 'key-12'));
    expectProblem(answer, 503, 'temporarily-unavailable');
    expect(await records()).toEqual([]);
  });

  it('503: the idempotency store unreachable, nothing is enqueued', async () => {
    const h = harness({ client: unreachableDynamoDbClient() });
    const answer = read(await post(h, examples.valid('o-13'), 'key-13'));
    expectProblem(answer, 503, 'temporarily-unavailable');
    expect(sqs.messages(queueUrl)).toEqual([]);
  });

  it('500: a queue that refuses for good (it does not exist) is an internal error, not a 503 to retry', async () => {
    const h = harness({
      enqueue: createEnqueue(localSqsClient(sqs.endpoint), `${sqs.endpoint}/123456789012/gone`),
    });
    const answer = read(await post(h, examples.valid('o-14'), 'key-14'));
    expectProblem(answer, 500, 'internal-error');
    expect(await records()).toEqual([]);
  });

  it("at least once: SQS stored the message but its answer was lost, so the SDK's retry enqueues it again; the consumer applies it once by orderId", async () => {
    const h = harness();
    sqs.setFault(queueUrl, { kind: 'lost-answer', times: 1 });
    const order = examples.valid('o-15');
    const answer = read(await post(h, order, 'key-15'));
    expect(answer.status).toBe(202);
    const sent = sqs.messages(queueUrl);
    expect(sent).toHaveLength(2);
    expect(sent.map((message) => domain.idempotencyKey(JSON.parse(message.body)))).toEqual([
      domain.idempotencyKey(order),
      domain.idempotencyKey(order),
    ]);
  });

  it('scopes keys to the caller account: the same key from two accounts is two requests', async () => {
    const h = harness();
    await post(h, examples.valid('o-16'), 'shared-key', { accountId: '111111111111' });
    const other = read(await post(h, examples.valid('o-17'), 'shared-key', { accountId: '222222222222' }));
    expect(other.status).toBe(202);
    expect(sqs.messages(queueUrl)).toHaveLength(2);
    expect(scopedKey(httpApiEvent({ accountId: '111111111111' }), 'k')).toBe('111111111111#k');
  });

  it('500 caller-unidentified: a request without the IAM caller identity is refused, never given a shared key space', async () => {
    // API Gateway's IAM authorizer always names the caller's account; without it the route is not the one this
    // template deploys (no authorization, or another integration), and every such caller would share one key space.
    const h = harness();
    const event = httpApiEvent({
      body: examples.valid('o-18'),
      headers: { ...JSON_HEADERS, 'Idempotency-Key': 'key-18' },
    });
    const unidentified = { ...event, requestContext: { ...event.requestContext, authorizer: undefined } };
    const answer = read(
      await h.handler(
        unidentified as unknown as typeof event,
        createLambdaContext({ functionName: 'http-ingress-test', timeoutMs: 5000 }),
      ),
    );
    expectProblem(answer, 500, 'caller-unidentified');
    expect(answer.body.detail).toMatch(/IAM/);
    expect(await records()).toEqual([]);
    expect(sqs.messages(queueUrl)).toEqual([]);
    expect(h.logs.error.map(([message]) => message)).toEqual([
      'request refused: no IAM caller identity (is the route IAM-authorized?)',
    ]);
    expect(() => scopedKey(unidentified as unknown as typeof event, 'k')).toThrow(/no IAM caller identity/);
  });

  it("202 answered from the store when another request completed the key meanwhile: the stored answer's messageId, not this request's", async () => {
    // The first request's claim times out while it still runs (its in-progress expiry passed by the clock of the
    // host that reads it), a second request takes the key over, enqueues and completes it; then the first one
    // enqueues too (the documented at-least-once window) and finds the key completed. Its answer must be the stored
    // one: the messageId a retry gets, and the message the second request's caller was told about.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const real = createEnqueue(localSqsClient(sqs.endpoint), queueUrl);
    let holdNextSend = true;
    const h = harness({
      enqueue: async (body, key) => {
        if (holdNextSend) {
          holdNextSend = false;
          await held;
        }
        return real(body, key);
      },
    });
    const order = examples.valid('o-19');
    const late = post(h, order, 'key-19');
    await waitFor(async () => (await records()).some((record) => record.status === 'INPROGRESS'));
    await expireClaims();
    const taken = read(await post(h, order, 'key-19'));
    expect(taken.status).toBe(202);
    release();
    const answer = read(await late);
    expect(answer.status).toBe(202);
    expect(answer.body).toEqual(taken.body);
    expect(answer.headers['Idempotent-Replayed']).toBe('true');
    const sent = sqs.messages(queueUrl);
    expect(sent).toHaveLength(2);
    expect(answer.body.messageId).toBe(sent[0].messageId);
    expect(await records()).toEqual([expect.objectContaining({ status: 'COMPLETED', data: taken.body })]);
    // A retry gets the same answer again.
    expect(read(await post(h, order, 'key-19')).body).toEqual(taken.body);
  });
});

/** Every claim of the test's table times out now: the next request with its key may take it over. */
async function expireClaims(): Promise<void> {
  for (const record of await records()) {
    if (record.status !== 'INPROGRESS') continue;
    await db.dynamo.client.send(
      new UpdateItemCommand({
        TableName: db.tableName,
        Key: { id: { S: String(record.id) } },
        UpdateExpression: 'SET in_progress_expiration = :past',
        ExpressionAttributeValues: { ':past': { N: String(Date.now() - 1000) } },
      }),
    );
  }
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
