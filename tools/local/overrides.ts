/**
 * Settings overridden for a run, without touching CDK code or cdk.out: from a scenario path's `settings` object and
 * from `--set <path>.<setting>=<value>` flags (the flag wins). Each setting is an event source mapping's, a queue's,
 * an asynchronous invocation's or the (model) function's, with AWS's range; the run's configuration is the
 * template's with the overrides applied, and the report lists every setting with where its value came from.
 *
 * Values are checked twice: alone against AWS's range when they are read (every bad value named at once), then
 * together with the template's other settings (a batch above 10 on a standard queue needs a batching window, a queue's
 * visibility timeout may not be below the function's timeout: Lambda refuses such a mapping).
 */
import type {
  EventInvokeConfig,
  IngestionPath,
  SimulationConfig,
  SqsEventSourceMappingConfig,
  SqsQueueConfig,
  StreamEventSourceMappingConfig,
} from './engine/config';
import { AWS_DEFAULTS } from './engine/config';
import { entryPointsOf } from './engine/simulation';
import { httpEntryPoint } from './http-path';

/** A path whose settings a run can override: an event-driven path, or the synchronous http path. */
export type SettingsPath = IngestionPath | 'http';

/** How the model function fails a batch: report the failed records (`batchItemFailures`), or throw at the first. */
export type FailureMode = 'report' | 'throw';

type Value = number | boolean | FailureMode;

interface SettingSpec {
  readonly name: string;
  readonly paths: readonly SettingsPath[];
  /** What it is, and its range, for the docs and the messages. */
  readonly describe: string;
  readonly kind: 'integer' | 'boolean' | 'failure-mode';
  /** Integers: the range (inclusive), per path where it differs. */
  readonly range?: (path: SettingsPath) => { readonly min: number; readonly max: number };
  /** An extra check of an integer (e.g. −1 or 60–604,800). */
  readonly check?: (value: number) => string | undefined;
}

const QUEUE_PATHS: readonly IngestionPath[] = ['sqs', 'fifo'];
const STREAM_PATHS: readonly IngestionPath[] = ['stream', 'table-stream'];
const MAPPING_PATHS: readonly IngestionPath[] = [...QUEUE_PATHS, ...STREAM_PATHS];

