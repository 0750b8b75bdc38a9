/**
 * A real DynamoDB API in-process (dynalite), for handler tests: Powertools' persistence layer runs unmodified
 * against it, conditional writes included. One server per test file; one table per test keeps tests apart.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  createIdempotencyTable,
  localDynamoDbClient,
  scanItems,
  startDynalite,
} from '../../tools/shared/local-dynamodb';

export interface LocalDynamoDb {
  /** A client pointed at the in-process server, with dummy credentials. */
  readonly client: DynamoDBClient;
  readonly endpoint: string;
  /** Creates an idempotency table shaped like `IdempotencyTable` (key `id`) and returns its name. */
  createIdempotencyTable(name?: string): Promise<string>;
  /** All items of a table (for asserting what was recorded). */
  scan(tableName: string): Promise<Record<string, unknown>[]>;
  stop(): Promise<void>;
}

let tableCounter = 0;

export async function startLocalDynamoDb(): Promise<LocalDynamoDb> {
  const dynalite = await startDynalite();
  const client = localDynamoDbClient(dynalite.endpoint);
  return {
    client,
    endpoint: dynalite.endpoint,
    async createIdempotencyTable(name = `idempotency-${process.pid}-${++tableCounter}`) {
      await createIdempotencyTable(client, name);
      return name;
    },
    scan: (tableName) => scanItems(client, tableName),
    async stop() {
      client.destroy();
      await dynalite.stop();
    },
  };
}

/** A client for a DynamoDB that is not there: nothing listens on the port, and it gives up after one try. */
export function unreachableDynamoDbClient(): DynamoDBClient {
  return localDynamoDbClient('http://127.0.0.1:9', { maxAttempts: 1 });
}

/** What {@link useLocalDynamoDb} gives a test file; read its fields inside tests (they are set by the hooks). */
export interface LocalDynamoDbFixture {
  /** The test file's server. */
  readonly dynamo: LocalDynamoDb;
  /** A fresh idempotency table for the current test. */
  readonly tableName: string;
}

/** Registers the Jest hooks: one dynalite server for the test file, a fresh idempotency table per test. */
export function useLocalDynamoDb(): LocalDynamoDbFixture {
  let dynamo: LocalDynamoDb | undefined;
  let tableName: string | undefined;
  beforeAll(async () => {
    dynamo = await startLocalDynamoDb();
  });
  afterAll(async () => {
    await dynamo?.stop();
  });
  beforeEach(async () => {
    tableName = await dynamo!.createIdempotencyTable();
  });
  return {
    get dynamo() {
      return dynamo!;
    },
    get tableName() {
      return tableName!;
    },
  };
}
