/**
 * The stream consumer's handler against a real DynamoDB API (dynalite, in-process, with transactions): Powertools'
 * BatchProcessor and idempotency and the exactly-once commit run unmodified. The plan is the domain's own
 * (`domain.plan`), wrapped so a test can make chosen records fail or hold them; what a record did is asserted on
 * the durable data (the effect table) and on the "side effect done" lines, which the applier writes once a commit
 * went through, exactly as the local simulator and CloudWatch Logs Insights count them.
 *
 * The records, their keys and the effects expected come from the path's domain module (domain.ts: its examples,
 * idempotency key, partition key and plan), so these tests hold for whatever domain a fork puts there.
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
import type { MessageOf } from '../../../lambda/shared/domain';
import { domain, examples } from '../../../lambda/stream-consumer/domain';
import type { CallFaultInjector } from '../../../tools/shared/dynamodb-faults';
import {
  effectsOf,
  invalidJsonBody,
  invalidJsonBodyOfAllFaults,
  rounded,
  schemaIssuesOf,
} from '../../helpers/domain';
import { mentioning, unreachableDynamoDbClient, useFaultyDynamoDb } from '../../helpers/dynamodb';
import { restoreEnvironmentAfterEach } from '../../helpers/environment';
import { base64, kinesisEvent, kinesisRecord, lambdaContext, sequenceNumber } from './kinesis-events';

const db = useFaultyDynamoDb();

type LogCall = [string, Record<string, unknown>];
/** The path's message (a reading in the template), whatever the domain module calls it. */
type Reading = MessageOf<typeof domain>;

interface Harness {
  readonly handler: StreamConsumerHandler;
  readonly deps: IdempotencyDependencies;
  /** Runs one invocation with a fresh Lambda context (or `context`). */
  invoke(records: KinesisStreamRecord[], context?: Context): Promise<KinesisStreamBatchResponse>;
  /** Runs one invocation and returns the failed sequence numbers (all of them if the whole batch failed). */
  failedSequenceNumbers(records: KinesisStreamRecord[]): Promise<string[]>;
  /** The example id of every "side effect done" line (found by its recordKey, the idempotency key), in order. */
  sideEffects(): string[];
  /** [message, attributes] of every error and warning line, in order. */
  problems(): LogCall[];
  infos(): LogCall[];
  /** Ids of the records the plan was called with (including the ones it failed). */
  readonly attempts: string[];
}

function harness(
  options: {
    client?: DynamoDBClient;
    /** Ids of the records whose plan throws (a "function error" for that record). */
    poison?: Set<string>;
    idempotencyKeyOf?: IdempotencyKeyOf;
    /** Runs before the real plan, with the record's id (e.g. to block it). */
    before?: (id: string) => Promise<void>;
    /** Runs once a record's effect is committed and its side-effect line written, with its id (e.g. to signal it). */
    after?: (id: string) => void;
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
    if (args[0] === SIDE_EFFECT_LOG_MESSAGE)
      options.after?.(idOf((args[1] as { recordKey: string }).recordKey));
  });
  const warn = jest.spyOn(logger, 'warn');
  const error = jest.spyOn(logger, 'error');
  const attempts: string[] = [];
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
      const id = idOf(domain.idempotencyKey(r));
      attempts.push(id);
      await options.before?.(id);
      if (options.poison?.has(id)) throw new Error(`poison record ${id}`);
      return domain.plan(r);
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
        .map(([, extra]) => idOf((extra as { recordKey: string }).recordKey)),
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

