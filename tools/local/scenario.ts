/**
 * Scenario files: which paths to drive, how many records, which faults, which seed. Parsed and validated with
 * messages that name the field and what it allows. The format is documented in docs/local-simulator.md.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { IngestionPath } from './engine/config';
import { scenarioSettingsProblems } from './overrides';

export const PATHS: readonly IngestionPath[] = ['sqs', 'object', 'stream', 'fifo', 'table-stream'];

const DURATION_PATTERN = /^(\d+(\.\d+)?(ms|h|m|s))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;

/** A duration: seconds as a number, or a string such as "500ms", "90s", "2m", "2m30s", "1h". */
const DurationSchema = z.union([
  z.number().nonnegative('must be zero or more seconds'),
  z.string().regex(DURATION_PATTERN, 'must be seconds, or a string like "500ms", "90s", "2m30s" or "1h"'),
]);

const WindowSchema = z.strictObject({ from: DurationSchema, to: DurationSchema });

/** How many records a fault hits: a count, a share of the records, or explicit record numbers (1-based). */
const SelectionShape = {
  count: z.number().int().min(0).optional(),
  rate: z.number().min(0).max(1, 'must be a share of the records, from 0 to 1').optional(),
  records: z.array(z.number().int().min(1)).optional(),
};
const SelectionSchema = z.union([
  z.number().int().min(0, 'must be a whole number of records, 0 or more'),
  z.strictObject(SelectionShape),
]);

const FaultsSchema = z.strictObject({
  /** Records whose payload the handler rejects (they can never succeed). */
  poison: SelectionSchema.optional(),
  /** Records that fail their first `failures` invocations (the idempotency store refuses them), then succeed. */
  transient: z
    .strictObject({ ...SelectionShape, failures: z.number().int().min(1).max(1000).default(1) })
    .optional(),
  /** Records that make every invocation carrying them time out, `times` times ("always" = every time). */
  timeouts: z
    .strictObject({
      ...SelectionShape,
      times: z.union([z.number().int().min(1), z.literal('always')]).default(1),
    })
    .optional(),
  /**
   * Records delivered twice (SQS/Kinesis/FIFO: a producer retry; object: S3 notifying twice), `after` later; a list
   * sends one more copy per delay (e.g. `["10s", "6m"]`: inside, then past, the FIFO queue's 5-minute deduplication
   * interval).
   */
  duplicates: z
    .strictObject({
      ...SelectionShape,
      after: z
        .union([DurationSchema, z.array(DurationSchema).min(1, 'must name at least one delay')])
        .default(5),
    })
    .optional(),
  /** Windows in which the function has only `concurrency` executions (0: every invoke is throttled). */
  throttle: z
    .array(
      z.strictObject({
        from: DurationSchema,
        to: DurationSchema,
        concurrency: z.number().int().min(0).default(0),
      }),
    )
    .optional(),
  /** Object path only: windows in which SNS cannot deliver to the function. */
  deliveryFailures: z
    .array(
      z.strictObject({
        from: DurationSchema,
        to: DurationSchema,
        kind: z.enum(['client-error', 'server-error']).default('server-error'),
      }),
    )
    .optional(),
  /** DynamoDB unavailable for this path's function only (see also the top-level dynamodbOutages). */
  dynamodbOutages: z.array(WindowSchema).optional(),
});

const PathSchema = z.strictObject({
  records: z.number().int().min(0).max(1_000_000, 'at most 1,000,000 records per path'),
  /** Records produced per second (exponential gaps). */
  ratePerSecond: z.number().positive('must be above 0').max(100_000).default(20),
  /** When production starts. */
  start: DurationSchema.default(0),
  /** Stream path: distinct partition keys (sensors). */
  partitionKeys: z.number().int().min(1).max(100_000).default(16),
  /**
   * Records spread over this many groups, whose order matters: the stream's partition keys (overrides
   * `partitionKeys`), the FIFO queue's message groups. Default: `partitionKeys` (16).
   */
  groups: z.number().int().min(1).max(100_000).optional(),
  /**
   * Table stream: records that are deletions of their item by DynamoDB's time to live instead of writes (REMOVE,
   * `userIdentity` the DynamoDB service). The mapping's default filter lets none of them invoke the function.
   */
  expirations: SelectionSchema.optional(),
  faults: FaultsSchema.default({}),
  /**
   * The path's settings for this run over the template's (overrides.ts: batchSize, bisect, retryAttempts,
   * visibilityTimeoutSeconds...), each checked against AWS's range with the rest of the scenario.
   */
  settings: z.record(z.string(), z.union([z.number(), z.boolean(), z.string()])).optional(),
});

