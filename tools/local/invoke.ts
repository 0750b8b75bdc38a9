/**
 * `npm run invoke -- <function> <event.json>`: runs one handler bundle from cdk.out once, with the given event,
 * against an in-process DynamoDB (dynalite, idempotency table created), and prints its response, like
 * `sam local invoke`. The function's log goes to stderr, the response (or error) to stdout.
 *
 * The bundle is loaded once (one execution environment): the first invocation is its cold start. With
 * `--times n`, each invocation after the first is summed up on stderr: which records were answered from the
 * idempotency store, which applied (again).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { prepareAssembly } from './assembly';
import { AssemblyError, loadCloudAssembly } from './cloudformation';
import type { FunctionConfig, SimulationConfig } from './engine/config';
import { createContext } from './engine/lambda';
import { entryPointsOf } from './engine/simulation';
import { withVirtualWallClock } from './engine/wall-clock';
import { BundleFunction, type CapturedLine, SIDE_EFFECT_MESSAGE } from './runtime/bundle-function';
import { startLocalDynamoDb } from './runtime/local-dynamodb';
import { type EventKind, sampleEvent } from '../shared/sample-events';
import { APPLIED_MEANWHILE_LOG_MESSAGE, DUPLICATE_LOG_MESSAGE } from '../../lambda/shared/side-effect';

const PROJECT_DIR = resolve(__dirname, '..', '..');
// The functions run on Lambda's Node.js 24 runtime; the SDK's note about this machine's Node.js is not theirs.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const HELP = `Usage: npm run invoke -- <function> [<event.json>] [options]

Runs one handler bundle from cdk.out with an event against an in-process DynamoDB (dynalite), and prints what it
returned (stdout) and what it logged (stderr), like "sam local invoke".

<function>   sqs-consumer | object-consumer | stream-consumer | fifo-consumer | table-stream-consumer (the
             function behind that path), or a logical id, a function name or a POWERTOOLS_SERVICE_NAME from the
             templates
<event.json> the event; without it, the path's sample event: records from its domain module's examples
             (lambda/<path>-consumer/domain.ts), the last one invalid

Options:
  --print-event     print the sample event of <function>'s path and exit (a start for an event file of your own)
  --cdk-out <dir>   the cloud assembly to read (default: cdk.out)
  --synth           synthesize first even if cdk.out looks up to date
  --no-synth        never synthesize (fail if cdk.out is missing or was written without bundling)
  --times <n>       invoke n times with the same event (the second shows idempotency at work: each later
                    invocation is summed up as records answered from the idempotency store / applied)
  -h, --help        this help

Exit status: 0 if the function returned, 1 if it threw or on an error. When it throws Powertools'
FullBatchFailureError (every record failed), the error printed lists the record errors it carries.`;

/** The ingestion path of a function alias: `sqs-consumer` is the sqs path (a standard queue's consumer). */
const PATH_OF_ALIAS: Record<string, EventKind> = {
  'sqs-consumer': 'sqs',
  'object-consumer': 'object',
  'stream-consumer': 'stream',
  'fifo-consumer': 'fifo',
  'table-stream-consumer': 'table-stream',
};

/** The function behind each alias: the one its path's source invokes (engine/simulation.ts, entryPointsOf). */
const PATH_ALIASES: Record<string, (config: SimulationConfig) => string | undefined> = Object.fromEntries(
  Object.entries(PATH_OF_ALIAS).map(([alias, path]) => [
    alias,
    (config: SimulationConfig) => entryPointsOf(config)[path]?.functionId,
  ]),
);

/** The path whose source invokes `fn` (its event source mapping or subscription), if any. */
export function pathOfFunction(config: SimulationConfig, fn: FunctionConfig): EventKind | undefined {
  return (Object.keys(PATH_ALIASES) as (keyof typeof PATH_OF_ALIAS)[])
    .filter((alias) => PATH_ALIASES[alias](config) === fn.id)
    .map((alias) => PATH_OF_ALIAS[alias])[0];
}

export function findFunction(config: SimulationConfig, name: string): FunctionConfig | undefined {
  const viaPath = PATH_ALIASES[name]?.(config);
  return config.functions.find(
    (f) =>
      f.id === viaPath ||
      f.id === name ||
      f.id.endsWith(`/${name}`) ||
      f.functionName === name ||
      (f.code && f.environment.POWERTOOLS_SERVICE_NAME === name),
  );
}

