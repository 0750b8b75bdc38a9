/**
 * The stream consumer's handler against a real DynamoDB API (dynalite, in-process, with transactions): Powertools'
 * BatchProcessor and idempotency and the exactly-once commit run unmodified. The plan is the template's own
 * (`planReading`), wrapped so a test can make chosen readings fail or hold them; what a reading did is asserted on
 * the durable data (the sensors' totals in the effect table) and on the "side effect done" lines, which the
 * applier writes once a commit went through, exactly as the local simulator and CloudWatch Logs Insights count
 * them.
 *
 * DynamoDB sits behind the local simulator's fault proxy (test/helpers/dynamodb.ts): tests that need a failing or
 * throttled call inject it there, for the handler's execution environment.
 */
import { FullBatchFailureError } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context, KinesisStreamBatchResponse, KinesisStreamRecord } from 'aws-lambda';
import fc from 'fast-check';
import { type DynamoDbCallBudget, worstCaseRecordMs } from '../../../lambda/shared/deadlines';
import {
  createIdempotencyDependencies,
  type IdempotencyDependencies,
} from '../../../lambda/shared/powertools';
import { IDEMPOTENCY_SCHEMES, type IdempotencyScheme } from '../../../lambda/shared/serial-key-persistence';
import { SIDE_EFFECT_LOG_MESSAGE } from '../../../lambda/shared/side-effect';
import {
  createStreamConsumerHandler,
  EarlierRecordFailedError,
  type IdempotencyKeyOf,
  keyByEventId,
  keyByStreamPosition,
  type StreamConsumerHandler,
} from '../../../lambda/stream-consumer/handler';
import { domain, planReading, type SensorReading } from '../../../lambda/stream-consumer/domain';
import type { CallFaultInjector } from '../../../tools/shared/dynamodb-faults';
import {
  type EffectItem,
  mentioning,
  unreachableDynamoDbClient,
  useFaultyDynamoDb,
} from '../../helpers/dynamodb';
import { restoreEnvironmentAfterEach } from '../../helpers/environment';
import { kinesisEvent, kinesisRecord, lambdaContext, reading, sequenceNumber } from './kinesis-events';

const db = useFaultyDynamoDb();

type LogCall = [string, Record<string, unknown>];

interface Harness {
  readonly handler: StreamConsumerHandler;
  readonly deps: IdempotencyDependencies;
  /** Runs one invocation with a fresh Lambda context (or `context`). */
  invoke(records: KinesisStreamRecord[], context?: Context): Promise<KinesisStreamBatchResponse>;
  /** Runs one invocation and returns the failed sequence numbers (all of them if the whole batch failed). */
  failedSequenceNumbers(records: KinesisStreamRecord[]): Promise<string[]>;
  /** eventId of every "side effect done" line, in order. */
  sideEffects(): string[];
  /** [message, attributes] of every error and warning line, in order. */
  problems(): LogCall[];
  infos(): LogCall[];
  /** Readings the plan was called with (including the ones it failed). */
  readonly attempts: SensorReading[];
}

function harness(
  options: {
    client?: DynamoDBClient;
    /** eventIds whose plan throws (a "function error" for that record). */
    poison?: Set<string>;
    idempotencyKeyOf?: IdempotencyKeyOf;
    /** Runs before the real plan (e.g. to block it). */
    before?: (reading: SensorReading) => Promise<void>;
    /** Runs once a reading's effect is committed and its side-effect line written (e.g. to signal it). */
    after?: (eventId: string) => void;
    /** @default 'claim-then-complete' (Powertools' default) */
    scheme?: IdempotencyScheme;
    budget?: DynamoDbCallBudget;
    /**
     * Waits between tries inside one invocation after a transient DynamoDB failure. Default: none, so a test sees
     * what one try does (what Lambda re-delivers); the in-invocation retry has tests of its own.
     */
    dependencyRetryDelaysMs?: readonly number[];
    faults?: { readonly injector: CallFaultInjector; readonly environment: string };
  } = {},
): Harness {
  const logger = new Logger({ serviceName: 'stream-consumer-test', logLevel: 'SILENT' });
  const info = jest.spyOn(logger, 'info').mockImplementation((...args: unknown[]) => {
    if (args[0] === SIDE_EFFECT_LOG_MESSAGE) options.after?.((args[1] as { recordKey: string }).recordKey);
  });
  const warn = jest.spyOn(logger, 'warn');
  const error = jest.spyOn(logger, 'error');
  const attempts: SensorReading[] = [];
  const deps = createIdempotencyDependencies({
    tableName: db.tableName,
    effectTableName: db.effectTableName,
    expiresAfterSeconds: 3600,
    client: options.client ?? db.dynamo.client,
    scheme: options.scheme,
    ...(options.budget && { budget: options.budget }),
  });
  const handler = createStreamConsumerHandler({
    ...deps,
    dependencyRetryDelaysMs: options.dependencyRetryDelaysMs ?? [],
    logger,
    plan: async (r) => {
      attempts.push(r);
      await options.before?.(r);
      if (options.poison?.has(r.eventId)) throw new Error(`poison reading ${r.eventId}`);
      return planReading(r);
    },
    idempotencyKeyOf: options.idempotencyKeyOf,
  });
  const invoke = (records: KinesisStreamRecord[], context: Context = lambdaContext()) => {
    options.faults?.injector.beginInvocation(options.faults.environment);
    return handler(kinesisEvent(records), context);
  };
  return {
    handler,
    deps,
    invoke,
    async failedSequenceNumbers(records) {
      try {
        const response = await invoke(records);
        return response.batchItemFailures.map((failure) => failure.itemIdentifier);
      } catch (caught) {
        expect(caught).toBeInstanceOf(FullBatchFailureError);
        return records.map((record) => record.kinesis.sequenceNumber);
      }
    },
    sideEffects: () =>
      info.mock.calls
        .filter(([message]) => message === SIDE_EFFECT_LOG_MESSAGE)
        .map(([, extra]) => (extra as { recordKey: string }).recordKey),
    problems: () =>
      [...warn.mock.calls, ...error.mock.calls]
        .sort((a, b) => order(warn, error, a) - order(warn, error, b))
        .map(([message, extra]) => [message as string, extra as Record<string, unknown>]),
    infos: () => info.mock.calls as LogCall[],
    attempts,
  };
}