/**
 * The http path (engine/http.ts): orders submitted over HTTP by clients that retry (tools/http-client), one
 * client per order, through API Gateway's stage throttle to the ingress function, which enqueues them.
 */
const HttpPathSchema = z.strictObject({
  /** Orders submitted, each by its own client (its own Idempotency-Key, kept across its retries). */
  requests: z.number().int().min(0).max(100_000, 'at most 100,000 requests'),
  /** Submissions started per second (exponential gaps): above the stage's rate limit, an overload. */
  ratePerSecond: z.number().positive('must be above 0').max(100_000).default(5),
  /** When the first client starts. */
  start: DurationSchema.default(0),
  /** The clients' retry policy, over tools/http-client/retry-policy.ts's DEFAULT_RETRY_POLICY (ms). */
  retry: z
    .strictObject({
      maxAttempts: z.number().int().min(1).max(100).optional(),
      baseDelayMs: z.number().int().min(0).optional(),
      maxDelayMs: z.number().int().min(0).optional(),
      attemptTimeoutMs: z.number().int().min(1).optional(),
      deadlineMs: z.number().int().min(1).optional(),
      maxRetryAfterMs: z.number().int().min(0).optional(),
    })
    .default({}),
  faults: z
    .strictObject({
      /**
       * Requests whose first accepting answer (202) is lost on its way back: the function finished (the order is
       * enqueued and its answer stored with the key), the client's attempt times out and it retries.
       */
      lostAnswers: SelectionSchema.optional(),
      /**
       * Requests whose function dies (crash) after its SendMessage succeeded and before the key's completion, the
       * first time it sends the order: API Gateway answers 500, the key's claim stays in progress until it expires
       * (409 to a retry before then), and a retry after it enqueues the order again. Model only (`--model`).
       */
      diesAfterSend: SelectionSchema.optional(),
      /** Windows in which the queue refuses SendMessage (the function answers 503, keeping nothing as done). */
      queueOutages: z.array(WindowSchema).optional(),
    })
    .default({}),
  /**
   * The path's settings for this run over the template's (overrides.ts: throttleRateLimit, throttleBurstLimit,
   * reservedConcurrency), each checked against AWS's range with the rest of the scenario.
   */
  settings: z.record(z.string(), z.union([z.number(), z.boolean(), z.string()])).optional(),
});

const ScenarioFields = {
  name: z.string().optional(),
  description: z.string().optional(),
  seed: z.union([z.number(), z.string()]).default(1),
  /** The virtual wall clock at time 0 (ISO 8601). */
  startTime: z.iso
    .datetime({ message: 'must be an ISO 8601 date-time such as "2025-01-01T00:00:00Z"' })
    .optional(),
  /** Stop the run at this virtual time even if work is left (e.g. a shard blocked by infinite retries). */
  maxDuration: DurationSchema.default('24h'),
  /** `bundles`: the real handler code from cdk.out; `model`: the in-engine model (fast, see docs). */
  functions: z.enum(['bundles', 'model']).default('bundles'),
  /** Virtual duration of an invocation that does not time out. */
  invocationDuration: z
    .strictObject({
      baseMs: z.number().min(0).default(40),
      perRecordMs: z.number().min(0).default(4),
      jitter: z.number().min(0).max(1).default(0.25),
    })
    .optional(),
  /** DynamoDB unavailable for every function during these windows. */
  dynamodbOutages: z.array(WindowSchema).default([]),
};

const FullScenarioSchema = z.strictObject({
  ...ScenarioFields,
  paths: z.strictObject({
    sqs: PathSchema.optional(),
    object: PathSchema.optional(),
    stream: PathSchema.optional(),
    fifo: PathSchema.optional(),
    'table-stream': PathSchema.optional(),
    http: HttpPathSchema.optional(),
  }),
});

/** The short form: one path. */
const ShortScenarioSchema = z.strictObject({
  ...ScenarioFields,
  path: z.enum(PATHS as [IngestionPath, ...IngestionPath[]], {
    message: `must be ${PATHS.slice(0, -1)
      .map((p) => `"${p}"`)
      .join(', ')} or "${PATHS.at(-1)}"`,
  }),
  ...PathSchema.shape,
});

export type PathScenario = z.output<typeof PathSchema>;
export type HttpPathScenario = z.output<typeof HttpPathSchema>;
export type FaultsScenario = z.output<typeof FaultsSchema>;
export type Selection = z.output<typeof SelectionSchema>;
export type Scenario = z.output<typeof FullScenarioSchema>;
export type DurationValue = z.input<typeof DurationSchema>;

export class ScenarioError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScenarioError';
  }
}

