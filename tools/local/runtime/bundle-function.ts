/**
 * Runs a deployed handler bundle (`cdk.out/asset.<hash>/index.js`, the file Lambda would run) as function code
 * for the simulator, the way the Node.js runtime does: the function's environment is in place when the module is
 * loaded (cold start) and while it runs, the handler gets the event and a Lambda context, and what it writes to
 * stdout/stderr is its log. The `side effect done` lines (lambda/shared/side-effect.ts) tell which records had
 * their side effect.
 *
 * Each `BundleFunction` loads its own copy of the module (a fresh execution environment); the AWS SDK stays
 * shared, as it is provided by the runtime.
 */
import { existsSync, readFileSync } from 'node:fs';
import Module from 'node:module';
import { dirname, join, sep } from 'node:path';
import type { FunctionConfig } from '../engine/config';
import { hostProcess } from '../engine/host';
import type { CallFaultInjector, CrashKind } from '../../shared/dynamodb-faults';
import {
  DYNAMODB_BUDGET_ENVIRONMENT,
  readDependencyRetryDelays,
  readDynamoDbCallBudget,
} from '../../../lambda/shared/deadlines';
import type { FunctionCode, FunctionInvocation, FunctionResult } from '../engine/lambda';
import { setVirtualWaits } from '../engine/wall-clock';
import { SIDE_EFFECT_LOG_MESSAGE } from '../../../lambda/shared/side-effect';
import type { FaultLayer } from './fault-layer';
import type { KeyHint } from './idempotency-keys';

/** The handlers' line for an applied effect (lambda/shared/side-effect.ts). */
export const SIDE_EFFECT_MESSAGE = SIDE_EFFECT_LOG_MESSAGE;

export type Handler = (event: unknown, context: unknown) => unknown;

export interface BundleFunctionOptions {
  readonly config: FunctionConfig;
  /** The proxy (fault layer) address of the local DynamoDB for one execution environment. */
  readonly dynamoDbEndpointFor: (environment: string) => string;
  /** Faults on the DynamoDB calls of an invocation, crashes and timeouts included (dynamodb-faults.ts). */
  readonly callFaults?: CallFaultInjector;
  readonly region: string;
  /** Resolves a side effect's `recordKey` to a record id. */
  readonly resolveRecordKey: (recordKey: string) => string | undefined;
  readonly faultLayer?: FaultLayer;
  readonly keyHint?: KeyHint;
  /** Environment variables added for local runs (after the function's own). */
  readonly extraEnvironment?: Readonly<Record<string, string>>;
  /** Called with every log line (JSON or not) the function writes. */
  readonly onLog?: (line: string, invocationSeq: number) => void;
}

export interface CapturedLine {
  readonly text: string;
  readonly json?: Record<string, unknown>;
}

/** The environment Lambda gives a Node.js function, plus the function's own variables. */
export function lambdaEnvironment(
  options: BundleFunctionOptions,
  environment: string,
): Record<string, string> {
  const { config } = options;
  const { NODE_OPTIONS: _nodeOptions, ...own } = config.environment;
  return {
    AWS_REGION: options.region,
    AWS_DEFAULT_REGION: options.region,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_SESSION_TOKEN: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: options.dynamoDbEndpointFor(environment),
    AWS_LAMBDA_FUNCTION_NAME: config.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(config.memorySizeMb),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${config.functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: `local/[$LATEST]${config.id}`,
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    // Lambda sets it in every on-demand environment; Powertools reports `cold_start: true` on the first
    // invocation of an environment only when it is `on-demand` (without it, every invocation logs false).
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    LAMBDA_TASK_ROOT: config.code?.directory ?? '',
    _HANDLER: config.code?.handler ?? 'index.handler',
    ...own,
    ...options.extraEnvironment,
  };
}

/** Sets variables (of the host process, which the bundles read) for the duration of `run`, then restores them. */
export async function withEnvironment<T>(
  vars: Readonly<Record<string, string>>,
  run: () => Promise<T>,
): Promise<T> {
  const env = hostProcess.env;
  const previous = new Map(Object.keys(vars).map((key) => [key, env[key]]));
  Object.assign(env, vars);
  try {
    return await run();
  } finally {
    for (const [key, value] of previous) {
      if (value === undefined) delete env[key];
      else env[key] = value;
    }
  }
}

/**
 * Captures what is written to stdout and stderr while `run` runs. JSON lines (the function's structured logs)
 * are kept and not printed; anything else passes through (e.g. a test runner's own output).
 */
export async function captureOutput<T>(run: () => Promise<T>): Promise<{ result: T; lines: CapturedLine[] }> {
  const lines: CapturedLine[] = [];
  const streams = [hostProcess.stdout, hostProcess.stderr];
  const originals = streams.map((stream) => stream.write);
  streams.forEach((stream, index) => {
    const original = originals[index];
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      const passThrough: string[] = [];
      for (const line of text.split('\n')) {
        if (line.trim() === '') continue;
        if (line.trimStart().startsWith('{')) {
          let json: Record<string, unknown> | undefined;
          try {
            json = JSON.parse(line) as Record<string, unknown>;
          } catch {
            json = undefined;
          }
          lines.push({ text: line, ...(json && { json }) });
        } else {
          lines.push({ text: line });
          passThrough.push(line);
        }
      }
      const callback = rest.find((r): r is () => void => typeof r === 'function');
      if (passThrough.length > 0) {
        return (original as (chunk: string, cb?: () => void) => boolean).call(
          stream,
          `${passThrough.join('\n')}\n`,
          callback,
        );
      }
      callback?.();
      return true;
    }) as typeof stream.write;
  });
  try {
    const result = await run();
    return { result, lines };
  } finally {
    streams.forEach((stream, index) => {
      stream.write = originals[index];
    });
  }
}

