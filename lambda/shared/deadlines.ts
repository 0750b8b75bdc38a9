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

/** The SDK's standard retry strategy waits up to 100 ms × 2^attempt between attempts (full jitter). */
const SDK_BACKOFF_BASE_MS = 100;

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
  for (let attempt = 1; attempt < maxAttempts; attempt += 1) total += SDK_BACKOFF_BASE_MS * 2 ** attempt;
  return total;
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
