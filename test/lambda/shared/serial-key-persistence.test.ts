/**
 * The `read-then-complete` idempotency scheme against a real DynamoDB API (dynalite): the same Powertools
 * `makeIdempotent` wrapper as the handlers, with the persistence layer swapped. Each test counts the DynamoDB
 * requests the layer sends (a middleware on the client), because what this scheme is for is fewer writes.
 */
import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ReadThenCompletePersistenceLayer } from '../../../lambda/shared/serial-key-persistence';
import { createLambdaContext } from '../../../tools/shared/lambda-context';
import { useLocalDynamoDb } from '../../helpers/dynamodb';

const local = useLocalDynamoDb();

/** DynamoDB operations sent through the client, by name (`GetItem`, `PutItem`, `UpdateItem`, ...). */
function countRequests(client: DynamoDBClient): Map<string, number> {
  const counts = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const operation = String(context.commandName).replace(/Command$/, '');
      counts.set(operation, (counts.get(operation) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: `countRequests-${Math.random()}` },
  );
  return counts;
}

interface Setup {
  /** Applies `key` once; `action` is the business action. */
  readonly applyOnce: (key: string) => Promise<{ applied: string }>;
  /** Keys the action ran for, in order. */
  readonly ran: string[];
  readonly requests: Map<string, number>;
  /** Keys whose action throws. */
  readonly failing: Set<string>;
}

function setup(
  layer: (client: DynamoDBClient, tableName: string) => BasePersistenceLayer,
  expiresAfterSeconds = 3600,
): Setup {
  // A client of its own, so the counting middleware sees this test's requests only.
  const client = new DynamoDBClient({
    endpoint: local.dynamo.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const requests = countRequests(client);
  const config = new IdempotencyConfig({ expiresAfterSeconds, throwOnNoIdempotencyKey: true });
  config.registerLambdaContext(createLambdaContext());
  const ran: string[] = [];
  const failing = new Set<string>();
  const applyOnce = makeIdempotent(
    async (key: string) => {
      ran.push(key);
      if (failing.has(key)) throw new Error(`action failed for ${key}`);
      return { applied: key };
    },
    { persistenceStore: layer(client, local.tableName), config },
  );
  return { applyOnce, ran, requests, failing };
}

const readThenComplete = (client: DynamoDBClient, tableName: string) =>
  new ReadThenCompletePersistenceLayer({ tableName, awsSdkV3Client: client });
const claimThenComplete = (client: DynamoDBClient, tableName: string) =>
  new DynamoDBPersistenceLayer({ tableName, awsSdkV3Client: client });

describe('ReadThenCompletePersistenceLayer', () => {
  it('runs a new key once: one consistent read before, one write after', async () => {
    const s = setup(readThenComplete);
    await expect(s.applyOnce('event:a')).resolves.toEqual({ applied: 'event:a' });
    expect(s.ran).toEqual(['event:a']);
    expect(Object.fromEntries(s.requests)).toEqual({ GetItem: 1, UpdateItem: 1 });
    const [item] = await local.dynamo.scan(local.tableName);
    expect(item.status).toBe('COMPLETED');
    expect(JSON.stringify(item.data)).toContain('event:a');
    expect(item).not.toHaveProperty('in_progress_expiration');
  });

  it('returns the stored result for a completed key without running the action or writing', async () => {
    const s = setup(readThenComplete);
    await s.applyOnce('event:a');
    s.requests.clear();
    await expect(s.applyOnce('event:a')).resolves.toEqual({ applied: 'event:a' });
    expect(s.ran).toEqual(['event:a']);
    expect(Object.fromEntries(s.requests)).toEqual({ GetItem: 1 });
  });

  it('leaves nothing behind when the action fails, so the next delivery runs it (one read, no write)', async () => {
    const s = setup(readThenComplete);
    s.failing.add('event:a');
    await expect(s.applyOnce('event:a')).rejects.toThrow('action failed for event:a');
    expect(Object.fromEntries(s.requests)).toEqual({ GetItem: 1 });
    expect(await local.dynamo.scan(local.tableName)).toEqual([]);
    s.failing.clear();
    await expect(s.applyOnce('event:a')).resolves.toEqual({ applied: 'event:a' });
    expect(s.ran).toEqual(['event:a', 'event:a']);
  });

  it('runs a key again once its record has expired', async () => {
    const s = setup(readThenComplete, 1);
    await s.applyOnce('event:a');
    const [item] = await local.dynamo.scan(local.tableName);
    // Move the record's expiry into the past instead of waiting (DynamoDB's TTL deletes late, so the
    // expired item is typically still there: the layer must ignore it).
    await local.dynamo.client.send(
      new PutItemCommand({
        TableName: local.tableName,
        Item: {
          id: { S: String(item.id) },
          expiration: { N: String(Math.floor(Date.now() / 1000) - 10) },
          status: { S: 'COMPLETED' },
        },
      }),
    );
    await s.applyOnce('event:a');
    expect(s.ran).toEqual(['event:a', 'event:a']);
  });

  it('respects a live claim written by the default scheme (switching schemes while records are in flight)', async () => {
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const slow = makeIdempotent(
      async (key: string) => {
        await blocked;
        return { applied: key };
      },
      {
        persistenceStore: claimThenComplete(local.dynamo.client, local.tableName),
        config: (() => {
          const c = new IdempotencyConfig({ expiresAfterSeconds: 3600 });
          c.registerLambdaContext(createLambdaContext());
          return c;
        })(),
      },
    );
    const inFlight = slow('event:a');
    // Wait until the default scheme's INPROGRESS claim is in the table.
    for (let i = 0; i < 100 && (await local.dynamo.scan(local.tableName)).length === 0; i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    const reader = setup(readThenComplete);
    await expect(reader.applyOnce('event:a')).rejects.toBeInstanceOf(IdempotencyAlreadyInProgressError);
    expect(reader.ran).toEqual([]);
    release();
    await inFlight;
    await expect(reader.applyOnce('event:a')).resolves.toEqual({ applied: 'event:a' });
    expect(reader.ran).toEqual([]);
  });

  it('costs half the writes of the default scheme for the same deliveries', async () => {
    const deliveries = ['event:a', 'event:b', 'event:a', 'event:c', 'event:b', 'event:a'];
    const writesOf = async (layer: (client: DynamoDBClient, tableName: string) => BasePersistenceLayer) => {
      const s = setup(layer);
      for (const key of deliveries) await s.applyOnce(key);
      expect(s.ran).toEqual(['event:a', 'event:b', 'event:c']);
      const writes = ['PutItem', 'UpdateItem', 'DeleteItem'].reduce(
        (n, op) => n + (s.requests.get(op) ?? 0),
        0,
      );
      return { writes, reads: s.requests.get('GetItem') ?? 0 };
    };
    const cheap = await writesOf(readThenComplete);
    // Fresh table for the default scheme, so both start empty.
    const defaultTable = await local.dynamo.createIdempotencyTable();
    const claim = await writesOf((client) => claimThenComplete(client, defaultTable));
    expect(cheap).toEqual({ writes: 3, reads: 6 });
    // Default: a put per delivery (a rejected conditional put still consumes a write unit) and an update per
    // first delivery. (Its reads here are dynalite's: it lacks ReturnValuesOnConditionCheckFailure, so
    // Powertools reads the existing record; DynamoDB returns it with the rejected put.)
    expect(claim.writes).toBe(9);
  });
});
