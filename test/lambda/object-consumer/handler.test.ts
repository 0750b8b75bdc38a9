/**
 * The object consumer against a real DynamoDB API (dynalite, in-process, with transactions): Powertools
 * idempotency and the exactly-once commit run unmodified, so duplicates, retries and failures behave as in Lambda.
 * What an object version did is asserted on the durable data (the prefixes' totals in the effect table) and on the
 * 'side effect done' lines, counted from the logger's real output.
 */
import { IdempotencyPersistenceLayerError } from '@aws-lambda-powertools/idempotency';
import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { domain, type ObjectOutcome } from '../../../lambda/object-consumer/domain';
import { createObjectConsumerHandler, type ObjectConsumerHandler } from '../../../lambda/object-consumer/handler';
import type { CreatedObject } from '../../../lambda/object-consumer/object';
import type { DynamoDbCallBudget } from '../../../lambda/shared/deadlines';
import type { Plan } from '../../../lambda/shared/exactly-once';
import { InvalidPayloadError } from '../../../lambda/shared/parsing';
import { createIdempotencyDependencies } from '../../../lambda/shared/powertools';
import { SIDE_EFFECT_LOG_MESSAGE } from '../../../lambda/shared/side-effect';
import type { CallFaultInjector } from '../../../tools/shared/dynamodb-faults';
import { mentioning, unreachableDynamoDbClient, useFaultyDynamoDb } from '../../helpers/dynamodb';
import { restoreEnvironmentAfterEach } from '../../helpers/environment';
import {
  BUCKET,
  captureLogs,
  lambdaContext,
  type LogCapture,
  S3_TEST_EVENT_MESSAGE,
  s3Notification,
  snsEvent,
} from './fixtures';

const db = useFaultyDynamoDb();
let logs: LogCapture;

beforeEach(() => {
  logs = captureLogs();
});
afterEach(() => {
  logs.restore();
});

type PlanObject = (object: CreatedObject) => Plan<ObjectOutcome> | Promise<Plan<ObjectOutcome>>;

interface Harness {
  readonly handler: ObjectConsumerHandler;
  /** Objects the plan was called with, in order (whether it then succeeded or not). */
  readonly planCalls: CreatedObject[];
  /** One invocation (an invocation of the harness's execution environment, for the fault injector). */
  invoke(event: unknown): Promise<void>;
}

/** A handler as `index.ts` builds it, with the plan observed (and replaced by `plan` if given). */
function harness(
  options: {
    plan?: PlanObject;
    client?: DynamoDBClient;
    budget?: DynamoDbCallBudget;
    /**
     * Waits between tries inside one invocation after a transient DynamoDB failure. Default: none, so a test sees
     * what one try does (what Lambda re-delivers); the in-invocation retry has tests of its own.
     */
    dependencyRetryDelaysMs?: readonly number[];
    faults?: { readonly injector: CallFaultInjector; readonly environment: string };
  } = {},
): Harness {
  const planCalls: CreatedObject[] = [];
  const plan = options.plan ?? domain.plan;
  const handler = createObjectConsumerHandler({
    logger: new Logger({ serviceName: 'object-consumer-test', logLevel: 'INFO' }),
    ...createIdempotencyDependencies({
      tableName: db.tableName,
      effectTableName: db.effectTableName,
      expiresAfterSeconds: 7 * 3600,
      client: options.client ?? db.dynamo.client,
      ...(options.budget && { budget: options.budget }),
    }),
    dependencyRetryDelaysMs: options.dependencyRetryDelaysMs ?? [],
    plan: async (object) => {
      planCalls.push(object);
      return plan(object);
    },
  });
  return {
    handler,
    planCalls,
    invoke(event) {
      options.faults?.injector.beginInvocation(options.faults.environment);
      return handler(event, lambdaContext());
    },
  };
}

const sideEffects = () => logs.withMessage(SIDE_EFFECT_LOG_MESSAGE);
/** recordKey of every side-effect line, in order. */
const appliedVersions = () => sideEffects().map((line) => line.recordKey);
/** The idempotency key of version `versionId` of `key` in the test bucket. */
const versionKey = (key: string, versionId = 'v1') => `s3://${BUCKET}/${key}?versionId=${versionId}`;
/** The effect table item of a prefix of the test bucket (`(root)` for keys without a folder). */
const totalsOf = (prefix: string) => `prefix#${BUCKET}/${prefix}`;