/**
 * Where the runtime's AWS SDK comes from: the Node.js runtime provides `@aws-sdk/*` (the bundles leave it
 * external); locally it is this project's copy, whatever directory the bundle sits in.
 */
function runtimeNodeModules(): string {
  const entry = Module.createRequire(__filename).resolve('@aws-sdk/client-dynamodb');
  const marker = `${sep}node_modules${sep}`;
  return entry.slice(0, entry.lastIndexOf(marker) + marker.length - 1);
}

interface InternalModule {
  filename: string;
  paths: string[];
  exports: unknown;
  _compile(content: string, filename: string): void;
}

/** Loads a fresh copy of a CommonJS bundle (its own module state: a new execution environment). */
export function loadHandler(directory: string, handlerSetting: string): Handler {
  const [file, exportName] = splitHandler(handlerSetting);
  const filename = join(directory, `${file}.js`);
  if (!existsSync(filename)) {
    throw new Error(
      `${filename} does not exist: the function's code in the cloud assembly is not a bundle (written by \`cdk ls\`?); run \`npm run synth\`.`,
    );
  }
  const ModuleClass = Module as unknown as {
    new (id: string, parent?: unknown): InternalModule;
    _nodeModulePaths(from: string): string[];
  };
  const module = new ModuleClass(filename);
  module.filename = filename;
  module.paths = [...ModuleClass._nodeModulePaths(dirname(filename)), runtimeNodeModules()];
  module._compile(readFileSync(filename, 'utf8'), filename);
  const handler = (module.exports as Record<string, unknown>)[exportName];
  if (typeof handler !== 'function') {
    throw new Error(`${filename} has no "${exportName}" function export (Handler "${handlerSetting}").`);
  }
  return handler as Handler;
}

function splitHandler(setting: string): [string, string] {
  const dot = setting.lastIndexOf('.');
  if (dot <= 0) throw new Error(`Handler "${setting}" is not "<file>.<export>".`);
  return [setting.slice(0, dot), setting.slice(dot + 1)];
}

/** Runs a handler with Lambda's conventions: a promise, or a callback for old-style handlers. */
export async function callHandler(handler: Handler, event: unknown, context: unknown): Promise<unknown> {
  if (handler.length >= 3) {
    return new Promise((resolve, reject) => {
      (handler as (e: unknown, c: unknown, cb: (error: unknown, result?: unknown) => void) => void)(
        event,
        context,
        (error, result) =>
          error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(result),
      );
    });
  }
  return await handler(event, context);
}

export class BundleFunction implements FunctionCode {
  private handler?: Handler;
  /** The execution environment: a new one (module loaded again, its own endpoint) after a crash. */
  private environmentNumber = 1;
  private environment: Record<string, string>;
  /** Log lines of the last invocation (for `npm run invoke`). */
  lastLog: CapturedLine[] = [];
  /** What the handler threw in the last invocation, as thrown (for `npm run invoke`); undefined if it returned. */
  lastError: unknown;

  /** The handler's in-invocation retry waits: they run on the virtual clock (engine/wall-clock.ts). */
  private readonly virtualWaits: readonly number[];