/*
 * The records come from the path's domain module, so these tests hold for any domain a fork puts there. A test
 * names a record by its number `n` (its place in the shard; its id is `evt-<n>`) and its partition key by a label
 * ('a', 'b', `key-<n>`): each label is one example group. Contract facts relied on (lambda/shared/domain.ts, held
 * for every domain by test/lambda/shared/domain.test.ts):
 * - records of one group share their partition key and their effect item, and different groups have different
 *   ones, so a label is one partition key and one effect item, and `partitionKeyOf`/`totalsOf` may take any
 *   example of the group;
 * - the idempotency key contains the id, differs between ids and depends on the id and the group only, so a
 *   side-effect line's recordKey names its record's id (`idOf`), whatever the variant;
 * - examples are pure (the same arguments give the same record), so `reading(n, label)` built again for an
 *   expectation is the record that was sent.
 */

/** Example group of each label, in order of first use. */
const groups = new Map<string, number>();
/** Id of each idempotency key built by `reading` in the current test, and back. */
const idByKey = new Map<string, string>();
const keyById = new Map<string, string>();
beforeEach(() => {
  idByKey.clear();
  keyById.clear();
});

/** The example group of partition-key label `label`. */
function groupOf(label: string): number {
  const group = groups.get(label) ?? groups.size + 1;
  groups.set(label, group);
  return group;
}

/** The partition key of the records of label `label`. */
const partitionKeyOf = (label: string): string =>
  domain.partitionKey(examples.valid('any', { group: groupOf(label) }));

/** The effect table item of the records of label `label`. */
const totalsOf = (label: string): string =>
  domain.plan(examples.valid('any', { group: groupOf(label) })).effect[0].key;

/** Record `n` of label `label`: the example `id` of the label's group, variant `n`. */
function reading(n: number, label: string, id = `evt-${n}`): Reading {
  const message = examples.valid(id, { group: groupOf(label), variant: n });
  const key = domain.idempotencyKey(message);
  if ((keyById.get(id) ?? key) !== key) throw new Error(`record ${id} built in two groups in one test`);
  idByKey.set(key, id);
  keyById.set(id, key);
  return message;
}

/** The id of the record whose idempotency key (a log line's recordKey) is `key`. */
function idOf(key: string): string {
  const id = idByKey.get(key);
  if (id === undefined) throw new Error(`no record of this test has the idempotency key "${key}"`);
  return id;
}

/** The idempotency key (a log line's recordKey) of the record `id` built by `reading` in this test. */
function recordKeyOf(id: string): string {
  const key = keyById.get(id);
  if (key === undefined) throw new Error(`no record ${id} was built in this test`);
  return key;
}

/** Records `ns`, each `reading(n, labelOf(n))`. */
const readings = (ns: readonly number[], labelOf: (n: number) => string = (n) => `key-${n}`): Reading[] =>
  ns.map((n) => reading(n, labelOf(n)));

/** Records 1..count of one shard; `labelOf(n)` chooses each record's partition key (a key per record by default). */
function records(count: number, labelOf?: (n: number) => string): KinesisStreamRecord[] {
  const ns = Array.from({ length: count }, (_, i) => i + 1);
  return readings(ns, labelOf).map((payload, i) => kinesisRecord({ n: ns[i], payload }));
}

const seq = sequenceNumber;
const pick = (all: KinesisStreamRecord[], ...ns: number[]) => ns.map((n) => all[n - 1]);

/**
 * Record ids grouped by partition-key label, each group in the order given. Records of different keys run
 * concurrently, so the order *across* keys is not a guarantee (and not asserted); the order within a key is.
 */
function perKey(ids: readonly string[], labelOf: (id: string) => string): Record<string, string[]> {
  const byLabel: Record<string, string[]> = {};
  for (const id of ids) (byLabel[labelOf(id)] ??= []).push(id);
  return byLabel;
}

/** The number in a record id (`evt-12`, `run3-evt-12` -> 12). */
const numberOf = (id: string) => Number(id.split('-').pop());