/** Every setting a run can override, in the order the report lists them. */
export const SETTINGS: readonly SettingSpec[] = [
  {
    name: 'batchSize',
    paths: MAPPING_PATHS,
    describe: 'BatchSize: 1–10,000 (a FIFO queue: 1–10)',
    kind: 'integer',
    range: (path) => ({ min: 1, max: path === 'fifo' ? 10 : 10_000 }),
  },
  {
    name: 'batchingWindowSeconds',
    paths: ['sqs', ...STREAM_PATHS],
    describe: 'MaximumBatchingWindowInSeconds: 0–300 (a FIFO queue has none)',
    kind: 'integer',
    range: () => ({ min: 0, max: 300 }),
  },
  {
    name: 'partialBatchResponses',
    paths: MAPPING_PATHS,
    describe: 'FunctionResponseTypes ReportBatchItemFailures: on or off',
    kind: 'boolean',
  },
  {
    name: 'failureMode',
    paths: MAPPING_PATHS,
    describe:
      'the model function: "report" the failed records (batchItemFailures) or "throw" when any record fails (model functions only)',
    kind: 'failure-mode',
  },
  {
    name: 'bisect',
    paths: STREAM_PATHS,
    describe: 'BisectBatchOnFunctionError: on or off',
    kind: 'boolean',
  },
  {
    name: 'retryAttempts',
    paths: [...STREAM_PATHS, 'object'],
    describe:
      'MaximumRetryAttempts: a stream mapping −1 (until the record expires) to 10,000; asynchronous invocation 0–2',
    kind: 'integer',
    range: (path) => (path === 'object' ? { min: 0, max: 2 } : { min: -1, max: 10_000 }),
  },
  {
    name: 'maxRecordAgeSeconds',
    paths: STREAM_PATHS,
    describe: 'MaximumRecordAgeInSeconds: −1 (no limit) or 60–604,800',
    kind: 'integer',
    range: () => ({ min: -1, max: 604_800 }),
    check: (value) => (value >= 0 && value < 60 ? 'must be −1 (no limit) or 60–604,800' : undefined),
  },
  {
    name: 'parallelizationFactor',
    paths: STREAM_PATHS,
    describe: 'ParallelizationFactor: 1–10',
    kind: 'integer',
    range: () => ({ min: 1, max: 10 }),
  },
  {
    name: 'visibilityTimeoutSeconds',
    paths: QUEUE_PATHS,
    describe: "the queue's VisibilityTimeout: 0–43,200, not below the function's timeout",
    kind: 'integer',
    range: () => ({ min: 0, max: 43_200 }),
  },
  {
    name: 'maxReceiveCount',
    paths: QUEUE_PATHS,
    describe: "the queue's RedrivePolicy maxReceiveCount: 1–1,000 (the queue needs a dead-letter queue)",
    kind: 'integer',
    range: () => ({ min: 1, max: 1000 }),
  },
  {
    name: 'maximumConcurrency',
    paths: QUEUE_PATHS,
    describe: 'ScalingConfig MaximumConcurrency: 2–1,000',
    kind: 'integer',
    range: () => ({ min: 2, max: 1000 }),
  },
  {
    name: 'maxEventAgeSeconds',
    paths: ['object'],
    describe: 'asynchronous invocation MaximumEventAgeInSeconds: 60–21,600',
    kind: 'integer',
    range: () => ({ min: 60, max: 21_600 }),
  },
  {
    name: 'throttleRateLimit',
    paths: ['http'],
    describe:
      "the API stage's DefaultRouteSettings ThrottlingRateLimit: requests a second, 1–10,000 (the account's default quota)",
    kind: 'integer',
    range: () => ({ min: 1, max: 10_000 }),
  },
  {
    name: 'throttleBurstLimit',
    paths: ['http'],
    describe:
      "the API stage's DefaultRouteSettings ThrottlingBurstLimit: requests, 1–5,000 (the account's default quota)",
    kind: 'integer',
    range: () => ({ min: 1, max: 5_000 }),
  },
  {
    name: 'reservedConcurrency',
    paths: ['http'],
    describe:
      "the ingress function's ReservedConcurrentExecutions: 0 (every invocation throttled) to 1,000 (the account's default quota; it keeps 100 unreserved)",
    kind: 'integer',
    range: () => ({ min: 0, max: 1000 }),
  },
];

export type SettingValues = Readonly<Record<string, Value>>;
/** Overrides per path, as read (each value checked alone). */
export type PathSettings = Partial<Record<SettingsPath, SettingValues>>;

export class SettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingsError';
  }
}

function specsOf(path: SettingsPath): SettingSpec[] {
  return SETTINGS.filter((s) => s.paths.includes(path));
}

/**
 * Checks one value against its setting's range; `raw` is a JSON value (scenario) or a flag's text. Returns the
 * value, or the problem.
 */
function readValue(
  spec: SettingSpec,
  path: SettingsPath,
  raw: unknown,
): { value: Value } | { problem: string } {
  const text = typeof raw === 'string' ? raw.trim() : undefined;
  switch (spec.kind) {
    case 'boolean':
      if (typeof raw === 'boolean') return { value: raw };
      if (text === 'on' || text === 'true') return { value: true };
      if (text === 'off' || text === 'false') return { value: false };
      return { problem: 'must be on or off (true or false)' };
    case 'failure-mode':
      if (text === 'report' || text === 'throw') return { value: text };
      return { problem: 'must be "report" (the failed records) or "throw"' };
    case 'integer': {
      const value =
        typeof raw === 'number' ? raw : text !== undefined && /^-?\d+$/.test(text) ? Number(text) : NaN;
      const { min, max } = spec.range!(path);
      if (!Number.isInteger(value) || value < min || value > max) {
        return { problem: `must be a whole number from ${min} to ${max.toLocaleString('en')}` };
      }
      const problem = spec.check?.(value);
      return problem ? { problem } : { value };
    }
  }
}

