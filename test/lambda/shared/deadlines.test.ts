/** How long a DynamoDB call may take, and when a handler stops starting records (lambda/shared/deadlines.ts). */
import fc from 'fast-check';
import {
  assertTimeToStartRecord,
  BoundedRetryStrategy,
  DEPENDENCY_RETRY_DELAYS_MS,
  dependencyRetryDelayMs,
  DeadlineError,
  DYNAMODB_BUDGET_ENVIRONMENT,
  DYNAMODB_CALLS_PER_RECORD,
  dynamoDbCallBudget,
  readDynamoDbCallBudget,
  worstCaseRecordMs,
} from '../../../lambda/shared/deadlines';
import { createDynamoDbClient } from '../../../lambda/shared/powertools';

describe('worstCaseRecordMs', () => {
  it("is every attempt of each of a record's calls timing out, with the backoff between attempts", () => {
    expect(DYNAMODB_CALLS_PER_RECORD).toBe(3);
    // Per call: 2 × 100 ms, and one backoff of up to 100 ms.
    expect(worstCaseRecordMs({ requestTimeoutMs: 100, maxAttempts: 2 })).toBe(3 * (2 * 100 + 100));
    // Per call: 3 × 1000 ms, and backoffs of up to 100 and 200 ms.
    expect(worstCaseRecordMs({ requestTimeoutMs: 1000, maxAttempts: 3 })).toBe(3 * (3 * 1000 + 300));
    // One attempt: no backoff.
    expect(worstCaseRecordMs({ requestTimeoutMs: 1000, maxAttempts: 1 })).toBe(3000);
  });
});

describe('BoundedRetryStrategy', () => {
  const transient = { errorType: 'TRANSIENT' } as const;

  it('retries throttles, timeouts and server errors up to maxAttempts, waiting at most 100, 200, 400 ms', async () => {
    // The longest waits: the random fraction at its maximum.
    const strategy = new BoundedRetryStrategy(4, () => 0.999_999);
    let token = await strategy.acquireInitialRetryToken('');
    const delays: number[] = [];
    for (const errorType of ['THROTTLING', 'TRANSIENT', 'SERVER_ERROR'] as const) {
      token = await strategy.refreshRetryTokenForRetry(token, { errorType });
      delays.push(token.getRetryDelay());
    }
    expect(delays).toEqual([99, 199, 399]);
    expect(token.getRetryCount()).toBe(3);
    // The 4th attempt was the last.
    await expect(strategy.refreshRetryTokenForRetry(token, transient)).rejects.toThrow('No retry token');
  });

  it('never retries a client error (a failed condition, a validation error)', async () => {
    const strategy = new BoundedRetryStrategy(3);
    const token = await strategy.acquireInitialRetryToken('');
    await expect(strategy.refreshRetryTokenForRetry(token, { errorType: 'CLIENT_ERROR' })).rejects.toThrow();
  });

  it('waits in total no longer than the backoff worstCaseRecordMs counts (the SDK throttle backoff of up to 1 s × 2^n would not fit)', async () => {
    const budget = { requestTimeoutMs: 100, maxAttempts: 3 };
    const strategy = new BoundedRetryStrategy(budget.maxAttempts, () => 0.999_999);
    let token = await strategy.acquireInitialRetryToken('');
    let waited = 0;
    for (let retry = 1; retry < budget.maxAttempts; retry += 1) {
      token = await strategy.refreshRetryTokenForRetry(token, { errorType: 'THROTTLING' });
      waited += token.getRetryDelay();
    }
    const perCall = worstCaseRecordMs(budget) / DYNAMODB_CALLS_PER_RECORD;
    expect(budget.maxAttempts * budget.requestTimeoutMs + waited).toBeLessThanOrEqual(perCall);
  });

  it("is the retry strategy of the handlers' DynamoDB client", async () => {
    const client = createDynamoDbClient({ requestTimeoutMs: 500, maxAttempts: 2 });
    expect(await client.config.retryStrategy()).toBeInstanceOf(BoundedRetryStrategy);
    expect(await client.config.maxAttempts()).toBe(2);
    client.destroy();
  });
});

