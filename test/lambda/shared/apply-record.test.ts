/**
 * Applying one record the way every handler does (lambda/shared/apply-record.ts): the deadline check, the
 * exactly-once commit against a real DynamoDB API (dynalite, with transactions), and the one log line that says
 * what happened; and the failure line every handler writes (`logRecordFailure`).
 */
import {
  IdempotencyAlreadyInProgressError,
  IdempotencyPersistenceLayerError,
} from '@aws-lambda-powertools/idempotency';
import { Logger } from '@aws-lambda-powertools/logger';
import {
  createRecordApplier,
  logRecordFailure,
  type RecordToApply,
} from '../../../lambda/shared/apply-record';
import { DeadlineError, type DynamoDbCallBudget, worstCaseRecordMs } from '../../../lambda/shared/deadlines';
import { type Plan, PayloadMismatchError, payloadHashOf } from '../../../lambda/shared/exactly-once';
import { InvalidPayloadError } from '../../../lambda/shared/parsing';
import { createIdempotencyDependencies } from '../../../lambda/shared/powertools';
import type { IdempotencyScheme } from '../../../lambda/shared/serial-key-persistence';
import { SIDE_EFFECT_LOG_MESSAGE } from '../../../lambda/shared/side-effect';
import { createLambdaContext } from '../../../tools/shared/lambda-context';
import { useLocalDynamoDb } from '../../helpers/dynamodb';

const local = useLocalDynamoDb();

const BUDGET: DynamoDbCallBudget = { requestTimeoutMs: 1_000, maxAttempts: 2 };
const PLENTY = () => 30_000;

interface Input {
  readonly id: string;
  readonly amount: number;
}

type LogCall = [string, Record<string, unknown>];

function silentLogger() {
  const logger = new Logger({ serviceName: 'apply-record-test', logLevel: 'SILENT' });
  const spies = {
    info: jest.spyOn(logger, 'info'),
    warn: jest.spyOn(logger, 'warn'),
    error: jest.spyOn(logger, 'error'),
  };
  const calls = (level: keyof typeof spies) => spies[level].mock.calls as LogCall[];
  return { logger, calls };
}

function setup(options: { scheme?: IdempotencyScheme; before?: (input: Input) => Promise<void> } = {}) {
  const { logger, calls } = silentLogger();
  const deps = createIdempotencyDependencies({
    tableName: local.tableName,
    effectTableName: local.effectTableName,
    expiresAfterSeconds: 3600,
    client: local.dynamo.client,
    budget: BUDGET,
    scheme: options.scheme,
  });
  deps.idempotencyConfig.registerLambdaContext(createLambdaContext());
  const plan = jest.fn(async (input: Input): Promise<Plan<{ id: string }>> => {
    await options.before?.(input);
    if (input.amount < 0) throw new Error(`cannot apply ${input.id}`);
    return {
      response: { id: input.id },
      effect: [{ key: `item#${input.id}`, add: { total: input.amount } }],
    };
  });
  const apply = createRecordApplier({
    ...deps,
    logger,
    path: 'stream',
    keyPrefix: 'test.apply-record',
    plan,
  });
  return { apply, plan, calls };
}

const record = (input: Input, extra: Partial<RecordToApply<Input>> = {}): RecordToApply<Input> => ({
  idempotencyKey: `key:${input.id}`,
  recordKey: input.id,
  input,
  logKeys: { sequenceNumber: '42' },
  ...extra,
});