/** Reads one path's settings object; problems are `field: what is allowed`, field prefixed by `where`. */
export function readPathSettings(
  path: SettingsPath,
  input: Readonly<Record<string, unknown>>,
  where: (name: string) => string,
): { settings: SettingValues; problems: string[] } {
  const settings: Record<string, Value> = {};
  const problems: string[] = [];
  const specs = specsOf(path);
  for (const [name, raw] of Object.entries(input)) {
    const spec = specs.find((s) => s.name === name);
    if (!spec) {
      problems.push(
        `${where(name)}: not a setting of the ${path} path (it has ${specs.map((s) => s.name).join(', ')})`,
      );
      continue;
    }
    const read = readValue(spec, path, raw);
    if ('problem' in read) problems.push(`${where(name)} ${JSON.stringify(raw)}: ${read.problem}`);
    else settings[name] = read.value;
  }
  return { settings, problems };
}

/** Problems of a scenario's `settings` objects (scenario.ts reports them with its own). */
export function scenarioSettingsProblems(paths: object): string[] {
  return pathEntries(paths).flatMap(([path, spec]) =>
    spec?.settings
      ? readPathSettings(path as SettingsPath, spec.settings, (name) => `  paths.${path}.settings.${name}`)
          .problems
      : [],
  );
}

/** `--set stream.bisect=off` flags, every problem named. */
export function readSetFlags(flags: readonly string[], paths: readonly SettingsPath[]): PathSettings {
  const byPath: Partial<Record<SettingsPath, Record<string, string>>> = {};
  const problems: string[] = [];
  for (const flag of flags) {
    const match = /^([a-z-]+)\.([A-Za-z]+)=(.*)$/.exec(flag);
    if (!match) {
      problems.push(`--set ${flag}: must be <path>.<setting>=<value>, e.g. stream.bisect=off`);
      continue;
    }
    const [, path, name, value] = match;
    if (!paths.includes(path as SettingsPath)) {
      problems.push(`--set ${flag}: ${path} is not a path (${paths.join(', ')})`);
      continue;
    }
    (byPath[path as SettingsPath] ??= {})[name] = value;
  }
  const settings: PathSettings = {};
  for (const [path, raw] of Object.entries(byPath) as [SettingsPath, Record<string, string>][]) {
    const read = readPathSettings(path, raw, (name) => `--set ${path}.${name}`);
    problems.push(...read.problems);
    settings[path] = read.settings;
  }
  if (problems.length > 0) throw new SettingsError(`Bad settings:\n  ${problems.join('\n  ')}`);
  return settings;
}

/** One setting of one path in a run: its value, and where it came from. */
export interface SettingRow {
  readonly path: SettingsPath;
  readonly name: string;
  readonly value: Value | 'none';
  readonly source: 'template' | 'scenario' | '--set' | 'function';
  /** The template's value, when overridden. */
  readonly templateValue?: Value | 'none';
}

export interface AppliedSettings {
  readonly config: SimulationConfig;
  readonly rows: readonly SettingRow[];
  /** How each path's model function fails (absent: `report`, as the handlers do). */
  readonly failureModes: Partial<Record<IngestionPath, FailureMode>>;
}

/**
 * The configuration with the overrides applied, for the paths driven; throws a {@link SettingsError} naming every
 * combination Lambda or SQS would refuse. `functions`: a failure mode can only be set on the model functions.
 */
