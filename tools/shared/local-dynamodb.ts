/**
 * A real DynamoDB API in this process (dynalite), shared by the handler tests, the local simulator and the
 * benchmark: starting the server, a client with dummy credentials, and tables shaped like `IdempotencyTable`.
 */
import {
  CreateTableCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { IDEMPOTENCY_KEY_ATTRIBUTE } from '../../lib/constructs/idempotency-table';

// dynalite ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (options: {
  createTableMs: number;
  deleteTableMs?: number;
}) => Server;

/** Dummy credentials: dynalite checks that a request is signed, not by whom. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
export const LOCAL_REGION = 'us-east-1';

export interface Dynalite {
  /** The HTTP server (for counting connections or requests). */
  readonly server: Server;
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** Starts dynalite on a free loopback port; tables are created and deleted at once. */
export async function startDynalite(): Promise<Dynalite> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0 });
  await listenOnLoopback(server);
  return {
    server,
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async stop() {
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Listens on a free loopback port and returns it. */
export async function listenOnLoopback(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** A client for a local endpoint, with the dummy credentials. */
export function localDynamoDbClient(endpoint: string, config: DynamoDBClientConfig = {}): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, ...config });
}

/** Creates a table shaped like `IdempotencyTable` (partition key `id`, on-demand). */
export async function createIdempotencyTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: IDEMPOTENCY_KEY_ATTRIBUTE, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: IDEMPOTENCY_KEY_ATTRIBUTE, KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
}

/** Every item of a table, each attribute unwrapped to its plain value (`{ S: 'x' }` → `'x'`). */
export async function scanItems(
  client: DynamoDBClient,
  tableName: string,
): Promise<Record<string, unknown>[]> {
  const { Items = [] } = await client.send(new ScanCommand({ TableName: tableName }));
  return Items.map((item) =>
    Object.fromEntries(Object.entries(item).map(([key, value]) => [key, Object.values(value)[0]])),
  );
}
