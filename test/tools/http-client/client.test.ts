/**
 * The retrying client against a real HTTP server on the loopback interface that injects 429 with Retry-After,
 * 503, 409, slow answers, resets and refusals. Waits between attempts run on a test clock (recorded, not slept),
 * so the backoff and Retry-After arithmetic are asserted exactly; each attempt's own timeout is real.
 */
import { type ClientClock, submit, type SubmitOptions } from '../../../tools/http-client/client';
import {
  backoffDelayMs,
  DEFAULT_RETRY_POLICY,
  isRetryableAnswer,
  retryAfterMs,
  waitBeforeRetryMs,
} from '../../../tools/http-client/retry-policy';
import * as z from 'zod/mini';
import { domain, examples } from '../../../lambda/sqs-consumer/domain';
import { formatAttempt, parseSendArguments, recordsToSend } from '../../../tools/send';
import { type ScriptedServer, scriptedServer, type Step } from './scripted-server';

/** Real time plus the waits the client asked for (which return at once); `random` fixed at 0.5. */
function testClock(): ClientClock & { readonly waits: number[] } {
  const waits: number[] = [];
  let slept = 0;
  return {
    waits,
    now: () => Date.now() + slept,
    sleep: async (ms) => {
      waits.push(ms);
      slept += ms;
    },
    random: () => 0.5,
  };
}

const ORDER = {
  orderId: 'o-1',
  customerId: 'c-1',
  currency: 'EUR',
  lines: [{ sku: 's', quantity: 1, unitPriceCents: 100 }],
};
const ACCEPTED: Step = { status: 202, body: { status: 'accepted', orderId: 'o-1', messageId: 'm-1' } };
const problem = (status: number, title: string): Step => ({
  status,
  headers: { 'content-type': 'application/problem+json' },
  body: { type: `urn:test:${status}`, title, status, detail: 'd' },
});

let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function run(steps: readonly Step[], options: Partial<SubmitOptions> = {}) {
  server = await scriptedServer(steps);
  const clock = testClock();
  const result = await submit(ORDER, { url: server.url, clock, ...options });
  const keys = server.seen.map((request) => request.headers['idempotency-key']);
  return { result, clock, keys, seen: server.seen };
}