export function applySettings(
  config: SimulationConfig,
  paths: readonly SettingsPath[],
  fromScenario: PathSettings,
  fromFlags: PathSettings,
  functions: 'bundles' | 'model',
): AppliedSettings {
  const entry = entryPointsOf(config);
  const problems: string[] = [];
  const rows: SettingRow[] = [];
  const failureModes: Partial<Record<IngestionPath, FailureMode>> = {};
  let next: SimulationConfig = config;

  const http = httpEntryPoint(config);
  const drives = (path: SettingsPath) => (path === 'http' ? http !== undefined : !!entry[path]);
  for (const path of Object.keys(fromFlags) as SettingsPath[]) {
    if (!paths.includes(path) || !drives(path))
      problems.push(
        `--set ${path}.…: the run does not drive the ${path} path (it drives ${paths.join(', ')})`,
      );
  }
  for (const path of paths) {
    if (!drives(path)) continue;
    const point = path === 'http' ? undefined : entry[path];
    const overrides = { ...fromScenario[path], ...fromFlags[path] };
    const sourceOf = (name: string): SettingRow['source'] =>
      fromFlags[path]?.[name] !== undefined ? '--set' : 'scenario';
    const values = new Map<string, Value | 'none'>();
    const templateValues = templateSettings(config, path);
    for (const spec of specsOf(path)) {
      const template = templateValues[spec.name];
      const override = overrides[spec.name];
      const value = override ?? template;
      values.set(spec.name, value);
      rows.push({
        path,
        name: spec.name,
        value,
        source:
          override !== undefined
            ? sourceOf(spec.name)
            : spec.name === 'failureMode'
              ? 'function'
              : 'template',
        ...(override !== undefined && { templateValue: template }),
      });
    }
    const where = (name: string) => `${path}.${name} (${sourceOf(name)})`;
    const get = (name: string) => values.get(name);

    if (path === 'http') {
      // The stage's throttle and the function's concurrency (engine/http.ts reads both from the config).
      const { api, functionId } = http!;
      next = {
        ...next,
        httpApis: (next.httpApis ?? []).map((a) =>
          a.id === api.id
            ? {
                ...a,
                ...(typeof get('throttleRateLimit') === 'number' && {
                  rateLimit: get('throttleRateLimit') as number,
                }),
                ...(typeof get('throttleBurstLimit') === 'number' && {
                  burstLimit: get('throttleBurstLimit') as number,
                }),
              }
            : a,
        ),
        functions: next.functions.map((f) =>
          f.id === functionId && typeof get('reservedConcurrency') === 'number'
            ? { ...f, reservedConcurrency: get('reservedConcurrency') as number }
            : f,
        ),
      };
      continue;
    }
    if (overrides.failureMode !== undefined) {
      if (functions === 'bundles')
        problems.push(
          `${where('failureMode')}: the handler bundles fail as their code does; a failure mode needs the model functions (--model, or "functions": "model")`,
        );
      failureModes[path] = overrides.failureMode as FailureMode;
    }

    if (path === 'sqs' || path === 'fifo') {
      const mappingId = (point as { mappingId: string }).mappingId;
      const mapping = config.sqsEventSourceMappings.find((m) => m.id === mappingId)!;
      const queue = config.queues.find((q) => q.queueArn === mapping.queueArn)!;
      const fn = config.functions.find((f) => f.id === mapping.functionId)!;
      const batchSize = get('batchSize') as number;
      const window = (get('batchingWindowSeconds') ?? 0) as number;
      if (
        path === 'sqs' &&
        batchSize > 10 &&
        window < 1 &&
        ('batchSize' in overrides || 'batchingWindowSeconds' in overrides)
      )
        problems.push(
          `${where('batchSize' in overrides ? 'batchSize' : 'batchingWindowSeconds')}: a batch size above 10 needs a batching window of at least 1 s (batchSize ${batchSize}, batchingWindowSeconds ${window})`,
        );
      const visibility = get('visibilityTimeoutSeconds') as number;
      if ('visibilityTimeoutSeconds' in overrides && visibility < fn.timeoutSeconds)
        problems.push(
          `${where('visibilityTimeoutSeconds')} ${visibility}: below the function's timeout (${fn.timeoutSeconds} s), Lambda refuses the event source mapping`,
        );
      if ('maxReceiveCount' in overrides && !queue.redrivePolicy)
        problems.push(
          `${where('maxReceiveCount')}: the queue ${queue.queueName} has no dead-letter queue (RedrivePolicy)`,
        );
      const newMapping: SqsEventSourceMappingConfig = {
        ...mapping,
        batchSize,
        maximumBatchingWindowSeconds: window,
        reportBatchItemFailures: get('partialBatchResponses') as boolean,
        ...(typeof get('maximumConcurrency') === 'number' && {
          maximumConcurrency: get('maximumConcurrency') as number,
        }),
      };
      const newQueue: SqsQueueConfig = {
        ...queue,
        visibilityTimeoutSeconds: visibility,
        ...(queue.redrivePolicy && {
          redrivePolicy: { ...queue.redrivePolicy, maxReceiveCount: get('maxReceiveCount') as number },
        }),
      };
      next = {
        ...next,
        sqsEventSourceMappings: next.sqsEventSourceMappings.map((m) =>
          m.id === mapping.id ? newMapping : m,
        ),
        queues: next.queues.map((q) => (q.queueArn === queue.queueArn ? newQueue : q)),
      };
    } else if (path === 'stream' || path === 'table-stream') {
      const mappingId = (point as { mappingId: string }).mappingId;
      const key = path === 'stream' ? 'kinesisEventSourceMappings' : 'dynamoDbEventSourceMappings';
      next = {
        ...next,
        [key]: next[key].map((m): StreamEventSourceMappingConfig =>
          m.id !== mappingId
            ? m
            : {
                ...m,
                batchSize: get('batchSize') as number,
                maximumBatchingWindowSeconds: get('batchingWindowSeconds') as number,
                reportBatchItemFailures: get('partialBatchResponses') as boolean,
                bisectBatchOnFunctionError: get('bisect') as boolean,
                maximumRetryAttempts: get('retryAttempts') as number,
                maximumRecordAgeSeconds: get('maxRecordAgeSeconds') as number,
                parallelizationFactor: get('parallelizationFactor') as number,
              },
        ),
      };
    } else if (path === 'object') {
      const functionId = entry.object!.functionId;
      const existing = config.eventInvokeConfigs.find((c) => c.functionId === functionId);
      const updated: EventInvokeConfig = {
        ...(existing ?? { functionId }),
        maximumRetryAttempts: get('retryAttempts') as number,
        maximumEventAgeSeconds: get('maxEventAgeSeconds') as number,
      };
      next = {
        ...next,
        eventInvokeConfigs: existing
          ? next.eventInvokeConfigs.map((c) => (c.functionId === functionId ? updated : c))
          : [...next.eventInvokeConfigs, updated],
      };
    }
  }
  if (problems.length > 0)
    throw new SettingsError(`Settings Lambda or SQS would refuse:\n  ${problems.join('\n  ')}`);
  return { config: next, rows, failureModes };
}

