/**
 * A real DynamoDB API in this process (dynalite), shared by the handler tests, the local simulator and the
 * benchmark: starting the server, a client with dummy credentials, and tables shaped like `IdempotencyTable`.
 * dynalite lacks `TransactWriteItems`; the server adds it (dynamodb-transactions.ts) and hands every other request
 * to dynalite's own handler as it arrives.
 */
import {
  CreateTableCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { EFFECT_KEY_ATTRIBUTE } from '../../lib/constructs/effect-table';
import { IDEMPOTENCY_KEY_ATTRIBUTE } from '../../lib/constructs/idempotency-table';
import {
  ClientTokens,
  errorAnswer,
  ReadWriteLock,
  transactWriteItems,
  type DynamoDbAnswer,
  type DynamoDbCall,
  type JsonObject,
} from './dynamodb-transactions';

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
  /** The HTTP server clients connect to (for counting connections or requests). */
  readonly server: Server;
  readonly endpoint: string;
  stop(): Promise<void>;
}

/**
 * Starts dynalite, with `TransactWriteItems`, on a free loopback port; tables are created and deleted at once.
 */
export async function startDynalite(): Promise<Dynalite> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0 });
  serveTransactions(server);
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

/**
 * Puts the transaction layer in front of dynalite's request handler, on dynalite's own server (so `stop()` still
 * closes dynalite's store, and connections and requests counted on the server are the clients'). Every request
 * other than `TransactWriteItems` goes straight to dynalite's handler, unbuffered, under the shared side of the
 * lock, held until its response is sent; a transaction runs under the exclusive side (dynamodb-transactions.ts).
 */
function serveTransactions(server: Server): void {
  const [dynaliteHandler] = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  const lock = new ReadWriteLock();
  const tokens = new ClientTokens();
  const call = callInProcess(dynaliteHandler!);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1];
    if (operation === 'TransactWriteItems') {
      void serveTransaction(req, res);
      return;
    }
    void lock.shared().then((release) => {
      res.once('close', release); // 'close' follows the end of the response, or a dropped connection
      dynaliteHandler!(req, res);
    });
  });

  async function serveTransaction(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let request: JsonObject;
    try {
      request = JSON.parse(await readBody(req)) as JsonObject;
    } catch {
      // Not JSON, or the client went away before sending it all.
      return send(res, { status: 400, body: { __type: 'com.amazon.coral.service#SerializationException' } });
    }
    const release = await lock.exclusive();
    let answer: DynamoDbAnswer;
    try {
      answer = await transactWriteItems(request, call, tokens);
    } catch (error) {
      answer = errorAnswer('InternalServerError', String(error), 500);
    } finally {
      release();
    }
    send(res, answer);
  }
}

/**
 * Calls dynalite's request handler in this process with a minimal request and response (the subset of the HTTP
 * objects it uses), for the single-item calls of a transaction: they must not wait for the lock the transaction
 * holds, nor count as clients' requests.
 */
function callInProcess(handler: RequestListener): DynamoDbCall {
  return (operation, request) =>
    new Promise((resolve, reject) => {
      const req = Object.assign(Readable.from([Buffer.from(JSON.stringify(request))]), {
        method: 'POST',
        url: '/',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': `DynamoDB_20120810.${operation}`,
          'x-amz-date': '20000101T000000Z',
          // dynalite checks that a request is signed, not the signature.
          authorization:
            'AWS4-HMAC-SHA256 Credential=local/20000101/us-east-1/dynamodb/aws4_request, ' +
            'SignedHeaders=host, Signature=local',
        },
      });
      const res = {
        statusCode: 200,
        setHeader() {},
        end(body?: string) {
          try {
            resolve({ status: res.statusCode, body: body ? (JSON.parse(body) as JsonObject) : {} });
          } catch (error) {
            reject(error instanceof Error ? error : new Error(String(error)));
          }
        },
      };
      handler(req as unknown as IncomingMessage, res as unknown as ServerResponse);
    });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Answers in DynamoDB's JSON protocol, which the SDK maps to its results and exception classes. */
function send(res: ServerResponse, answer: DynamoDbAnswer): void {
  const payload = JSON.stringify(answer.body);
  res.writeHead(answer.status, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': Buffer.byteLength(payload),
    'x-amzn-requestid': randomUUID(),
  });
  res.end(payload);
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

/** Creates a table shaped like `EffectTable` (partition key `pk`, on-demand): where the business effects go. */
export async function createEffectTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: EFFECT_KEY_ATTRIBUTE, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: EFFECT_KEY_ATTRIBUTE, KeyType: 'HASH' }],
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