describe('createRecordApplier', () => {
  it('applies a record and then writes the one side-effect line, naming what was committed', async () => {
    const s = setup();
    await expect(s.apply(record({ id: 'a', amount: 5 }), PLENTY)).resolves.toEqual({
      response: { id: 'a' },
      status: 'applied',
      effect: [{ key: 'item#a', add: { total: 5 } }],
    });
    expect(s.calls('info')).toEqual([
      [
        SIDE_EFFECT_LOG_MESSAGE,
        {
          path: 'stream',
          recordKey: 'a',
          sequenceNumber: '42',
          effect: [{ key: 'item#a', add: { total: 5 } }],
        },
      ],
    ]);
    expect(await local.effects()).toEqual({ 'item#a': { total: 5 } });
  });

  it('answers a duplicate from the store with an INFO line, and no side-effect line', async () => {
    const s = setup();
    await s.apply(record({ id: 'a', amount: 5 }), PLENTY);
    await expect(s.apply(record({ id: 'a', amount: 5 }), PLENTY)).resolves.toEqual({
      response: { id: 'a' },
      status: 'duplicate',
      effect: [],
    });
    expect(s.calls('info').map(([message]) => message)).toEqual([
      SIDE_EFFECT_LOG_MESSAGE,
      'duplicate: answered from the idempotency record, nothing applied',
    ]);
    expect(s.calls('info')[1][1]).toEqual({ sequenceNumber: '42', recordKey: 'a' });
    expect(s.plan).toHaveBeenCalledTimes(1);
    expect(await local.effects()).toEqual({ 'item#a': { total: 5 } });
  });

  it('says so when another delivery committed while this one planned (read-then-complete)', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const s = setup({ scheme: 'read-then-complete', before: () => gate });
    const first = s.apply(record({ id: 'a', amount: 5 }, { logKeys: { copy: 1 } }), PLENTY);
    const second = s.apply(record({ id: 'a', amount: 5 }, { logKeys: { copy: 2 } }), PLENTY);
    while (s.plan.mock.calls.length < 2) await new Promise((resolve) => setImmediate(resolve));
    release();
    const statuses = (await Promise.all([first, second])).map((applied) => applied.status).sort();
    expect(statuses).toEqual(['applied', 'applied-by-another-delivery']);
    expect(
      s
        .calls('info')
        .map(([message]) => message)
        .sort(),
    ).toEqual(['applied meanwhile by another delivery: nothing applied', SIDE_EFFECT_LOG_MESSAGE]);
    expect(await local.effects()).toEqual({ 'item#a': { total: 5 } });
  });

  it("does not start a record with less time left than the budget's worst case: DeadlineError and one WARN line", async () => {
    const s = setup();
    const neededMs = worstCaseRecordMs(BUDGET);
    const refused = s.apply(record({ id: 'a', amount: 5 }), () => neededMs - 1);
    await expect(refused).rejects.toBeInstanceOf(DeadlineError);
    expect(s.calls('warn')).toEqual([
      [
        'not started: too little time left in the invocation; retried later',
        { sequenceNumber: '42', recordKey: 'a', remainingMs: neededMs - 1, neededMs },
      ],
    ]);
    expect(s.plan).not.toHaveBeenCalled();
    expect(await local.idempotencyRecords()).toEqual([]);
    // Exactly the worst case left is enough.
    await expect(s.apply(record({ id: 'a', amount: 5 }), () => neededMs)).resolves.toEqual(
      expect.objectContaining({ status: 'applied' }),
    );
  });

  it('logs a failed record with its error and rethrows it, leaving nothing applied', async () => {
    const s = setup();
    const failure = await s.apply(record({ id: 'a', amount: -1 }), PLENTY).catch((error: unknown) => error);
    expect(failure).toEqual(new Error('cannot apply a'));
    expect(s.calls('error')).toEqual([
      [
        'record failed; retried later',
        { sequenceNumber: '42', recordKey: 'a', error: { name: 'Error', message: 'cannot apply a' } },
      ],
    ]);
    expect(await local.effects()).toEqual({});
    expect(await local.idempotencyRecords()).toEqual([]);
  });

  it("names an empty idempotency key as such (a fork's key function returning nothing), before any DynamoDB call", async () => {
    const s = setup();
    for (const idempotencyKey of ['', undefined as unknown as string]) {
      const failure = await s
        .apply(record({ id: 'a', amount: 1 }, { idempotencyKey }), PLENTY)
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(InvalidPayloadError);
      expect((failure as Error).message).toMatch(
        /^the record's idempotency key is (""|undefined): the path's key function/,
      );
    }
    expect(s.plan).not.toHaveBeenCalled();
    expect(s.calls('error').map(([message]) => message)).toEqual(['invalid payload', 'invalid payload']);
    expect(await local.idempotencyRecords()).toEqual([]);
  });

  it("hashes `content` as what makes two deliveries of a key the same record (default: the plan's input)", async () => {
    const s = setup();
    const content = { id: 'a', version: 1 };
    await s.apply(record({ id: 'a', amount: 5 }, { content }), PLENTY);
    // Same content, another input: the same record.
    await expect(s.apply(record({ id: 'a', amount: 6 }, { content }), PLENTY)).resolves.toEqual(
      expect.objectContaining({ status: 'duplicate' }),
    );
    // Other content: refused.
    await expect(
      s.apply(record({ id: 'a', amount: 5 }, { content: { id: 'a', version: 2 } }), PLENTY),
    ).rejects.toBeInstanceOf(PayloadMismatchError);
    expect(s.calls('error')).toEqual([
      [
        'same idempotency key, different content: not applied; needs a person',
        {
          sequenceNumber: '42',
          recordKey: 'a',
          idempotencyKey: 'key:a',
          storedPayloadHash: payloadHashOf(content),
          payloadHash: payloadHashOf({ id: 'a', version: 2 }),
        },
      ],
    ]);
    expect(await local.effects()).toEqual({ 'item#a': { total: 5 } });
  });
});

