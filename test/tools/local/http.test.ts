/**
 * The synchronous invocation model (tools/local/engine/http.ts): API Gateway's stage token bucket, Lambda's
 * concurrency for a synchronous Invoke, and the project's client (tools/http-client) run on the virtual clock
 * against it: 429 with and without Retry-After, a lost answer (the classic duplicate), a queue outage (503).
 * Every time here is virtual: the assertions are on the simulation's clock, never on the machine's.
 */
import type { RequestSigner, SubmitResult } from '../../../tools/http-client/client';
import type { HttpApiConfig } from '../../../tools/local/engine/config';
import {
  HttpApiGateway,
  HttpClients,
  NETWORK_MS,
  SynchronousInvoker,
  TokenBucket,
  type HttpSubmission,
} from '../../../tools/local/engine/http';
import type { FunctionCode, FunctionInvocation } from '../../../tools/local/engine/lambda';
import { Random } from '../../../tools/local/engine/random';
import { Scheduler } from '../../../tools/local/engine/scheduler';
import { FaultPlan } from '../../../tools/local/faults';
import {
  httpModelFunction,
  MODEL_RETRY_AFTER_SECONDS,
  type EnqueueRecord,
  type PlannedHttpSubmission,
} from '../../../tools/local/http-path';
import { HTTP_INVARIANT_NAMES, httpInvariants } from '../../../tools/local/http-report';
import { examples, domain } from '../../../lambda/sqs-consumer/domain';
import { functionConfig } from './config-fixtures';

/** Every invocation lasts 40 ms (no jitter), so the times below are exact. */
const FIXED_DURATION = { baseMs: 40, perRecordMs: 0, jitter: 0 };

interface Harness {
  readonly scheduler: Scheduler;
  readonly invoker: SynchronousInvoker;
  readonly gateway: HttpApiGateway;
  readonly clients: HttpClients;
  readonly enqueues: EnqueueRecord[];
  /** The Idempotency-Key header of every request that reached the function. */
  readonly keysSeen: string[];
}

function harness(
  options: {
    readonly api?: Partial<HttpApiConfig>;
    readonly reservedConcurrency?: number;
    /** The function's code; default the in-engine model of the ingress handler. */
    readonly code?: (enqueues: EnqueueRecord[]) => FunctionCode;
    readonly queueDown?: (at: number) => boolean;
    /** Submissions whose function dies after its first send, before completing the key (the model's). */
    readonly diesAfterSend?: ReadonlySet<string>;
    readonly sign?: RequestSigner;
  } = {},
): Harness {
  const scheduler = new Scheduler();
  const random = new Random('http-engine-test');
  const enqueues: EnqueueRecord[] = [];
  const keysSeen: string[] = [];
  const code =
    options.code?.(enqueues) ??
    httpModelFunction({
      faults: new FaultPlan(),
      queueDown: options.queueDown ?? (() => false),
      onEnqueue: (record) => enqueues.push(record),
      ...(options.diesAfterSend && { diesAfterSend: options.diesAfterSend }),
    });
  const spy: FunctionCode = {
    invoke: (invocation: FunctionInvocation) => {
      keysSeen.push((invocation.event as { headers: Record<string, string> }).headers['idempotency-key']);
      return code.invoke(invocation);
    },
  };
  const fn = functionConfig('ingress', {
    timeoutSeconds: 3,
    ...(options.reservedConcurrency !== undefined && { reservedConcurrency: options.reservedConcurrency }),
  });
  const invoker = new SynchronousInvoker(scheduler, random.fork('lambda'), fn, spy, {
    epochMs: 0,
    duration: FIXED_DURATION,
  });
  const api: HttpApiConfig = {
    id: 'OrdersApi',
    apiName: 'orders',
    stageName: '$default',
    rateLimit: 10,
    burstLimit: 20,
    routes: [{ routeKey: 'POST /orders', functionId: fn.id }],
    ...options.api,
  };
  const gateway = new HttpApiGateway(api, 'POST /orders', invoker, scheduler, random.fork('gateway'), 0);
  const clients = new HttpClients(scheduler, random.fork('clients'), gateway, {
    url: 'https://ordersapi.execute-api.us-east-1.amazonaws.com/orders',
    ...(options.sign && { sign: options.sign }),
  });
  return { scheduler, invoker, gateway, clients, enqueues, keysSeen };
}

function submission(number: number, overrides: Partial<HttpSubmission> = {}): PlannedHttpSubmission {
  const id = `http-${String(number).padStart(6, '0')}`;
  const order = examples.valid(id);
  return {
    id,
    at: 0,
    idempotencyKey: `key-${number}`,
    body: JSON.stringify(order),
    businessKey: domain.idempotencyKey(order),
    lostAnswers: 0,
    ...overrides,
  };
}

