/**
 * The Powertools wiring every handler shares: one Logger, the idempotency store and config, read from the
 * environment that `ConsumerFunction` (lib/constructs/consumer-function.ts) sets. Handlers build their
 * dependencies here once per execution environment (cold start), never per invocation.
 */
import { IdempotencyConfig } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type IdempotencyScheme, ReadThenCompletePersistenceLayer } from './serial-key-persistence';

/** What a handler needs for idempotent processing. Tests build these against dynalite. */
export interface IdempotencyDependencies {
  /** Where idempotency records live. */
  readonly persistenceStore: BasePersistenceLayer;
  /** How long a record protects, and the Lambda context (registered on each invocation). */
  readonly idempotencyConfig: IdempotencyConfig;
}

/** Settings read from the function's environment. */
export interface IdempotencyEnvironment {
  readonly tableName: string;
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
): IdempotencyEnvironment {
  const tableName = env.IDEMPOTENCY_TABLE_NAME;
  if (!tableName) {
    throw new Error(
      'IDEMPOTENCY_TABLE_NAME is not set: the function cannot record which records it processed.',
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
  return { tableName, expiresAfterSeconds, scheme };
}

/** Options for {@link createIdempotencyDependencies}. */
export interface CreateIdempotencyOptions extends IdempotencyEnvironment {
  /** A DynamoDB client; the default one uses the function's region and credentials. */
  readonly client?: DynamoDBClient;
}

/**
 * Builds the DynamoDB persistence layer and the idempotency config.
 *
 * No `eventKeyJmesPath`: every handler passes the idempotency key itself (a non-empty string) as the argument
 * Powertools hashes (`dataIndexArgument`), so Powertools hashes that string as it is. With a JMESPath
 * selecting the same string from a larger argument the key would be identical (the hash is over the JSON of
 * the selected value), but Powertools would evaluate the expression twice per record (claim and completion)
 * for nothing.
 *
 * A missing key is an error, not a silent skip (Powertools' default), because a record without a key would be
 * processed again on every re-delivery: with no JMESPath, Powertools treats an empty key as missing.
 */
export function createIdempotencyDependencies(options: CreateIdempotencyOptions): IdempotencyDependencies {
  const layerOptions = {
    tableName: options.tableName,
    awsSdkV3Client: options.client ?? new DynamoDBClient({}),
  };
  const persistenceStore =
    options.scheme === 'read-then-complete'
      ? new ReadThenCompletePersistenceLayer(layerOptions)
      : new DynamoDBPersistenceLayer(layerOptions);
  const idempotencyConfig = new IdempotencyConfig({
    expiresAfterSeconds: options.expiresAfterSeconds,
    throwOnNoIdempotencyKey: true,
  });
  return { persistenceStore, idempotencyConfig };
}

/** The logger every handler uses; service name and level come from POWERTOOLS_* environment variables. */
export function createLogger(): Logger {
  return new Logger();
}
