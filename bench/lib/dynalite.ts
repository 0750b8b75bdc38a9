/**
 * DynamoDB in the benchmark's own process (dynalite, tools/shared/local-dynamodb.ts), with a count of the TCP
 * connections the handlers open: with the SDK client created once per execution environment and HTTP keep-alive
 * (the SDK v3 default), a warm invocation opens none.
 */
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import type { IncomingMessage } from 'node:http';
import {
  createEffectTable,
  createIdempotencyTable,
  localDynamoDbClient,
  startDynalite,
} from '../../tools/shared/local-dynamodb';
import { effectTableOf } from './handlers';

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
  const dynalite = await startDynalite();
  const { server, endpoint } = dynalite;
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
  const client = localDynamoDbClient(endpoint);
  return {
    endpoint,
    connections: () => accepted,
    requests: () => ({ ...served }),
    // An idempotency table and the effect table the handlers write with it.
    async createTable(name) {
      await createIdempotencyTable(client, name);
      await createEffectTable(client, effectTableOf(name));
    },
    async deleteTable(name) {
      await client.send(new DeleteTableCommand({ TableName: name }));
      await client.send(new DeleteTableCommand({ TableName: effectTableOf(name) }));
    },
    async stop() {
      client.destroy();
      await dynalite.stop();
    },
  };
}
