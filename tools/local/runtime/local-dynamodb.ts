/**
 * DynamoDB for the simulator: dynalite in this process, behind a small HTTP proxy that is the simulator's fault
 * layer. Functions get the proxy's address (`AWS_ENDPOINT_URL_DYNAMODB`); the proxy forwards each request to
 * dynalite unless the fault layer answers it with an error first (a DynamoDB outage, a transient failure of one
 * record's idempotency claim). No handler code changes: the faults are where a real outage would be.
 */
import { CreateTableCommand, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

// dynalite ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (options: { createTableMs: number }) => Server;

export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** An error the fault layer answers instead of DynamoDB. */
export interface DynamoDbFault {
  readonly status: number;
  /** DynamoDB error code, e.g. `InternalServerError`. */
  readonly code: string;
  readonly message: string;
}

/** Decides, per request, whether it fails. `operation` is e.g. `PutItem`; `body` the parsed JSON request. */
export type FaultDecider = (operation: string, body: Record<string, unknown>) => DynamoDbFault | undefined;

export interface LocalDynamoDb {
  /** The proxy (fault layer): what functions talk to. */
  readonly endpoint: string;
  /** dynalite itself, for the simulator's own calls. */
  readonly directEndpoint: string;
  readonly client: DynamoDBClient;
  /** Counts of requests by operation, and of the ones the fault layer failed. */
  readonly stats: { readonly requests: Map<string, number>; readonly failed: Map<string, number> };
  setFaultDecider(decide: FaultDecider | undefined): void;
  /** Creates a table shaped like the idempotency table (partition key `id`), unless it exists. */
  createIdempotencyTable(name: string): Promise<void>;
  scan(tableName: string): Promise<Record<string, unknown>[]>;
  stop(): Promise<void>;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

export async function startLocalDynamoDb(): Promise<LocalDynamoDb> {
  const db = dynalite({ createTableMs: 0 });
  const dbPort = await listen(db);
  let decide: FaultDecider | undefined;
  const stats = { requests: new Map<string, number>(), failed: new Map<string, number>() };
  const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);

  const proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const operation =
        String(req.headers['x-amz-target'] ?? '')
          .split('.')
          .pop() ?? '';
      bump(stats.requests, operation);
      let fault: DynamoDbFault | undefined;
      if (decide) {
        try {
          fault = decide(operation, JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>);
        } catch {
          fault = undefined;
        }
      }
      if (fault) {
        bump(stats.failed, operation);
        const payload = JSON.stringify({
          __type: `com.amazonaws.dynamodb.v20120810#${fault.code}`,
          message: fault.message,
        });
        res.writeHead(fault.status, {
          'content-type': 'application/x-amz-json-1.0',
          'content-length': Buffer.byteLength(payload),
          'x-amzn-requestid': 'LOCALFAULT',
        });
        res.end(payload);
        return;
      }
      const headers: IncomingHttpHeaders = { ...req.headers, host: `127.0.0.1:${dbPort}` };
      const upstream = request(
        { host: '127.0.0.1', port: dbPort, method: req.method, path: req.url, headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 500, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', (error) => {
        res.writeHead(502);
        res.end(String(error));
      });
      upstream.end(body);
    });
  });
  const proxyPort = await listen(proxy);

  const directEndpoint = `http://127.0.0.1:${dbPort}`;
  const client = new DynamoDBClient({
    endpoint: directEndpoint,
    region: 'us-east-1',
    credentials: LOCAL_CREDENTIALS,
  });
  const tables = new Set<string>();
  return {
    endpoint: `http://127.0.0.1:${proxyPort}`,
    directEndpoint,
    client,
    stats,
    setFaultDecider(next) {
      decide = next;
    },
    async createIdempotencyTable(name) {
      if (tables.has(name)) return;
      await client.send(
        new CreateTableCommand({
          TableName: name,
          AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      tables.add(name);
    },
    async scan(tableName) {
      const { Items = [] } = await client.send(new ScanCommand({ TableName: tableName }));
      return Items.map((item) =>
        Object.fromEntries(Object.entries(item).map(([key, value]) => [key, Object.values(value)[0]])),
      );
    },
    async stop() {
      client.destroy();
      proxy.closeAllConnections?.();
      await Promise.all(
        [proxy, db].map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
      );
    },
  };
}
