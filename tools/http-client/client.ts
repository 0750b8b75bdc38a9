/**
 * A client of the http path that retries correctly: `submit` POSTs one JSON body with an `Idempotency-Key` and
 * retries it by the rules of retry-policy.ts (what is retried, capped exponential backoff with full jitter,
 * `Retry-After` honoured, a total deadline), keeping the same key and body on every attempt, so whatever the
 * network loses, the order takes effect once: a retry gets the first request's stored answer, and where the
 * function died after its send but before it stored that answer, the retry enqueues the order again and the
 * consumer behind the queue applies it once by its business key (lambda/http-ingress/handler.ts). Each attempt is
 * reported as it ends (`onAttempt`).
 *
 * Typed and free of this repository's other modules but retry-policy.ts and (for AWS) sigv4.ts, so a fork (or a
 * producer's service) copies the folder tools/http-client/ as it is. Uses the runtime's `fetch` (Node.js 18+).
 */
import { randomUUID } from 'node:crypto';
import {
  DEFAULT_RETRY_POLICY,
  isRetryableAnswer,
  RETRYABLE_NETWORK_ERRORS,
  retryAfterMs,
  type RetryPolicy,
  waitBeforeRetryMs,
} from './retry-policy';

/** A request about to be sent: what a signer may add headers to. */
export interface OutgoingRequest {
  readonly method: 'POST';
  readonly url: URL;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Adds authentication headers to a request (SigV4 for the IAM-authorized API: sigv4.ts). Called per attempt. */
export type RequestSigner = (request: OutgoingRequest) => Promise<Record<string, string>>;

/** One attempt, as it ended. */
export interface AttemptReport {
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** When it started, in ms since `submit` was called. */
  readonly startedAtMs: number;
  readonly durationMs: number;
  /** The answer's status; undefined when none came (a timeout, a reset). */
  readonly status?: number;
  /** What failed when no answer came: `timeout`, or the network error's code (`ECONNRESET`...). */
  readonly error?: string;
  /** The server's `Retry-After`, in ms, when it sent one. */
  readonly retryAfterMs?: number;
  /** The answer was the stored answer of an earlier attempt (`Idempotent-Replayed: true`). */
  readonly replayed?: boolean;
  /**
   * `accepted` (2xx, done), `refused` (an answer not worth retrying, done), `retry` (another attempt follows after
   * `waitMs`), `gave-up` (retryable, but the attempts, the deadline or the server's `Retry-After` ran out).
   */
  readonly outcome: 'accepted' | 'refused' | 'retry' | 'gave-up';
  /** The wait before the next attempt (outcome `retry`). */
  readonly waitMs?: number;
  /** Why this outcome, in words. */
  readonly reason: string;
}

export interface SubmitResult {
  /** A 2xx answer came. */
  readonly ok: boolean;
  /** The last answer's status, if any came. */
  readonly status?: number;
  /** The last answer's body, parsed when JSON (a 202's `{status, orderId, messageId}`, a problem's details). */
  readonly body?: unknown;
  /** The key every attempt carried. */
  readonly idempotencyKey: string;
  readonly attempts: readonly AttemptReport[];
  /** The last attempt's reason. */
  readonly reason: string;
}

/** Time and randomness, passed in so tests (and the simulator) run the client on their own clock. */
export interface ClientClock {
  now(): number;
  sleep(ms: number): Promise<void>;
  random(): number;
}

export const SYSTEM_CLOCK: ClientClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
};