describe('logRecordFailure', () => {
  const keys = { messageId: 'm-1' };

  it('names the key and both hashes for the same key with other content, also when it is a cause', () => {
    const mismatch = new PayloadMismatchError('o-1', 'stored-hash', 'new-hash');
    const wrapped = new IdempotencyPersistenceLayerError(
      'Failed to update success record to idempotency store',
      {
        cause: mismatch,
      },
    );
    for (const error of [mismatch, wrapped]) {
      const { logger, calls } = silentLogger();
      logRecordFailure(logger, keys, error);
      expect(calls('error')).toEqual([
        [
          'same idempotency key, different content: not applied; needs a person',
          {
            messageId: 'm-1',
            idempotencyKey: 'o-1',
            storedPayloadHash: 'stored-hash',
            payloadHash: 'new-hash',
          },
        ],
      ]);
    }
  });

  it('writes the reason and every issue of an invalid payload', () => {
    const { logger, calls } = silentLogger();
    logRecordFailure(logger, keys, new InvalidPayloadError('payload does not match the schema', ['a: bad']));
    expect(calls('error')).toEqual([
      [
        'invalid payload',
        { messageId: 'm-1', reason: 'payload does not match the schema', issues: ['a: bad'] },
      ],
    ]);
  });

  it('writes INFO for a record in progress elsewhere and WARN for one not started: both retried, neither a fault', () => {
    const { logger, calls } = silentLogger();
    logRecordFailure(logger, keys, new IdempotencyAlreadyInProgressError('in progress'));
    logRecordFailure(logger, keys, new DeadlineError(100, 1_200));
    expect(calls('info')).toEqual([
      ['already in progress in another invocation; retried later', { messageId: 'm-1' }],
    ]);
    expect(calls('warn')).toEqual([
      [
        'not started: too little time left in the invocation; retried later',
        { messageId: 'm-1', remainingMs: 100, neededMs: 1_200 },
      ],
    ]);
    expect(calls('error')).toEqual([]);
  });

  it('writes anything else at ERROR with its whole cause chain', () => {
    const { logger, calls } = silentLogger();
    logRecordFailure(logger, keys, new Error('outer', { cause: new RangeError('inner') }));
    expect(calls('error')).toEqual([
      [
        'record failed; retried later',
        {
          messageId: 'm-1',
          error: { name: 'Error', message: 'outer', cause: { name: 'RangeError', message: 'inner' } },
        },
      ],
    ]);
  });
});
