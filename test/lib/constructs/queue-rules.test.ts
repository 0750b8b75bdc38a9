import { Duration } from 'aws-cdk-lib';
import fc from 'fast-check';
import {
  eventSourceChecks,
  idempotencyExpiryTerms,
  minimumQueueIdempotencyExpiry,
  minimumVisibilityTimeout,
  type QueueType,
  retentionChecks,
  SQS_LIMITS,
  visibilityTimeoutChecks,
} from '../../../lib/constructs/queue-rules';
import { type Check, ConfigurationError, validateAll } from '../../../lib/validation';
import { testStack } from '../../helpers/synth';

const DAY = 86_400;

/** The messages of the rules `checks` finds broken (none: an empty list). */
function brokenRules(checks: Check[]): string[] {
  const scope = testStack();
  try {
    validateAll(scope, checks);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    const errors = 'errors' in error ? (error.errors as ConfigurationError[]) : [error];
    return errors.map((each) => each.message.replace(/^TestStack: /, ''));
  }
}

describe('minimumVisibilityTimeout', () => {
  it('is 6 × timeout with no batching window (a FIFO queue), 6 × timeout + window otherwise', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 900 }), fc.integer({ min: 0, max: 300 }), (timeout, window) => {
        expect(minimumVisibilityTimeout(Duration.seconds(timeout)).toSeconds()).toBe(6 * timeout);
        expect(
          minimumVisibilityTimeout(Duration.seconds(timeout), Duration.seconds(window)).toSeconds(),
        ).toBe(6 * timeout + window);
      }),
    );
  });
});

describe('the idempotency expiry a queue needs', () => {
  it('is retention + DLQ retention for a standard queue (the DLQ keeps the original enqueue time)', () => {
    expect(
      idempotencyExpiryTerms('standard', Duration.days(4), Duration.days(14)).map(([name]) => name),
    ).toEqual(['retentionPeriod', 'deadLetterQueueRetentionPeriod']);
    expect(minimumQueueIdempotencyExpiry('standard', Duration.days(4), Duration.days(14)).toSeconds()).toBe(
      18 * DAY,
    );
  });

  it('is retention + DLQ retention + retention for a FIFO queue (the DLQ counts from the move)', () => {
    expect(idempotencyExpiryTerms('fifo', Duration.days(4), Duration.days(14)).map(([name]) => name)).toEqual(
      ['retentionPeriod', 'deadLetterQueueRetentionPeriod', 'retentionPeriod'],
    );
    fc.assert(
      fc.property(fc.integer({ min: 60, max: 14 * DAY }), fc.integer({ min: 60, max: 14 * DAY }), (r, d) => {
        const fifo = minimumQueueIdempotencyExpiry('fifo', Duration.seconds(r), Duration.seconds(d));
        const standard = minimumQueueIdempotencyExpiry('standard', Duration.seconds(r), Duration.seconds(d));
        expect(fifo.toSeconds()).toBe(2 * r + d);
        expect(fifo.toSeconds()).toBeGreaterThan(standard.toSeconds());
      }),
    );
  });
});

describe('retentionChecks', () => {
  it.each<[QueueType, string[]]>([
    [
      'standard',
      [
        'deadLetterQueueRetentionPeriod (4 days) must be longer than retentionPeriod (4 days): a message keeps its original enqueue time when it moves to the dead-letter queue, so it would expire there before anyone could redrive it.',
      ],
    ],
    ['fifo', []],
  ])(
    'with equal retentions: a %s queue (the DLQ-outlasts-source rule is for standard queues)',
    (queueType, broken) => {
      expect(
        brokenRules(retentionChecks(testStack(), queueType, Duration.days(4), Duration.days(4))),
      ).toEqual(broken.map((message) => expect.stringContaining(message)));
    },
  );

  it('holds both retention periods to 60 seconds – 14 days, for either queue type', () => {
    for (const queueType of ['standard', 'fifo'] as const) {
      expect(
        brokenRules(retentionChecks(testStack(), queueType, Duration.seconds(59), Duration.days(15))),
      ).toEqual([
        'retentionPeriod must be from 1 minute to 14 days, got 59 seconds (SQS message retention limit).',
        'deadLetterQueueRetentionPeriod must be from 1 minute to 14 days, got 15 days (SQS message retention limit).',
      ]);
    }
  });
});

describe('eventSourceChecks', () => {
  it('lets a standard queue batch up to 10,000 with a window, a FIFO queue up to 10 with none', () => {
    const settings = { batchSize: 10_000, maxBatchingWindow: Duration.seconds(1), maxConcurrency: 5 };
    expect(brokenRules(eventSourceChecks(testStack(), 'standard', settings))).toEqual([]);
    expect(brokenRules(eventSourceChecks(testStack(), 'fifo', settings))).toEqual([
      expect.stringMatching(/^maxBatchingWindow must be 0 for a FIFO queue, got 1 second/),
      `batchSize must be a whole number from 1 to ${SQS_LIMITS.maxFifoBatchSize}, got 10000 (SQS event source mapping limit for FIFO queues).`,
    ]);
    expect(
      brokenRules(
        eventSourceChecks(testStack(), 'fifo', {
          batchSize: 10,
          maxBatchingWindow: Duration.seconds(0),
          maxConcurrency: 5,
        }),
      ),
    ).toEqual([]);
  });
});

describe('visibilityTimeoutChecks', () => {
  it('names the batching window in the rule only where the queue has one', () => {
    const withWindow = brokenRules(
      visibilityTimeoutChecks(testStack(), Duration.seconds(10), Duration.seconds(30), Duration.seconds(0)),
    );
    const without = brokenRules(
      visibilityTimeoutChecks(testStack(), Duration.seconds(10), Duration.seconds(30)),
    );
    expect(withWindow).toEqual([
      expect.stringContaining(
        'at least 6 × function timeout + maxBatchingWindow = 6 × 30 seconds + 0 seconds',
      ),
    ]);
    expect(without).toEqual([
      expect.stringContaining('at least 6 × function timeout = 6 × 30 seconds = 3 minutes'),
    ]);
  });

  it('checks nothing when the visibility timeout is derived', () => {
    expect(visibilityTimeoutChecks(testStack(), undefined, Duration.seconds(30))).toEqual([]);
  });
});