/** Invocation order of a logger call across two spies. */
function order(warn: jest.SpyInstance, error: jest.SpyInstance, call: unknown[]): number {
  const warnIndex = warn.mock.calls.indexOf(call);
  return warnIndex >= 0
    ? warn.mock.invocationCallOrder[warnIndex]
    : error.mock.invocationCallOrder[error.mock.calls.indexOf(call)];
}

/** Records 1..count of one shard; `sensorOf(n)` chooses each record's sensor (= partition key). */
function records(
  count: number,
  sensorOf: (n: number) => string = (n) => `sensor-${n}`,
): KinesisStreamRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const n = i + 1;
    return kinesisRecord({ n, payload: reading(n, { sensorId: sensorOf(n) }) });
  });
}

const seq = sequenceNumber;
const pick = (all: KinesisStreamRecord[], ...ns: number[]) => ns.map((n) => all[n - 1]);

/**
 * Event ids grouped by partition key, each group in the order given. Records of different keys run
 * concurrently, so the order *across* keys is not a guarantee (and not asserted); the order within a key is.
 */
function perKey(eventIds: readonly string[], keyOf: (eventId: string) => string): Record<string, string[]> {
  const groups: Record<string, string[]> = {};
  for (const eventId of eventIds) (groups[keyOf(eventId)] ??= []).push(eventId);
  return groups;
}

/** The number in an event id (`evt-12`, `run3-evt-12` -> 12). */
const numberOf = (eventId: string) => Number(eventId.split('-').pop());

/** Event ids in record order (for sets of records whose completion order across keys is free). */
const inRecordOrder = (eventIds: readonly string[]) =>
  [...eventIds].sort((a, b) => numberOf(a) - numberOf(b));

/** A promise with its resolve and reject, to pace a test by events instead of by time. */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Yields to the event loop until `condition` holds. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

/** The effect table item of a sensor's temperature totals (what `reading()` builds). */
const totalsOf = (sensorId: string) => `sensor#${sensorId}#temperature`;

/** What the readings `ns` (built by `reading(n)`, value 20 + n/10, all in range) add to one sensor's totals. */
function readingsTotal(...ns: number[]): EffectItem {
  return {
    readingCount: ns.length,
    valueSum: ns.reduce((sum, n) => sum + 20 + n / 10, 0),
    outOfRangeCount: 0,
  };
}

/** Effect items compared with their sums rounded (the table adds decimals exactly; the expectation in floats). */
function rounded(effects: Record<string, EffectItem>): Record<string, EffectItem> {
  return Object.fromEntries(
    Object.entries(effects).map(([key, item]) => [
      key,
      Object.fromEntries(
        Object.entries(item).map(([name, value]) => [name, Math.round(value * 1000) / 1000]),
      ),
    ]),
  );
}

/** The effect items, each sensor's `readingCount` only. */
async function readingCounts(): Promise<Record<string, number>> {
  const effects = await db.effects();
  return Object.fromEntries(Object.entries(effects).map(([key, item]) => [key, item.readingCount]));
}

describe('a batch without failures', () => {
  it('applies every reading once, in sequence order, and reports no failure', async () => {
    const h = harness();
    const batch = records(5, () => 'sensor-a');
    await expect(h.invoke(batch)).resolves.toEqual({ batchItemFailures: [] });
    expect(h.sideEffects()).toEqual(['evt-1', 'evt-2', 'evt-3', 'evt-4', 'evt-5']);
    const items = await db.idempotencyRecords();
    expect(items).toHaveLength(5);
    expect(items.every((item) => item.status === 'COMPLETED')).toBe(true);
    expect(items.every((item) => String(item.id).startsWith(`${domain.keyPrefix}#`))).toBe(true);
    expect(rounded(await db.effects())).toEqual(
      rounded({ [totalsOf('sensor-a')]: readingsTotal(1, 2, 3, 4, 5) }),
    );
  });

  it('registers the Lambda context with the idempotency config on every invocation', async () => {
    const h = harness();
    const register = jest.spyOn(h.deps.idempotencyConfig, 'registerLambdaContext');
    await h.invoke(records(1));
    await h.invoke(records(2).slice(1));
    expect(register).toHaveBeenCalledTimes(2);
    expect(register.mock.calls[0][0]).toEqual(expect.objectContaining({ functionName: 'stream-consumer' }));
  });
});