/** The template's value of every setting of a path (AWS's default where the template sets none). */
function templateSettings(config: SimulationConfig, path: SettingsPath): Record<string, Value | 'none'> {
  const entry = entryPointsOf(config);
  if (path === 'http') {
    const { api, functionId } = httpEntryPoint(config)!;
    const fn = config.functions.find((f) => f.id === functionId);
    return {
      throttleRateLimit: api.rateLimit ?? 'none',
      throttleBurstLimit: api.burstLimit ?? 'none',
      reservedConcurrency: fn?.reservedConcurrency ?? 'none',
    };
  }
  if (path === 'sqs' || path === 'fifo') {
    const mapping = config.sqsEventSourceMappings.find((m) => m.id === entry[path]!.mappingId)!;
    const queue = config.queues.find((q) => q.queueArn === mapping.queueArn)!;
    return {
      batchSize: mapping.batchSize,
      ...(path === 'sqs' && { batchingWindowSeconds: mapping.maximumBatchingWindowSeconds }),
      partialBatchResponses: mapping.reportBatchItemFailures,
      failureMode: 'report',
      visibilityTimeoutSeconds: queue.visibilityTimeoutSeconds,
      maxReceiveCount: queue.redrivePolicy?.maxReceiveCount ?? 'none',
      maximumConcurrency: mapping.maximumConcurrency ?? 'none',
    };
  }
  if (path === 'stream' || path === 'table-stream') {
    const mappings =
      path === 'stream' ? config.kinesisEventSourceMappings : config.dynamoDbEventSourceMappings;
    const mapping = mappings.find((m) => m.id === entry[path]!.mappingId)!;
    return {
      batchSize: mapping.batchSize,
      batchingWindowSeconds: mapping.maximumBatchingWindowSeconds,
      partialBatchResponses: mapping.reportBatchItemFailures,
      failureMode: 'report',
      bisect: mapping.bisectBatchOnFunctionError,
      retryAttempts: mapping.maximumRetryAttempts,
      maxRecordAgeSeconds: mapping.maximumRecordAgeSeconds,
      parallelizationFactor: mapping.parallelizationFactor,
    };
  }
  const invoke = config.eventInvokeConfigs.find((c) => c.functionId === entry.object?.functionId);
  return {
    retryAttempts: invoke?.maximumRetryAttempts ?? AWS_DEFAULTS.asyncMaximumRetryAttempts,
    maxEventAgeSeconds: invoke?.maximumEventAgeSeconds ?? AWS_DEFAULTS.asyncMaximumEventAgeSeconds,
  };
}

