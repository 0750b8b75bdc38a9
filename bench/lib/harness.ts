/**
 * Runs handler bundles in child processes that play the Lambda runtime (bench/lib/child.ts), against the
 * parent's in-process DynamoDB: a fresh process per cold start, one long-lived process per handler for warm
 * batches.
 */
import { build } from 'esbuild';
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ColdReport, InvocationReport, WarmRequest } from './child';
import { eventOf, type EventKind } from '../../tools/shared/sample-events';
import { DEFAULT_MEMORY_MB } from '../../lib/constructs/consumer-function';
import { PROJECT_ROOT } from './bundle';

/**
 * Where a bench run keeps its bundles, events and synthesized apps: its own directory under the OS temp dir
 * (the repository's .tmp/ is shared with other tools), with a `node_modules` link to this repository's, so the
 * bundles resolve the AWS SDK the way Lambda resolves the runtime's.
 */
export const BENCH_DIR = path.join(os.tmpdir(), `reliable-lambda-bench-${process.pid}`);

/** Creates {@link BENCH_DIR} and its `node_modules` link. */
export function prepareBenchDir(): void {
  mkdirSync(BENCH_DIR, { recursive: true });
  const modules = path.join(BENCH_DIR, 'node_modules');
  if (!existsSync(modules)) symlinkSync(path.join(PROJECT_ROOT, 'node_modules'), modules, 'dir');
}

/** Bundles the child runtime once per bench run; returns its path. */
export async function buildChildRuntime(): Promise<string> {
  const outfile = path.join(BENCH_DIR, 'child.cjs');
  await build({
    entryPoints: [path.join(__dirname, 'child.ts')],
    absWorkingDir: PROJECT_ROOT,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile,
    logLevel: 'error',
  });
  return outfile;
}

/** What a function sees in its environment: Lambda's variables, the function's own, the local endpoint. */
export function functionEnvironment(options: {
  readonly functionName: string;
  readonly own: Readonly<Record<string, string>>;
  readonly dynamoDbEndpoint: string;
  readonly memoryMb?: number;
}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_SESSION_TOKEN: 'bench',
    AWS_ENDPOINT_URL_DYNAMODB: options.dynamoDbEndpoint,
    AWS_LAMBDA_FUNCTION_NAME: options.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(options.memoryMb ?? DEFAULT_MEMORY_MB),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${options.functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: '2026/01/15/[$LATEST]0123456789abcdef0123456789abcdef',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    TZ: ':UTC',
    // The SDK warns once on Node < 22 (this machine runs Node 20; Lambda runs 24, where it does not).
    NODE_NO_WARNINGS: '1',
    ...options.own,
  };
}

export interface ColdResult extends ColdReport {
  /** `spawn` until the report arrived: process start + init + first batch, as the parent saw it. */
  readonly wallMs: number;
  /** TCP connections the run opened to DynamoDB. */
  readonly connections: number;
}

let eventCounter = 0;

/** Starts a fresh process for `bundle`, runs one batch of `count` records, returns what it measured. */
export async function coldStart(options: {
  readonly childRuntime: string;
  readonly bundle: string;
  readonly kind: EventKind;
  readonly count: number;
  readonly runId: string;
  readonly env: Readonly<Record<string, string>>;
  readonly connections: () => number;
}): Promise<ColdResult> {
  const eventFile = path.join(BENCH_DIR, 'events', `cold-${process.pid}-${++eventCounter}.json`);
  mkdirSync(path.dirname(eventFile), { recursive: true });
  writeFileSync(
    eventFile,
    JSON.stringify({ event: eventOf(options.kind, options.count, options.runId), count: options.count }),
  );
  const connectionsBefore = options.connections();
  const start = performance.now();
  const child = spawn(process.execPath, [options.childRuntime], {
    env: { ...options.env, BENCH_BUNDLE: options.bundle, BENCH_MODE: 'cold', BENCH_EVENT_FILE: eventFile },
    // The function's log goes to /dev/null: a pipe the parent drains while it also serves DynamoDB would fill
    // up and block the child's (synchronous) writes, which the runtime's log pipe does not do to this extent.
    // The child counts the bytes itself.
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  const report = await new Promise<ColdReport>((resolve, reject) => {
    let text = '';
    let errors = '';
    child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    const results = child.stdio[3] as NodeJS.ReadableStream;
    results.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\n')) resolve(JSON.parse(text) as ColdReport);
    });
    child.on('exit', (code) => {
      if (!text.includes('\n'))
        reject(new Error(`cold start of ${options.bundle} exited ${code}: ${errors}`));
    });
  });
  const wallMs = performance.now() - start;
  await new Promise((resolve) => (child.exitCode === null ? child.on('exit', resolve) : resolve(undefined)));
  assertNoFailures(options.bundle, report, options.count);
  return { ...report, wallMs, connections: options.connections() - connectionsBefore };
}

export function assertNoFailures(what: string, report: InvocationReport, count: number): void {
  if (report.failures > 0 || report.error) {
    throw new Error(
      `${what}: ${report.failures} of ${count} records failed${report.error ? ` (${report.error})` : ''}: the bench would measure the failure path.`,
    );
  }
}

/** One long-lived execution environment for warm invocations. */
export class WarmChild {
  private readonly child: ChildProcess;
  private readonly ready: Promise<{ initMs: number }>;
  private pending?: { resolve: (report: InvocationReport) => void; reject: (error: Error) => void };

  constructor(
    readonly name: string,
    childRuntime: string,
    bundle: string,
    env: Readonly<Record<string, string>>,
  ) {
    this.child = fork(childRuntime, [], {
      env: { ...env, BENCH_BUNDLE: bundle, BENCH_MODE: 'warm' },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'], // the log to /dev/null, as for cold starts
    });
    let errors = '';
    this.child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    const ready = new Promise<{ initMs: number }>((resolve, reject) => {
      this.child.once('exit', (code) => {
        const error = new Error(`warm child ${name} exited ${code}: ${errors}`);
        reject(error);
        this.pending?.reject(error);
      });
      this.child.on('message', (message: InvocationReport & { ready?: boolean; initMs: number }) => {
        if (message.ready) {
          resolve({ initMs: message.initMs });
          return;
        }
        const pending = this.pending;
        this.pending = undefined;
        pending?.resolve(message);
      });
    });
    ready.catch(() => undefined); // reported by invoke(), which awaits it
    this.ready = ready;
  }

  /** One invocation of a batch of `count` records of `kind` (ids from `runId`), built here and sent over IPC. */
  async invoke(request: { kind: EventKind; count: number; runId: string }): Promise<InvocationReport> {
    await this.ready;
    const message: WarmRequest = {
      event: eventOf(request.kind, request.count, request.runId),
      count: request.count,
    };
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.child.send(message);
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill();
    await exited;
  }
}