/** Validates a parsed scenario; throws a {@link ScenarioError} listing every problem as `field: what is allowed`. */
export function parseScenario(input: unknown, source = 'scenario'): Scenario {
  const isShort = typeof input === 'object' && input !== null && 'path' in input;
  const result = (isShort ? ShortScenarioSchema : FullScenarioSchema).safeParse(input);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const field = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
      return `  ${field}: ${issue.message}`;
    });
    const hint = isShort
      ? ''
      : `\n(A scenario has "paths": {${PATHS.map((p) => `"${p}"`).join('|')}: {...}}, or the short form {"path": "sqs", "records": 100, ...}.)`;
    throw new ScenarioError(`${source} is not a valid scenario:\n${lines.join('\n')}${hint}`);
  }
  const scenario = isShort
    ? toFull(result.data as z.output<typeof ShortScenarioSchema>)
    : (result.data as Scenario);
  checkWindows(scenario, source);
  if (!PATHS.some((p) => scenario.paths[p]) && !scenario.paths.http) {
    throw new ScenarioError(
      `${source} is not a valid scenario:\n  paths: name at least one of ${PATHS.join(', ')}, http`,
    );
  }
  return scenario;
}

export function readScenarioFile(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ScenarioError(`Cannot read scenario file ${file}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ScenarioError(`${file} is not JSON: ${(error as Error).message}`);
  }
  return parseScenario(json, file);
}

function toFull(short: z.output<typeof ShortScenarioSchema>): Scenario {
  const {
    path,
    records,
    ratePerSecond,
    start,
    partitionKeys,
    groups,
    expirations,
    faults,
    settings,
    ...rest
  } = short;
  return {
    ...rest,
    paths: {
      [path]: {
        records,
        ratePerSecond,
        start,
        partitionKeys,
        ...(groups !== undefined && { groups }),
        ...(expirations !== undefined && { expirations }),
        faults,
        ...(settings !== undefined && { settings }),
      },
    },
  };
}

function checkWindows(scenario: Scenario, source: string): void {
  const problems: string[] = [];
  const check = (field: string, window: { from: DurationValue; to: DurationValue }) => {
    if (durationMs(window.to) <= durationMs(window.from))
      problems.push(`  ${field}: "to" must be after "from"`);
  };
  scenario.dynamodbOutages.forEach((w, i) => check(`dynamodbOutages.${i}`, w));
  problems.push(...scenarioSettingsProblems(scenario.paths));
  scenario.paths.http?.faults.queueOutages?.forEach((w, i) =>
    check(`paths.http.faults.queueOutages.${i}`, w),
  );
  for (const path of PATHS) {
    const faults = scenario.paths[path]?.faults;
    if (!faults) continue;
    faults.throttle?.forEach((w, i) => check(`paths.${path}.faults.throttle.${i}`, w));
    faults.deliveryFailures?.forEach((w, i) => check(`paths.${path}.faults.deliveryFailures.${i}`, w));
    faults.dynamodbOutages?.forEach((w, i) => check(`paths.${path}.faults.dynamodbOutages.${i}`, w));
    if (scenario.paths[path]!.expirations !== undefined && path !== 'table-stream') {
      problems.push(`  paths.${path}.expirations: only the table-stream path has a table whose items expire`);
    }
    if (faults.deliveryFailures && path !== 'object') {
      problems.push(`  paths.${path}.faults.deliveryFailures: only the object path has an SNS subscription`);
    }
    const records = scenario.paths[path]!.records;
    for (const [name, selection] of Object.entries(faults)) {
      if (typeof selection !== 'object' || selection === null || Array.isArray(selection)) continue;
      const numbers = (selection as { records?: number[] }).records ?? [];
      const outside = numbers.filter((n) => n > records);
      if (outside.length > 0) {
        problems.push(
          `  paths.${path}.faults.${name}.records: record numbers go from 1 to ${records}, got ${outside.join(', ')}`,
        );
      }
    }
  }
  if (problems.length > 0)
    throw new ScenarioError(`${source} is not a valid scenario:\n${problems.join('\n')}`);
}

/** Milliseconds of a duration or a list of durations, as a list. */
export function durationsMs(value: DurationValue | readonly DurationValue[]): number[] {
  return (Array.isArray(value) ? value : [value]).map((v: DurationValue) => durationMs(v));
}

/** Milliseconds of a scenario duration. */
export function durationMs(value: DurationValue): number {
  if (typeof value === 'number') return value * 1000;
  let total = 0;
  for (const [, amount, unit] of value.matchAll(DURATION_PART)) {
    total += Number(amount) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as 'ms' | 's' | 'm' | 'h'];
  }
  return total;
}