describe('the client retries what is retryable', () => {
  it('429 with Retry-After: waits at least what the server asked, then succeeds with the same key and body', async () => {
    const { result, clock, keys, seen } = await run([
      { status: 429, headers: { 'retry-after': '3' }, body: { message: 'Too Many Requests' } },
      ACCEPTED,
    ]);
    expect(result).toMatchObject({ ok: true, status: 202, body: ACCEPTED.status === 202 && ACCEPTED.body });
    expect(result.attempts.map((a) => [a.status, a.outcome])).toEqual([
      [429, 'retry'],
      [202, 'accepted'],
    ]);
    expect(result.attempts[0].retryAfterMs).toBe(3000);
    expect(clock.waits).toEqual([3000]);
    expect(new Set(keys)).toEqual(new Set([`"${result.idempotencyKey}"`]));
    expect(seen[0].body).toBe(seen[1].body);
    expect(JSON.parse(seen[0].body)).toEqual(ORDER);
  });

  it('503, 502, 504 and 409: capped exponential backoff with full jitter (random 0.5: half of 200, 400, 800 ms...)', async () => {
    const { result, clock } = await run([
      problem(503, 'unavailable'),
      { status: 502, body: { message: 'Internal Server Error' } },
      { status: 504, body: { message: 'Gateway Timeout' } },
      problem(409, 'in progress'),
      ACCEPTED,
    ]);
    expect(result.ok).toBe(true);
    expect(result.attempts.map((a) => a.status)).toEqual([503, 502, 504, 409, 202]);
    expect(clock.waits).toEqual([100, 200, 400, 800]);
  });

  it('a 409 with Retry-After waits for the first request to finish, then gets its answer (replayed)', async () => {
    const { result, clock } = await run([
      {
        ...problem(409, 'A request with this Idempotency-Key is still in progress'),
        headers: { 'retry-after': '1' },
      } as Step,
      { status: 202, headers: { 'idempotent-replayed': 'true' }, body: { status: 'accepted' } },
    ]);
    expect(result.ok).toBe(true);
    expect(result.attempts[1]).toMatchObject({ replayed: true, outcome: 'accepted' });
    expect(clock.waits).toEqual([1000]);
  });

  it('a slow answer: the attempt times out, the retry carries the same key and is answered', async () => {
    const { result, keys } = await run([{ ...ACCEPTED, delayMs: 2000 } as Step, ACCEPTED], {
      policy: { attemptTimeoutMs: 300 },
    });
    expect(result.ok).toBe(true);
    expect(result.attempts[0]).toMatchObject({ error: 'timeout', outcome: 'retry' });
    expect(result.attempts[0].durationMs).toBeLessThan(1500);
    expect(keys[0]).toBe(keys[1]);
  });

  it('a reset connection is retried', async () => {
    const { result } = await run([{ reset: true }, { reset: true }, ACCEPTED]);
    expect(result.ok).toBe(true);
    expect(result.attempts.map((a) => a.error ?? a.status)).toEqual([
      expect.stringMatching(/ECONNRESET|UND_ERR_SOCKET/),
      expect.stringMatching(/ECONNRESET|UND_ERR_SOCKET/),
      202,
    ]);
  });

  it('a refused connection (nothing listening) is retried until the attempts run out', async () => {
    // A port that was free a moment ago (fetch refuses well-known ports such as 9 itself, before connecting).
    const closed = await scriptedServer([ACCEPTED]);
    await closed.stop();
    const clock = testClock();
    const result = await submit(ORDER, {
      url: closed.url,
      clock,
      policy: { maxAttempts: 3 },
    });
    expect(result.ok).toBe(false);
    expect(result.attempts.map((a) => [a.error, a.outcome])).toEqual([
      ['ECONNREFUSED', 'retry'],
      ['ECONNREFUSED', 'retry'],
      ['ECONNREFUSED', 'gave-up'],
    ]);
    expect(result.reason).toMatch(/no attempts left \(3\)/);
  });
});

describe("API Gateway's own 500", () => {
  it('(no problem document: the function crashed, timed out or was throttled) is retried with the same key', async () => {
    const gatewayError: Step = { status: 500, body: { message: 'Internal Server Error' } };
    const { result, keys } = await run([gatewayError, ACCEPTED]);
    expect(result.ok).toBe(true);
    expect(result.attempts.map((a) => a.outcome)).toEqual(['retry', 'accepted']);
    expect(keys[0]).toBe(keys[1]);
  });
});

describe('the client never retries what a retry cannot fix', () => {
  it.each([400, 401, 403, 404, 413, 415, 422, 500])('%i: one attempt, refused', async (status) => {
    const { result, seen } = await run([problem(status, 'nope'), ACCEPTED]);
    expect(seen).toHaveLength(1);
    expect(result).toMatchObject({ ok: false, status, body: { title: 'nope' } });
    expect(result.attempts).toEqual([
      expect.objectContaining({ outcome: 'refused', reason: expect.stringMatching(/not retryable: nope/) }),
    ]);
  });
});

