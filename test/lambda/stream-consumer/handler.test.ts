/**
 * The stream consumer's handler against a real DynamoDB API (dynalite, in-process): Powertools' BatchProcessor
 * and idempotency run unmodified. The business action is the template's own (`recordReading`, which writes the
 * "side effect done" line), wrapped so a test can make chosen readings fail; side effects are counted from the
 * log lines, exactly as the local simulator and CloudWatch Logs Insights count them.
 */
import { FullBatchFailureError } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisStreamBatchResponse, KinesisStreamRecord } from 'aws-lambda';
import fc from 'fast-check';
import {
  createStreamConsumerHandler,
  EarlierRecordFailedError,
  IdempotencyKeyOf,
  keyByEventId,
  keyByStreamPosition,
  ReadingAction,
  STREAM_IDEMPOTENCY_KEY_PATH,
  StreamConsumerHandler,
} from '../../../lambda/stream-consumer/handler';
import { recordReading, SensorReading } from '../../../lambda/stream-consumer/reading';
import { createIdempotencyDependencies, IdempotencyDependencies } from '../../../lambda/shared/powertools';
import { SIDE_EFFECT_LOG_MESSAGE } from '../../../lambda/shared/side-effect';
import { unreachableDynamoDbClient, useLocalDynamoDb } from '../../helpers/dynamodb';
import { kinesisEvent, kinesisRecord, lambdaContext, reading, sequenceNumber } from './kinesis-events';

const local = useLocalDynamoDb();

interface Harness {
  readonly handler: StreamConsumerHandler;
  readonly deps: IdempotencyDependencies;
  /** Runs one invocation with a fresh Lambda context. */
  invoke(records: KinesisStreamRecord[]): Promise<KinesisStreamBatchResponse>;
  /** Runs one invocation and returns the failed sequence numbers (all of them if the whole batch failed). */
  failedSequenceNumbers(records: KinesisStreamRecord[]): Promise<string[]>;
  /** eventId of every "side effect done" line, in order. */
  sideEffects(): string[];
  /** [message, attributes] of every error and warning line, in order. */
  problems(): [string, Record<string, unknown>][];
  /** Readings the action was called with (including the ones it failed). */
  readonly attempts: SensorReading[];
}

