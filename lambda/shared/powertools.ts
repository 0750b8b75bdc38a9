/**
 * The Powertools wiring every handler shares: one Logger, the idempotency store and config, the business metrics,
 * read from the environment that `ConsumerFunction` (lib/constructs/consumer-function.ts) sets. Handlers build their
 * dependencies here once per execution environment (cold start), never per invocation.
 */
import { IdempotencyConfig } from '@aws-lambda-powertools/idempotency';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  boundedClientConfig,
  type DynamoDbCallBudget,
  readDependencyRetryDelays,
  readDynamoDbCallBudget,
} from './deadlines';
import { ExactlyOncePersistenceLayer } from './exactly-once';
import { BUSINESS_METRICS, type RecordOutcome } from './business-metrics';
import type { IdempotencyScheme } from './serial-key-persistence';

export { BUSINESS_METRICS, type RecordOutcome } from './business-metrics';

/** What a handler needs for idempotent processing. Tests build these against dynalite. */
export interface IdempotencyDependencies {
  /** Where idempotency records live; commits each record's effect with its completion (exactly-once.ts). */
  readonly persistenceStore: ExactlyOncePersistenceLayer;
  /** How long a record protects, and the Lambda context (registered on each invocation). */
  readonly idempotencyConfig: IdempotencyConfig;
  /** The DynamoDB client's request timeout and attempts: how long one record may take at worst. */
  readonly budget: DynamoDbCallBudget;
  /**
   * Waits between tries of a record inside the invocation after a transient DynamoDB failure; `[]`: none.
   * @default DEPENDENCY_RETRY_DELAYS_MS, or `DEPENDENCY_RETRY_DELAYS_MS` of the environment (deadlines.ts)
   */
  readonly dependencyRetryDelaysMs?: readonly number[];
  /**
   * Where each record's outcome is counted (applied, duplicate, invalid): the business metrics, written at the end
   * of every invocation by {@link flushMetricsAfter}. @default none: nothing is counted (tests that do not look)
   */
  readonly metrics?: RecordMetrics;
}

/** Settings read from the function's environment. */
export interface IdempotencyEnvironment {
  readonly tableName: string;
  /** The table the business effects are written to (`EFFECT_TABLE_NAME`). */
  readonly effectTableName: string;
  readonly expiresAfterSeconds: number;
  /** What is written per record (serial-key-persistence.ts). @default 'claim-then-complete' */
  readonly scheme?: IdempotencyScheme;
}

/**
 * Reads the idempotency settings from the environment, failing at cold start with a clear message.
 * `allowedSchemes`: the schemes that are sound for the calling handler's source (`read-then-complete` only
 * where the source never runs one key twice at once: the stream path).
 */
export function readIdempotencyEnvironment(
  env: NodeJS.ProcessEnv = process.env,
  allowedSchemes: readonly IdempotencyScheme[] = ['claim-then-complete'],
  /**
   * `none`: the function's plans write no effect (the http path's ingress, whose effect is an SQS message), so it
   * has no effect table and `EFFECT_TABLE_NAME` must not be set. @default 'required'
   */
  effectTable: 'required' | 'none' = 'required',
): IdempotencyEnvironment {
  const tableName = env.IDEMPOTENCY_TABLE_NAME;
  if (!tableName) {
    throw new Error(
      'IDEMPOTENCY_TABLE_NAME is not set: the function cannot record which records it processed.',
    );
  }
  const effectTableName = env.EFFECT_TABLE_NAME ?? '';
  if (effectTable === 'none' && effectTableName) {
    throw new Error(
      'EFFECT_TABLE_NAME is set, but this function writes no effects: its construct grants it no access there.',
    );
  }
  if (effectTable === 'required' && !effectTableName) {
    throw new Error(
      'EFFECT_TABLE_NAME is not set: the function has nowhere to write the effects of its records.',
    );
  }
  const expiresAfterSeconds = Number(env.IDEMPOTENCY_EXPIRY_SECONDS ?? 3600);
  if (!Number.isInteger(expiresAfterSeconds) || expiresAfterSeconds <= 0) {
    throw new Error(
      `IDEMPOTENCY_EXPIRY_SECONDS must be a positive whole number, got "${env.IDEMPOTENCY_EXPIRY_SECONDS}".`,
    );
  }
  const scheme = (env.IDEMPOTENCY_SCHEME ?? 'claim-then-complete') as IdempotencyScheme;
  if (!allowedSchemes.includes(scheme)) {
    throw new Error(
      `IDEMPOTENCY_SCHEME must be ${allowedSchemes.map((s) => `"${s}"`).join(' or ')} for this function, got "${scheme}".`,
    );
  }
  return { tableName, effectTableName, expiresAfterSeconds, scheme };
}

/** Options for {@link createIdempotencyDependencies}. */
export interface CreateIdempotencyOptions extends IdempotencyEnvironment {
  /** A DynamoDB client; the default one uses the function's region and credentials, and {@link budget}. */
  readonly client?: DynamoDBClient;
  /** Request timeout and attempts of the default client. @default read from the environment (deadlines.ts) */
  readonly budget?: DynamoDbCallBudget;
}

