/**
 * A real HTTP server on the loopback interface that answers each request by a script: a status with headers and a
 * body, a slow answer, or a reset connection. It records what each request carried (its Idempotency-Key, its
 * body, its headers), so a test sees what the client sent on every attempt.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Step =
  | {
      readonly status: number;
      readonly headers?: Record<string, string>;
      readonly body?: unknown;
      readonly delayMs?: number;
    }
  | { readonly reset: true };

export interface SeenRequest {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface ScriptedServer {
  readonly url: string;
  readonly seen: SeenRequest[];
  stop(): Promise<void>;
}

/** Answers request i by `steps[i]` (the last step again once the script runs out). */
export async function scriptedServer(steps: readonly Step[]): Promise<ScriptedServer> {
  const seen: SeenRequest[] = [];
  // The slow answers still pending: cleared on stop, so a test whose client gave up leaves no timer behind.
  const pending = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const step = steps[Math.min(seen.length, steps.length - 1)];
      seen.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      if ('reset' in step) {
        req.socket.destroy();
        return;
      }
      const answer = () => {
        if (res.destroyed) return;
        const body = step.body === undefined ? '' : JSON.stringify(step.body);
        res.writeHead(step.status, { 'content-type': 'application/json', ...step.headers });
        res.end(body);
      };
      if (!step.delayMs) {
        answer();
        return;
      }
      const timer = setTimeout(() => {
        pending.delete(timer);
        answer();
      }, step.delayMs);
      pending.add(timer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/orders`,
    seen,
    async stop() {
      for (const timer of pending) clearTimeout(timer);
      pending.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
