/**
 * The child process that plays the Lambda Node.js runtime for the benchmark (bundled by bench/lib/harness.ts
 * into .tmp/bench/child.cjs and run with plain `node`, so it adds no TypeScript loader to what is measured).
 *
 * Like the runtime, it loads the handler module once (the init phase, with the function's environment in
 * place), then calls `handler(event, context)` with a Lambda context. Two modes (`BENCH_MODE`):
 * - `cold`: load, run the one event in `BENCH_EVENT_FILE`, report on file descriptor 3, exit. The parent times
 *   the whole thing from `spawn` on: process start + init + first batch.
 * - `warm`: load, then run every event the parent sends over IPC (built there: this process loads no event
 *   builder, which would add the domain modules' schemas to what a cold start measures), and report each.
 *
 * What the handler writes to stdout/stderr (its log) is counted, not parsed: the cost model prices log bytes.
 */
import type { Context } from 'aws-lambda';
import { createLambdaContext } from '../../tools/shared/lambda-context';
import { readFileSync, writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** Milliseconds from process start (Node's time origin) to the first line of this script. */
const bootMs = performance.now();

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

/** One warm invocation: the event (built by the parent, so this process loads no event builder) and its size. */
export interface WarmRequest {
  readonly event: unknown;
  readonly count: number;
}

/** What one invocation reports. */
export interface InvocationReport {
  /** Wall time of `handler(event, context)`, in ms. */
  readonly ms: number;
  /** CPU time (user + system) of this process during the invocation, in ms. */
  readonly cpuMs: number;
  /** Records reported failed (`batchItemFailures`), or all of them when the handler threw. */
  readonly failures: number;
  readonly error?: string;
  /** Log output of the invocation. */
  readonly logBytes: number;
  readonly logLines: number;
  /** Peak resident set size of the process so far, in KB. */
  readonly maxRssKb: number;
}

export interface ColdReport extends InvocationReport {
  readonly bootMs: number;
  /** Loading the handler module: the init phase. */
  readonly initMs: number;
  /** CPU time of the whole process (boot, init, first batch), in ms. */
  readonly processCpuMs: number;
}

let logBytes = 0;
let logLines = 0;
for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    logBytes += Buffer.byteLength(text);
    for (let index = text.indexOf('\n'); index !== -1; index = text.indexOf('\n', index + 1)) logLines += 1;
    return write(chunk, ...rest);
  }) as typeof stream.write;
}

let invocations = 0;

function lambdaContext(): Context {
  invocations += 1;
  return createLambdaContext({
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'bench',
    memorySizeMb: Number(process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE),
    requestId: `c6af9ac6-7b61-11e6-9a41-${String(invocations).padStart(12, '0')}`,
    // Lambda's longest timeout: a batch of 1,000 in order takes seconds here, and the handlers stop starting
    // records when less than a record's worst case is left (lambda/shared/deadlines.ts).
    timeoutMs: 15 * 60_000,
  });
}

async function loadHandler(file: string): Promise<Handler> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const module = file.endsWith('.mjs') ? await import(pathToFileURL(file).href) : require(file);
  if (typeof module.handler !== 'function') throw new Error(`${file} exports no handler function`);
  return module.handler as Handler;
}

function failuresOf(result: unknown): number {
  const failures = (result as { batchItemFailures?: unknown[] } | undefined)?.batchItemFailures;
  return Array.isArray(failures) ? failures.length : 0;
}

async function invoke(handler: Handler, event: unknown, recordCount: number): Promise<InvocationReport> {
  const context = lambdaContext();
  process.env._X_AMZN_TRACE_ID = `Root=1-65a4f1c3-${String(invocations).padStart(24, '0')};Parent=53995c3f42cd8ad8;Sampled=1`;
  const bytesBefore = logBytes;
  const linesBefore = logLines;
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  let failures: number;
  let error: string | undefined;
  try {
    failures = failuresOf(await handler(event, context));
  } catch (thrown) {
    failures = recordCount;
    error = `${(thrown as Error).name}: ${(thrown as Error).message}`;
  }
  const ms = performance.now() - start;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    ms,
    cpuMs: (cpu.user + cpu.system) / 1000,
    failures,
    ...(error !== undefined && { error }),
    logBytes: logBytes - bytesBefore,
    logLines: logLines - linesBefore,
    maxRssKb: process.resourceUsage().maxRSS,
  };
}

async function main(): Promise<void> {
  const file = process.env.BENCH_BUNDLE;
  if (!file) throw new Error('BENCH_BUNDLE is not set');
  const mode = process.env.BENCH_MODE ?? 'cold';
  const initStart = performance.now();
  const handler = await loadHandler(file);
  const initMs = performance.now() - initStart;

  if (mode === 'cold') {
    const { event, count } = JSON.parse(readFileSync(process.env.BENCH_EVENT_FILE ?? '', 'utf8')) as {
      event: unknown;
      count: number;
    };
    const report = await invoke(handler, event, count);
    const cpu = process.cpuUsage();
    const cold: ColdReport = { ...report, bootMs, initMs, processCpuMs: (cpu.user + cpu.system) / 1000 };
    writeSync(3, `${JSON.stringify(cold)}\n`);
    process.exit(0);
  }

  process.on('message', (request: WarmRequest) => {
    invoke(handler, request.event, request.count).then(
      (report) => process.send?.(report),
      (error: Error) => process.send?.({ error: error.message }),
    );
  });
  process.send?.({ ready: true, initMs, bootMs });
}

main().catch((error: Error) => {
  process.stderr.write(`bench child failed: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