/** The event to invoke with, from the file given on the command line. Throws if it cannot be read. */
export function readEvent(file: string): unknown {
  return JSON.parse(readFileSync(file, 'utf8'));
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    console.log(HELP);
    return 0;
  }
  const positional: string[] = [];
  let cdkOut = join(PROJECT_DIR, 'cdk.out');
  let synth: 'auto' | 'always' | 'never' = 'auto';
  let times = 1;
  let printEvent = false;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--cdk-out') cdkOut = resolve(argv[++i] ?? '');
    else if (arg === '--synth') synth = 'always';
    else if (arg === '--no-synth') synth = 'never';
    else if (arg === '--times') times = Number(argv[++i]);
    else if (arg === '--print-event') printEvent = true;
    else if (arg.startsWith('-')) return usage(`Unknown option ${arg}.`);
    else positional.push(arg);
  }
  if (positional.length < 1 || positional.length > 2) {
    return usage('Give a function, and an event file or none (the sample event).');
  }
  if (!Number.isInteger(times) || times < 1) return usage('--times needs a whole number of 1 or more.');
  const [name, eventFile] = positional;
  if (printEvent && PATH_OF_ALIAS[name]) {
    // No assembly needed: the sample event comes from the domain module alone.
    console.log(JSON.stringify(sampleEvent(PATH_OF_ALIAS[name]), null, 2));
    return 0;
  }

  let event: unknown;
  if (eventFile !== undefined) {
    try {
      event = readEvent(eventFile);
    } catch (error) {
      console.error(`Cannot read the event ${eventFile}: ${(error as Error).message}`);
      return 1;
    }
  }

  prepareAssembly({
    projectDir: PROJECT_DIR,
    assemblyDir: cdkOut,
    synth,
    needsBundles: true,
    progress: (line) => console.error(line),
  });
  const { config } = loadCloudAssembly(cdkOut);
  const fn = findFunction(config, name);
  if (!fn) {
    const known = config.functions.filter((f) => f.code).map((f) => f.id);
    console.error(
      `No function "${name}". Try ${Object.keys(PATH_OF_ALIAS).join(', ')}, or one of: ${known.join(', ')}`,
    );
    return 1;
  }
  if (!fn.code) {
    console.error(`${fn.id} has no bundle in ${cdkOut} (inline code or no asset).`);
    return 1;
  }
  if (event === undefined || printEvent) {
    const path = pathOfFunction(config, fn);
    if (!path) {
      console.error(
        `${fn.id} is not the consumer of an ingestion path, so it has no sample event: give an event file.`,
      );
      return 1;
    }
    event = sampleEvent(path);
    if (printEvent) {
      console.log(JSON.stringify(event, null, 2));
      return 0;
    }
    console.error(`(the ${path} path's sample event: npm run invoke -- ${name} --print-event shows it)`);
  }

  const dynamoDb = await startLocalDynamoDb();
  try {
    if (fn.environment.IDEMPOTENCY_TABLE_NAME)
      await dynamoDb.createIdempotencyTable(fn.environment.IDEMPOTENCY_TABLE_NAME);
    if (fn.environment.EFFECT_TABLE_NAME) await dynamoDb.createEffectTable(fn.environment.EFFECT_TABLE_NAME);
    const code = new BundleFunction({
      config: fn,
      dynamoDbEndpointFor: (environment) => dynamoDb.endpointFor(environment),
      region: config.region,
      resolveRecordKey: () => undefined,
      onLog: (line) => process.stderr.write(`${line}\n`),
    });
    let failed = false;
    const logs: (readonly CapturedLine[])[] = [];
    for (let n = 1; n <= times; n += 1) {
      const requestId = randomUUID();
      const now = Date.now();
      console.error(`START RequestId: ${requestId} Version: $LATEST (${fn.functionName})`);
      const result = await withVirtualWallClock(now, () =>
        code.invoke({
          seq: n,
          function: fn,
          path: 'sqs',
          event,
          recordIds: [],
          startedAt: 0,
          startEpochMs: now,
          context: createContext(fn, requestId, now, fn.timeoutSeconds * 1000, requestId.replace(/-/g, '')),
        }),
      );
      console.error(`END RequestId: ${requestId}`);
      logs.push(code.lastLog);
      if (times > 1) console.error(idempotencySummary(n, logs));
      const { outcome } = result;
      if (outcome.kind === 'returned') {
        console.log(JSON.stringify(outcome.payload ?? null, null, 2));
      } else {
        failed = true;
        const recordErrors = outcome.kind === 'threw' ? recordErrorsOf(code.lastError) : undefined;
        if (recordErrors) {
          console.error(
            `FullBatchFailureError: its ${count(recordErrors.length, 'record error')} below, in the order the records failed (the handler's ERROR lines above name each record).`,
          );
        }
        console.log(
          JSON.stringify(
            {
              errorType: outcome.kind === 'threw' ? outcome.errorType : 'Sandbox.Timedout',
              errorMessage: outcome.errorMessage,
              ...(recordErrors && { recordErrors }),
            },
            null,
            2,
          ),
        );
      }
    }
    return failed ? 1 : 0;
  } finally {
    await dynamoDb.stop();
  }
}