function harness(
  options: {
    client?: DynamoDBClient;
    /** eventIds whose action throws (a "function error" for that record). */
    poison?: Set<string>;
    idempotencyKeyOf?: IdempotencyKeyOf;
    /** Runs before the real action (e.g. to block it). */
    before?: (reading: SensorReading) => Promise<void>;
  } = {},
): Harness {
  const logger = new Logger({ serviceName: 'stream-consumer-test', logLevel: 'SILENT' });
  const info = jest.spyOn(logger, 'info');
  const warn = jest.spyOn(logger, 'warn');
  const error = jest.spyOn(logger, 'error');
  const attempts: SensorReading[] = [];
  const action: ReadingAction = async (r, position) => {
    attempts.push(r);
    await options.before?.(r);
    if (options.poison?.has(r.eventId)) throw new Error(`poison reading ${r.eventId}`);
    recordReading(logger, r, position);
  };
  const deps = createIdempotencyDependencies({
    tableName: local.tableName,
    expiresAfterSeconds: 3600,
    eventKeyJmesPath: STREAM_IDEMPOTENCY_KEY_PATH,
    client: options.client ?? local.dynamo.client,
  });
  const handler = createStreamConsumerHandler({
    ...deps,
    logger,
    action,
    idempotencyKeyOf: options.idempotencyKeyOf,
  });
  const invoke = (records: KinesisStreamRecord[]) => handler(kinesisEvent(records), lambdaContext());
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

describe('a batch without failures', () => {
  it('applies every reading once, in sequence order, and reports no failure', async () => {
    const h = harness();
    const batch = records(5, () => 'sensor-a');
    await expect(h.invoke(batch)).resolves.toEqual({ batchItemFailures: [] });
    expect(h.sideEffects()).toEqual(['evt-1', 'evt-2', 'evt-3', 'evt-4', 'evt-5']);
    const items = await local.dynamo.scan(local.tableName);
    expect(items).toHaveLength(5);
    expect(items.every((item) => item.status === 'COMPLETED')).toBe(true);
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
    expect(h.sideEffects()).toEqual(['evt-1', 'evt-2', 'evt-4', 'evt-6']);
    // The later records of key a were not run at all.
    expect(h.attempts.map((r) => r.eventId)).toEqual(['evt-1', 'evt-2', 'evt-3', 'evt-4', 'evt-6']);
  });

  it('log one line per failed record: the error, then each held-back record with its blocker', async () => {
    const h = harness({ poison: new Set(['evt-2']) });
    await h.invoke(records(3, () => 'sensor-a'));
    expect(h.problems()).toEqual([
      ['record failed', expect.objectContaining({ sequenceNumber: seq(2), partitionKey: 'sensor-a' })],
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
  });
});

describe('the seeds walk-through: a batch of 10, the third record poison, bisect, 2 retries, destination', () => {
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
    const h = harness({ poison: new Set(['evt-3']) });
    const all = records(10);
    const failed: string[][] = [];
    for (const delivery of deliveries) failed.push(await h.failedSequenceNumbers(pick(all, ...delivery)));

    expect(failed).toEqual([[seq(3)], [seq(3)], [], [seq(3)], [seq(3)], [seq(3)], [seq(3)], [], []]);
    expect(h.sideEffects()).toEqual([
      'evt-1',
      'evt-2',
      'evt-4',
      'evt-5',
      'evt-6',
      'evt-7',
      'evt-8',
      'evt-9',
      'evt-10',
    ]);
    // Records 1 and 2 were delivered three times, but their action ran once: the other deliveries were
    // answered from the idempotency records.
    expect(h.attempts.filter((r) => r.eventId === 'evt-1')).toHaveLength(1);
    expect(h.attempts.filter((r) => r.eventId === 'evt-3')).toHaveLength(6);
    const items = await local.dynamo.scan(local.tableName);
    expect(items.filter((item) => item.status === 'COMPLETED')).toHaveLength(9);
  });

  it('with one sensor for all records: later readings wait until the poison is given up on, then run in order', async () => {
    const h = harness({ poison: new Set(['evt-3']) });
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
    expect(h.sideEffects()).toEqual([
      'evt-1',
      'evt-2',
      'evt-4',
      'evt-5',
      'evt-6',
      'evt-7',
      'evt-8',
      'evt-9',
      'evt-10',
    ]);
  });
});

describe('re-delivery after a split', () => {
  it('a sub-batch of records already applied has no second side effect', async () => {
    const h = harness();
    const all = records(10, (n) => `sensor-${n % 3}`);
    await expect(h.invoke(all)).resolves.toEqual({ batchItemFailures: [] });
    await expect(h.invoke(all.slice(0, 5))).resolves.toEqual({ batchItemFailures: [] });
    await expect(h.invoke(all.slice(2, 7))).resolves.toEqual({ batchItemFailures: [] });
    expect(h.sideEffects()).toHaveLength(10);
    expect(new Set(h.sideEffects()).size).toBe(10);
  });

  it('a record whose first attempt failed runs again and is applied once it succeeds', async () => {
    const poison = new Set(['evt-2']);
    const h = harness({ poison });
    const all = records(3, () => 'sensor-a');
    expect(await h.failedSequenceNumbers(all)).toEqual([seq(2), seq(3)]);
    poison.clear(); // the downstream came back
    expect(await h.failedSequenceNumbers(all.slice(1))).toEqual([]);
    expect(h.sideEffects()).toEqual(['evt-1', 'evt-2', 'evt-3']);
  });
});

describe('idempotency key', () => {
  it('defaults to the eventId: a producer retry (same reading, new sequence number) is applied once', async () => {
    const h = harness();
    const original = kinesisRecord({ n: 1, payload: reading(1) });
    const producerRetry = kinesisRecord({ n: 2, payload: reading(1) });
    await h.invoke([original, producerRetry]);
    expect(h.sideEffects()).toEqual(['evt-1']);
    expect(keyByEventId(reading(1), original)).toBe('event:evt-1');
  });

  it('can be the record position instead: survives re-delivery, but not a producer retry', async () => {
    const h = harness({ idempotencyKeyOf: keyByStreamPosition });
    const original = kinesisRecord({ n: 1, payload: reading(1) });
    const producerRetry = kinesisRecord({ n: 2, payload: reading(1) });
    await h.invoke([original]);
    await h.invoke([original]);
    expect(h.sideEffects()).toEqual(['evt-1']);
    await h.invoke([producerRetry]);
    expect(h.sideEffects()).toEqual(['evt-1', 'evt-1']);
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
    await new Promise((resolve) => setTimeout(resolve, 200)); // the first invocation has claimed the key
    const second = h.invoke([record]).catch((caught: unknown) => caught);
    await expect(second).resolves.toBeInstanceOf(FullBatchFailureError);
    release();
    await expect(first).resolves.toEqual({ batchItemFailures: [] });
    expect(h.sideEffects()).toEqual(['evt-1']);
    expect(h.problems()).toContainEqual([
      'record already in progress in another invocation; it will be retried',
      expect.objectContaining({ sequenceNumber: seq(1) }),
    ]);
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
  });

  it('warns when the partition key is not the sensor id, and still applies the reading', async () => {
    const h = harness();
    await h.invoke([kinesisRecord({ n: 1, payload: reading(1), partitionKey: 'some-other-key' })]);
    expect(h.sideEffects()).toEqual(['evt-1']);
    expect(h.problems()).toEqual([
      [
        'partition key is not the sensor id: order is kept per partition key only',
        expect.objectContaining({ partitionKey: 'some-other-key', sensorId: 'sensor-a' }),
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

          expect(h.sideEffects()).toEqual(expectedApplied);
          if (expectedFailed.length < specs.length) expect([...failed]).toEqual(expectedFailed);
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