function resultOf(h: Harness, index = 0): SubmitResult {
  const result = h.clients.outcomes[index].result;
  if (!result) throw new Error(`client ${index} has no result`);
  return result;
}

describe('TokenBucket (API Gateway stage throttle)', () => {
  it('admits the burst at once, then one request per 1/rate seconds', () => {
    const bucket = new TokenBucket(10, 20);
    const admitted = Array.from({ length: 25 }, () => bucket.tryTake(0)).filter(Boolean).length;
    expect(admitted).toBe(20);
    // 10 per second: one token every 100 ms, none before.
    expect(bucket.tryTake(99)).toBe(false);
    expect(bucket.tryTake(100)).toBe(true);
    expect(bucket.tryTake(150)).toBe(false);
    expect(bucket.tryTake(350)).toBe(true);
    expect(bucket.tryTake(350)).toBe(true);
    expect(bucket.tryTake(350)).toBe(false);
  });

  it('refills no further than the burst, however long the stage was idle', () => {
    const bucket = new TokenBucket(10, 20);
    bucket.tryTake(0);
    expect(bucket.available(60_000)).toBe(20);
    const admitted = Array.from({ length: 30 }, () => bucket.tryTake(60_000)).filter(Boolean).length;
    expect(admitted).toBe(20);
  });

  it('answers 429 before the function runs when the bucket is empty', async () => {
    const h = harness({ api: { rateLimit: 1, burstLimit: 2 } });
    const answers: number[] = [];
    h.scheduler.at(0, async () => {
      for (let i = 0; i < 3; i += 1) {
        const answer = await h.gateway.handle({
          submissionId: `s${i}`,
          headers: { 'idempotency-key': `"k${i}"`, 'content-type': 'application/json' },
          body: submission(i + 1).body,
        });
        answers.push(answer.status);
      }
    });
    await h.scheduler.run();
    expect(answers).toEqual([202, 202, 429]);
    expect(h.invoker.invocations).toHaveLength(2);
    expect(h.gateway.stageThrottles).toBe(1);
  });
});

describe("SynchronousInvoker (the function's concurrency)", () => {
  it('throttles an invocation beyond the reserved concurrency, which API Gateway answers 500', async () => {
    const h = harness({ reservedConcurrency: 2, api: { rateLimit: 100, burstLimit: 100 } });
    const answers: { status: number; by: string }[] = [];
    const send = (i: number) => async () => {
      const answer = await h.gateway.handle({
        submissionId: `s${i}`,
        headers: { 'idempotency-key': `"k${i}"`, 'content-type': 'application/json' },
        body: submission(i + 1).body,
      });
      answers.push({ status: answer.status, by: answer.answeredBy });
    };
    for (const i of [0, 1, 2]) h.scheduler.at(0, send(i));
    // The first two end at 40 ms and give their concurrency back; a request just after gets one.
    h.scheduler.at(41, send(3));
    await h.scheduler.run();
    expect(answers).toEqual([
      { status: 202, by: 'function' },
      { status: 202, by: 'function' },
      { status: 500, by: 'lambda-throttle' },
      { status: 202, by: 'function' },
    ]);
    expect(h.invoker.throttles).toBe(1);
  });
});