/**
 * The DynamoDB client every handler uses: each attempt of a call is abandoned after `requestTimeoutMs` without an
 * answer, and a call makes at most `maxAttempts` (deadlines.ts), so a hung connection costs seconds, not the
 * invocation.
 */
export function createDynamoDbClient(budget: DynamoDbCallBudget = readDynamoDbCallBudget()): DynamoDBClient {
  return new DynamoDBClient(boundedClientConfig(budget));
}

/**
 * Builds the persistence layer (exactly-once.ts: Powertools' DynamoDB layer whose completion commits the record's
 * effect in the same transaction) and the idempotency config.
 *
 * No `eventKeyJmesPath`: every handler passes the idempotency key itself, with the hash of the record's content,
 * as the argument Powertools hashes (`dataIndexArgument`), and the layer hashes the key string alone, as
 * Powertools hashes a string argument: no JMESPath is evaluated per record.
 *
 * A missing key is an error, not a silent skip (Powertools' default), because a record without a key would be
 * processed again on every re-delivery.
 */
export function createIdempotencyDependencies(options: CreateIdempotencyOptions): IdempotencyDependencies {
  const budget = options.budget ?? readDynamoDbCallBudget();
  const persistenceStore = new ExactlyOncePersistenceLayer({
    tableName: options.tableName,
    effectTableName: options.effectTableName,
    client: options.client ?? createDynamoDbClient(budget),
    ...(options.scheme && { scheme: options.scheme }),
  });
  const idempotencyConfig = new IdempotencyConfig({
    expiresAfterSeconds: options.expiresAfterSeconds,
    throwOnNoIdempotencyKey: true,
  });
  return {
    persistenceStore,
    idempotencyConfig,
    budget,
    dependencyRetryDelaysMs: readDependencyRetryDelays(),
  };
}

/** The logger every handler uses; service name and level come from POWERTOOLS_* environment variables. */
export function createLogger(): Logger {
  return new Logger();
}

/**
 * Counts the outcomes of an invocation's records and writes them as one EMF line when the invocation ends
 * ({@link flush}): the three counts, zeros included, so every graph has a point per invocation that handled a
 * record; nothing for an invocation that handled none (an S3 test event). One line per invocation whatever the batch
 * size, instead of one value per record (Powertools flushes early at 100 values of a metric).
 */
export class RecordMetrics {
  private counts: Record<RecordOutcome, number> = { applied: 0, duplicate: 0, invalid: 0 };
  private dirty = false;

  constructor(readonly metrics: Metrics) {}

  count(outcome: RecordOutcome): void {
    this.counts[outcome] += 1;
    this.dirty = true;
  }

  /** Writes the counts since the last flush (if any) and starts again from zero. */
  flush(): void {
    if (!this.dirty) return;
    for (const outcome of Object.keys(BUSINESS_METRICS) as RecordOutcome[]) {
      this.metrics.addMetric(BUSINESS_METRICS[outcome], MetricUnit.Count, this.counts[outcome]);
    }
    this.counts = { applied: 0, duplicate: 0, invalid: 0 };
    this.dirty = false;
    this.metrics.publishStoredMetrics();
  }
}

/**
 * The business metrics of a handler: a Powertools `Metrics` whose namespace and `service` dimension are read from
 * the environment (`POWERTOOLS_METRICS_NAMESPACE`, `POWERTOOLS_SERVICE_NAME`).
 */
export function createRecordMetrics(): RecordMetrics {
  return new RecordMetrics(new Metrics());
}

/** The handler, writing the invocation's business metrics when it returns or throws. */
export function flushMetricsAfter<E, C, R>(
  handler: (event: E, context: C) => Promise<R>,
  metrics: RecordMetrics,
): (event: E, context: C) => Promise<R> {
  return async (event, context) => {
    try {
      return await handler(event, context);
    } finally {
      metrics.flush();
    }
  };
}

/** What every consumer's handler is built from: the idempotency store and config, the logger, the metrics. */
export interface ConsumerDependencies extends IdempotencyDependencies {
  readonly logger: Logger;
  readonly metrics: RecordMetrics;
}

/**
 * A consumer function's entry point (its `handler` export): the handler built once per execution environment, at
 * cold start, from the environment `ConsumerFunction` sets, and reused by every invocation; the business metrics
 * written at the end of each. Each path's index.ts is this one call.
 */
export function consumerEntryPoint<E, C, R>(
  createHandler: (dependencies: ConsumerDependencies) => (event: E, context: C) => Promise<R>,
  environment: CreateIdempotencyOptions = readIdempotencyEnvironment(),
): (event: E, context: C) => Promise<R> {
  const metrics = createRecordMetrics();
  const handler = createHandler({
    ...createIdempotencyDependencies(environment),
    logger: createLogger(),
    metrics,
  });
  return flushMetricsAfter(handler, metrics);
}
