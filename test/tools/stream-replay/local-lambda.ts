/**
 * Lambda's `Invoke` API in-process, for the replay tool's `--invoke` tests: an HTTP server speaking the
 * operation's REST-JSON protocol, running a handler the test gives it (the real DynamoDB Streams consumer handler,
 * against dynalite), so the real SDK client (`@aws-sdk/client-lambda`) sends its requests and parses its answers
 * as against AWS.
 *
 * What it serves (Lambda API reference, `Invoke`): `POST /2015-03-31/functions/<FunctionName>/invocations` with
 * the event as the body; 200 with the handler's answer and `X-Amz-Executed-Version`; a handler that throws:
 * 200 with `X-Amz-Function-Error: Unhandled` and `{"errorType","errorMessage","trace"}`; an unknown function: 404
 * `ResourceNotFoundException`; a request payload over 6 MB: 413 `RequestTooLargeException`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { Context } from 'aws-lambda';
import { createLambdaContext } from '../../../tools/shared/lambda-context';

const TEST_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
/** A synchronous invocation's request payload limit. */
export const MAX_REQUEST_BYTES = 6 * 1024 * 1024;

export type Handler = (event: unknown, context: Context) => Promise<unknown>;

export interface Invocation {
  readonly functionName: string;
  readonly invocationType: string;
  readonly event: unknown;
}

export interface LocalLambda {
  readonly endpoint: string;
  createClient(options: { region: string }): LambdaClient;
  /** Serves `handler` as the function `name`. */
  deploy(name: string, handler: Handler): void;
  /** Every invocation that reached a function, in order. */
  readonly invocations: Invocation[];
  stop(): Promise<void>;
}

export async function startLocalLambda(): Promise<LocalLambda> {
  const functions = new Map<string, Handler>();
  const invocations: Invocation[] = [];

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      void answer(request, Buffer.concat(chunks)).then(({ status, headers, body }) => {
        response.writeHead(status, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'x-amzn-requestid': `req-${invocations.length}`,
          ...headers,
        });
        response.end(body);
      });
    });
  });

  async function answer(
    request: IncomingMessage,
    body: Buffer,
  ): Promise<{ status: number; headers: Record<string, string>; body: string }> {
    const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations(\?.*)?$/.exec(request.url ?? '');
    if (request.method !== 'POST' || !match) {
      return { status: 404, headers: { 'x-amzn-errortype': 'UnknownOperationException' }, body: '{}' };
    }
    const requested = decodeURIComponent(match[1]);
    // A name, name:qualifier, partial ARN or ARN: the function's name is what follows `function:`, or all of it.
    const name = /(?:^|function:)([a-zA-Z0-9_.-]+)(?::[a-zA-Z0-9_$-]+)?$/.exec(requested)?.[1] ?? requested;
    const handler = functions.get(name);
    if (!handler) {
      return {
        status: 404,
        headers: { 'x-amzn-errortype': 'ResourceNotFoundException' },
        body: JSON.stringify({
          Type: 'User',
          message: `Function not found: arn:aws:lambda:eu-west-1:123456789012:function:${name}`,
        }),
      };
    }
    if (body.length > MAX_REQUEST_BYTES) {
      return {
        status: 413,
        headers: { 'x-amzn-errortype': 'RequestTooLargeException' },
        body: JSON.stringify({
          Type: 'User',
          message: `Request must be smaller than ${MAX_REQUEST_BYTES} bytes for the InvokeFunction operation`,
        }),
      };
    }
    const event = JSON.parse(body.toString('utf8')) as unknown;
    invocations.push({
      functionName: name,
      invocationType: String(request.headers['x-amz-invocation-type'] ?? 'RequestResponse'),
      event,
    });
    try {
      const result = await handler(event, createLambdaContext({ functionName: name }));
      return {
        status: 200,
        headers: { 'x-amz-executed-version': '$LATEST' },
        body: result === undefined ? 'null' : JSON.stringify(result),
      };
    } catch (error) {
      return {
        status: 200,
        headers: { 'x-amz-executed-version': '$LATEST', 'x-amz-function-error': 'Unhandled' },
        body: JSON.stringify({
          errorType: (error as Error).name,
          errorMessage: (error as Error).message,
          trace: [],
        }),
      };
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    invocations,
    createClient: ({ region }) =>
      new LambdaClient({
        region,
        endpoint,
        credentials: TEST_CREDENTIALS,
        requestHandler: new NodeHttpHandler(),
        maxAttempts: 1,
      }),
    deploy(name, handler) {
      functions.set(name, handler);
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
}
