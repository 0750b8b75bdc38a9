/**
 * When a client of the http path retries, and how long it waits: the policy the seeds ask of a synchronous caller
 * ("no retries are built in. You have to write code to handle errors and retries"), written once, pure (the
 * clock and the randomness are passed in), so the simulator and the tests use the very rules `npm run send` uses.
 *
 * Retried, always with the same Idempotency-Key and body (so a retry gets the first request's stored answer instead
 * of submitting the order again):
 * - `429 Too Many Requests`: API Gateway's stage throttle (or the account's) refused the request before the
 *   function ran;
 * - `409 Conflict`: this API answers 409 only while the first request with the key is still in progress
 *   elsewhere (the draft's "concurrent request"); waiting and retrying gets that first request's answer;
 * - `502`, `503`, `504`: a gateway or dependency failed, or the function said "try again later" (503);
 * - no answer: a timeout, a connection reset or refused, a closed socket. The server may have done the work (the
 *   classic duplicate): the retry with the same key gets its stored answer.
 * - `500` without a problem document: API Gateway's own answer when the function crashed, ran past its timeout or
 *   was throttled before it answered. The order may have been enqueued or not: the retry gets the stored `202`, or,
 *   if the function died between its send and storing its answer, enqueues the order again, which the consumer
 *   applies once by its business key.
 * Never retried: `400`, `401`, `403`, `404`, `405`, `413`, `415`, `422` and any other status: the same request
 * would get the same answer; it needs a person (or new credentials). Nor a `500` problem document
 * (`application/problem+json`): the function's own verdict that a retry does not fix the failure.
 */

/** Statuses worth another try of the same request. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([409, 429, 502, 503, 504]);

/** Network failures worth another try (Node.js system error codes and undici's socket errors). */
export const RETRYABLE_NETWORK_ERRORS: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

export interface RetryPolicy {
  /**
   * Attempts in all, the first included. @default 12: enough that the deadline, not the count, ends the retries of
   * a client riding out an overload (the simulator's http-overload scenario: with 8, some of 80 clients ran out of
   * attempts after ≈11 s of a 30 s deadline).
   */
  readonly maxAttempts: number;
  /** The first retry's backoff ceiling, in ms; doubled per retry. @default 200 */
  readonly baseDelayMs: number;
  /** The highest backoff ceiling, in ms (the cap of the exponential). @default 10_000 */
  readonly maxDelayMs: number;
  /** How long one attempt may wait for its answer, in ms. @default 5_000 */
  readonly attemptTimeoutMs: number;
  /** How long all attempts and waits may take together, in ms: no attempt starts, or wait ends, after it. @default 30_000 */
  readonly deadlineMs: number;
  /** The longest `Retry-After` honoured, in ms; a longer one ends the retries (the server asks for a long pause). @default 60_000 */
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 12,
  baseDelayMs: 200,
  maxDelayMs: 10_000,
  attemptTimeoutMs: 5_000,
  deadlineMs: 30_000,
  maxRetryAfterMs: 60_000,
};

/** The media type of the API's own error answers (RFC 9457). */
export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

/**
 * Whether an answer is worth another try: its status, and for a `500` whether it is the function's own problem
 * document (`contentType` its `Content-Type` header) or API Gateway's.
 */
export function isRetryableAnswer(status: number, contentType?: string | null): boolean {
  if (RETRYABLE_STATUSES.has(status)) return true;
  return status === 500 && !(contentType ?? '').toLowerCase().startsWith(PROBLEM_MEDIA_TYPE);
}

/**
 * Capped exponential backoff with full jitter (the AWS Architecture Blog's "Exponential Backoff And Jitter"): a
 * uniformly random wait from 0 to `min(maxDelayMs, baseDelayMs × 2^(retry − 1))`, so clients that failed together
 * do not come back together. `retry` is 1 for the first retry.
 */
export function backoffDelayMs(
  retry: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}

/**
 * `Retry-After` (RFC 9110 §10.2.3) in ms from `nowMs`: delay-seconds (`120`) or an HTTP-date; undefined when absent
 * or unreadable. A date in the past is 0.
 */
export function retryAfterMs(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/**
 * The wait before retry `retry`: the backoff, or the server's `Retry-After` when that is longer (a server that
 * says when to come back knows better than the client's guess; the jittered backoff on top of a shorter one would
 * only add delay).
 */
export function waitBeforeRetryMs(
  retry: number,
  retryAfter: number | undefined,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  return Math.max(backoffDelayMs(retry, policy, random), retryAfter ?? 0);
}