describe('object consumer handler', () => {
  it('processes a created object once: one side effect, one idempotency record, its prefix counted once', async () => {
    const h = harness();
    await h.invoke(
      snsEvent({ message: s3Notification({ key: 'in/a.csv', versionId: 'v1', size: 10 }), messageId: 'm-1' }),
    );
    expect(sideEffects()).toEqual([
      expect.objectContaining({
        path: 'object',
        recordKey: versionKey('in/a.csv'),
        snsMessageId: 'm-1',
        objectVersionKey: versionKey('in/a.csv'),
        effect: [{ key: totalsOf('in'), add: { objectCount: 1, totalBytes: 10 } }],
      }),
    ]);
    expect(await db.idempotencyRecords()).toEqual([
      expect.objectContaining({
        status: 'COMPLETED',
        data: { objectVersionKey: versionKey('in/a.csv'), category: 'data', sizeClass: 'small' },
      }),
    ]);
    expect(await db.effects()).toEqual({ [totalsOf('in')]: { objectCount: 1, totalBytes: 10 } });
  });

  it('the same SNS event delivered twice is applied once', async () => {
    const h = harness();
    const event = snsEvent({ message: s3Notification({ key: 'a.txt', versionId: 'v1' }), messageId: 'm-1' });
    await h.invoke(event);
    await h.invoke(event);
    expect(sideEffects()).toHaveLength(1);
    expect(await db.effects()).toEqual({ [totalsOf('(root)')]: { objectCount: 1, totalBytes: 1024 } });
  });

  it('the same object version in two different SNS messages is applied once', async () => {
    const h = harness();
    const message = s3Notification({ key: 'a.txt', versionId: 'v1', sequencer: '01' });
    await h.invoke(snsEvent({ message, messageId: 'm-1' }));
    await h.invoke(snsEvent({ message, messageId: 'm-2' }));
    expect(sideEffects()).toHaveLength(1);
    expect(h.planCalls).toHaveLength(1);
    expect(await db.effects()).toEqual({ [totalsOf('(root)')]: { objectCount: 1, totalBytes: 1024 } });
  });

  it('a new version of the same key is new work: applied twice', async () => {
    const h = harness();
    await h.invoke(
      snsEvent({ message: s3Notification({ key: 'a.txt', versionId: 'v1' }), messageId: 'm-1' }),
    );
    await h.invoke(
      snsEvent({ message: s3Notification({ key: 'a.txt', versionId: 'v2' }), messageId: 'm-2' }),
    );
    expect(appliedVersions()).toEqual([versionKey('a.txt', 'v1'), versionKey('a.txt', 'v2')]);
    expect(await db.effects()).toEqual({ [totalsOf('(root)')]: { objectCount: 2, totalBytes: 2048 } });
  });

  it('in an unversioned bucket the sequencer tells uploads of one key apart', async () => {
    const h = harness();
    const first = s3Notification({ key: 'a.txt', sequencer: '0055AED6DCD90281E5' });
    const second = s3Notification({ key: 'a.txt', versionId: 'null', sequencer: '0055AED6DCD90281E6' });
    await h.invoke(snsEvent({ message: first, messageId: 'm-1' }));
    await h.invoke(snsEvent({ message: first, messageId: 'm-1b' }));
    await h.invoke(snsEvent({ message: second, messageId: 'm-2' }));
    expect(appliedVersions()).toEqual([
      `s3://${BUCKET}/a.txt?sequencer=0055AED6DCD90281E5`,
      `s3://${BUCKET}/a.txt?sequencer=0055AED6DCD90281E6`,
    ]);
    expect(await db.effects()).toEqual({ [totalsOf('(root)')]: { objectCount: 2, totalBytes: 2048 } });
  });

  it('ignores the S3 test event: nothing applied, no error, one INFO line', async () => {
    const h = harness();
    await expect(
      h.invoke(snsEvent({ message: S3_TEST_EVENT_MESSAGE, messageId: 'm-test' })),
    ).resolves.toBeUndefined();
    expect(h.planCalls).toEqual([]);
    expect(sideEffects()).toEqual([]);
    expect(logs.withMessage('S3 test event ignored')).toEqual([
      expect.objectContaining({ level: 'INFO', snsMessageId: 'm-test', bucket: BUCKET }),
    ]);
    expect(await db.idempotencyRecords()).toEqual([]);
    expect(await db.effects()).toEqual({});
  });

  it('decodes object keys before the plan sees them (a+b%2Fc%C3%A9.txt is "a b/cé.txt")', async () => {
    const h = harness();
    await h.invoke(
      snsEvent({ message: s3Notification({ key: 'a+b%2Fc%C3%A9.txt', versionId: 'v1' }), messageId: 'm-1' }),
    );
    expect(h.planCalls.map((object) => object.key)).toEqual(['a b/cé.txt']);
    expect(appliedVersions()).toEqual([`s3://${BUCKET}/a%20b/c%C3%A9.txt?versionId=v1`]);
    expect(await db.effects()).toEqual({ [totalsOf('a b')]: { objectCount: 1, totalBytes: 1024 } });
  });

  describe('bad input', () => {
    it('a Message that is not JSON throws an InvalidPayloadError after one ERROR line', async () => {
      const h = harness();
      const invocation = h.invoke(snsEvent({ message: 'not json', messageId: 'm-bad' }));
      await expect(invocation).rejects.toThrow(InvalidPayloadError);
      await expect(invocation).rejects.toThrow(/payload is not JSON/);
      expect(logs.atLevel('ERROR')).toEqual([
        expect.objectContaining({
          message: 'invalid object notification',
          snsMessageId: 'm-bad',
          reason: expect.stringMatching(/^payload is not JSON/),
        }),
      ]);
      expect(h.planCalls).toEqual([]);
    });

    it('a Message of the wrong shape throws, naming the path of every issue', async () => {
      const h = harness();
      const message = JSON.stringify({ Records: [{ eventSource: 'aws:s3', s3: {} }] });
      const invocation = h.invoke(snsEvent({ message, messageId: 'm-shape' }));
      await expect(invocation).rejects.toThrow(InvalidPayloadError);
      await expect(invocation).rejects.toThrow(/Records\.0\.s3\.bucket: /);
      const [line] = logs.atLevel('ERROR');
      expect(logs.atLevel('ERROR')).toHaveLength(1);
      expect(line.issues).toEqual(
        expect.arrayContaining([expect.stringMatching(/^Records\.0\.eventName: /)]),
      );
    });

    it('an event that is not an SNS event throws before anything is processed', async () => {
      const h = harness();
      const invocation = h.invoke({ Records: [{ eventSource: 'aws:sqs', body: '{}' }] });
      await expect(invocation).rejects.toThrow(InvalidPayloadError);
      expect(logs.atLevel('ERROR')).toEqual([expect.objectContaining({ message: 'invalid SNS event' })]);
      expect(h.planCalls).toEqual([]);
    });

    it('an object key that is not valid URL encoding throws and names the key', async () => {
      const h = harness();
      const invocation = h.invoke(
        snsEvent({ message: s3Notification({ key: 'bad%E9key', versionId: 'v1' }), messageId: 'm-key' }),
      );
      await expect(invocation).rejects.toThrow(/object key "bad%E9key" is not valid URL encoding/);
    });
  });

  it('DynamoDB unreachable: the invocation fails, nothing is planned or applied, one ERROR line with the cause', async () => {
    const h = harness({ client: unreachableDynamoDbClient() });
    const invocation = h.invoke(
      snsEvent({ message: s3Notification({ key: 'a.txt', versionId: 'v1' }), messageId: 'm-1' }),
    );
    await expect(invocation).rejects.toThrow(IdempotencyPersistenceLayerError);
    expect(h.planCalls).toEqual([]);
    expect(sideEffects()).toEqual([]);
    expect(logs.withMessage('record failed; retried later')).toEqual([
      expect.objectContaining({
        level: 'ERROR',
        snsMessageId: 'm-1',
        objectVersionKey: versionKey('a.txt'),
        error: expect.objectContaining({
          name: 'IdempotencyPersistenceLayerError',
          cause: expect.objectContaining({ message: expect.stringMatching(/ECONNREFUSED/) }),
        }),
      }),
    ]);
    expect(await db.effects()).toEqual({});
  });

  it('a failing plan fails the invocation; Lambda’s retry applies it, once', async () => {
    let failuresLeft = 1;
    const h = harness({
      plan: async (object) => {
        if (failuresLeft-- > 0) throw new Error('downstream unavailable');
        return domain.plan(object);
      },
    });
    const event = snsEvent({ message: s3Notification({ key: 'a.txt', versionId: 'v1' }), messageId: 'm-1' });
    await expect(h.invoke(event)).rejects.toThrow('downstream unavailable');
    expect(sideEffects()).toHaveLength(0);
    expect(await db.effects()).toEqual({});
    expect(await db.idempotencyRecords()).toEqual([]);

    await h.invoke(event); // Lambda's first retry, about a minute later
    await h.invoke(event); // a duplicate delivery after that
    expect(sideEffects()).toHaveLength(1);
    expect(h.planCalls).toHaveLength(2);
    expect(await db.effects()).toEqual({ [totalsOf('(root)')]: { objectCount: 1, totalBytes: 1024 } });
  });

  it('several records in one invocation: a failure fails it, and the retry redoes only what failed', async () => {
    const failing = new Set(['b.txt']);
    const h = harness({
      plan: async (object) => {
        if (failing.has(object.key)) throw new Error(`cannot process ${object.key}`);
        return domain.plan(object);
      },
    });
    const event = snsEvent(
      {
        message: s3Notification({ key: 'a.txt', versionId: 'v1' }, { key: 'b.txt', versionId: 'v1' }),
        messageId: 'm-1',
      },
      { message: s3Notification({ key: 'c.txt', versionId: 'v1' }), messageId: 'm-2' },
    );
    await expect(h.invoke(event)).rejects.toThrow('cannot process b.txt');
    expect(appliedVersions()).toEqual([versionKey('a.txt'), versionKey('c.txt')]);
    expect(await db.effects()).toEqual({ [totalsOf('(root)')]: { objectCount: 2, totalBytes: 2048 } });

    failing.clear();
    await h.invoke(event);
    expect(appliedVersions()).toEqual([versionKey('a.txt'), versionKey('c.txt'), versionKey('b.txt')]);
    expect(h.planCalls.map((object) => object.key)).toEqual(['a.txt', 'b.txt', 'c.txt', 'b.txt']);
    expect(await db.effects()).toEqual({ [totalsOf('(root)')]: { objectCount: 3, totalBytes: 3072 } });
  });

  it('several failures are reported together in one AggregateError', async () => {
    const h = harness({
      plan: async (object) => {
        throw new Error(`cannot process ${object.key}`);
      },
    });
    const event = snsEvent(
      { message: s3Notification({ key: 'a.txt', versionId: 'v1' }), messageId: 'm-1' },
      { message: 'not json', messageId: 'm-2' },
    );
    const invocation = h.invoke(event);
    await expect(invocation).rejects.toThrow(AggregateError);
    await expect(invocation).rejects.toThrow(
      /^2 object records failed \(0 done\): Error: cannot process a\.txt \| InvalidPayloadError: payload is not JSON/,
    );
    expect(logs.atLevel('ERROR').map((line) => line.message)).toEqual([
      'record failed; retried later',
      'invalid object notification',
    ]);
  });
});

