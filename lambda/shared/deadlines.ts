/**
 * Deadlines: how long a DynamoDB call may take, and when a handler stops starting records.
 *
 * A hung request must not hold an invocation to its timeout: Lambda would then report the whole batch failed,
 * records already done included, and re-deliver all of them. So every SDK call has a per-attempt request timeout
 * and a bounded number of attempts, sized from the function timeout ({@link dynamoDbCallBudget}), and a handler
 * starts a record only while the time one record may need in the worst case is still left
 * ({@link assertTimeToStartRecord}); a record refused that way is an item failure, re-delivered later, while the
 * records that finished are reported done.
 *
 * This module is pure (no Powertools, no SDK): the CDK app imports it to set the function's environment.
 */

/** What one DynamoDB call may cost in time. */
export interface DynamoDbCallBudget {
  /** Per attempt: the SDK abandons a request with no answer after this long, and retries it. */
  readonly requestTimeoutMs: number;
  /** Attempts per call, the first included (the SDK's `maxAttempts`). */
  readonly maxAttempts: number;
}

/**
 * DynamoDB calls one record makes at most, one after the other: the claim (or the read), the transaction that
 * commits the effect with the completion, and the release of the claim when that transaction fails.
 */
export const DYNAMODB_CALLS_PER_RECORD = 3;

/**
 * The wait before retry n (1-based) is a random fraction of `BACKOFF_BASE_MS × 2^(n-1)` ({@link BoundedRetryStrategy}).
 * The SDK's own strategies wait longer after a throttle (up to 1 s × 2^n in the SDK installed here) and differ
 * between SDK versions (the Lambda runtime brings its own), so the handlers use this one: its worst case is
 * what {@link worstCaseRecordMs} adds up, whatever SDK runs.
 */
const BACKOFF_BASE_MS = 100;

const MAX_ATTEMPTS = 3;
/** DynamoDB answers in milliseconds; a second without an answer is a hung connection, not a slow table. */
const MAX_REQUEST_TIMEOUT_MS = 2_000;
const MIN_REQUEST_TIMEOUT_MS = 100;

/**
 * The budget for a function with this timeout: one record's calls, attempts and backoff take at most half of it
 * (see {@link worstCaseRecordMs}), so a batch whose calls hang still ends in time to report what it finished.
 */
export function dynamoDbCallBudget(functionTimeoutMs: number): DynamoDbCallBudget {
  const backoffMs = worstCaseBackoffMs(MAX_ATTEMPTS);
  const perAttempt = Math.floor(
    (functionTimeoutMs / 2 / DYNAMODB_CALLS_PER_RECORD - backoffMs) / MAX_ATTEMPTS,
  );
  return {
    requestTimeoutMs: Math.max(MIN_REQUEST_TIMEOUT_MS, Math.min(MAX_REQUEST_TIMEOUT_MS, perAttempt)),
    maxAttempts: MAX_ATTEMPTS,
  };
}

/** The longest one record's DynamoDB work can take under this budget: every attempt of every call timing out. */
export function worstCaseRecordMs(budget: DynamoDbCallBudget): number {
  const perCall = budget.maxAttempts * budget.requestTimeoutMs + worstCaseBackoffMs(budget.maxAttempts);
  return DYNAMODB_CALLS_PER_RECORD * perCall;
}

function worstCaseBackoffMs(maxAttempts: number): number {
  let total = 0;
  for (let retry = 1; retry < maxAttempts; retry += 1) total += maxBackoffMs(retry);
  return total;
}

/** The longest wait before retry `retry` (1-based). */
function maxBackoffMs(retry: number): number {
  return BACKOFF_BASE_MS * 2 ** (retry - 1);
}

/** What the SDK says about a failed attempt (`RetryErrorInfo` of `@smithy/types`, the fields used here). */
interface RetryErrorInfo {
  readonly errorType: 'TRANSIENT' | 'THROTTLING' | 'SERVER_ERROR' | 'CLIENT_ERROR';
}

/** A retry token of the SDK's retry strategy interface (`RetryStrategyV2`). */
interface RetryToken {
  getRetryCount(): number;
  getRetryDelay(): number;
}

/**
 * The DynamoDB client's retry strategy (the SDK's `RetryStrategyV2` interface): at most `maxAttempts` attempts,
 * retrying throttles, timeouts and server errors (never a client error such as a failed condition), after a
 * wait with full jitter of at most 100 ms, 200 ms, 400 ms... The SDK's retry middleware does the waiting.
 */
export class BoundedRetryStrategy {
  constructor(
    private readonly maxAttempts: number,
    private readonly random: () => number = Math.random,
  ) {}

  async acquireInitialRetryToken(_scope: string): Promise<RetryToken> {
    return token(0, 0);
  }

  async refreshRetryTokenForRetry(previous: RetryToken, errorInfo: RetryErrorInfo): Promise<RetryToken> {
    const retry = previous.getRetryCount() + 1;
    if (errorInfo.errorType === 'CLIENT_ERROR' || retry >= this.maxAttempts) {
      throw new Error('No retry token available');
    }
    return token(retry, Math.floor(this.random() * maxBackoffMs(retry)));
  }

