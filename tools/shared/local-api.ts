/**
 * A local stand-in for the http path's API Gateway HTTP API: an HTTP server on a loopback port that turns each
 * request into the payload format 2.0 event API Gateway sends (http-events.ts), invokes the handler in this process
 * with a Lambda context, and writes the handler's answer back. For the client's end-to-end tests (the classic
 * duplicate: the server finished, the answer was lost) and for trying `npm run send` without an account.
 *
 * It models neither IAM (every request is taken as signed by account 123456789012) nor the stage throttle nor the
 * function's concurrency: those are the simulator's (docs/http-path.md says what it must model).
 */
import type {
  APIGatewayProxyEventV2WithIAMAuthorizer,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpApiEvent } from './http-events';
import { createLambdaContext } from './lambda-context';

export type HttpHandler = (
  event: APIGatewayProxyEventV2WithIAMAuthorizer,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

export interface LocalApiOptions {
  /** The function's timeout: its context's remaining time counts down from it. @default 3000 */
  readonly functionTimeoutMs?: number;
  /**
   * Called after the handler answered and before the answer is written: return `'drop'` to close the connection
   * instead (the answer is lost, the work is done), or a number of ms to hold the answer first.
   */
  readonly beforeAnswer?: (
    request: number,
    result: APIGatewayProxyStructuredResultV2,
  ) => 'drop' | number | undefined;
}

export interface LocalApi {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** How many requests reached the handler. */
  readonly invocations: number;
  stop(): Promise<void>;
}

export async function startLocalApi(handler: HttpHandler, options: LocalApiOptions = {}): Promise<LocalApi> {
  let invocations = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        invocations += 1;
        const request = invocations;
        const headers = Object.fromEntries(
          Object.entries(req.headers).map(([name, value]) => [
            name,
            Array.isArray(value) ? value.join(',') : String(value ?? ''),
          ]),
        );
        const url = new URL(req.url ?? '/', 'http://localhost');
        const event = httpApiEvent({
          method: req.method ?? 'GET',
          path: url.pathname,
          headers,
          body: chunks.length > 0 ? Buffer.concat(chunks).toString('utf8') : undefined,
        });
        let result: APIGatewayProxyStructuredResultV2;
        try {
          result = await handler(
            event,
            createLambdaContext({
              functionName: 'local-http-ingress',
              timeoutMs: options.functionTimeoutMs ?? 3000,
            }),
          );
        } catch {
          // What API Gateway answers when the function fails without an answer.
          result = { statusCode: 500, body: JSON.stringify({ message: 'Internal Server Error' }) };
        }
        const hold = options.beforeAnswer?.(request, result);
        if (hold === 'drop') {
          req.socket.destroy();
          return;
        }
        if (typeof hold === 'number' && hold > 0) await new Promise((resolve) => setTimeout(resolve, hold));
        if (req.socket.destroyed) return;
        res.writeHead(result.statusCode ?? 200, {
          ...(result.headers as Record<string, string> | undefined),
          'apigw-requestid': event.requestContext.requestId,
        });
        res.end(result.body ?? '');
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get invocations() {
      return invocations;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