describe('clients on the virtual clock (tools/http-client submit)', () => {
  it('backs off after the stage throttle and retries with the same key until accepted', async () => {
    const h = harness({ api: { rateLimit: 1, burstLimit: 1 } });
    h.clients.start(submission(1));
    h.clients.start(submission(2));
    await h.scheduler.run();
    const second = resultOf(h, 1);
    expect(second.ok).toBe(true);
    expect(second.attempts[0]).toMatchObject({ status: 429, outcome: 'retry' });
    expect(second.attempts.at(-1)).toMatchObject({ status: 202, outcome: 'accepted' });
    // Only the requests the stage admitted reached the function, each with its client's own key.
    expect(h.keysSeen).toEqual(['"key-1"', '"key-2"']);
    expect(h.enqueues.map((e) => e.idempotencyKey)).toEqual(['key-1', 'key-2']);
  });

  it("waits the server's Retry-After when it is longer than the backoff", async () => {
    let calls = 0;
    const h = harness({
      code: (enqueues) => {
        const model = httpModelFunction({
          faults: new FaultPlan(),
          queueDown: () => false,
          onEnqueue: (record) => enqueues.push(record),
        });
        return {
          invoke: async (invocation) => {
            calls += 1;
            if (calls > 1) return model.invoke(invocation);
            const payload = { statusCode: 429, headers: { 'Retry-After': '3' }, body: '{}' };
            return { outcome: { kind: 'returned', payload }, sideEffects: [] };
          },
        };
      },
    });
    h.clients.start(submission(1));
    await h.scheduler.run();
    const [first, second] = resultOf(h).attempts;
    expect(first).toMatchObject({ status: 429, retryAfterMs: 3000, outcome: 'retry' });
    expect(first.waitMs).toBeGreaterThanOrEqual(3000);
    expect(second.startedAtMs).toBe(first.startedAtMs + first.durationMs + first.waitMs!);
    expect(second).toMatchObject({ status: 202, outcome: 'accepted' });
  });

  it('a lost answer (the function finished, the client timed out): the retry gets the stored 202, one enqueue', async () => {
    const h = harness();
    h.clients.start(submission(1, { lostAnswers: 1 }));
    await h.scheduler.run();
    const result = resultOf(h);
    expect(result.attempts.map((a) => a.status ?? a.error)).toEqual(['timeout', 202]);
    // The client gave the first attempt its whole timeout (5 s by default).
    expect(result.attempts[0].durationMs).toBe(5000);
    expect(result.attempts[1].replayed).toBe(true);
    expect(h.invoker.invocations).toHaveLength(2);
    expect(h.enqueues).toHaveLength(1);
    expect(h.clients.outcomes[0].answersLost).toBe(1);
  });

  it("the function dies after its send, before completing the key: API Gateway's 500, 409s until the claim expires, then a second enqueue and one 202", async () => {
    const h = harness({ diesAfterSend: new Set(['http-000001']) });
    h.clients.start(submission(1));
    await h.scheduler.run();
    const result = resultOf(h);
    const statuses = result.attempts.map((a) => a.status ?? a.error);
    expect(statuses[0]).toBe(500);
    expect(statuses.at(-1)).toBe(202);
    const middle = statuses.slice(1, -1);
    expect(middle.length).toBeGreaterThan(0);
    expect(middle.every((s) => s === 409)).toBe(true);
    expect(result.attempts[1].retryAfterMs).toBe(MODEL_RETRY_AFTER_SECONDS.inProgress * 1000);
    // The 202 is a fresh run, not a replay: the died invocation stored nothing as done.
    expect(result.attempts.at(-1)!.replayed).toBeUndefined();
    expect(result.ok).toBe(true);
    // The claim stays in progress for the function's timeout (3 s) from the died invocation's start.
    const [died, ...rest] = h.invoker.invocations;
    expect(died.outcome).toBe('threw');
    expect(rest.filter((i) => i.status === 409).every((i) => i.startedAt < died.startedAt + 3000)).toBe(true);
    expect(rest.at(-1)!.startedAt).toBeGreaterThanOrEqual(died.startedAt + 3000);
    expect(h.enqueues.map((e) => e.diedBeforeCompletion ?? false)).toEqual([true, false]);
  });

  it('the queue unavailable: 503 with Retry-After, nothing kept as done, then accepted once', async () => {
    const h = harness({ queueDown: (at) => at < 1000 });
    h.clients.start(submission(1));
    await h.scheduler.run();
    const [first, second] = resultOf(h).attempts;
    expect(first).toMatchObject({ status: 503, retryAfterMs: MODEL_RETRY_AFTER_SECONDS.unavailable * 1000 });
    expect(second).toMatchObject({ status: 202, outcome: 'accepted' });
    // Not a replay: the 503 stored nothing under the key.
    expect(second.replayed).toBeUndefined();
    expect(h.enqueues).toHaveLength(1);
    expect(second.startedAtMs).toBeGreaterThanOrEqual(2000 + NETWORK_MS);
  });
});

