/**
 * TransactWriteItems on the in-process DynamoDB (startDynalite), through the real SDK client: commit, cancellation
 * with its reasons, validation, isolation from concurrent requests, and ClientRequestToken idempotency.
 */
import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  IdempotentParameterMismatchException,
  PutItemCommand,
  ResourceNotFoundException,
  TransactionCanceledException,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  type TransactWriteItemsCommandInput,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { ClientTokens, ReadWriteLock } from '../../../tools/shared/dynamodb-transactions';
import {
  createIdempotencyTable,
  type Dynalite,
  localDynamoDbClient,
  scanItems,
  startDynalite,
} from '../../../tools/shared/local-dynamodb';

let db: Dynalite;
let client: DynamoDBClient;
let tableCount = 0;
/** Two fresh tables (key `id`) per test. */
let effects: string;
let records: string;

beforeAll(async () => {
  db = await startDynalite();
  client = localDynamoDbClient(db.endpoint, { maxAttempts: 1 });
});
afterAll(async () => {
  client.destroy();
  await db.stop();
});
beforeEach(async () => {
  effects = `effects-${++tableCount}`;
  records = `records-${tableCount}`;
  await Promise.all([createIdempotencyTable(client, effects), createIdempotencyTable(client, records)]);
});

const s = (value: string) => ({ S: value });
const n = (value: number) => ({ N: String(value) });

async function put(tableName: string, item: Record<string, AttributeValue>): Promise<void> {
  await client.send(new PutItemCommand({ TableName: tableName, Item: item }));
}

async function get(tableName: string, id: string) {
  const { Item } = await client.send(new GetItemCommand({ TableName: tableName, Key: { id: s(id) } }));
  return Item;
}

function transact(items: TransactWriteItem[], extra: Partial<TransactWriteItemsCommandInput> = {}) {
  return client.send(new TransactWriteItemsCommand({ TransactItems: items, ...extra }));
}

/** The rejection of a transaction, asserted to be of `type`. */
async function rejection<T>(promise: Promise<unknown>, type: new (...args: never[]) => T): Promise<T> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(type);
  return error as T;
}

const addToCounter = (tableName: string, amount = 1): TransactWriteItem => ({
  Update: {
    TableName: tableName,
    Key: { id: s('counter') },
    UpdateExpression: 'ADD #n :amount',
    ExpressionAttributeNames: { '#n': 'n' },
    ExpressionAttributeValues: { ':amount': n(amount) },
  },
});

const claim = (tableName: string, id: string, returnOld?: 'ALL_OLD' | 'NONE'): TransactWriteItem => ({
  Put: {
    TableName: tableName,
    Item: { id: s(id), state: s('claimed') },
    ConditionExpression: 'attribute_not_exists(id)',
    ...(returnOld ? { ReturnValuesOnConditionCheckFailure: returnOld } : {}),
  },
});