/** Record ids in record order (for sets of records whose completion order across keys is free). */
const inRecordOrder = (ids: readonly string[]) => [...ids].sort((a, b) => numberOf(a) - numberOf(b));

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
async function until(condition: () => boolean, limitMs = 20_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    // A failing test would otherwise loop here for ever and keep the worker alive after the run.
    if (Date.now() > deadline) throw new Error(`until(): the condition did not hold within ${limitMs} ms`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** The effect table expected once each of `messages` was applied (a record listed twice: applied twice). */
const applied = (...messages: Reading[]) => rounded(effectsOf(domain.plan, messages));

/** The effect table now, to compare with {@link applied} (counters rounded alike). */
const effectTable = async () => rounded(await db.effects());

describe('a batch without failures', () => {
  it('applies every record once, in sequence order, and reports no failure', async () => {
    const h = harness();
    const batch = records(5, () => 'a');
    await expect(h.invoke(batch)).resolves.toEqual({ batchItemFailures: [] });
    expect(h.sideEffects()).toEqual(['evt-1', 'evt-2', 'evt-3', 'evt-4', 'evt-5']);
    const items = await db.idempotencyRecords();
    expect(items).toHaveLength(5);
    expect(items.every((item) => item.status === 'COMPLETED')).toBe(true);
    expect(items.every((item) => String(item.id).startsWith(`${domain.keyPrefix}#`))).toBe(true);
    expect(await effectTable()).toEqual(applied(...readings([1, 2, 3, 4, 5], () => 'a')));
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
    expect(await effectTable()).toEqual(applied(...readings([1, 2, 4, 6], (n) => keys[n])));
    const labelOf = (id: string) => keys[numberOf(id)];
    expect(perKey(h.sideEffects(), labelOf)).toEqual({ a: ['evt-1'], b: ['evt-2', 'evt-6'], c: ['evt-4'] });
    // The later records of key a were not run at all.
    expect(inRecordOrder(h.attempts)).toEqual(['evt-1', 'evt-2', 'evt-3', 'evt-4', 'evt-6']);
    expect(perKey(h.attempts, labelOf)).toEqual({
      a: ['evt-1', 'evt-3'],
      b: ['evt-2', 'evt-6'],
      c: ['evt-4'],
    });
  });

  it('log one line per failed record: the error, then each held-back record with its blocker', async () => {
    const h = harness({ poison: new Set(['evt-2']) });
    await h.invoke(records(3, () => 'a'));
    expect(h.problems()).toEqual([
      [
        'record failed; retried later',
        expect.objectContaining({
          sequenceNumber: seq(2),
          partitionKey: partitionKeyOf('a'),
          recordKey: recordKeyOf('evt-2'),
          error: { name: 'Error', message: 'poison record evt-2' },
        }),
      ],
      [
        'record held back',
        expect.objectContaining({
          sequenceNumber: seq(3),
          partitionKey: partitionKeyOf('a'),
          reason: expect.stringContaining(
            `record ${seq(2)} of partition key "${partitionKeyOf('a')}" failed earlier`,
          ),
        }),
      ],
    ]);
  });

  it('fail the whole invocation when every record fails, so that Lambda bisects the batch', async () => {
    const h = harness({ poison: new Set(['evt-1']) });
    const error = await h.invoke(records(3, () => 'a')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(FullBatchFailureError);
    const causes = (error as FullBatchFailureError).recordErrors;
    expect(causes[0].message).toBe('poison record evt-1');
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

    it('with a partition key per record: every other record applied exactly once, the poison never', async () => {
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
      expect(h.attempts.filter((id) => id === 'evt-1')).toHaveLength(1);
      expect(h.attempts.filter((id) => id === 'evt-3')).toHaveLength(6);
      const items = await db.idempotencyRecords();
      expect(items.filter((item) => item.status === 'COMPLETED')).toHaveLength(9);
      // Every record but the poison is in its key's effect item, once.
      expect(await effectTable()).toEqual(applied(...readings([1, 2, 4, 5, 6, 7, 8, 9, 10])));
    });

    it('with one partition key for all records: later records wait until the poison is given up on, then run in order', async () => {
      const h = harness({ poison: new Set(['evt-3']), scheme });
      const all = records(10, () => 'a');
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
      expect(await effectTable()).toEqual(applied(...readings([1, 2, 4, 5, 6, 7, 8, 9, 10], () => 'a')));
    });
  },
);

describe.each(IDEMPOTENCY_SCHEMES)('re-delivery after a split (%s)', (scheme) => {
  it('a sub-batch of records already applied has no second side effect', async () => {
    const h = harness({ scheme });
    const all = records(10, (n) => `key-${n % 3}`);
    await expect(h.invoke(all)).resolves.toEqual({ batchItemFailures: [] });
    await expect(h.invoke(all.slice(0, 5))).resolves.toEqual({ batchItemFailures: [] });
    await expect(h.invoke(all.slice(2, 7))).resolves.toEqual({ batchItemFailures: [] });
    expect(h.sideEffects()).toHaveLength(10);
    expect(new Set(h.sideEffects()).size).toBe(10);
    expect(await effectTable()).toEqual(
      applied(...readings([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], (n) => `key-${n % 3}`)),
    );
  });

  it('a record whose first attempt failed runs again and is applied once it succeeds', async () => {
    const poison = new Set(['evt-2']);
    const h = harness({ poison, scheme });
    const all = records(3, () => 'a');
    expect(await h.failedSequenceNumbers(all)).toEqual([seq(2), seq(3)]);
    poison.clear(); // the downstream came back
    expect(await h.failedSequenceNumbers(all.slice(1))).toEqual([]);
    expect(h.sideEffects()).toEqual(['evt-1', 'evt-2', 'evt-3']);
    expect(await effectTable()).toEqual(applied(...readings([1, 2, 3], () => 'a')));
  });
});

describe('idempotency key', () => {
  it.each(IDEMPOTENCY_SCHEMES)(
    "defaults to the domain's key: a producer retry (same record, new sequence number) is applied once (%s)",
    async (scheme) => {
      const h = harness({ scheme });
      const record = reading(1, 'a');
      const original = kinesisRecord({ n: 1, payload: record });
      const producerRetry = kinesisRecord({ n: 2, payload: record });
      await h.invoke([original, producerRetry]);
      expect(h.sideEffects()).toEqual(['evt-1']);
      expect(await effectTable()).toEqual(applied(record));
      expect(keyByEventId(record, original)).toBe(`event:${recordKeyOf('evt-1')}`);
    },
  );

  it('can be the record position instead: survives re-delivery, but not a producer retry', async () => {
    const h = harness({ idempotencyKeyOf: keyByStreamPosition });
    const record = reading(1, 'a');
    const original = kinesisRecord({ n: 1, payload: record });
    const producerRetry = kinesisRecord({ n: 2, payload: record });
    await h.invoke([original]);
    await h.invoke([original]);
    expect(h.sideEffects()).toEqual(['evt-1']);
    await h.invoke([producerRetry]);
    expect(h.sideEffects()).toEqual(['evt-1', 'evt-1']);
    // Keyed by position, a producer retry is new work: the record is applied twice.
    expect(await effectTable()).toEqual(applied(record, record));
    expect(keyByStreamPosition(record, original)).toBe(`record:shardId-000000000000:${seq(1)}`);
  });

  it('a concurrent duplicate (already in progress) fails instead of running twice, and the first completes', async () => {
    // Two invocations at once, through one handler: also proves the handler keeps no batch state between
    // invocations of one execution environment.
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const h = harness({ before: () => blocked });
    const record = kinesisRecord({ n: 1, payload: reading(1, 'a') });
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
    expect(await effectTable()).toEqual(applied(reading(1, 'a')));
  });
});

describe('what each idempotency scheme relies on', () => {
  // The same record (same idempotency key) under two partition keys in one batch: the keys run concurrently. The
  // stream never does this for a producer retry (it repeats the whole PutRecord, partition key included).
  const sameRecordUnderTwoKeys = () => [
    kinesisRecord({ n: 1, payload: reading(1, 'a') }),
    kinesisRecord({ n: 2, payload: reading(1, 'a'), partitionKey: partitionKeyOf('b') }),
  ];

  it('claim-then-complete: a copy running at the same time finds the claim and fails; applied once', async () => {
    const gate = deferred();
    const h = harness({ before: () => gate.promise });
    const invocation = h.invoke(sameRecordUnderTwoKeys());
    await until(() => h.infos().some(([message]) => message.startsWith('already in progress')));
    gate.resolve();
    await expect(invocation).resolves.toEqual({ batchItemFailures: [{ itemIdentifier: seq(2) }] });
    expect(h.sideEffects()).toEqual(['evt-1']);
    expect(await effectTable()).toEqual(applied(reading(1, 'a')));
  });

  it('read-then-complete (F8): two copies running at the same time are both planned, and the commit lets one through', async () => {
    const gate = deferred();
    const h = harness({ scheme: 'read-then-complete', before: () => gate.promise });
    const invocation = h.invoke(sameRecordUnderTwoKeys());
    // Both copies have read "not recorded yet" and started planning before either commits.
    await until(() => h.attempts.length === 2);
    gate.resolve();
    await expect(invocation).resolves.toEqual({ batchItemFailures: [] });
    // Applied exactly once: one effect, one side-effect line; the other copy was told so and wrote nothing.
    expect(await effectTable()).toEqual(applied(reading(1, 'a')));
    expect(h.sideEffects()).toEqual(['evt-1']);
    expect(h.infos()).toContainEqual([
      'applied meanwhile by another delivery: nothing applied',
      expect.objectContaining({ recordKey: recordKeyOf('evt-1') }),
    ]);
    expect(await db.idempotencyRecords()).toEqual([expect.objectContaining({ status: 'COMPLETED' })]);
  });
});

describe('bad payloads', () => {
  it('data that is not base64-encoded JSON fails its record with one structured line', async () => {
    const h = harness();
    const batch = [
      kinesisRecord({ n: 1, data: base64('not json'), partitionKey: 'partition-x' }),
      kinesisRecord({ n: 2, data: '%%%not-base64%%%', partitionKey: 'partition-y' }),
      kinesisRecord({ n: 3, payload: reading(3, 'z') }),
    ];
    expect(await h.failedSequenceNumbers(batch)).toEqual([seq(1), seq(2)]);
    expect(h.sideEffects()).toEqual(['evt-3']);
    expect(await effectTable()).toEqual(applied(reading(3, 'z')));
    expect(h.problems()).toEqual([
      [
        'invalid payload',
        expect.objectContaining({
          sequenceNumber: seq(1),
          partitionKey: 'partition-x',
          shardId: 'shardId-000000000000',
          reason: expect.stringMatching(/^payload is not JSON/),
          issues: [],
        }),
      ],
      ['invalid payload', expect.objectContaining({ sequenceNumber: seq(2), partitionKey: 'partition-y' })],
    ]);
  });

  it('an invalid payload fails alone: the later records of its key are applied, in order (F10)', async () => {
    const h = harness();
    // Record 2 is an invalid example of the domain (one the schema rejects), under the same partition key.
    const batch = [
      kinesisRecord({ n: 1, payload: reading(1, 'a') }),
      kinesisRecord({
        n: 2,
        data: base64(invalidJsonBody(examples, 'evt-2')),
        partitionKey: partitionKeyOf('a'),
      }),
      kinesisRecord({ n: 3, payload: reading(3, 'a') }),
      kinesisRecord({ n: 4, payload: reading(4, 'a') }),
    ];
    // Only the invalid record is reported: Lambda retries it and finally sends it to the on-failure destination,
    // while the healthy records after it are already applied instead of going there with it.
    expect(await h.failedSequenceNumbers(batch)).toEqual([seq(2)]);
    expect(h.sideEffects()).toEqual(['evt-1', 'evt-3', 'evt-4']);
    const appliedOnce = applied(...readings([1, 3, 4], () => 'a'));
    expect(await effectTable()).toEqual(appliedOnce);
    // The retry from the invalid record on applies nothing twice.
    expect(await h.failedSequenceNumbers(batch.slice(1))).toEqual([seq(2)]);
    expect(await effectTable()).toEqual(appliedOnce);
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
    // The faults of the domain's invalid examples in one payload, so the schema finds several issues at once
    // where the examples allow (the domain's own tests check which issues they are).
    const body = invalidJsonBodyOfAllFaults(examples, domain.schema, 'evt-1');
    const issues = schemaIssuesOf(domain.schema, body);
    expect(issues.length).toBeGreaterThan(0);
    const wrong = kinesisRecord({ n: 1, data: base64(body), partitionKey: partitionKeyOf('a') });
    expect(await h.failedSequenceNumbers([wrong])).toEqual([seq(1)]);
    expect(h.problems()).toEqual([
      ['invalid payload', expect.objectContaining({ sequenceNumber: seq(1), issues })],
    ]);
    expect(h.attempts).toEqual([]);
    expect(await db.effects()).toEqual({});
  });

  it("warns when the partition key is not the record's own, and still applies the record", async () => {
    const h = harness();
    const record = reading(1, 'a');
    await h.invoke([kinesisRecord({ n: 1, payload: record, partitionKey: 'some-other-key' })]);
    expect(h.sideEffects()).toEqual(['evt-1']);
    // The effect is the record's own, whatever the partition key.
    expect(await effectTable()).toEqual(applied(record));
    expect(h.problems()).toEqual([
      [
        `partition key is not the ${domain.recordName}'s own: order is kept per partition key only`,
        expect.objectContaining({
          partitionKey: 'some-other-key',
          expectedPartitionKey: partitionKeyOf('a'),
        }),
      ],
    ]);
  });
});

describe('DynamoDB unreachable', () => {
  it('fails every record (a function error) and runs no side effect', async () => {
    const h = harness({ client: unreachableDynamoDbClient() });
    const batch = records(3);
    await expect(h.invoke(batch)).rejects.toBeInstanceOf(FullBatchFailureError);
    expect(h.sideEffects()).toEqual([]);
    expect(h.attempts).toEqual([]);
    expect(await db.effects()).toEqual({});
  });
});

describe('per-partition-key order', () => {
  it('holds for any interleaving of keys and any failing records', async () => {
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
            kinesisRecord({ n: i + 1, payload: reading(i + 1, spec.key, id(i + 1)) }),
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
          const labelOf = (recordId: string) => specs[numberOf(recordId) - 1].key;
          expect(inRecordOrder(h.sideEffects())).toEqual(expectedApplied);
          expect(perKey(h.sideEffects(), labelOf)).toEqual(perKey(expectedApplied, labelOf));
          // (When every record fails, the whole invocation fails and every record counts as failed: the same.)
          expect([...failed]).toEqual(expectedFailed);
          // No record of a key ran after a failure of that key.
          for (const [key, index] of firstPoison) {
            const ranLater = h.attempts.filter(
              (recordId) => labelOf(recordId) === key && numberOf(recordId) - 1 > index,
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
      before: async (id) => {
        if (id === 'evt-1') await slowA.promise;
      },
      after: (id) => {
        if (id === 'evt-3') lastOfBDone.resolve();
      },
    });
    const invocation = h.invoke(records(3, (n) => (n === 1 ? 'a' : 'b')));

    // Both records of key b are applied while the record of key a is still running (its plan has
    // started and is blocked): a sequential handler would never get here.
    await lastOfBDone.promise;
    expect(h.attempts).toContain('evt-1');
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
      before: async (id) => {
        timeline.push(`start ${id}`);
        if (id === 'evt-1') await firstOfA.promise;
      },
      after: (id) => {
        timeline.push(`done ${id}`);
        if (id === 'evt-4') lastOfBDone.resolve();
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
      before: async (id) => {
        if (id === 'evt-1') await firstOfA.promise;
      },
      after: (id) => {
        if (id === 'evt-4') lastOfBDone.resolve();
      },
    });
    const failed = h.failedSequenceNumbers(records(5, (n) => keys[n]));

    await lastOfBDone.promise;
    firstOfA.resolve(); // evt-1 now throws (poison)
    expect(await failed).toEqual([seq(1), seq(3), seq(5)]);
    expect(h.sideEffects()).toEqual(['evt-2', 'evt-4']);
    // Key a's later records never ran: held back by evt-1, with one line each naming it.
    expect(inRecordOrder(h.attempts)).toEqual(['evt-1', 'evt-2', 'evt-4']);
    const blockedByFirst = expect.stringContaining(
      `record ${seq(1)} of partition key "${partitionKeyOf('a')}" failed earlier`,
    );
    expect(h.problems()).toEqual([
      [
        'record failed; retried later',
        expect.objectContaining({ sequenceNumber: seq(1), partitionKey: partitionKeyOf('a') }),
      ],
      ['record held back', expect.objectContaining({ sequenceNumber: seq(3), reason: blockedByFirst })],
      ['record held back', expect.objectContaining({ sequenceNumber: seq(5), reason: blockedByFirst })],
    ]);
  });

  it('reports the same failures as processing the batch sequentially, whatever order the keys finish in', async () => {
    // A mixed batch: three keys, failing records (each holding back the rest of its key) and a payload that is
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
      before: async (id) => {
        if (id === 'evt-1') await bDone.promise; // key a starts once key b is done
        if (id === 'evt-2') await cDone.promise; // key b starts once key c is done
      },
      after: (id) => {
        if (id === 'evt-7') cDone.resolve();
        if (id === 'evt-8') bDone.resolve();
      },
    });
    const batch = specs.map((spec, i) =>
      spec.invalid
        ? kinesisRecord({ n: i + 1, data: base64('not json'), partitionKey: partitionKeyOf(spec.key) })
        : kinesisRecord({ n: i + 1, payload: reading(i + 1, spec.key) }),
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
    const labelOf = (id: string) => specs[numberOf(id) - 1].key;
    expect(perKey(h.sideEffects(), labelOf)).toEqual(perKey(expectedApplied, labelOf));
    expect(inRecordOrder(h.sideEffects())).toEqual(expectedApplied);
    // The keys finished in reverse: c before b before a.
    expect(h.sideEffects().map(labelOf)).toEqual(['c', 'c', 'b', 'b', 'a']);
    // One line per failed record, each key's in delivery order.
    const numberOfSequence = new Map(specs.map((_, i) => [seq(i + 1), i + 1]));
    const problemsOf = (key: string) =>
      h
        .problems()
        .filter(([, extra]) => extra.partitionKey === partitionKeyOf(key))
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
  // Far above a local call's time on a loaded machine, so only the injected faults fail a call.
  const BUDGET: DynamoDbCallBudget = { requestTimeoutMs: 500, maxAttempts: 1 };
  const environment = 'stream-env-1';
  // Key a's commit (the transaction that writes its effect item) meets the fault; key b's does not.
  const batch = () => [
    kinesisRecord({ n: 1, payload: reading(1, 'a') }),
    kinesisRecord({ n: 2, payload: reading(2, 'b') }),
  ];
  /** The commits that name key a's effect item: record 1's, not record 2's (checked). */
  const onlyKeyA = () => {
    expect(JSON.stringify(domain.plan(reading(2, 'b')))).not.toContain(totalsOf('a'));
    return mentioning(totalsOf('a'));
  };

  it('throttled on every attempt: an item failure, nothing applied; the immediate retry is not blocked by "already in progress"', async () => {
    const injector = db.inject([{ operation: 'TransactWriteItems', call: 1, kind: 'throttle' }], onlyKeyA());
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
    expect(await effectTable()).toEqual(applied(reading(2, 'b')));
    // Nothing holds the key: claim-then-complete released its claim, read-then-complete wrote none.
    expect((await db.idempotencyRecords()).map((record) => record.status)).toEqual(['COMPLETED']);

    // Lambda re-delivers from the checkpoint at once: applied now, once.
    expect(await h.invoke(batch())).toEqual({ batchItemFailures: [] });
    expect(h.infos().filter(([message]) => message.startsWith('already in progress'))).toEqual([]);
    expect(h.sideEffects()).toEqual(['evt-2', 'evt-1']);
    expect(await effectTable()).toEqual(applied(reading(1, 'a'), reading(2, 'b')));
  });

  it('applied with its answer lost (timing after): an item failure; the retry is answered from the store, applied once', async () => {
    const injector = db.inject(
      [{ operation: 'TransactWriteItems', call: 1, kind: 'error', timing: 'after' }],
      onlyKeyA(),
    );
    const h = harness({
      scheme,
      client: db.clientFor(environment, BUDGET),
      budget: BUDGET,
      faults: { injector, environment },
    });
    expect(await h.invoke(batch())).toEqual({ batchItemFailures: [{ itemIdentifier: seq(1) }] });
    const bothOnce = applied(reading(1, 'a'), reading(2, 'b'));
    expect(await effectTable()).toEqual(bothOnce);

    expect(await h.invoke(batch())).toEqual({ batchItemFailures: [] });
    expect(h.infos()).toContainEqual([
      'duplicate: answered from the idempotency record, nothing applied',
      expect.objectContaining({ recordKey: recordKeyOf('evt-1'), sequenceNumber: seq(1) }),
    ]);
    expect(h.attempts.filter((id) => id === 'evt-1')).toHaveLength(1);
    expect(await effectTable()).toEqual(bothOnce);
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
    expect(await effectTable()).toEqual(applied(...readings([1, 2])));
  });
});

describe('deadlines (F7)', () => {
  it('does not start a record once less than its worst case is left: a DeadlineError item failure and a WARN line; the rest reported done', async () => {
    const budget: DynamoDbCallBudget = { requestTimeoutMs: 500, maxAttempts: 2 };
    const neededMs = worstCaseRecordMs(budget);
    // The invocation's clock, moved on by the test: most of the time goes by while evt-1 is planned.
    let remainingMs = 30_000;
    const context: Context = { ...lambdaContext(), getRemainingTimeInMillis: () => remainingMs };
    const h = harness({
      budget,
      before: async (id) => {
        if (id === 'evt-1') remainingMs = neededMs - 1;
      },
    });
    // 1 a, 2 a, 3 a, 4 b: key b's record starts with key a's first, before the time runs short.
    const labelOf = (n: number) => (n === 4 ? 'b' : 'a');
    const batch = records(4, labelOf);
    expect(await h.invoke(batch, context)).toEqual({
      batchItemFailures: [{ itemIdentifier: seq(2) }, { itemIdentifier: seq(3) }],
    });
    expect(h.problems()).toEqual([
      [
        'not started: too little time left in the invocation; retried later',
        expect.objectContaining({
          sequenceNumber: seq(2),
          recordKey: recordKeyOf('evt-2'),
          remainingMs: neededMs - 1,
          neededMs,
        }),
      ],
      ['record held back', expect.objectContaining({ sequenceNumber: seq(3) })],
    ]);
    expect(inRecordOrder(h.attempts)).toEqual(['evt-1', 'evt-4']);
    expect(await effectTable()).toEqual(applied(...readings([1, 4], labelOf)));
    // evt-2 was not started: not even claimed.
    expect(await db.idempotencyRecords()).toHaveLength(2);
  });
});
