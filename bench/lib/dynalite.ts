/**
 * DynamoDB in the benchmark's own process (dynalite, as in test/helpers/dynamodb.ts), with a count of the TCP
 * connections the handlers open: with the SDK client created once per execution environment and HTTP keep-alive
 * (the SDK v3 default), a warm invocation opens none.
 */
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { IDEMPOTENCY_KEY_ATTRIBUTE } from '../../lib/constructs/idempotency-table';
import { TEST_CREDENTIALS } from '../../test/helpers/dynamodb';

// dynalite ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (options: { createTableMs: number; deleteTableMs: number }) => Server;

export interface BenchDynamoDb {
  readonly endpoint: string;
  /** TCP connections accepted so far. */
  connections(): number;
  /** DynamoDB API calls served so far, by operation (`PutItem`, `UpdateItem`...). */
  requests(): Readonly<Record<string, number>>;
  createTable(name: string): Promise<void>;
  deleteTable(name: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startBenchDynamoDb(): Promise<BenchDynamoDb> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0 });
  let accepted = 0;
  server.on('connection', () => {
    accepted += 1;
  });
  const served: Record<string, number> = {};
  server.on('request', (request: IncomingMessage) => {
    const operation =
      String(request.headers['x-amz-target'] ?? 'unknown')
        .split('.')
        .pop() ?? 'unknown';
    served[operation] = (served[operation] ?? 0) + 1;
  });
  // Keep idle connections open for as long as a bench round can leave one idle (Node's default closes them after
  // 5 s), so "new connections" measures the handler's reuse of its sockets, not the server's timeout.
  server.keepAliveTimeout = 10 * 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: TEST_CREDENTIALS });
  return {
    endpoint,
    connections: () => accepted,
    requests: () => ({ ...served }),
    async createTable(name) {
      await client.send(
        new CreateTableCommand({
          TableName: name,
          AttributeDefinitions: [{ AttributeName: IDEMPOTENCY_KEY_ATTRIBUTE, AttributeType: 'S' }],
          KeySchema: [{ AttributeName: IDEMPOTENCY_KEY_ATTRIBUTE, KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
    },
    async deleteTable(name) {
      await client.send(new DeleteTableCommand({ TableName: name }));
    },
    async stop() {
      client.destroy();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