  constructor(private readonly options: BundleFunctionOptions) {
    if (!options.config.code) throw new Error(`Function ${options.config.id} has no code directory.`);
    this.environment = lambdaEnvironment(options, this.environmentId);
    this.virtualWaits = readDependencyRetryDelays(this.environment);
    this.separateRequestTimeoutFromWaits();
  }

  /**
   * The simulator tells the handler's waits (virtual) from the SDK's request timeout (real) by their delay: a
   * request timeout equal to a wait (2,000 ms, the cap, for a function timeout of 38 s or more) is moved by 1 ms
   * here, which changes nothing a test can see.
   */
  private separateRequestTimeoutFromWaits(): void {
    let requestTimeout = readDynamoDbCallBudget(this.environment).requestTimeoutMs;
    while (this.virtualWaits.includes(requestTimeout)) requestTimeout += 1;
    this.environment[DYNAMODB_BUDGET_ENVIRONMENT.requestTimeoutMs] = String(requestTimeout);
  }

  private get environmentId(): string {
    return `${this.options.config.id}-${this.environmentNumber}`;
  }

  async invoke(invocation: FunctionInvocation): Promise<FunctionResult> {
    const { faultLayer, callFaults } = this.options;
    const environmentId = this.environmentId;
    setVirtualWaits(this.virtualWaits);
    callFaults?.beginInvocation(environmentId);
    // Resolves if the environment dies in this invocation; the handler's promise is then abandoned (its later
    // DynamoDB requests get no answer), as the runtime abandons a process that exited or timed out.
    const death = callFaults
      ? callFaults.crashes(environmentId).then((kind) => ({ ok: 'died' as const, kind }))
      : new Promise<never>(() => undefined);
    faultLayer?.enter({
      seq: invocation.seq,
      at: invocation.startedAt,
      recordIds: invocation.recordIds,
      eventRecords: (invocation.event as { Records?: unknown[] }).Records ?? [],
      ...(this.options.keyHint && { hint: this.options.keyHint }),
    });
    try {
      const { result, lines } = await withEnvironment(this.environment, () =>
        captureOutput(async () => {
          this.handler ??= loadHandler(
            this.options.config.code!.directory,
            this.options.config.code!.handler,
          );
          const handled = callHandler(this.handler, invocation.event, invocation.context).then(
            (value) => ({ ok: true as const, value }),
            (error: unknown) => ({ ok: false as const, error: error as Error }),
          );
          return Promise.race([handled, death]);
        }),
      );
      this.lastLog = lines;
      this.lastError = result.ok === false ? result.error : undefined;
      const sideEffects: string[] = [];
      const unattributed: string[] = [];
      for (const line of lines) {
        this.options.onLog?.(line.text, invocation.seq);
        if (line.json?.message !== SIDE_EFFECT_MESSAGE) continue;
        const recordKey = String(line.json.recordKey ?? '');
        const recordId = this.options.resolveRecordKey(recordKey) ?? soleRecord(invocation.recordIds);
        if (recordId) sideEffects.push(recordId);
        else unattributed.push(recordKey);
      }
      if (result.ok === 'died') {
        this.startNewEnvironment();
        return { outcome: diedOutcome(result.kind), sideEffects, unattributedSideEffects: unattributed };
      }
      return {
        outcome: result.ok
          ? { kind: 'returned', payload: result.value }
          : {
              kind: 'threw',
              errorType: result.error?.name ?? 'Error',
              errorMessage: result.error?.message ?? String(result.error),
            },
        sideEffects,
        unattributedSideEffects: unattributed,
      };
    } finally {
      faultLayer?.leave();
    }
  }

  /** The next invocation cold-starts: the module is loaded again, with an endpoint of its own. */
  private startNewEnvironment(): void {
    this.handler = undefined;
    this.environmentNumber += 1;
    this.environment = lambdaEnvironment(this.options, this.environmentId);
    this.separateRequestTimeoutFromWaits();
  }
}

/** What the runtime reports for an environment that died: a crash, or the timeout it froze until. */
function diedOutcome(kind: CrashKind): FunctionResult['outcome'] {
  return kind === 'timeout'
    ? { kind: 'timed-out', errorMessage: 'Task timed out (simulated: the function froze at a DynamoDB call)' }
    : {
        kind: 'threw',
        errorType: 'Runtime.ExitError',
        errorMessage: 'Runtime exited (simulated crash at a DynamoDB call)',
      };
}

function soleRecord(recordIds: readonly string[]): string | undefined {
  const distinct = new Set(recordIds);
  return distinct.size === 1 ? recordIds[0] : undefined;
}
