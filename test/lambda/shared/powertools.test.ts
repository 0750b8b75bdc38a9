/** The shared Powertools wiring: what each handler reads from its environment at cold start, and its client. */
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { createServer } from 'node:http';
import { dynamoDbCallBudget, worstCaseRecordMs } from '../../../lambda/shared/deadlines';
import { ExactlyOncePersistenceLayer } from '../../../lambda/shared/exactly-once';
import {
  createDynamoDbClient,
  createIdempotencyDependencies,
  readIdempotencyEnvironment,
} from '../../../lambda/shared/powertools';
import { IDEMPOTENCY_SCHEMES } from '../../../lambda/shared/serial-key-persistence';
import { listenOnLoopback, localDynamoDbClient } from '../../../tools/shared/local-dynamodb';
import { unreachableDynamoDbClient } from '../../helpers/dynamodb';

const env = (extra: Record<string, string> = {}) => ({
  IDEMPOTENCY_TABLE_NAME: 'idempotency',
  EFFECT_TABLE_NAME: 'effects',
  ...extra,
});

describe('readIdempotencyEnvironment', () => {
  it("reads both tables, the expiry and the scheme, defaulting to Powertools' scheme", () => {
    expect(readIdempotencyEnvironment(env({ IDEMPOTENCY_EXPIRY_SECONDS: '86400' }))).toEqual({
      tableName: 'idempotency',
      effectTableName: 'effects',
      expiresAfterSeconds: 86_400,
      scheme: 'claim-then-complete',
    });
  });

  it('fails without a table, without an effect table, or with an expiry that is not a positive whole number', () => {
    expect(() => readIdempotencyEnvironment({ EFFECT_TABLE_NAME: 'effects' })).toThrow(
      /IDEMPOTENCY_TABLE_NAME is not set/,
    );
    expect(() => readIdempotencyEnvironment({ IDEMPOTENCY_TABLE_NAME: 'idempotency' })).toThrow(
      'EFFECT_TABLE_NAME is not set: the function has nowhere to write the effects of its records.',
    );
    expect(() => readIdempotencyEnvironment(env({ IDEMPOTENCY_EXPIRY_SECONDS: '1.5' }))).toThrow(
      /IDEMPOTENCY_EXPIRY_SECONDS must be a positive whole number, got "1.5"/,
    );
  });

  it('refuses read-then-complete unless the handler allows it (only the stream path does)', () => {
    const cheap = env({ IDEMPOTENCY_SCHEME: 'read-then-complete' });
    expect(() => readIdempotencyEnvironment(cheap)).toThrow(
      'IDEMPOTENCY_SCHEME must be "claim-then-complete" for this function, got "read-then-complete".',
    );
    expect(readIdempotencyEnvironment(cheap, IDEMPOTENCY_SCHEMES).scheme).toBe('read-then-complete');
    expect(() =>
      readIdempotencyEnvironment(env({ IDEMPOTENCY_SCHEME: 'high-water-mark' }), IDEMPOTENCY_SCHEMES),
    ).toThrow(
      /must be "claim-then-complete" or "read-then-complete" for this function, got "high-water-mark"/,
    );
  });
});

describe('createIdempotencyDependencies', () => {
  const common = {
    tableName: 'idempotency',
    effectTableName: 'effects',
    expiresAfterSeconds: 60,
    client: unreachableDynamoDbClient(),
  };

  it('builds the exactly-once layer (a Powertools DynamoDB layer) with the scheme asked for', () => {
    for (const scheme of [undefined, ...IDEMPOTENCY_SCHEMES]) {
      const { persistenceStore } = createIdempotencyDependencies({ ...common, scheme });
      expect(persistenceStore).toBeInstanceOf(ExactlyOncePersistenceLayer);
      expect(persistenceStore).toBeInstanceOf(DynamoDBPersistenceLayer);
    }
  });

  it('throws on a missing idempotency key, and expires records after the configured time', () => {
    const { idempotencyConfig } = createIdempotencyDependencies(common);
    expect(idempotencyConfig.throwOnNoIdempotencyKey).toBe(true);
    expect(idempotencyConfig.expiresAfterSeconds).toBe(60);
  });

  it('carries the budget it was given, or the one the environment sets', () => {
    const budget = { requestTimeoutMs: 250, maxAttempts: 2 };
    expect(createIdempotencyDependencies({ ...common, budget }).budget).toEqual(budget);
    // No DYNAMODB_* variables in the test environment: the default, for a 30 s function.
    expect(createIdempotencyDependencies(common).budget).toEqual(dynamoDbCallBudget(30_000));
  });
});

describe('createDynamoDbClient', () => {
  it("makes at most the budget's attempts per call", async () => {
    const client = createDynamoDbClient({ requestTimeoutMs: 250, maxAttempts: 2 });
    try {
      const maxAttempts = client.config.maxAttempts as () => Promise<number>;
      await expect(maxAttempts()).resolves.toBe(2);
    } finally {
      client.destroy();
    }
  });

  it('abandons a request that gets no answer after the request timeout, attempt by attempt (F7)', async () => {
    // A DynamoDB that accepts connections and never answers: a hung request.
    const silent = createServer(() => undefined);
    const port = await listenOnLoopback(silent);
    const budget = { requestTimeoutMs: 100, maxAttempts: 2 };
    // The function's client settings (request handler and attempts), pointed at the silent server.
    const functionClient = createDynamoDbClient(budget);
    const client = localDynamoDbClient(`http://127.0.0.1:${port}`, {
      maxAttempts: functionClient.config.maxAttempts,
      requestHandler: functionClient.config.requestHandler,
    });
    try {
      const call = client.send(new GetItemCommand({ TableName: 't', Key: { id: { S: 'x' } } }));
      let stillWaiting: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        call.catch((error: unknown) => error),
        new Promise((resolve) => {
          // Only tells "abandoned" from "waits for ever", with room for a loaded machine: the attempts below, each
          // a TimeoutError of the request handler, are what shows the timeout applied attempt by attempt.
          stillWaiting = setTimeout(() => resolve('still waiting'), 10 * worstCaseRecordMs(budget));
        }),
      ]);
      // Cleared, not left to fire: a pending timer outlives the file and keeps jest's worker from exiting.
      clearTimeout(stillWaiting);
      expect(outcome).toEqual(expect.objectContaining({ name: 'TimeoutError' }));
      expect(outcome).toEqual(
        expect.objectContaining({ $metadata: expect.objectContaining({ attempts: 2 }) }),
      );
    } finally {
      client.destroy();
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