describe('partial failures', () => {
  it('report exactly the failed record and the later records of its partition key; other keys run', async () => {
    // Keys: 1 a, 2 b, 3 a (poison), 4 c, 5 a, 6 b, 7 a
    const keys: Record<number, string> = { 1: 'a', 2: 'b', 3: 'a', 4: 'c', 5: 'a', 6: 'b', 7: 'a' };
    const h = harness({ poison: new Set(['evt-3']) });
    const batch = records(7, (n) => keys[n]);
    expect(await h.failedSequenceNumbers(batch)).toEqual([seq(3), seq(5), seq(7)]);
    // Keys run concurrently: every applied record exactly once, each key's in delivery order.
    expect(inRecordOrder(h.sideEffects())).toEqual(['evt-1', 'evt-2', 'evt-4', 'evt-6']);
    expect(rounded(await db.effects())).toEqual(
      rounded({
        [totalsOf('a')]: readingsTotal(1),
        [totalsOf('b')]: readingsTotal(2, 6),
        [totalsOf('c')]: readingsTotal(4),
      }),
    );
    const keyOf = (eventId: string) => keys[numberOf(eventId)];
    expect(perKey(h.sideEffects(), keyOf)).toEqual({ a: ['evt-1'], b: ['evt-2', 'evt-6'], c: ['evt-4'] });
    // The later records of key a were not run at all.
    expect(inRecordOrder(h.attempts.map((r) => r.eventId))).toEqual([
      'evt-1',
      'evt-2',
      'evt-3',
      'evt-4',
      'evt-6',
    ]);
    expect(
      perKey(
        h.attempts.map((r) => r.eventId),
        keyOf,
      ),
    ).toEqual({
      a: ['evt-1', 'evt-3'],
      b: ['evt-2', 'evt-6'],
      c: ['evt-4'],
    });
  });

  it('log one line per failed record: the error, then each held-back record with its blocker', async () => {
    const h = harness({ poison: new Set(['evt-2']) });
    await h.invoke(records(3, () => 'sensor-a'));
    expect(h.problems()).toEqual([
      [
        'record failed; retried later',
        expect.objectContaining({
          sequenceNumber: seq(2),
          partitionKey: 'sensor-a',
          recordKey: 'evt-2',
          error: { name: 'Error', message: 'poison reading evt-2' },
        }),
      ],
      [
        'record held back',
        expect.objectContaining({
          sequenceNumber: seq(3),
          partitionKey: 'sensor-a',
          reason: expect.stringContaining(`record ${seq(2)} of partition key "sensor-a" failed earlier`),
        }),
      ],
    ]);
  });

  it('fail the whole invocation when every record fails, so that Lambda bisects the batch', async () => {
    const h = harness({ poison: new Set(['evt-1']) });
    const error = await h.invoke(records(3, () => 'sensor-a')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(FullBatchFailureError);
    const causes = (error as FullBatchFailureError).recordErrors;
    expect(causes[0].message).toBe('poison reading evt-1');
    expect(causes.slice(1).every((cause) => cause instanceof EarlierRecordFailedError)).toBe(true);
    expect(h.sideEffects()).toEqual([]);
    expect(await db.effects()).toEqual({});
  });
});

/** The seeds' batch of 10 without its poison record 3, in record order. */
const EVERY_RECORD_BUT_THE_POISON = [1, 2, 4, 5, 6, 7, 8, 9, 10].map((n) => `evt-${n}`);

// The blocks that exercise re-delivery run with both idempotency schemes (lambda/shared/serial-key-persistence.ts).
describe.each(IDEMPOTENCY_SCHEMES)(
  'the seeds walk-through: a batch of 10, the third record poison, bisect, 2 retries, destination (%s)',
  (scheme) => {
    // The deliveries the seeds describe: the batch of 10 fails; halves of 5; the first half splits into 2 + 3;
    // the 2 succeed; the 3 split into the poison record alone + 2; the poison is tried once and retried twice
    // (MaximumRetryAttempts = 2), then sent to the on-failure destination; Lambda works back through the batch
    // of 2 and the second half of 5. Records 1 and 2 are delivered three times, as the seeds point out.
    const deliveries: number[][] = [
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      [1, 2, 3, 4, 5],
      [1, 2],
      [3, 4, 5],
      [3],
      [3],
      [3],
      [4, 5],
      [6, 7, 8, 9, 10],
    ];

    it('with a sensor per record: every other record applied exactly once, the poison never', async () => {
      const h = harness({ poison: new Set(['evt-3']), scheme });
      const all = records(10);
      const failed: string[][] = [];
      for (const delivery of deliveries) failed.push(await h.failedSequenceNumbers(pick(all, ...delivery)));

      expect(failed).toEqual([[seq(3)], [seq(3)], [], [seq(3)], [seq(3)], [seq(3)], [seq(3)], [], []]);
      // One key per record: the keys of a delivery run concurrently, so the order across them is free.
      expect(h.sideEffects()).toHaveLength(9);
      expect(inRecordOrder(h.sideEffects())).toEqual(EVERY_RECORD_BUT_THE_POISON);
      // Records 1 and 2 were delivered three times, but their action ran once: the other deliveries were
      // answered from the idempotency records.
      expect(h.attempts.filter((r) => r.eventId === 'evt-1')).toHaveLength(1);
      expect(h.attempts.filter((r) => r.eventId === 'evt-3')).toHaveLength(6);
      const items = await db.idempotencyRecords();
      expect(items.filter((item) => item.status === 'COMPLETED')).toHaveLength(9);
      // Every sensor but the poison's counts its one reading, once.
      expect(await readingCounts()).toEqual(
        Object.fromEntries([1, 2, 4, 5, 6, 7, 8, 9, 10].map((n) => [totalsOf(`sensor-${n}`), 1])),
      );
    });

    it('with one sensor for all records: later readings wait until the poison is given up on, then run in order', async () => {
      const h = harness({ poison: new Set(['evt-3']), scheme });
      const all = records(10, () => 'sensor-a');
      const failed: string[][] = [];
      for (const delivery of deliveries) failed.push(await h.failedSequenceNumbers(pick(all, ...delivery)));

      const range = (from: number, to: number) =>
        Array.from({ length: to - from + 1 }, (_, i) => seq(from + i));
      expect(failed).toEqual([
        range(3, 10), // 3 fails, 4..10 held back
        range(3, 5),
        [],
        range(3, 5), // every record fails: a function error, Lambda bisects
        [seq(3)],
        [seq(3)],
        [seq(3)], // retries exhausted: the poison goes to the on-failure destination
        [],
        [],
      ]);
      expect(h.sideEffects()).toEqual(EVERY_RECORD_BUT_THE_POISON);
      expect(rounded(await db.effects())).toEqual(
        rounded({ [totalsOf('sensor-a')]: readingsTotal(1, 2, 4, 5, 6, 7, 8, 9, 10) }),
      );
    });
  },
);

describe.each(IDEMPOTENCY_SCHEMES)('re-delivery after a split (%s)', (scheme) => {
  it('a sub-batch of records already applied has no second side effect', async () => {
    const h = harness({ scheme });
    const all = records(10, (n) => `sensor-${n % 3}`);
    await expect(h.invoke(all)).resolves.toEqual({ batchItemFailures: [] });
    await expect(h.invoke(all.slice(0, 5))).resolves.toEqual({ batchItemFailures: [] });
    await expect(h.invoke(all.slice(2, 7))).resolves.toEqual({ batchItemFailures: [] });
    expect(h.sideEffects()).toHaveLength(10);
    expect(new Set(h.sideEffects()).size).toBe(10);
    expect(rounded(await db.effects())).toEqual(
      rounded({
        [totalsOf('sensor-0')]: readingsTotal(3, 6, 9),
        [totalsOf('sensor-1')]: readingsTotal(1, 4, 7, 10),
        [totalsOf('sensor-2')]: readingsTotal(2, 5, 8),
      }),
    );
  });

  it('a record whose first attempt failed runs again and is applied once it succeeds', async () => {
    const poison = new Set(['evt-2']);
    const h = harness({ poison, scheme });
    const all = records(3, () => 'sensor-a');
    expect(await h.failedSequenceNumbers(all)).toEqual([seq(2), seq(3)]);
    poison.clear(); // the downstream came back
    expect(await h.failedSequenceNumbers(all.slice(1))).toEqual([]);
    expect(h.sideEffects()).toEqual(['evt-1', 'evt-2', 'evt-3']);
    expect(rounded(await db.effects())).toEqual(rounded({ [totalsOf('sensor-a')]: readingsTotal(1, 2, 3) }));
  });
});

describe('idempotency key', () => {
  it.each(IDEMPOTENCY_SCHEMES)(
    'defaults to the eventId: a producer retry (same reading, new sequence number) is applied once (%s)',
    async (scheme) => {
      const h = harness({ scheme });
      const original = kinesisRecord({ n: 1, payload: reading(1) });
      const producerRetry = kinesisRecord({ n: 2, payload: reading(1) });
      await h.invoke([original, producerRetry]);
      expect(h.sideEffects()).toEqual(['evt-1']);
      expect(await readingCounts()).toEqual({ [totalsOf('sensor-a')]: 1 });
      expect(keyByEventId(reading(1), original)).toBe('event:evt-1');
    },
  );

  it('can be the record position instead: survives re-delivery, but not a producer retry', async () => {
    const h = harness({ idempotencyKeyOf: keyByStreamPosition });
    const original = kinesisRecord({ n: 1, payload: reading(1) });
    const producerRetry = kinesisRecord({ n: 2, payload: reading(1) });
    await h.invoke([original]);
    await h.invoke([original]);
    expect(h.sideEffects()).toEqual(['evt-1']);
    await h.invoke([producerRetry]);
    expect(h.sideEffects()).toEqual(['evt-1', 'evt-1']);
    // Keyed by position, a producer retry is new work: the reading is counted twice.
    expect(await readingCounts()).toEqual({ [totalsOf('sensor-a')]: 2 });
    expect(keyByStreamPosition(reading(1), original)).toBe(`record:shardId-000000000000:${seq(1)}`);
  });

  it('a concurrent duplicate (already in progress) fails instead of running twice, and the first completes', async () => {
    // Two invocations at once, through one handler: also proves the handler keeps no batch state between
    // invocations of one execution environment.
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const h = harness({ before: () => blocked });
    const record = kinesisRecord({ n: 1 });
    const first = h.invoke([record]);
    await until(() => h.attempts.length === 1); // the first invocation has claimed the key and is planning
    const second = h.invoke([record]).catch((caught: unknown) => caught);
    await expect(second).resolves.toBeInstanceOf(FullBatchFailureError);
    release();
    await expect(first).resolves.toEqual({ batchItemFailures: [] });
    expect(h.sideEffects()).toEqual(['evt-1']);
    expect(h.infos()).toContainEqual([
      'already in progress in another invocation; retried later',
      expect.objectContaining({ sequenceNumber: seq(1) }),
    ]);
    expect(await readingCounts()).toEqual({ [totalsOf('sensor-a')]: 1 });
  });
});

describe('what each idempotency scheme relies on', () => {
  // The same reading (same eventId) under two partition keys in one batch: the keys run concurrently. The
  // stream never does this for a producer retry (it repeats the whole PutRecord, partition key included).
  const sameReadingUnderTwoKeys = () => [
    kinesisRecord({ n: 1, payload: reading(1), partitionKey: 'sensor-a' }),
    kinesisRecord({ n: 2, payload: reading(1), partitionKey: 'sensor-b' }),
  ];

  it('claim-then-complete: a copy running at the same time finds the claim and fails; applied once', async () => {
    const gate = deferred();
    const h = harness({ before: () => gate.promise });
    const invocation = h.invoke(sameReadingUnderTwoKeys());
    await until(() => h.infos().some(([message]) => message.startsWith('already in progress')));
    gate.resolve();
    await expect(invocation).resolves.toEqual({ batchItemFailures: [{ itemIdentifier: seq(2) }] });
    expect(h.sideEffects()).toEqual(['evt-1']);
    expect(await readingCounts()).toEqual({ [totalsOf('sensor-a')]: 1 });
  });

  it('read-then-complete (F8): two copies running at the same time are both planned, and the commit lets one through', async () => {
    const gate = deferred();
    const h = harness({ scheme: 'read-then-complete', before: () => gate.promise });
    const invocation = h.invoke(sameReadingUnderTwoKeys());
    // Both copies have read "not recorded yet" and started planning before either commits.
    await until(() => h.attempts.length === 2);
    gate.resolve();
    await expect(invocation).resolves.toEqual({ batchItemFailures: [] });
    // Applied exactly once: one effect, one side-effect line; the other copy was told so and wrote nothing.
    expect(await db.effects()).toEqual({ [totalsOf('sensor-a')]: readingsTotal(1) });
    expect(h.sideEffects()).toEqual(['evt-1']);
    expect(h.infos()).toContainEqual([
      'applied meanwhile by another delivery: nothing applied',
      expect.objectContaining({ recordKey: 'evt-1' }),
    ]);
    expect(await db.idempotencyRecords()).toEqual([expect.objectContaining({ status: 'COMPLETED' })]);
  });
});

describe('bad payloads', () => {
  it('data that is not base64-encoded JSON fails its record with one structured line', async () => {
    const h = harness();
    const batch = [
      kinesisRecord({ n: 1, data: Buffer.from('not json').toString('base64'), partitionKey: 'sensor-x' }),
      kinesisRecord({ n: 2, data: '%%%not-base64%%%', partitionKey: 'sensor-y' }),
      kinesisRecord({ n: 3, payload: reading(3, { sensorId: 'sensor-z' }) }),
    ];
    expect(await h.failedSequenceNumbers(batch)).toEqual([seq(1), seq(2)]);
    expect(h.sideEffects()).toEqual(['evt-3']);
    expect(await readingCounts()).toEqual({ [totalsOf('sensor-z')]: 1 });
    expect(h.problems()).toEqual([
      [
        'invalid payload',
        expect.objectContaining({
          sequenceNumber: seq(1),
          partitionKey: 'sensor-x',
          shardId: 'shardId-000000000000',
          reason: expect.stringMatching(/^payload is not JSON/),
          issues: [],
        }),
      ],
      ['invalid payload', expect.objectContaining({ sequenceNumber: seq(2), partitionKey: 'sensor-y' })],
    ]);
  });

  it('an invalid payload fails alone: the later readings of its key are applied, in order (F10)', async () => {
    const h = harness();
    const batch = [
      kinesisRecord({ n: 1, payload: reading(1, { sensorId: 'sensor-a' }) }),
      kinesisRecord({ n: 2, payload: { ...reading(2, { sensorId: 'sensor-a' }), value: 'very hot' } }),
      kinesisRecord({ n: 3, payload: reading(3, { sensorId: 'sensor-a' }) }),
      kinesisRecord({ n: 4, payload: reading(4, { sensorId: 'sensor-a' }) }),
    ];
    // Only the invalid record is reported: Lambda retries it and finally sends it to the on-failure destination,
    // while the healthy readings after it are already applied instead of going there with it.
    expect(await h.failedSequenceNumbers(batch)).toEqual([seq(2)]);
    expect(h.sideEffects()).toEqual(['evt-1', 'evt-3', 'evt-4']);
    expect(await readingCounts()).toEqual({ [totalsOf('sensor-a')]: 3 });
    // The retry from the invalid record on applies nothing twice.
    expect(await h.failedSequenceNumbers(batch.slice(1))).toEqual([seq(2)]);
    expect(await readingCounts()).toEqual({ [totalsOf('sensor-a')]: 3 });
  });

  it('an event that is not a Kinesis batch fails whole, with one ERROR line saying what arrived', async () => {
    const h = harness();
    const sqsEvent = { Records: [{ eventSource: 'aws:sqs', messageId: 'm-1', body: '{}' }] };
    const error = await h.handler(sqsEvent as never, lambdaContext()).catch((caught: unknown) => caught);
    expect((error as Error).name).toBe('WrongEventError');
    expect(h.problems()).toEqual([
      [
        "not an event of this function's source: the whole invocation fails",
        {
          reason:
            'not an aws:kinesis event: record 0 has eventSource "aws:sqs" and no eventID, kinesis.partitionKey, ' +
            'kinesis.sequenceNumber, kinesis.data',
        },
      ],
    ]);
    expect(h.attempts).toEqual([]);
  });

  it('a payload of the wrong shape names every schema issue', async () => {
    const h = harness();
    const wrong = {
      eventId: '',
      sensorId: 'sensor-a',
      recordedAt: 'yesterday',
      metric: 'noise',
      value: 'hot',
    };
    expect(await h.failedSequenceNumbers([kinesisRecord({ n: 1, payload: wrong })])).toEqual([seq(1)]);
    expect(h.problems()).toEqual([
      [
        'invalid payload',
        expect.objectContaining({
          sequenceNumber: seq(1),
          issues: [
            expect.stringMatching(/^eventId: /),
            expect.stringMatching(/^recordedAt: /),
            expect.stringMatching(/^metric: /),
            expect.stringMatching(/^value: /),
          ],
        }),
      ],
    ]);
    expect(h.attempts).toEqual([]);
    expect(await db.effects()).toEqual({});
  });

  it('warns when the partition key is not the sensor id, and still applies the reading', async () => {
    const h = harness();
    await h.invoke([kinesisRecord({ n: 1, payload: reading(1), partitionKey: 'some-other-key' })]);
    expect(h.sideEffects()).toEqual(['evt-1']);
    // The effect is the sensor's, whatever the partition key.
    expect(await readingCounts()).toEqual({ [totalsOf('sensor-a')]: 1 });
    expect(h.problems()).toEqual([
      [
        "partition key is not the reading's own: order is kept per partition key only",
        expect.objectContaining({ partitionKey: 'some-other-key', expectedPartitionKey: 'sensor-a' }),
      ],
    ]);
  });
});

describe('DynamoDB unreachable', () => {
  it('fails every record (a function error) and runs no side effect', async () => {
    const h = harness({ client: unreachableDynamoDbClient() });
    const batch = records(3, (n) => `sensor-${n}`);
    await expect(h.invoke(batch)).rejects.toBeInstanceOf(FullBatchFailureError);
    expect(h.sideEffects()).toEqual([]);
    expect(h.attempts).toEqual([]);
    expect(await db.effects()).toEqual({});
  });
});

describe('per-partition-key order', () => {
  it('holds for any interleaving of keys and any failing readings', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ key: fc.constantFrom('a', 'b', 'c'), poison: fc.boolean() }), {
          minLength: 1,
          maxLength: 12,
        }),
        async (specs) => {
          run += 1;
          const id = (n: number) => `run${run}-evt-${n}`;
          const poison = new Set(specs.flatMap((spec, i) => (spec.poison ? [id(i + 1)] : [])));
          const h = harness({ poison });
          const batch = specs.map((spec, i) =>
            kinesisRecord({ n: i + 1, payload: reading(i + 1, { eventId: id(i + 1), sensorId: spec.key }) }),
          );
          const failed = new Set(await h.failedSequenceNumbers(batch));

          // Expected: per key, the records before its first poison are applied, in order; the rest fail.
          const firstPoison = new Map<string, number>();
          specs.forEach((spec, i) => {
            if (spec.poison && !firstPoison.has(spec.key)) firstPoison.set(spec.key, i);
          });
          const shouldApply = (i: number) => i < (firstPoison.get(specs[i].key) ?? Infinity);
          const expectedApplied = specs.flatMap((_, i) => (shouldApply(i) ? [id(i + 1)] : []));
          const expectedFailed = specs.flatMap((_, i) => (shouldApply(i) ? [] : [seq(i + 1)]));

          // Each applied record exactly once; within a key, in delivery order (keys run concurrently).
          const keyOf = (eventId: string) => specs[numberOf(eventId) - 1].key;
          expect(inRecordOrder(h.sideEffects())).toEqual(expectedApplied);
          expect(perKey(h.sideEffects(), keyOf)).toEqual(perKey(expectedApplied, keyOf));
          // (When every record fails, the whole invocation fails and every record counts as failed: the same.)
          expect([...failed]).toEqual(expectedFailed);
          // No record of a key ran after a failure of that key.
          for (const [key, index] of firstPoison) {
            const ranLater = h.attempts.filter(
              (r) => r.sensorId === key && Number(r.eventId.split('-').pop()) - 1 > index,
            );
            expect(ranLater).toEqual([]);
          }
        },
      ),
      { numRuns: 30 },
    );
  });
});