export interface SubmitOptions {
  /** The full URL of the resource, e.g. `https://abc123.execute-api.eu-west-1.amazonaws.com/orders`. */
  readonly url: string | URL;
  /** The key of this submission. @default a fresh UUID, the same for all of its attempts */
  readonly idempotencyKey?: string;
  /** @default DEFAULT_RETRY_POLICY */
  readonly policy?: Partial<RetryPolicy>;
  /** Authentication per attempt. @default none (an unauthenticated request: API Gateway answers 403) */
  readonly sign?: RequestSigner;
  /** Called when each attempt ends, before the wait for the next. */
  readonly onAttempt?: (report: AttemptReport) => void;
  /** @default SYSTEM_CLOCK */
  readonly clock?: ClientClock;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

/**
 * POSTs `body` (a value, sent as JSON; or a JSON text) with an `Idempotency-Key`, retrying what is worth retrying
 * until an answer settles it, the attempts run out, or the deadline passes. Never throws for an HTTP or network
 * failure: the result says what happened, attempt by attempt.
 */
export async function submit(body: unknown, options: SubmitOptions): Promise<SubmitResult> {
  const policy = { ...DEFAULT_RETRY_POLICY, ...options.policy };
  const clock = options.clock ?? SYSTEM_CLOCK;
  const doFetch = options.fetch ?? globalThis.fetch;
  const url = new URL(options.url);
  const idempotencyKey = options.idempotencyKey ?? randomUUID();
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const start = clock.now();
  const deadline = start + policy.deadlineMs;
  const attempts: AttemptReport[] = [];
  let last: { status?: number; body?: unknown } = {};

  for (let attempt = 1; ; attempt += 1) {
    const startedAt = clock.now();
    const timeoutMs = Math.max(1, Math.min(policy.attemptTimeoutMs, deadline - startedAt));
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json, application/problem+json',
      // An RFC 8941 sf-string, as the IETF draft defines the field.
      'idempotency-key': `"${idempotencyKey.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`,
    };
    const request: OutgoingRequest = { method: 'POST', url, headers, body: text };
    const signed = options.sign ? await options.sign(request) : {};
    const answer = await send(doFetch, request, { ...headers, ...signed }, timeoutMs);
    const ended = clock.now();
    const base = { attempt, startedAtMs: startedAt - start, durationMs: ended - startedAt };

    let report: AttemptReport;
    if ('status' in answer) {
      last = { status: answer.status, body: answer.body };
      const retryAfter = retryAfterMs(answer.retryAfter, ended);
      const common = {
        ...base,
        status: answer.status,
        ...(retryAfter !== undefined && { retryAfterMs: retryAfter }),
        ...(answer.replayed && { replayed: true }),
      };
      if (answer.status >= 200 && answer.status < 300) {
        report = {
          ...common,
          outcome: 'accepted',
          reason: answer.replayed ? 'accepted (the stored answer of an earlier attempt)' : 'accepted',
        };
      } else if (!isRetryableAnswer(answer.status, answer.contentType)) {
        report = {
          ...common,
          outcome: 'refused',
          reason: `${answer.status} is not retryable: ${titleOf(answer.body)}`,
        };
      } else {
        report = next(common, attempt, retryAfter, `${answer.status} ${titleOf(answer.body)}`);
      }
    } else if (answer.retryable) {
      report = next({ ...base, error: answer.error }, attempt, undefined, `no answer (${answer.error})`);
    } else {
      report = {
        ...base,
        error: answer.error,
        outcome: 'refused',
        reason: `${answer.error} is not retryable`,
      };
    }
    attempts.push(report);
    options.onAttempt?.(report);
    if (report.outcome !== 'retry') {
      return {
        ok: report.outcome === 'accepted',
        ...last,
        idempotencyKey,
        attempts,
        reason: report.reason,
      };
    }
    await clock.sleep(report.waitMs ?? 0);
  }

  /** The report of a retryable failure: the wait before the next attempt, or why there is none. */
  function next(
    common: Omit<AttemptReport, 'outcome' | 'reason'>,
    attempt: number,
    retryAfter: number | undefined,
    what: string,
  ): AttemptReport {
    if (attempt >= policy.maxAttempts) {
      return { ...common, outcome: 'gave-up', reason: `${what}; no attempts left (${policy.maxAttempts})` };
    }
    if (retryAfter !== undefined && retryAfter > policy.maxRetryAfterMs) {
      return {
        ...common,
        outcome: 'gave-up',
        reason: `${what}; the server asks to wait ${retryAfter} ms, longer than maxRetryAfterMs (${policy.maxRetryAfterMs})`,
      };
    }
    const waitMs = waitBeforeRetryMs(attempt, retryAfter, policy, clock.random);
    if (clock.now() + waitMs >= deadline) {
      return {
        ...common,
        outcome: 'gave-up',
        reason: `${what}; the next attempt would start after the deadline (${policy.deadlineMs} ms)`,
      };
    }
    return { ...common, outcome: 'retry', waitMs, reason: `${what}; retrying in ${waitMs} ms` };
  }
}

type Answer =
  | {
      status: number;
      body: unknown;
      retryAfter: string | null;
      replayed: boolean;
      contentType: string | null;
    }
  | { error: string; retryable: boolean };

async function send(
  doFetch: typeof fetch,
  request: OutgoingRequest,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<Answer> {
  try {
    const response = await doFetch(request.url, {
      method: request.method,
      headers,
      body: request.body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      // not JSON: kept as text
    }
    return {
      status: response.status,
      body,
      retryAfter: response.headers.get('retry-after'),
      replayed: response.headers.get('idempotent-replayed') === 'true',
      contentType: response.headers.get('content-type'),
    };
  } catch (error) {
    return classify(error);
  }
}

/** A failure without an answer: a timeout, or a network error by its code. */
function classify(error: unknown): { error: string; retryable: boolean } {
  const name = (error as { name?: string }).name;
  if (name === 'TimeoutError' || name === 'AbortError') return { error: 'timeout', retryable: true };
  let link: unknown = error;
  for (let depth = 0; depth < 5 && link; depth += 1) {
    const code = (link as { code?: unknown }).code;
    if (typeof code === 'string') return { error: code, retryable: RETRYABLE_NETWORK_ERRORS.has(code) };
    link = (link as { cause?: unknown }).cause;
  }
  return { error: (error as Error).message ?? String(error), retryable: false };
}

/** A problem's title, or a short form of whatever the body is (API Gateway's own `{"message": ...}`). */
function titleOf(body: unknown): string {
  if (body && typeof body === 'object') {
    const { title, message } = body as { title?: unknown; message?: unknown };
    if (typeof title === 'string') return title;
    if (typeof message === 'string') return message;
  }
  return typeof body === 'string' ? body.slice(0, 100) : '';
}