describe('dynamoDbCallBudget', () => {
  it('gives the default 30 s function 3 attempts of 1.566 s: one record takes at most half the timeout', () => {
    const budget = dynamoDbCallBudget(30_000);
    expect(budget).toEqual({ requestTimeoutMs: 1566, maxAttempts: 3 });
    expect(worstCaseRecordMs(budget)).toBe(14_994);
  });

  it('keeps the request timeout between 100 ms (a short function) and 2 s (DynamoDB answers in milliseconds)', () => {
    expect(dynamoDbCallBudget(3_000)).toEqual({ requestTimeoutMs: 100, maxAttempts: 3 });
    expect(dynamoDbCallBudget(900_000)).toEqual({ requestTimeoutMs: 2_000, maxAttempts: 3 });
  });

  it('lets one record take at most half of any timeout from 5.4 s (where the 100 ms floor starts) to 15 min', () => {
    fc.assert(
      fc.property(fc.integer({ min: 5_400, max: 900_000 }), (timeoutMs) => {
        const budget = dynamoDbCallBudget(timeoutMs);
        expect(worstCaseRecordMs(budget)).toBeLessThanOrEqual(timeoutMs / 2);
        expect(budget.requestTimeoutMs).toBeGreaterThanOrEqual(100);
        expect(budget.requestTimeoutMs).toBeLessThanOrEqual(2_000);
      }),
    );
  });
});

describe('readDynamoDbCallBudget', () => {
  const { requestTimeoutMs: TIMEOUT, maxAttempts: ATTEMPTS } = DYNAMODB_BUDGET_ENVIRONMENT;

  it('reads the budget ConsumerFunction sets', () => {
    expect(DYNAMODB_BUDGET_ENVIRONMENT).toEqual({
      requestTimeoutMs: 'DYNAMODB_REQUEST_TIMEOUT_MS',
      maxAttempts: 'DYNAMODB_MAX_ATTEMPTS',
    });
    expect(readDynamoDbCallBudget({ [TIMEOUT]: '750', [ATTEMPTS]: '2' })).toEqual({
      requestTimeoutMs: 750,
      maxAttempts: 2,
    });
  });

  it("falls back to the default 30 s function's budget for a variable that is unset or empty", () => {
    expect(readDynamoDbCallBudget({})).toEqual(dynamoDbCallBudget(30_000));
    expect(readDynamoDbCallBudget({ [TIMEOUT]: '', [ATTEMPTS]: '4' })).toEqual({
      requestTimeoutMs: dynamoDbCallBudget(30_000).requestTimeoutMs,
      maxAttempts: 4,
    });
  });

  it.each(['0', '-1', '1.5', 'abc', ' '])('fails, naming the variable, for %j', (text) => {
    expect(() => readDynamoDbCallBudget({ [TIMEOUT]: text })).toThrow(
      `DYNAMODB_REQUEST_TIMEOUT_MS must be a positive whole number, got "${text}".`,
    );
    expect(() => readDynamoDbCallBudget({ [ATTEMPTS]: text })).toThrow(
      `DYNAMODB_MAX_ATTEMPTS must be a positive whole number, got "${text}".`,
    );
  });
});

describe('assertTimeToStartRecord', () => {
  it('lets a record start while its worst case still fits in the time left', () => {
    expect(() => assertTimeToStartRecord(1_200, 1_200)).not.toThrow();
    expect(() => assertTimeToStartRecord(30_000, 1_200)).not.toThrow();
  });

  it('refuses it with a DeadlineError that says how much time was left and needed', () => {
    let caught: unknown;
    try {
      assertTimeToStartRecord(1_199, 1_200);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DeadlineError);
    expect(caught).toEqual(
      expect.objectContaining({ name: 'DeadlineError', remainingMs: 1_199, neededMs: 1_200 }),
    );
    expect((caught as Error).message).toBe(
      'not started: 1199 ms of the invocation left, less than the 1200 ms one record may need; ' +
        'it is re-delivered instead of timing out the batch',
    );
  });
});

describe('dependencyRetryDelayMs', () => {
  it('waits 1, 2, 4, then 8 s each time, and not at all with no delays', () => {
    expect(DEPENDENCY_RETRY_DELAYS_MS).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect([1, 2, 3, 4, 5, 9].map((retry) => dependencyRetryDelayMs(retry))).toEqual([
      1_000, 2_000, 4_000, 8_000, 8_000, 8_000,
    ]);
    expect(dependencyRetryDelayMs(1, [])).toBeUndefined();
    expect(dependencyRetryDelayMs(3, [10])).toBe(10);
  });
});