  recordSuccess(_token: RetryToken): void {}
}

function token(retryCount: number, retryDelay: number): RetryToken {
  return { getRetryCount: () => retryCount, getRetryDelay: () => retryDelay };
}

/**
 * The SDK client settings that hold a client to `budget`, for every AWS client a handler makes (DynamoDB, and the
 * http ingress's SQS): each attempt of a call is abandoned after `requestTimeoutMs` without an answer, and a call
 * makes at most `maxAttempts`, so a hung connection costs seconds, not the invocation.
 */
export function boundedClientConfig(budget: DynamoDbCallBudget) {
  return {
    maxAttempts: budget.maxAttempts,
    // Its worst case is what the deadline arithmetic assumes, whatever SDK version the runtime brings.
    retryStrategy: new BoundedRetryStrategy(budget.maxAttempts),
    requestHandler: {
      requestTimeout: budget.requestTimeoutMs,
      connectionTimeout: budget.requestTimeoutMs,
      // Newer SDKs only warn when a request outlives `requestTimeout`; this makes it abort the attempt (and retry).
      throwOnRequestTimeout: true,
    },
  };
}

/** Environment variables that carry the budget to the function (set by `ConsumerFunction`). */
export const DYNAMODB_BUDGET_ENVIRONMENT = {
  requestTimeoutMs: 'DYNAMODB_REQUEST_TIMEOUT_MS',
  maxAttempts: 'DYNAMODB_MAX_ATTEMPTS',
} as const;

/** The function timeout the defaults assume when the environment names no budget (`ConsumerFunction`'s). */
const DEFAULT_FUNCTION_TIMEOUT_MS = 30_000;

/** Reads the budget from the environment; invalid values fail at cold start with a clear message. */
export function readDynamoDbCallBudget(env: NodeJS.ProcessEnv = process.env): DynamoDbCallBudget {
  const defaults = dynamoDbCallBudget(DEFAULT_FUNCTION_TIMEOUT_MS);
  const read = (name: string, fallback: number): number => {
    const text = env[name];
    if (text === undefined || text === '') return fallback;
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1) {
      throw new Error(`${name} must be a positive whole number, got "${text}".`);
    }
    return value;
  };
  return {
    requestTimeoutMs: read(DYNAMODB_BUDGET_ENVIRONMENT.requestTimeoutMs, defaults.requestTimeoutMs),
    maxAttempts: read(DYNAMODB_BUDGET_ENVIRONMENT.maxAttempts, defaults.maxAttempts),
  };
}

/** A record the handler did not start because the invocation could time out before it finished. */
export class DeadlineError extends Error {
  constructor(
    readonly remainingMs: number,
    readonly neededMs: number,
  ) {
    super(
      `not started: ${remainingMs} ms of the invocation left, less than the ${neededMs} ms one record may need; ` +
        'it is re-delivered instead of timing out the batch',
    );
    this.name = 'DeadlineError';
  }
}

/** Throws {@link DeadlineError} when less than `neededMs` of the invocation is left. */
export function assertTimeToStartRecord(remainingMs: number, neededMs: number): void {
  if (remainingMs < neededMs) throw new DeadlineError(remainingMs, neededMs);
}

/**
 * Waits before trying a record again *inside the invocation* after its DynamoDB work failed for a transient
 * reason (an outage, throttling, a timeout): 1 s, 2 s, 4 s, then 8 s each, for as long as the invocation has
 * time for the wait and one more worst case. A stream retries a failed batch at once, so a few immediate retries
 * are spent within a second of an outage; waiting here lets the same retries span seconds to minutes
 * (docs/stream-path.md measures it). The SDK's own retries (milliseconds apart) come first.
 */
export const DEPENDENCY_RETRY_DELAYS_MS: readonly number[] = [1_000, 2_000, 4_000, 8_000];

/** The wait before in-invocation retry `retry` (1-based): the list's entry, then its last one again. */
export function dependencyRetryDelayMs(
  retry: number,
  delays: readonly number[] = DEPENDENCY_RETRY_DELAYS_MS,
): number | undefined {
  if (delays.length === 0) return undefined;
  return delays[Math.min(retry, delays.length) - 1];
}

/** The environment variable that overrides {@link DEPENDENCY_RETRY_DELAYS_MS}: waits in ms, comma-separated; empty: none. */
export const DEPENDENCY_RETRY_ENVIRONMENT = 'DEPENDENCY_RETRY_DELAYS_MS';

/** Reads the in-invocation retry waits; invalid values fail at cold start with a clear message. */
export function readDependencyRetryDelays(env: NodeJS.ProcessEnv = process.env): readonly number[] {
  const text = env[DEPENDENCY_RETRY_ENVIRONMENT];
  if (text === undefined) return DEPENDENCY_RETRY_DELAYS_MS;
  if (text.trim() === '') return [];
  const delays = text.split(',').map((part) => Number(part.trim()));
  if (delays.some((delay) => !Number.isInteger(delay) || delay < 1)) {
    throw new Error(
      `${DEPENDENCY_RETRY_ENVIRONMENT} must be positive whole numbers of milliseconds, comma-separated (or empty for none), got "${text}".`,
    );
  }
  return delays;
}
