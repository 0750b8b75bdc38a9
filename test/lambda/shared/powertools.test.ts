/** The shared Powertools wiring: what each handler reads from its environment at cold start. */
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { createIdempotencyDependencies, readIdempotencyEnvironment } from '../../../lambda/shared/powertools';
import {
  IDEMPOTENCY_SCHEMES,
  ReadThenCompletePersistenceLayer,
} from '../../../lambda/shared/serial-key-persistence';
import { unreachableDynamoDbClient } from '../../helpers/dynamodb';

const env = (extra: Record<string, string> = {}) => ({ IDEMPOTENCY_TABLE_NAME: 'idempotency', ...extra });

describe('readIdempotencyEnvironment', () => {
  it("reads the table, the expiry and the scheme, defaulting to Powertools' scheme", () => {
    expect(readIdempotencyEnvironment(env({ IDEMPOTENCY_EXPIRY_SECONDS: '86400' }))).toEqual({
      tableName: 'idempotency',
      expiresAfterSeconds: 86_400,
      scheme: 'claim-then-complete',
    });
  });

  it('fails without a table, or with an expiry that is not a positive whole number', () => {
    expect(() => readIdempotencyEnvironment({})).toThrow(/IDEMPOTENCY_TABLE_NAME is not set/);
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
  const common = { tableName: 'idempotency', expiresAfterSeconds: 60, client: unreachableDynamoDbClient() };

  it("builds Powertools' own DynamoDB layer by default, and the read-then-complete layer when asked", () => {
    const byDefault = createIdempotencyDependencies(common).persistenceStore;
    expect(byDefault).toBeInstanceOf(DynamoDBPersistenceLayer);
    expect(byDefault).not.toBeInstanceOf(ReadThenCompletePersistenceLayer);
    expect(
      createIdempotencyDependencies({ ...common, scheme: 'read-then-complete' }).persistenceStore,
    ).toBeInstanceOf(ReadThenCompletePersistenceLayer);
  });
});
