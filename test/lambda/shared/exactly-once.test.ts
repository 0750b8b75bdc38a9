/**
 * `ExactlyOncePersistenceLayer` with both schemes against a real DynamoDB API (dynalite, with transactions): the
 * same `makeExactlyOnce` wrapper the handlers use, a plan whose effect is a counter in the effect table. Each test
 * counts the DynamoDB requests the layer sends (a middleware on the client), because what a scheme costs is its
 * requests, and asserts on the durable data: the idempotency record and the effect items.
 */
import { IdempotencyAlreadyInProgressError, IdempotencyConfig } from '@aws-lambda-powertools/idempotency';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  type Applied,
  EFFECT_KEY_ATTRIBUTE,
  type Effect,
  effectUpdates,
  ExactlyOncePersistenceLayer,
  makeExactlyOnce,
  type Plan,
  PayloadMismatchError,
  payloadHashOf,
} from '../../../lambda/shared/exactly-once';
import { IDEMPOTENCY_SCHEMES, type IdempotencyScheme } from '../../../lambda/shared/serial-key-persistence';
import { createLambdaContext } from '../../../tools/shared/lambda-context';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../tools/shared/local-dynamodb';
import { useLocalDynamoDb } from '../../helpers/dynamodb';

const local = useLocalDynamoDb();

const KEY_PREFIX = 'test.exactly-once';

/** DynamoDB operations sent through the client, by name (`GetItem`, `PutItem`, `TransactWriteItems`, ...). */
function countRequests(client: DynamoDBClient): Map<string, number> {
  const counts = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const operation = String(context.commandName).replace(/Command$/, '');
      counts.set(operation, (counts.get(operation) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'countRequests' },
  );
  return counts;
}

/** The test's input: a key, and how much to add to the key's counter. */
interface Input {
  readonly key: string;
  readonly amount: number;
}

interface Setup {
  readonly layer: ExactlyOncePersistenceLayer;
  /** Applies the input once per key (the content is the whole input). */
  apply(input: Input): Promise<Applied<{ applied: string }>>;
  /** Keys the plan ran for, in order. */
  readonly planned: string[];
  readonly requests: Map<string, number>;
  /** Keys whose plan throws. */
  readonly failing: Set<string>;
  /** Keys whose plan changes nothing (an empty effect). */
  readonly noEffect: Set<string>;
  /** Runs before each plan (to hold it). */
  before?: (input: Input) => Promise<void>;
}

const counterKey = (key: string) => `counter#${key}`;

function setup(
  scheme: IdempotencyScheme,
  options: { expiresAfterSeconds?: number; remainingMs?: number; tableName?: string } = {},
): Setup {
  // A client of its own, so the counting middleware sees this setup's requests only.
  const client = new DynamoDBClient({
    endpoint: local.dynamo.endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  const requests = countRequests(client);
  const layer = new ExactlyOncePersistenceLayer({
    tableName: options.tableName ?? local.tableName,
    effectTableName: local.effectTableName,
    client,
    scheme,
  });
  const config = new IdempotencyConfig({
    expiresAfterSeconds: options.expiresAfterSeconds ?? 3600,
    throwOnNoIdempotencyKey: true,
  });
  // A fixed remaining time: it bounds a claim (its in-progress expiry is now + the remaining time).
  const remainingMs = options.remainingMs ?? 30_000;
  config.registerLambdaContext({ ...createLambdaContext(), getRemainingTimeInMillis: () => remainingMs });
  const planned: string[] = [];
  const failing = new Set<string>();
  const noEffect = new Set<string>();
  const s: Setup = {
    layer,
    planned,
    requests,
    failing,
    noEffect,
    apply: (input) => once(input.key, input),
  };
  const once = makeExactlyOnce(
    async (input: Input): Promise<Plan<{ applied: string }>> => {
      planned.push(input.key);
      await s.before?.(input);
      if (failing.has(input.key)) throw new Error(`plan failed for ${input.key}`);
      const effect: Effect = noEffect.has(input.key)
        ? []
        : [{ key: counterKey(input.key), add: { count: 1, total: input.amount } }];
      return { response: { applied: input.key }, effect };
    },
    { persistenceStore: layer, idempotencyConfig: config, keyPrefix: KEY_PREFIX },
  );
  return s;
}

const requestsOf = (s: Setup) => Object.fromEntries(s.requests);

/** A promise with its resolve, to pace a test by events instead of by time. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((res) => (resolve = res));
  return { promise, resolve };
}

/** Yields to the event loop until `condition` holds (each round lets I/O callbacks run). */
async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setImmediate(resolve));
}

