/**
 * DynamoDB for the simulator: dynalite in this process, behind a small HTTP proxy that is the simulator's fault
 * layer. Functions get the proxy's address (`AWS_ENDPOINT_URL_DYNAMODB`); the proxy forwards each request to
 * dynalite unless the fault layer answers it with an error first (a DynamoDB outage, a transient failure of one
 * record's idempotency claim). No handler code changes: the faults are where a real outage would be.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import {
  createIdempotencyTable,
  listenOnLoopback,
  localDynamoDbClient,
  scanItems,
  startDynalite,
} from '../../shared/local-dynamodb';

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

export async function startLocalDynamoDb(): Promise<LocalDynamoDb> {
  const db = await startDynalite();
  const dbPort = Number(new URL(db.endpoint).port);
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
  const proxyPort = await listenOnLoopback(proxy);

  const directEndpoint = db.endpoint;
  const client = localDynamoDbClient(directEndpoint);
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
      await createIdempotencyTable(client, name);
      tables.add(name);
    },
    scan: (tableName) => scanItems(client, tableName),
    async stop() {
      client.destroy();
      proxy.closeAllConnections?.();
      await Promise.all([new Promise<void>((resolve) => proxy.close(() => resolve())), db.stop()]);
    },
  };
}
