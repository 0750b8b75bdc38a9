/**
 * A real DynamoDB API in-process (dynalite), for handler tests: Powertools' persistence layer runs unmodified
 * against it, conditional writes included. One server per test file; one table per test keeps tests apart.
 */
import { CreateTableCommand, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import {
  IDEMPOTENCY_EXPIRY_ATTRIBUTE,
  IDEMPOTENCY_KEY_ATTRIBUTE,
} from '../../lib/constructs/idempotency-table';

// dynalite ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (options: { createTableMs: number }) => Server;

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

export const TEST_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

export async function startLocalDynamoDb(): Promise<LocalDynamoDb> {
  const server = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: TEST_CREDENTIALS });
  return {
    client,
    endpoint,
    async createIdempotencyTable(name = `idempotency-${process.pid}-${++tableCounter}`) {
      await client.send(
        new CreateTableCommand({
          TableName: name,
          AttributeDefinitions: [{ AttributeName: IDEMPOTENCY_KEY_ATTRIBUTE, AttributeType: 'S' }],
          KeySchema: [{ AttributeName: IDEMPOTENCY_KEY_ATTRIBUTE, KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      return name;
    },
    async scan(tableName) {
      const { Items = [] } = await client.send(new ScanCommand({ TableName: tableName }));
      return Items.map((item) =>
        Object.fromEntries(Object.entries(item).map(([key, value]) => [key, Object.values(value)[0]])),
      );
    },
    async stop() {
      client.destroy();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}

/** A client for a DynamoDB that is not there: nothing listens on the port, and it gives up after one try. */
export function unreachableDynamoDbClient(): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: 'http://127.0.0.1:9',
    region: 'us-east-1',
    credentials: TEST_CREDENTIALS,
    maxAttempts: 1,
  });
}

export { IDEMPOTENCY_EXPIRY_ATTRIBUTE };