describe.each(IDEMPOTENCY_SCHEMES)('ExactlyOncePersistenceLayer (%s)', (scheme) => {
  const claims = scheme === 'claim-then-complete';

  it('applies a new key once: its effect and its completion commit in one transaction', async () => {
    const s = setup(scheme);
    await expect(s.apply({ key: 'a', amount: 5 })).resolves.toEqual({
      response: { applied: 'a' },
      status: 'applied',
      effect: [{ key: counterKey('a'), add: { count: 1, total: 5 } }],
    });
    expect(s.planned).toEqual(['a']);
    // The claim (or the read), then the transaction; nothing else.
    expect(requestsOf(s)).toEqual(
      claims ? { PutItem: 1, TransactWriteItems: 1 } : { GetItem: 1, TransactWriteItems: 1 },
    );
    expect(await local.effects()).toEqual({ [counterKey('a')]: { count: 1, total: 5 } });
    const [record] = await local.idempotencyRecords();
    expect(record).toEqual(
      expect.objectContaining({
        status: 'COMPLETED',
        data: { applied: 'a' },
        validation: payloadHashOf({ key: 'a', amount: 5 }),
      }),
    );
    expect(String(record.id)).toMatch(new RegExp(`^${KEY_PREFIX}#`));
    // Only a claim carries an in-progress expiry.
    expect(Object.keys(record).includes('in_progress_expiration')).toBe(claims);
  });

  it('answers a completed key from its record: no plan, no write, the effect unchanged', async () => {
    const s = setup(scheme);
    await s.apply({ key: 'a', amount: 5 });
    s.requests.clear();
    await expect(s.apply({ key: 'a', amount: 5 })).resolves.toEqual({
      response: { applied: 'a' },
      status: 'duplicate',
      effect: [],
    });
    expect(s.planned).toEqual(['a']);
    const writes = ['PutItem', 'UpdateItem', 'DeleteItem', 'TransactWriteItems'].reduce(
      (n, operation) => n + (s.requests.get(operation) ?? 0),
      0,
    );
    // claim-then-complete: its claim is refused (a refused conditional put still consumes a write unit);
    // read-then-complete: one consistent read.
    expect(writes).toBe(claims ? 1 : 0);
    expect(await local.effects()).toEqual({ [counterKey('a')]: { count: 1, total: 5 } });
  });

  it('completes with one UpdateItem, no transaction, when the effect is empty', async () => {
    const s = setup(scheme);
    s.noEffect.add('a');
    await expect(s.apply({ key: 'a', amount: 5 })).resolves.toEqual({
      response: { applied: 'a' },
      status: 'applied',
      effect: [],
    });
    expect(requestsOf(s)).toEqual(claims ? { PutItem: 1, UpdateItem: 1 } : { GetItem: 1, UpdateItem: 1 });
    expect(await local.effects()).toEqual({});
    expect(await local.idempotencyRecords()).toEqual([expect.objectContaining({ status: 'COMPLETED' })]);
  });

  it('leaves nothing behind when the plan fails, so the next delivery applies it', async () => {
    const s = setup(scheme);
    s.failing.add('a');
    await expect(s.apply({ key: 'a', amount: 5 })).rejects.toThrow('plan failed for a');
    // claim-then-complete releases its claim; read-then-complete wrote nothing.
    expect(requestsOf(s)).toEqual(claims ? { PutItem: 1, DeleteItem: 1 } : { GetItem: 1 });
    expect(await local.idempotencyRecords()).toEqual([]);
    expect(await local.effects()).toEqual({});
    s.failing.clear();
    await expect(s.apply({ key: 'a', amount: 5 })).resolves.toEqual(
      expect.objectContaining({ status: 'applied' }),
    );
    expect(s.planned).toEqual(['a', 'a']);
    expect(await local.effects()).toEqual({ [counterKey('a')]: { count: 1, total: 5 } });
  });

  it('applies a key again once its record has expired', async () => {
    const s = setup(scheme, { expiresAfterSeconds: 1 });
    await s.apply({ key: 'a', amount: 5 });
    const [record] = await local.idempotencyRecords();
    // Move the record's expiry into the past instead of waiting (DynamoDB's TTL deletes late, so the expired item
    // is typically still there: the claim and the commit's condition must both ignore it).
    await local.dynamo.client.send(
      new PutItemCommand({
        TableName: local.tableName,
        Item: {
          id: { S: String(record.id) },
          expiration: { N: String(Math.floor(Date.now() / 1000) - 10) },
          status: { S: 'COMPLETED' },
        },
      }),
    );
    await expect(s.apply({ key: 'a', amount: 5 })).resolves.toEqual(
      expect.objectContaining({ status: 'applied' }),
    );
    expect(s.planned).toEqual(['a', 'a']);
    expect(await local.effects()).toEqual({ [counterKey('a')]: { count: 2, total: 10 } });
  });

  it('refuses the same key with other content: PayloadMismatchError with both hashes, nothing applied', async () => {
    const s = setup(scheme);
    await s.apply({ key: 'a', amount: 5 });
    const refused = await s.apply({ key: 'a', amount: 7 }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(PayloadMismatchError);
    expect(refused).toEqual(
      expect.objectContaining({
        idempotencyKey: 'a',
        storedPayloadHash: payloadHashOf({ key: 'a', amount: 5 }),
        payloadHash: payloadHashOf({ key: 'a', amount: 7 }),
      }),
    );
    expect((refused as Error).message).toContain('not applied, and not answered from the store');
    expect(s.planned).toEqual(['a']);
    expect(await local.effects()).toEqual({ [counterKey('a')]: { count: 1, total: 5 } });
    // The completed record is untouched.
    expect(await local.idempotencyRecords()).toEqual([
      expect.objectContaining({ status: 'COMPLETED', validation: payloadHashOf({ key: 'a', amount: 5 }) }),
    ]);
  });

  it('commits once when two deliveries of a key both get past the claim; the second reports it', async () => {
    // claim-then-complete: the first claim times out at once (1 ms left in the invocation), so the second
    // delivery takes the key over; read-then-complete writes no claim at all. Both plan; the commit's condition
    // lets one through.
    const first = setup(scheme, { remainingMs: 1 });
    const second = setup(scheme);
    const gate = deferred();
    first.before = () => gate.promise;
    const slow = first.apply({ key: 'a', amount: 5 });
    await until(() => first.planned.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 5)); // the first claim's in-progress expiry has passed
    await expect(second.apply({ key: 'a', amount: 5 })).resolves.toEqual(
      expect.objectContaining({ status: 'applied' }),
    );
    gate.resolve();
    await expect(slow).resolves.toEqual({
      response: { applied: 'a' },
      status: 'applied-by-another-delivery',
      effect: [],
    });
    expect([...first.planned, ...second.planned]).toEqual(['a', 'a']);
    expect(await local.effects()).toEqual({ [counterKey('a')]: { count: 1, total: 5 } });
  });

  it('refuses a late commit whose key was committed meanwhile with other content', async () => {
    const first = setup(scheme, { remainingMs: 1 });
    const second = setup(scheme);
    const gate = deferred();
    first.before = () => gate.promise;
    const slow = first.apply({ key: 'a', amount: 7 }).catch((error: unknown) => error);
    await until(() => first.planned.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await second.apply({ key: 'a', amount: 5 });
    gate.resolve();
    const refused = (await slow) as Error;
    // Powertools wraps what the completion throws; the mismatch is its cause.
    expect(refused.cause).toBeInstanceOf(PayloadMismatchError);
    expect(refused.cause).toEqual(
      expect.objectContaining({
        storedPayloadHash: payloadHashOf({ key: 'a', amount: 5 }),
        payloadHash: payloadHashOf({ key: 'a', amount: 7 }),
      }),
    );
    expect(await local.effects()).toEqual({ [counterKey('a')]: { count: 1, total: 5 } });
  });

  it('releases a claim only while it is still a claim: a completed record is never deleted', async () => {
    const s = setup(scheme);
    await s.apply({ key: 'a', amount: 5 });
    // What Powertools calls to release the claim of a failed plan, arriving late (after a completion).
    await s.layer.deleteRecord({ key: 'a', payloadHash: payloadHashOf({ key: 'a', amount: 5 }) });
    expect(await local.idempotencyRecords()).toEqual([expect.objectContaining({ status: 'COMPLETED' })]);
    await expect(s.apply({ key: 'a', amount: 5 })).resolves.toEqual(
      expect.objectContaining({ status: 'duplicate' }),
    );
    expect(await local.effects()).toEqual({ [counterKey('a')]: { count: 1, total: 5 } });
  });

  it('refuses a record without an idempotency key', async () => {
    const s = setup(scheme);
    const refused = (await s.apply({ key: '', amount: 5 }).catch((error: unknown) => error)) as Error;
    expect(refused.cause).toEqual(expect.objectContaining({ name: 'IdempotencyKeyError' }));
    expect((refused.cause as Error).message).toMatch(/no idempotency key/);
    expect(s.planned).toEqual([]);
    expect(await local.idempotencyRecords()).toEqual([]);
  });
});

describe('the two schemes together', () => {
  it('read-then-complete respects a live claim of claim-then-complete (switching schemes with records in flight)', async () => {
    const claimer = setup('claim-then-complete');
    const gate = deferred();
    claimer.before = () => gate.promise;
    const inFlight = claimer.apply({ key: 'a', amount: 5 });
    await until(() => claimer.planned.length === 1); // its claim is in the table
    const reader = setup('read-then-complete');
    await expect(reader.apply({ key: 'a', amount: 5 })).rejects.toBeInstanceOf(
      IdempotencyAlreadyInProgressError,
    );
    expect(reader.planned).toEqual([]);
    gate.resolve();
    await inFlight;
    await expect(reader.apply({ key: 'a', amount: 5 })).resolves.toEqual(
      expect.objectContaining({ status: 'duplicate' }),
    );
    expect(reader.planned).toEqual([]);
    expect(await local.effects()).toEqual({ [counterKey('a')]: { count: 1, total: 5 } });
  });

  it('read-then-complete costs a third of the writes of claim-then-complete for the same deliveries', async () => {
    const deliveries = ['a', 'b', 'a', 'c', 'b', 'a'];
    const costOf = async (s: Setup) => {
      for (const key of deliveries) await s.apply({ key, amount: 1 });
      expect(s.planned).toEqual(['a', 'b', 'c']);
      const writes = ['PutItem', 'UpdateItem', 'DeleteItem', 'TransactWriteItems'].reduce(
        (n, operation) => n + (s.requests.get(operation) ?? 0),
        0,
      );
      return { writes, transactions: s.requests.get('TransactWriteItems') ?? 0 };
    };
    const cheap = await costOf(setup('read-then-complete'));
    // A fresh idempotency table for the other scheme, so both start empty (the effects add up in one table).
    const claim = await costOf(
      setup('claim-then-complete', { tableName: await local.dynamo.createIdempotencyTable() }),
    );
    // One transaction per first delivery either way; claim-then-complete also puts a claim per delivery (a
    // refused conditional put still consumes a write unit).
    expect(cheap).toEqual({ writes: 3, transactions: 3 });
    expect(claim).toEqual({ writes: 9, transactions: 3 });
    expect(await local.effects()).toEqual({
      [counterKey('a')]: { count: 2, total: 2 },
      [counterKey('b')]: { count: 2, total: 2 },
      [counterKey('c')]: { count: 2, total: 2 },
    });
  });
});

describe('payloadHashOf', () => {
  it('is the same for the same content whatever the order of object keys, and differs for other content', () => {
    expect(payloadHashOf({ a: 1, b: { c: [1, 2], d: 'x' } })).toBe(
      payloadHashOf({ b: { d: 'x', c: [1, 2] }, a: 1 }),
    );
    expect(payloadHashOf({ a: 1, b: [1, 2] })).not.toBe(payloadHashOf({ a: 1, b: [2, 1] }));
    expect(payloadHashOf({ a: 1 })).not.toBe(payloadHashOf({ a: 2 }));
    expect(payloadHashOf('o-1')).toMatch(/^[A-Za-z0-9+/]{22}==$/); // base64 MD5
  });
});

describe('effectUpdates', () => {
  it('writes one ADD update per item, merging the increments of one item (a transaction touches an item once)', () => {
    expect(
      effectUpdates('effects', [
        { key: 'x', add: { count: 1, total: 5 } },
        { key: 'y', add: { count: 1 } },
        { key: 'x', add: { count: 1, other: -2 } },
      ]),
    ).toEqual([
      {
        Update: {
          TableName: 'effects',
          Key: { [EFFECT_KEY_ATTRIBUTE]: { S: 'x' } },
          UpdateExpression: 'ADD #a0 :a0, #a1 :a1, #a2 :a2',
          ExpressionAttributeNames: { '#a0': 'count', '#a1': 'total', '#a2': 'other' },
          ExpressionAttributeValues: { ':a0': { N: '2' }, ':a1': { N: '5' }, ':a2': { N: '-2' } },
        },
      },
      {
        Update: {
          TableName: 'effects',
          Key: { [EFFECT_KEY_ATTRIBUTE]: { S: 'y' } },
          UpdateExpression: 'ADD #a0 :a0',
          ExpressionAttributeNames: { '#a0': 'count' },
          ExpressionAttributeValues: { ':a0': { N: '1' } },
        },
      },
    ]);
    expect(effectUpdates('effects', [])).toEqual([]);
  });
});

describe('plans the commit cannot store, and a disabled idempotency (review findings)', () => {
  /** A wrapper whose plan returns `response` with one counter increment for the key. */
  function once(response: () => unknown, env: Record<string, string> = {}) {
    const previous = { ...process.env };
    Object.assign(process.env, env);
    try {
      const config = new IdempotencyConfig({ expiresAfterSeconds: 3600, throwOnNoIdempotencyKey: true });
      config.registerLambdaContext(createLambdaContext());
      return makeExactlyOnce(
        async (key: string): Promise<Plan<unknown>> => ({
          response: response(),
          effect: [{ key: counterKey(key), add: { count: 1 } }],
        }),
        {
          persistenceStore: new ExactlyOncePersistenceLayer({
            tableName: local.tableName,
            effectTableName: local.effectTableName,
            client: local.dynamo.client,
          }),
          idempotencyConfig: config,
          keyPrefix: KEY_PREFIX,
        },
      );
    } finally {
      process.env = previous;
    }
  }

  it('refuses to start when Powertools idempotency is disabled (nothing would be committed)', () => {
    expect(() => once(() => 'x', { POWERTOOLS_IDEMPOTENCY_DISABLED: 'true' })).toThrow(
      /Idempotency is disabled \(POWERTOOLS_IDEMPOTENCY_DISABLED\)/,
    );
  });

  it('commits a plan without a response (stored as null), once', async () => {
    const apply = once(() => undefined);
    await expect(apply('a', 'a')).resolves.toEqual({
      response: undefined,
      status: 'applied',
      effect: [{ key: counterKey('a'), add: { count: 1 } }],
    });
    await expect(apply('a', 'a')).resolves.toMatchObject({ response: null, status: 'duplicate' });
    expect(await local.effects()).toEqual({ [counterKey('a')]: { count: 1 } });
  });

  it('releases the claim when the response cannot be stored, so the next try is not blocked', async () => {
    class NotJson {
      readonly value = 1;
    }
    const apply = once(() => new NotJson());
    await expect(apply('b', 'b')).rejects.toThrow();
    // No claim left: the key is free at once (not "already in progress" until the invocation's deadline).
    expect(await local.idempotencyRecords()).toEqual([]);
    await expect(apply('b', 'b')).rejects.not.toThrow(IdempotencyAlreadyInProgressError);
    expect(await local.effects()).toEqual({});
  });
});