describe('concurrency across partition keys (paced by deferred promises, never by time)', () => {
  it('a slow record of one key does not delay the records of another key', async () => {
    const slowA = deferred();
    const lastOfBDone = deferred();
    // 1 a (slow), 2 b, 3 b
    const h = harness({
      before: async (r) => {
        if (r.eventId === 'evt-1') await slowA.promise;
      },
      after: (eventId) => {
        if (eventId === 'evt-3') lastOfBDone.resolve();
      },
    });
    const invocation = h.invoke(records(3, (n) => (n === 1 ? 'sensor-a' : 'sensor-b')));

    // Both records of key b are applied while the record of key a is still running (its plan has
    // started and is blocked): a sequential handler would never get here.
    await lastOfBDone.promise;
    expect(h.attempts.map((r) => r.eventId)).toContain('evt-1');
    expect(h.sideEffects()).toEqual(['evt-2', 'evt-3']);

    slowA.resolve();
    await expect(invocation).resolves.toEqual({ batchItemFailures: [] });
    expect(h.sideEffects()).toEqual(['evt-2', 'evt-3', 'evt-1']);
  });

  it('the records of one key run one after the other, in delivery order, while other keys run', async () => {
    const timeline: string[] = [];
    const firstOfA = deferred();
    const lastOfBDone = deferred();
    // 1 a, 2 b, 3 a, 4 b, 5 a: the first record of a is held until key b is finished.
    const keys: Record<number, string> = { 1: 'a', 2: 'b', 3: 'a', 4: 'b', 5: 'a' };
    const h = harness({
      before: async (r) => {
        timeline.push(`start ${r.eventId}`);
        if (r.eventId === 'evt-1') await firstOfA.promise;
      },
      after: (eventId) => {
        timeline.push(`done ${eventId}`);
        if (eventId === 'evt-4') lastOfBDone.resolve();
      },
    });
    const invocation = h.invoke(records(5, (n) => keys[n]));

    await lastOfBDone.promise;
    // Key b is done; key a's later records have not started behind its unfinished first record.
    expect(timeline.filter((entry) => entry.endsWith('evt-3') || entry.endsWith('evt-5'))).toEqual([]);
    expect(timeline).toContain('start evt-1');
    expect(timeline).not.toContain('done evt-1');

    firstOfA.resolve();
    await expect(invocation).resolves.toEqual({ batchItemFailures: [] });
    const ofKeyA = timeline.filter((entry) => keys[numberOf(entry)] === 'a');
    expect(ofKeyA).toEqual([
      'start evt-1',
      'done evt-1',
      'start evt-3',
      'done evt-3',
      'start evt-5',
      'done evt-5',
    ]);
    expect(h.sideEffects()).toHaveLength(5);
  });

  it('a failure holds back the later records of its key, even when other keys finish first', async () => {
    const firstOfA = deferred();
    const lastOfBDone = deferred();
    // 1 a (fails, after key b is done), 2 b, 3 a, 4 b, 5 a
    const keys: Record<number, string> = { 1: 'a', 2: 'b', 3: 'a', 4: 'b', 5: 'a' };
    const h = harness({
      poison: new Set(['evt-1']),
      before: async (r) => {
        if (r.eventId === 'evt-1') await firstOfA.promise;
      },
      after: (eventId) => {
        if (eventId === 'evt-4') lastOfBDone.resolve();
      },
    });
    const failed = h.failedSequenceNumbers(records(5, (n) => keys[n]));

    await lastOfBDone.promise;
    firstOfA.resolve(); // evt-1 now throws (poison)
    expect(await failed).toEqual([seq(1), seq(3), seq(5)]);
    expect(h.sideEffects()).toEqual(['evt-2', 'evt-4']);
    // Key a's later records never ran: held back by evt-1, with one line each naming it.
    expect(inRecordOrder(h.attempts.map((r) => r.eventId))).toEqual(['evt-1', 'evt-2', 'evt-4']);
    const blockedByFirst = expect.stringContaining(`record ${seq(1)} of partition key "a" failed earlier`);
    expect(h.problems()).toEqual([
      [
        'record failed; retried later',
        expect.objectContaining({ sequenceNumber: seq(1), partitionKey: 'a' }),
      ],
      ['record held back', expect.objectContaining({ sequenceNumber: seq(3), reason: blockedByFirst })],
      ['record held back', expect.objectContaining({ sequenceNumber: seq(5), reason: blockedByFirst })],
    ]);
  });

  it('reports the same failures as processing the batch sequentially, whatever order the keys finish in', async () => {
    // A mixed batch: three keys, failing readings (each holding back the rest of its key) and a payload that is
    // not JSON (it can never be applied: it fails alone and holds nothing back). The records of key c finish
    // first and those of key a last (a key's first record waits for the next key to finish), the reverse of
    // delivery order.
    type Spec = { key: string; poison?: boolean; invalid?: boolean };
    const specs: Spec[] = [
      { key: 'a' },
      { key: 'b' },
      { key: 'a', poison: true },
      { key: 'c' },
      { key: 'b', invalid: true },
      { key: 'a' },
      { key: 'c' },
      { key: 'b' },
      { key: 'c', poison: true },
      { key: 'a' },
      { key: 'c' },
    ];
    const poison = new Set(specs.flatMap((spec, i) => (spec.poison ? [`evt-${i + 1}`] : [])));
    // Key c's last success is evt-7 (evt-9 is poison); key b's is evt-8 (evt-5 is invalid and holds nothing back).
    const cDone = deferred();
    const bDone = deferred();
    const h = harness({
      poison,
      before: async (r) => {
        if (r.eventId === 'evt-1') await bDone.promise; // key a starts once key b is done
        if (r.eventId === 'evt-2') await cDone.promise; // key b starts once key c is done
      },
      after: (eventId) => {
        if (eventId === 'evt-7') cDone.resolve();
        if (eventId === 'evt-8') bDone.resolve();
      },
    });
    const batch = specs.map((spec, i) =>
      spec.invalid
        ? kinesisRecord({
            n: i + 1,
            data: Buffer.from('not json').toString('base64'),
            partitionKey: spec.key,
          })
        : kinesisRecord({ n: i + 1, payload: reading(i + 1, { sensorId: spec.key }) }),
    );
    const response = await h.invoke(batch);

    // The sequential reference: records in delivery order, a key stops at its first failure that may pass; an
    // invalid record only fails itself.
    const stopped = new Set<string>();
    const expectedFailures: string[] = [];
    const expectedApplied: string[] = [];
    specs.forEach((spec, i) => {
      if (stopped.has(spec.key) || spec.poison || spec.invalid) {
        if (!spec.invalid) stopped.add(spec.key);
        expectedFailures.push(seq(i + 1));
      } else {
        expectedApplied.push(`evt-${i + 1}`);
      }
    });
    expect(response).toEqual({
      batchItemFailures: expectedFailures.map((itemIdentifier) => ({ itemIdentifier })),
    });
    expect(expectedFailures).toEqual([seq(3), seq(5), seq(6), seq(9), seq(10), seq(11)]);
    const keyOf = (eventId: string) => specs[numberOf(eventId) - 1].key;
    expect(perKey(h.sideEffects(), keyOf)).toEqual(perKey(expectedApplied, keyOf));
    expect(inRecordOrder(h.sideEffects())).toEqual(expectedApplied);
    // The keys finished in reverse: c before b before a.
    expect(h.sideEffects().map(keyOf)).toEqual(['c', 'c', 'b', 'b', 'a']);
    // One line per failed record, each key's in delivery order.
    const numberOfSequence = new Map(specs.map((_, i) => [seq(i + 1), i + 1]));
    const problemsOf = (key: string) =>
      h
        .problems()
        .filter(([, extra]) => extra.partitionKey === key)
        .map(([message, extra]) => `${message} ${numberOfSequence.get(extra.sequenceNumber as string)}`);
    expect(problemsOf('a')).toEqual([
      'record failed; retried later 3',
      'record held back 6',
      'record held back 10',
    ]);
    expect(problemsOf('b')).toEqual(['invalid payload 5']);
    expect(problemsOf('c')).toEqual(['record failed; retried later 9', 'record held back 11']);
  });
});