describe('the client stops', () => {
  it('at the total deadline: no wait crosses it', async () => {
    const { result, clock } = await run([problem(503, 'unavailable')], {
      policy: { deadlineMs: 1000, maxAttempts: 50 },
    });
    expect(result.ok).toBe(false);
    expect(result.attempts.at(-1)).toMatchObject({
      outcome: 'gave-up',
      reason: expect.stringMatching(/after the deadline \(1000 ms\)/),
    });
    expect(clock.waits.reduce((sum, wait) => sum + wait, 0)).toBeLessThan(1000);
    expect(result.attempts.length).toBeGreaterThan(2);
  });

  it("when the server's Retry-After is longer than it will wait", async () => {
    const { result, seen } = await run([{ status: 429, headers: { 'retry-after': '120' } }], {
      policy: { maxRetryAfterMs: 60_000, deadlineMs: 600_000 },
    });
    expect(seen).toHaveLength(1);
    expect(result.attempts[0]).toMatchObject({
      outcome: 'gave-up',
      reason: expect.stringMatching(/asks to wait 120000 ms/),
    });
  });

  it('when a Retry-After would end past the deadline', async () => {
    const { result, seen } = await run([{ status: 503, headers: { 'retry-after': '10' } }], {
      policy: { deadlineMs: 5000 },
    });
    expect(seen).toHaveLength(1);
    expect(result.attempts[0].outcome).toBe('gave-up');
  });

  it('reports every attempt as it ends, in order', async () => {
    const reports: string[] = [];
    await run([problem(503, 'unavailable'), ACCEPTED], {
      onAttempt: (report) => reports.push(formatAttempt('o-1', report)),
    });
    // Named as the domain names its record (a fork's `payment`, the sample's `order`).
    const name = domain.recordName;
    expect(reports).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${name} o-1 attempt 1 \\+0\\.\\d\\ds 503 \\(\\d+ ms\\): 503 unavailable; retrying in 100 ms$`,
        ),
      ),
      expect.stringMatching(new RegExp(`^${name} o-1 attempt 2 \\+0\\.\\d\\ds 202 \\(\\d+ ms\\): accepted$`)),
    ]);
  });
});

describe('retry policy', () => {
  it("retries 409, 429, 502, 503, 504, and a 500 only when it is not the API's own problem document", () => {
    const statuses = [200, 202, 400, 401, 403, 409, 422, 429, 500, 502, 503, 504];
    expect(statuses.filter((status) => isRetryableAnswer(status, 'application/problem+json'))).toEqual([
      409, 429, 502, 503, 504,
    ]);
    expect(statuses.filter((status) => isRetryableAnswer(status, 'application/json'))).toEqual([
      409, 429, 500, 502, 503, 504,
    ]);
    expect(isRetryableAnswer(500, null)).toBe(true);
  });

  it('full jitter under a doubling ceiling, capped', () => {
    const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 100, maxDelayMs: 1000 };
    expect([1, 2, 3, 4, 5, 10].map((retry) => backoffDelayMs(retry, policy, () => 0.999))).toEqual([
      99, 199, 399, 799, 999, 999,
    ]);
    expect(backoffDelayMs(3, policy, () => 0)).toBe(0);
    expect(waitBeforeRetryMs(1, 5000, policy, () => 0.5)).toBe(5000);
    expect(waitBeforeRetryMs(4, 100, policy, () => 0.5)).toBe(400);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs('2', now)).toBe(2000);
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(retryAfterMs('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });
});

describe('npm run send', () => {
  it('reads its arguments', () => {
    expect(
      parseSendArguments(['order.json', '--count', '3', '--url', 'http://x/orders', '--no-sign']),
    ).toMatchObject({
      file: 'order.json',
      count: 3,
      url: 'http://x/orders',
      sign: false,
      stage: 'sandbox',
      deadlineMs: DEFAULT_RETRY_POLICY.deadlineMs,
    });
    expect(() => parseSendArguments([])).toThrow(`give one ${domain.recordName} file`);
    expect(() => parseSendArguments(['o.json', '--count', '0'])).toThrow(/--count must be a positive number/);
    expect(parseSendArguments(['--help'])).toBe('help');
  });

  it("sends N copies of the file's record, each under its own key (the domain's idempotency key, suffixed)", () => {
    const record = examples.valid('k-1') as unknown as Record<string, unknown>;
    const keyOf = (copy: Record<string, unknown>) => domain.idempotencyKey(z.parse(domain.schema, copy));
    const key = keyOf(record);
    expect(recordsToSend(record, 2).map(keyOf)).toEqual([`${key}-1`, `${key}-2`]);
    expect(recordsToSend(record, 1)).toEqual([record]);
  });

  it('refuses to copy a record that is not valid, rather than send copies under one key', () => {
    const jsonObjects = examples
      .invalid('k-1')
      .map(({ body }) => {
        try {
          return JSON.parse(body) as unknown;
        } catch {
          return undefined;
        }
      })
      .filter((value): value is Record<string, unknown> => typeof value === 'object' && value !== null);
    expect(jsonObjects.length).toBeGreaterThan(0);
    expect(() => recordsToSend(jsonObjects[0], 2)).toThrow(`--count copies a valid ${domain.recordName}`);
  });
});