describe('a commit that does not go through (F1)', () => {
  it('fails the invocation with nothing applied and the claim released; Lambda’s retry applies it once', async () => {
    const environment = 'object-env-1';
    const budget: DynamoDbCallBudget = { requestTimeoutMs: 200, maxAttempts: 2 };
    const injector = db.inject(
      [{ operation: 'TransactWriteItems', call: 1, kind: 'error' }],
      mentioning('b.txt'),
    );
    const h = harness({
      client: db.clientFor(environment, budget),
      budget,
      faults: { injector, environment },
    });
    const event = snsEvent({
      message: s3Notification({ key: 'a.txt', versionId: 'v1' }, { key: 'b.txt', versionId: 'v1' }),
      messageId: 'm-1',
    });
    await expect(h.invoke(event)).rejects.toThrow(IdempotencyPersistenceLayerError);
    expect(injector.hits).toHaveLength(2);
    expect(appliedVersions()).toEqual([versionKey('a.txt')]);
    expect(await db.effects()).toEqual({ [totalsOf('(root)')]: { objectCount: 1, totalBytes: 1024 } });
    expect((await db.idempotencyRecords()).map((record) => record.status)).toEqual(['COMPLETED']);

    await h.invoke(event); // Lambda's retry: a.txt answered from its record, b.txt applied
    expect(appliedVersions()).toEqual([versionKey('a.txt'), versionKey('b.txt')]);
    expect(await db.effects()).toEqual({ [totalsOf('(root)')]: { objectCount: 2, totalBytes: 2048 } });
  });
});

describe('stable idempotency key prefix (F4)', () => {
  restoreEnvironmentAfterEach('AWS_LAMBDA_FUNCTION_NAME');

  it('stores records under the fixed prefix whatever the function is named, so a replaced function still finds them', async () => {
    const event = snsEvent({ message: s3Notification({ key: 'a.txt', versionId: 'v1' }), messageId: 'm-1' });
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'ObjectIngestionStack-ObjectConsumerFunctionA1B2-Old';
    await harness().invoke(event);
    // CloudFormation replaced the function: a new generated name, the same table.
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'ObjectIngestionStack-ObjectConsumerFunctionC3D4-New';
    const replaced = harness();
    await replaced.invoke(event);

    const ids = (await db.idempotencyRecords()).map((record) => String(record.id));
    expect(ids).toEqual([expect.stringMatching(new RegExp(`^${domain.keyPrefix}#`))]);
    expect(replaced.planCalls).toEqual([]);
    expect(await db.effects()).toEqual({ [totalsOf('(root)')]: { objectCount: 1, totalBytes: 1024 } });
  });
});