describe.each(IDEMPOTENCY_SCHEMES)('a commit that does not go through (F1, %s)', (scheme) => {
  // One attempt per call: a throttled call is not retried (the SDK's throttling backoff is up to a second), so
  // "every attempt" is the one (the SQS tests show the SDK's retries throttled too).
  const BUDGET: DynamoDbCallBudget = { requestTimeoutMs: 200, maxAttempts: 1 };
  const environment = 'stream-env-1';
  // Sensor a's commit (the transaction that writes its totals) meets the fault; sensor b's does not.
  const batch = () => [
    kinesisRecord({ n: 1, payload: reading(1, { sensorId: 'sensor-a' }) }),
    kinesisRecord({ n: 2, payload: reading(2, { sensorId: 'sensor-b' }) }),
  ];

  it('throttled on every attempt: an item failure, nothing applied; the immediate retry is not blocked by "already in progress"', async () => {
    const injector = db.inject(
      [{ operation: 'TransactWriteItems', call: 1, kind: 'throttle' }],
      mentioning(totalsOf('sensor-a')),
    );
    const h = harness({
      scheme,
      client: db.clientFor(environment, BUDGET),
      budget: BUDGET,
      faults: { injector, environment },
    });
    expect(await h.invoke(batch())).toEqual({ batchItemFailures: [{ itemIdentifier: seq(1) }] });
    expect(injector.hits.map((hit) => `${hit.fault.kind} ${hit.operation} #${hit.attempt}`)).toEqual([
      'throttle TransactWriteItems #1',
    ]);
    expect(await readingCounts()).toEqual({ [totalsOf('sensor-b')]: 1 });
    // Nothing holds the key: claim-then-complete released its claim, read-then-complete wrote none.
    expect((await db.idempotencyRecords()).map((record) => record.status)).toEqual(['COMPLETED']);

    // Lambda re-delivers from the checkpoint at once: applied now, once.
    expect(await h.invoke(batch())).toEqual({ batchItemFailures: [] });
    expect(h.infos().filter(([message]) => message.startsWith('already in progress'))).toEqual([]);
    expect(h.sideEffects()).toEqual(['evt-2', 'evt-1']);
    expect(rounded(await db.effects())).toEqual(
      rounded({ [totalsOf('sensor-a')]: readingsTotal(1), [totalsOf('sensor-b')]: readingsTotal(2) }),
    );
  });

  it('applied with its answer lost (timing after): an item failure; the retry is answered from the store, applied once', async () => {
    const injector = db.inject(
      [{ operation: 'TransactWriteItems', call: 1, kind: 'error', timing: 'after' }],
      mentioning(totalsOf('sensor-a')),
    );
    const h = harness({
      scheme,
      client: db.clientFor(environment, BUDGET),
      budget: BUDGET,
      faults: { injector, environment },
    });
    expect(await h.invoke(batch())).toEqual({ batchItemFailures: [{ itemIdentifier: seq(1) }] });
    expect(await readingCounts()).toEqual({ [totalsOf('sensor-a')]: 1, [totalsOf('sensor-b')]: 1 });

    expect(await h.invoke(batch())).toEqual({ batchItemFailures: [] });
    expect(h.infos()).toContainEqual([
      'duplicate: answered from the idempotency record, nothing applied',
      expect.objectContaining({ recordKey: 'evt-1', sequenceNumber: seq(1) }),
    ]);
    expect(h.attempts.filter((r) => r.eventId === 'evt-1')).toHaveLength(1);
    expect(await readingCounts()).toEqual({ [totalsOf('sensor-a')]: 1, [totalsOf('sensor-b')]: 1 });
  });
});