function usage(message: string): number {
  console.error(`${message}\n\n${HELP}`);
  return 1;
}

/** One error as Lambda reports it. */
export interface ReportedError {
  readonly errorType: string;
  readonly errorMessage: string;
}

/**
 * The record errors of Powertools' `FullBatchFailureError` (@aws-lambda-powertools/batch: thrown when every
 * record of a batch failed; its message, "All records failed processing. See individual errors below.", leaves
 * them to whoever prints the error). The bundle has its own copy of the class, so it is known by its name.
 */
export function recordErrorsOf(error: unknown): ReportedError[] | undefined {
  const recordErrors = (error as { recordErrors?: unknown } | undefined)?.recordErrors;
  if ((error as Error | undefined)?.name !== 'FullBatchFailureError' || !Array.isArray(recordErrors)) {
    return undefined;
  }
  return recordErrors.map((recordError: unknown) => {
    const { name, message } = (recordError ?? {}) as { name?: unknown; message?: unknown };
    return typeof message === 'string'
      ? { errorType: typeof name === 'string' ? name : 'Error', errorMessage: message }
      : { errorType: typeof recordError, errorMessage: String(recordError) };
  });
}

/**
 * The handler's lines for a record answered from its completed idempotency record instead of applied again
 * (lambda/shared/apply-record.ts); `side effect done` is the line of a record applied.
 */
const ANSWERED_MESSAGES = [DUPLICATE_LOG_MESSAGE, APPLIED_MEANWHILE_LOG_MESSAGE];
const LISTED_KEYS = 10;

/**
 * What invocation `n` (its log: the last of `logs`, one per invocation so far) did with each record: answered
 * from the idempotency store, applied for the first time, or applied again (a second side effect, which
 * idempotency is there to prevent). Records are named by the `recordKey` of the handler's log lines.
 */
export function idempotencySummary(n: number, logs: readonly (readonly CapturedLine[])[]): string {
  const keysOf = (log: readonly CapturedLine[], messages: readonly string[]) =>
    log
      .filter((line) => messages.includes(String(line.json?.message)))
      .map((line) => String(line.json?.recordKey ?? '?'))
      // Records of a batch may run in parallel: sorted, so the summary reads the same on every run.
      .sort();
  const log = logs[n - 1] ?? [];
  const appliedBefore = new Set(
    logs.slice(0, n - 1).flatMap((earlier) => keysOf(earlier, [SIDE_EFFECT_MESSAGE])),
  );
  const answered = keysOf(log, ANSWERED_MESSAGES);
  const applied = keysOf(log, [SIDE_EFFECT_MESSAGE]);
  const again = applied.filter((key) => appliedBefore.has(key));
  const first = applied.filter((key) => !appliedBefore.has(key));
  const neither = [...appliedBefore].filter((key) => !answered.includes(key) && !applied.includes(key));
  const parts = [
    `${count(answered.length, 'record')} answered from the idempotency store${listed(answered)}`,
    `${first.length} applied${listed(first)}`,
  ];
  if (again.length > 0) parts.push(`${again.length} applied again${listed(again)}: a second side effect!`);
  if (n > 1 && neither.length > 0) {
    parts.push(`${neither.length} applied before and neither answered nor applied now${listed(neither)}`);
  }
  return `invocation ${n}: ${parts.join(', ')}`;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function listed(keys: readonly string[]): string {
  if (keys.length === 0) return '';
  const shown = keys.slice(0, LISTED_KEYS).join(', ');
  return ` (${shown}${keys.length > LISTED_KEYS ? `, … ${keys.length - LISTED_KEYS} more` : ''})`;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(
        error instanceof AssemblyError
          ? error.message
          : error instanceof Error
            ? (error.stack ?? error.message)
            : String(error),
      );
      process.exitCode = 1;
    },
  );
}
