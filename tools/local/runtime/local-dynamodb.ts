/**
 * DynamoDB with faults, for the simulator and the handler tests: dynalite in this process (with transactions,
 * tools/shared/local-dynamodb.ts), behind a small HTTP proxy where the fault model (tools/shared/dynamodb-faults.ts)
 * decides each request. Functions get the proxy's address, one per execution environment
 * ({@link LocalDynamoDb.endpointFor}); the proxy forwards each request to dynalite unless an interceptor decides
 * otherwise: fail it (before the table sees it, or after it was applied), leave it unanswered (a hang), or kill
 * the environment there (a crash or a timeout). No handler code changes: the faults are where real ones would be.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createServer, type IncomingHttpHeaders, request, type ServerResponse } from 'node:http';
import {
  type DynamoDbFault,
  type DynamoDbRequest,
  environmentEndpoint,
  type RequestDecision,
  type RequestInterceptor,
  splitEnvironmentPath,
} from '../../shared/dynamodb-faults';
import {
  createEffectTable,
  createIdempotencyTable,
  listenOnLoopback,
  localDynamoDbClient,
  scanItems,
  startDynalite,
} from '../../shared/local-dynamodb';

export type { DynamoDbFault } from '../../shared/dynamodb-faults';

export interface LocalDynamoDb {
  /** The proxy (fault layer), for functions that need no environment of their own. */
  readonly endpoint: string;
  /** dynalite itself, for the simulator's own calls. */
  readonly directEndpoint: string;
  /** A client of dynalite itself (no faults). */
  readonly client: DynamoDBClient;
  /** Counts of requests by operation, and of the ones the fault layer failed. */
  readonly stats: { readonly requests: Map<string, number>; readonly failed: Map<string, number> };
  /** The proxy address of one execution environment (its requests are told apart by it). */
  endpointFor(environment: string): string;
  /** Sets who decides about requests (in order; none deciding forwards the request). */
  setInterceptor(interceptor: RequestInterceptor | undefined): void;
  /** Creates a table shaped like the idempotency table (partition key `id`), unless it exists. */
  createIdempotencyTable(name: string): Promise<void>;
  /** Creates a table shaped like the effect table (partition key `pk`), unless it exists. */
  createEffectTable(name: string): Promise<void>;
  scan(tableName: string): Promise<Record<string, unknown>[]>;
  stop(): Promise<void>;
}

export async function startLocalDynamoDb(): Promise<LocalDynamoDb> {
  const db = await startDynalite();
  const dbPort = Number(new URL(db.endpoint).port);
  let intercept: RequestInterceptor | undefined;
  const stats = { requests: new Map<string, number>(), failed: new Map<string, number>() };
  const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
  /** Responses left unanswered (hangs, dead environments), ended when the proxy stops. */
  const unanswered = new Set<ServerResponse>();

  const forward = (path: string, headers: IncomingHttpHeaders, body: Buffer) =>
    new Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }>((resolve) => {
      const upstream = request(
        {
          host: '127.0.0.1',
          port: dbPort,
          method: 'POST',
          path,
          headers: { ...headers, host: `127.0.0.1:${dbPort}` },
        },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => chunks.push(chunk));
          answer.on('end', () =>
            resolve({
              status: answer.statusCode ?? 500,
              headers: answer.headers,
              body: Buffer.concat(chunks),
            }),
          );
        },
      );
      upstream.on('error', (error) =>
        resolve({ status: 502, headers: {}, body: Buffer.from(String(error)) }),
      );
      upstream.end(body);
    });

  const proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks);
        const { environment, path } = splitEnvironmentPath(req.url ?? '/');
        const operation =
          String(req.headers['x-amz-target'] ?? '')
            .split('.')
            .pop() ?? '';
        bump(stats.requests, operation);
        const decision = decide(intercept, {
          ...(environment !== undefined && { environment }),
          operation,
          body,
          callId: headerText(req.headers['amz-sdk-invocation-id']),
          attempt: attemptOf(req.headers['amz-sdk-request']),
        });
        const answer =
          decision.action === 'forward' || decision.applied
            ? await forward(path, req.headers, body)
            : undefined;
        if (decision.action === 'forward') {
          res.writeHead(answer!.status, answer!.headers);
          res.end(answer!.body);
        } else if (decision.action === 'fail') {
          bump(stats.failed, operation);
          sendFault(res, decision.fault);
        } else {
          // A hang or a dead environment: no answer; the client's request timeout (if any) ends the attempt.
          bump(stats.failed, operation);
          unanswered.add(res);
          res.once('close', () => unanswered.delete(res));
        }
      })();
    });
  });
  const proxyPort = await listenOnLoopback(proxy);
  const endpoint = `http://127.0.0.1:${proxyPort}`;

  const client = localDynamoDbClient(db.endpoint);
  const tables = new Set<string>();
  const createOnce = async (name: string, create: () => Promise<void>) => {
    if (tables.has(name)) return;
    await create();
    tables.add(name);
  };
  return {
    endpoint,
    directEndpoint: db.endpoint,
    client,
    stats,
    endpointFor: (environment) => environmentEndpoint(endpoint, environment),
    setInterceptor(next) {
      intercept = next;
    },
    createIdempotencyTable: (name) => createOnce(name, () => createIdempotencyTable(client, name)),
    createEffectTable: (name) => createOnce(name, () => createEffectTable(client, name)),
    scan: (tableName) => scanItems(client, tableName),
    async stop() {
      client.destroy();
      for (const res of unanswered) res.destroy();
      proxy.closeAllConnections?.();
      await Promise.all([new Promise<void>((resolve) => proxy.close(() => resolve())), db.stop()]);
    },
  };
}

function decide(
  intercept: RequestInterceptor | undefined,
  request: Omit<DynamoDbRequest, 'body'> & { readonly body: Buffer },
): RequestDecision {
  if (!intercept) return { action: 'forward' };
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(request.body.toString('utf8') || '{}') as Record<string, unknown>;
  } catch {
    return { action: 'forward' };
  }
  return intercept({ ...request, body }) ?? { action: 'forward' };
}

function sendFault(res: ServerResponse, fault: DynamoDbFault): void {
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
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The attempt number the SDK sends in `amz-sdk-request: attempt=2; max=3`. */
function attemptOf(value: string | string[] | undefined): number {
  const match = /attempt=(\d+)/.exec(headerText(value) ?? '');
  return match ? Number(match[1]) : 1;
}