describe('TransactWriteItems on startDynalite()', () => {
  it('commits an Update (ADD) and a Put across two tables', async () => {
    await put(effects, { id: s('counter'), n: n(5) });
    await transact([addToCounter(effects), claim(records, 'r-1')]);
    expect(await scanItems(client, effects)).toEqual([{ id: 'counter', n: '6' }]);
    expect(await scanItems(client, records)).toEqual([{ id: 'r-1', state: 'claimed' }]);
  });

  it('applies nothing when a condition fails, and gives a reason per item (the old item with ALL_OLD)', async () => {
    await put(effects, { id: s('counter'), n: n(5) });
    await put(records, { id: s('r-1'), state: s('done') });
    const error = await rejection(
      transact([addToCounter(effects), claim(records, 'r-1', 'ALL_OLD')]),
      TransactionCanceledException,
    );
    expect(error.message).toBe(
      'Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]',
    );
    expect(error.CancellationReasons).toEqual([
      { Code: 'None' },
      {
        Code: 'ConditionalCheckFailed',
        Message: 'The conditional request failed',
        Item: { id: s('r-1'), state: s('done') },
      },
    ]);
    expect(await get(effects, 'counter')).toEqual({ id: s('counter'), n: n(5) });
    expect(await get(records, 'r-1')).toEqual({ id: s('r-1'), state: s('done') });
  });

  it('tries every item: each failing condition has its reason, without the item unless ALL_OLD', async () => {
    await put(records, { id: s('r-1'), state: s('done') });
    await put(records, { id: s('r-2'), state: s('done') });
    const error = await rejection(
      transact([claim(records, 'r-1', 'NONE'), claim(records, 'r-3'), claim(records, 'r-2')]),
      TransactionCanceledException,
    );
    expect(error.CancellationReasons).toEqual([
      { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' },
      { Code: 'None' },
      { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' },
    ]);
    expect(await get(records, 'r-3')).toBeUndefined();
  });

  it('cancels with a ValidationError reason when an update does not fit the stored data', async () => {
    await put(effects, { id: s('counter'), n: s('not a number') });
    const error = await rejection(
      transact([claim(records, 'r-1'), addToCounter(effects)]),
      TransactionCanceledException,
    );
    expect(error.CancellationReasons).toEqual([
      { Code: 'None' },
      { Code: 'ValidationError', Message: 'An operand in the update expression has an incorrect data type' },
    ]);
    expect(await get(records, 'r-1')).toBeUndefined();
  });

  it('checks a condition without changing the item (ConditionCheck), on an item that exists or not', async () => {
    await put(records, { id: s('gate'), isOpen: { BOOL: true } });
    const gateIsOpen: TransactWriteItem = {
      ConditionCheck: {
        TableName: records,
        Key: { id: s('gate') },
        ConditionExpression: 'isOpen = :yes',
        ExpressionAttributeValues: { ':yes': { BOOL: true } },
      },
    };
    const absent = (condition: string): TransactWriteItem => ({
      ConditionCheck: { TableName: records, Key: { id: s('ghost') }, ConditionExpression: condition },
    });
    await transact([gateIsOpen, absent('attribute_not_exists(id)'), claim(effects, 'e-1')]);
    expect(await get(effects, 'e-1')).toBeDefined();
    expect(await scanItems(client, records)).toEqual([{ id: 'gate', isOpen: true }]); // no 'ghost' written

    const error = await rejection(
      transact([absent('attribute_exists(id)'), claim(effects, 'e-2')]),
      TransactionCanceledException,
    );
    expect(error.CancellationReasons?.map((reason) => reason.Code)).toEqual([
      'ConditionalCheckFailed',
      'None',
    ]);
    expect(await get(effects, 'e-2')).toBeUndefined();
  });

  it('deletes, and restores a deleted item when the transaction is cancelled', async () => {
    await put(records, { id: s('old'), v: n(1) });
    await put(records, { id: s('taken'), v: n(2) });
    const deleteOld: TransactWriteItem = {
      Delete: { TableName: records, Key: { id: s('old') }, ConditionExpression: 'attribute_exists(id)' },
    };
    await rejection(transact([deleteOld, claim(records, 'taken')]), TransactionCanceledException);
    expect(await get(records, 'old')).toEqual({ id: s('old'), v: n(1) });

    await transact([deleteOld, claim(records, 'new')]);
    expect(await get(records, 'old')).toBeUndefined();
    expect(await get(records, 'new')).toBeDefined();
  });

  it('refuses two operations on one item, and fewer than 1 or more than 100 items, before writing', async () => {
    const twice = await rejection(
      transact([claim(effects, 'e-1'), claim(records, 'r-1'), addToCounter(records), claim(records, 'r-1')]),
      Error,
    );
    expect(twice.name).toBe('ValidationException');
    expect(twice.message).toBe('Transaction request cannot include multiple operations on one item');
    expect(await scanItems(client, effects)).toEqual([]);
    expect(await scanItems(client, records)).toEqual([]);

    const none = await rejection(transact([]), Error);
    expect(none.name).toBe('ValidationException');
    const tooMany = Array.from({ length: 101 }, (_, i) => claim(records, `r-${i}`));
    const over = await rejection(transact(tooMany), Error);
    expect(over.name).toBe('ValidationException');
    expect(over.message).toMatch(/less than or equal to 100/);
    await transact(tooMany.slice(0, 100));
    expect(await scanItems(client, records)).toHaveLength(100);
  });

  it('fails the whole transaction with the error of an item dynalite rejects, writing nothing', async () => {
    const missingTable = await rejection(
      transact([claim(records, 'r-1'), claim('no-such-table', 'x')]),
      ResourceNotFoundException,
    );
    expect(missingTable.message).toMatch(/not found/);
    expect(await get(records, 'r-1')).toBeUndefined();

    // Here the Put is applied before the Update's expression is refused, and has to be undone.
    const badExpression = await rejection(
      transact([
        claim(records, 'r-1'),
        { Update: { TableName: records, Key: { id: s('r-2') }, UpdateExpression: 'SET #undefined = :v' } },
      ]),
      Error,
    );
    expect(badExpression.name).toBe('ValidationException');
    expect(await scanItems(client, records)).toEqual([]);
  });

  it('lets exactly one of 20 concurrent transactions claim the same key', async () => {
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, () => transact([claim(records, 'once'), addToCounter(effects)])),
    );
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    const rejected = outcomes.filter((outcome) => outcome.status === 'rejected');
    expect(rejected.every((outcome) => outcome.reason instanceof TransactionCanceledException)).toBe(true);
    expect(await get(effects, 'counter')).toEqual({ id: s('counter'), n: n(1) });
  });

  /** Runs `transactions` cancelled transactions, each incrementing the counter and then undoing it. */
  async function cancelledTransactions(transactions: number): Promise<void> {
    await put(records, { id: s('taken') });
    for (let i = 0; i < transactions; i += 1) {
      await rejection(
        transact([addToCounter(effects), claim(records, 'taken')]),
        TransactionCanceledException,
      );
    }
  }

  it('never lets a concurrent GetItem see part of a transaction', async () => {
    let running = true;
    const seen = new Set<string>();
    const reads = (async () => {
      while (running) seen.add((await get(effects, 'counter'))?.n?.N ?? 'absent');
    })();
    await cancelledTransactions(30);
    running = false;
    await reads;
    expect([...seen]).toEqual(['absent']);
  });

  it('never loses a write made concurrently with a transaction that is undone', async () => {
    const writes = (async () => {
      for (let i = 0; i < 30; i += 1) {
        await client.send(
          new UpdateItemCommand({
            TableName: effects,
            Key: { id: s('counter') },
            UpdateExpression: 'ADD #n :one',
            ExpressionAttributeNames: { '#n': 'n' },
            ExpressionAttributeValues: { ':one': n(1) },
          }),
        );
      }
    })();
    await Promise.all([writes, cancelledTransactions(30)]);
    expect(await get(effects, 'counter')).toEqual({ id: s('counter'), n: n(30) });
  });

  it('treats a repeated ClientRequestToken as the committed transaction, and refuses it with other parameters', async () => {
    const token = { ClientRequestToken: 'token-1' };
    await transact([addToCounter(effects)], token);
    await transact([addToCounter(effects)], token); // the retry of a transaction whose answer was lost
    expect(await get(effects, 'counter')).toEqual({ id: s('counter'), n: n(1) });

    const mismatch = await rejection(
      transact([addToCounter(effects, 2)], token),
      IdempotentParameterMismatchException,
    );
    expect(mismatch.$metadata.httpStatusCode).toBe(400);
    await transact([addToCounter(effects)], { ClientRequestToken: 'token-2' });
    expect(await get(effects, 'counter')).toEqual({ id: s('counter'), n: n(2) });
  });

  it('does not apply twice a transaction the SDK retries because its answer was lost', async () => {
    const retrying = localDynamoDbClient(db.endpoint, { maxAttempts: 2 });
    let answersLost = 0;
    // Inside the SDK's retry loop: the first answer is dropped as a reset connection would drop it, after the
    // transaction committed; the SDK retries with the ClientRequestToken it generated for the command.
    retrying.middlewareStack.add(
      (next) => async (args) => {
        const output = await next(args);
        if (answersLost++ === 0) throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
        return output;
      },
      { step: 'deserialize' },
    );
    try {
      const { $metadata } = await retrying.send(
        new TransactWriteItemsCommand({ TransactItems: [addToCounter(effects)] }),
      );
      expect($metadata.attempts).toBe(2);
    } finally {
      retrying.destroy();
    }
    expect(await get(effects, 'counter')).toEqual({ id: s('counter'), n: n(1) });
  });

  it('answers in DynamoDB JSON error format', async () => {
    const response = await fetch(db.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.TransactWriteItems',
      },
      body: JSON.stringify({ TransactItems: [] }),
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/x-amz-json-1.0');
    expect(await response.json()).toEqual({
      __type: 'com.amazon.coral.validate#ValidationException',
      message: expect.stringMatching(/greater than or equal to 1/),
    });
  });
});

describe('ClientTokens', () => {
  it('forgets a committed token after 10 minutes', () => {
    let now = 0;
    const tokens = new ClientTokens(() => now);
    tokens.remember('t', 'request A');
    now = 10 * 60_000 - 1;
    expect(tokens.check('t', 'request A')).toBe('replay');
    expect(tokens.check('t', 'request B')).toBe('mismatch');
    now = 10 * 60_000;
    expect(tokens.check('t', 'request B')).toBe('new');
  });
});

describe('ReadWriteLock', () => {
  it('runs an exclusive holder alone, and queues later shared ones behind a waiting exclusive one', async () => {
    const lock = new ReadWriteLock();
    const events: string[] = [];
    const releaseRead1 = await lock.shared();
    const write = lock.exclusive().then((release) => {
      events.push('write');
      return release;
    });
    const read2 = lock.shared().then((release) => {
      events.push('read 2');
      return release;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(events).toEqual([]); // the writer waits for read 1; read 2 waits for the writer
    releaseRead1();
    const releaseWrite = await write;
    await new Promise((resolve) => setImmediate(resolve));
    expect(events).toEqual(['write']);
    releaseWrite();
    (await read2)();
    expect(events).toEqual(['write', 'read 2']);
  });
});
