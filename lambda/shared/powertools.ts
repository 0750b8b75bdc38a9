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
}

/** Reads the idempotency settings from the environment, failing at cold start with a clear message. */
export function readIdempotencyEnvironment(env: NodeJS.ProcessEnv = process.env): IdempotencyEnvironment {
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
  return { tableName, expiresAfterSeconds };
}

/** Options for {@link createIdempotencyDependencies}. */
export interface CreateIdempotencyOptions extends IdempotencyEnvironment {
  /** JMESPath into the idempotent function's argument that selects the idempotency key. */
  readonly eventKeyJmesPath: string;
  /** A DynamoDB client; the default one uses the function's region and credentials. */
  readonly client?: DynamoDBClient;
}

/**
 * Builds the DynamoDB persistence layer and the idempotency config. A missing key is an error, not a silent
 * skip (Powertools' default), because a record without a key would be processed again on every re-delivery.
 */
export function createIdempotencyDependencies(options: CreateIdempotencyOptions): IdempotencyDependencies {
  const persistenceStore = new DynamoDBPersistenceLayer({
    tableName: options.tableName,
    awsSdkV3Client: options.client ?? new DynamoDBClient({}),
  });
  const idempotencyConfig = new IdempotencyConfig({
    eventKeyJmesPath: options.eventKeyJmesPath,
    expiresAfterSeconds: options.expiresAfterSeconds,
    throwOnNoIdempotencyKey: true,
  });
  return { persistenceStore, idempotencyConfig };
}

/** The logger every handler uses; service name and level come from POWERTOOLS_* environment variables. */
export function createLogger(): Logger {
  return new Logger();
}