function show(value: Value | 'none' | undefined): string {
  if (value === true) return 'on';
  if (value === false) return 'off';
  return String(value);
}

/** The settings of a run, one line per path: `batchSize 10 (--set; template 100)`. */
export function renderSettings(rows: readonly SettingRow[]): string {
  const paths = [...new Set(rows.map((r) => r.path))];
  if (paths.length === 0) return '';
  const overridden = rows.filter((r) => r.source === 'scenario' || r.source === '--set').length;
  const lines = [
    `Settings (from the template unless marked${overridden === 0 ? '; none overridden' : ''}):`,
    ...paths.map(
      (path) =>
        `  ${path}: ${rows
          .filter((r) => r.path === path)
          .map(
            (r) =>
              `${r.name} ${show(r.value)}${
                r.source === 'scenario' || r.source === '--set'
                  ? ` [${r.source === 'scenario' ? 'scenario' : '--set'}; template ${show(r.templateValue)}]`
                  : r.source === 'function'
                    ? ' [the function]'
                    : ''
              }`,
          )
          .join(', ')}`,
    ),
  ];
  return lines.join('\n');
}

/** A scenario's `settings` objects, read (parseScenario has already named their problems). */
export function scenarioSettings(paths: object): PathSettings {
  const settings: PathSettings = {};
  for (const [path, spec] of pathEntries(paths)) {
    if (!spec?.settings) continue;
    settings[path as SettingsPath] = readPathSettings(
      path as SettingsPath,
      spec.settings,
      (name) => name,
    ).settings;
  }
  return settings;
}

/** A scenario's `paths`, each with its `settings` if any. */
function pathEntries(
  paths: object,
): [string, { readonly settings?: Readonly<Record<string, unknown>> } | undefined][] {
  return Object.entries(paths) as [
    string,
    { readonly settings?: Readonly<Record<string, unknown>> } | undefined,
  ][];
}