describe('stable idempotency key prefix (F4)', () => {
  restoreEnvironmentAfterEach('AWS_LAMBDA_FUNCTION_NAME');

  it('stores records under the fixed prefix whatever the function is named, so a replaced function still finds them', async () => {
    const batch = records(2);
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'StreamIngestionStack-StreamConsumerFunctionA1B2-Old';
    await harness().invoke(batch);
    // CloudFormation replaced the function (and a mapping re-created at TRIM_HORIZON re-delivers the stream).
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'StreamIngestionStack-StreamConsumerFunctionC3D4-New';
    const replaced = harness();
    expect(await replaced.invoke(batch)).toEqual({ batchItemFailures: [] });

    const ids = (await db.idempotencyRecords()).map((record) => String(record.id));
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(id).toMatch(new RegExp(`^${domain.keyPrefix}#`));
    expect(replaced.attempts).toEqual([]);
    expect(await readingCounts()).toEqual({ [totalsOf('sensor-1')]: 1, [totalsOf('sensor-2')]: 1 });
  });
});

describe('deadlines (F7)', () => {
  it('does not start a record once less than its worst case is left: a DeadlineError item failure and a WARN line; the rest reported done', async () => {
    const budget: DynamoDbCallBudget = { requestTimeoutMs: 200, maxAttempts: 2 };
    const neededMs = worstCaseRecordMs(budget);
    // The invocation's clock, moved on by the test: most of the time goes by while evt-1 is planned.
    let remainingMs = 30_000;
    const context: Context = { ...lambdaContext(), getRemainingTimeInMillis: () => remainingMs };
    const h = harness({
      budget,
      before: async (r) => {
        if (r.eventId === 'evt-1') remainingMs = neededMs - 1;
      },
    });
    // 1 a, 2 a, 3 a, 4 b: key b's record starts with key a's first, before the time runs short.
    const batch = records(4, (n) => (n === 4 ? 'sensor-b' : 'sensor-a'));
    expect(await h.invoke(batch, context)).toEqual({
      batchItemFailures: [{ itemIdentifier: seq(2) }, { itemIdentifier: seq(3) }],
    });
    expect(h.problems()).toEqual([
      [
        'not started: too little time left in the invocation; retried later',
        expect.objectContaining({
          sequenceNumber: seq(2),
          recordKey: 'evt-2',
          remainingMs: neededMs - 1,
          neededMs,
        }),
      ],
      ['record held back', expect.objectContaining({ sequenceNumber: seq(3) })],
    ]);
    expect(inRecordOrder(h.attempts.map((r) => r.eventId))).toEqual(['evt-1', 'evt-4']);
    expect(await readingCounts()).toEqual({ [totalsOf('sensor-a')]: 1, [totalsOf('sensor-b')]: 1 });
    // evt-2 was not started: not even claimed.
    expect(await db.idempotencyRecords()).toHaveLength(2);
  });
});