describe('the http invariants', () => {
  /** One order, its first answer lost, sent by `sign`'s client; the invariants over what happened. */
  async function lostAnswerRun(sign?: RequestSigner) {
    return invariantsOfRun(harness({ ...(sign && { sign }) }), [submission(1, { lostAnswers: 1 })]);
  }

  /** Runs the submissions through the harness; the invariants over what happened. */
  async function invariantsOfRun(h: Harness, submissions: readonly PlannedHttpSubmission[]) {
    for (const s of submissions) h.clients.start(s);
    await h.scheduler.run();
    return httpInvariants({
      submissions,
      outcomes: h.clients.outcomes,
      enqueues: h.enqueues,
      finishedOnServer: new Set(
        h.invoker.invocations.filter((i) => i.status === 202).map((i) => i.submissionId),
      ),
      deadlineMs: 30_000,
    });
  }
  const holds = (invariants: { name: string; holds: boolean }[]) =>
    Object.fromEntries(invariants.map((i) => [i.name, i.holds]));

  it('hold for the client that keeps its key across retries', async () => {
    expect(holds(await lostAnswerRun())).toEqual({
      [HTTP_INVARIANT_NAMES.againOnlyAfterDeath]: true,
      [HTTP_INVARIANT_NAMES.oneEffect]: true,
      [HTTP_INVARIANT_NAMES.inTime]: true,
    });
  });

  it('catch a client that changes its key per retry: the lost answer becomes a second order', async () => {
    let attempt = 0;
    const newKeyPerAttempt: RequestSigner = async () => ({
      'idempotency-key': `"changed-${(attempt += 1)}"`,
    });
    const invariants = await lostAnswerRun(newKeyPerAttempt);
    expect(holds(invariants)).toEqual({
      [HTTP_INVARIANT_NAMES.oneEffect]: true,
      [HTTP_INVARIANT_NAMES.againOnlyAfterDeath]: false,
      [HTTP_INVARIANT_NAMES.inTime]: true,
    });
    expect(invariants.find((i) => i.name === HTTP_INVARIANT_NAMES.againOnlyAfterDeath)?.examples).toEqual([
      'http-000001 enqueued 2×, 1 not after a death',
    ]);
  });

  it('hold for an order enqueued twice because its function died between send and completion', async () => {
    const h = harness({ diesAfterSend: new Set(['http-000001']) });
    const invariants = await invariantsOfRun(h, [submission(1), submission(2)]);
    expect(h.enqueues.filter((e) => e.businessKey === submission(1).businessKey)).toHaveLength(2);
    expect(resultOf(h).attempts.filter((a) => a.status === 202)).toHaveLength(1);
    expect(holds(invariants)).toEqual({
      [HTTP_INVARIANT_NAMES.oneEffect]: true,
      [HTTP_INVARIANT_NAMES.againOnlyAfterDeath]: true,
      [HTTP_INVARIANT_NAMES.inTime]: true,
    });
    expect(invariants.find((i) => i.name === HTTP_INVARIANT_NAMES.againOnlyAfterDeath)?.detail).toBe(
      `2 ${domain.recordName}s: 1 enqueued more than once, 0 of them without a death between send and completion`,
    );
  });

  it('catch a second enqueue that no death explains: the same run with the death left out of the record', async () => {
    const h = harness({ diesAfterSend: new Set(['http-000001']) });
    await invariantsOfRun(h, [submission(1)]);
    const s = submission(1);
    const invariants = httpInvariants({
      submissions: [s],
      outcomes: h.clients.outcomes,
      enqueues: h.enqueues.map(({ at, businessKey, idempotencyKey }) => ({
        at,
        businessKey,
        idempotencyKey,
      })),
      finishedOnServer: new Set([s.id]),
      deadlineMs: 30_000,
    });
    expect(holds(invariants)[HTTP_INVARIANT_NAMES.againOnlyAfterDeath]).toBe(false);
  });

  it('catch, from a run, a function that answers 202 without enqueuing (a send whose failure it swallowed)', async () => {
    const answersWithoutSending = (): FunctionCode => ({
      invoke: async () => ({
        outcome: {
          kind: 'returned',
          payload: {
            statusCode: 202,
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ status: 'accepted' }),
          },
        },
        sideEffects: [],
      }),
    });
    const invariants = await invariantsOfRun(harness({ code: answersWithoutSending }), [
      submission(1),
      submission(2),
    ]);
    expect(holds(invariants)).toEqual({
      [HTTP_INVARIANT_NAMES.againOnlyAfterDeath]: true,
      [HTTP_INVARIANT_NAMES.oneEffect]: false,
      [HTTP_INVARIANT_NAMES.inTime]: true,
    });
    expect(invariants.find((i) => i.name === HTTP_INVARIANT_NAMES.oneEffect)?.examples).toEqual([
      expect.stringContaining('http-000001'),
      expect.stringContaining('http-000002'),
    ]);
  });

  it('catch an accepted order that was never enqueued, and a client that gave up', () => {
    const s = submission(1);
    const invariants = httpInvariants({
      submissions: [s],
      outcomes: [
        {
          submission: s,
          answersLost: 0,
          result: {
            ok: false,
            idempotencyKey: s.idempotencyKey,
            reason: '429 Too Many Requests; no attempts left (8)',
            attempts: [],
          },
        },
      ],
      enqueues: [],
      finishedOnServer: new Set([s.id]),
      deadlineMs: 30_000,
    });
    expect(holds(invariants)).toEqual({
      [HTTP_INVARIANT_NAMES.againOnlyAfterDeath]: true,
      [HTTP_INVARIANT_NAMES.oneEffect]: false,
      [HTTP_INVARIANT_NAMES.inTime]: false,
    });
  });
});
