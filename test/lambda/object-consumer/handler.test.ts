/**
 * The object consumer against a real DynamoDB API (dynalite, in-process, with transactions): Powertools
 * idempotency and the exactly-once commit run unmodified, so duplicates, retries and failures behave as in Lambda.
 * What an object version did is asserted on the durable data (the effect table) and on the 'side effect done'
 * lines, counted from the logger's real output.
 *
 * The objects are the path's domain examples (domain.ts) as S3 notifies them (fixtures.ts), and what the handler
 * should make of a notification is derived from the path's own parsing (object.ts: `createdObjectsOf`) and the
 * domain's idempotency key and plan, so these tests hold for whatever domain a fork puts in `domain.ts`. Contract
 * fact relied on (lambda/shared/domain.ts): examples are pure, so an example built again is the object notified.
 * The S3 layer (key decoding, version identity, the notification's schema) is the path's, not the domain's: those
 * tests keep their literal keys.
 */
import { IdempotencyPersistenceLayerError } from '@aws-lambda-powertools/idempotency';
import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { domain, examples } from '../../../lambda/object-consumer/domain';
import {
  createObjectConsumerHandler,
  type ObjectConsumerHandler,
} from '../../../lambda/object-consumer/handler';
import { type CreatedObject, objectVersionKeyOf } from '../../../lambda/object-consumer/object';
import type { DynamoDbCallBudget } from '../../../lambda/shared/deadlines';
import type { ResponseOf } from '../../../lambda/shared/domain';
import type { Plan } from '../../../lambda/shared/exactly-once';
import { InvalidPayloadError } from '../../../lambda/shared/parsing';
import { createIdempotencyDependencies } from '../../../lambda/shared/powertools';
import { SIDE_EFFECT_LOG_MESSAGE } from '../../../lambda/shared/side-effect';
import type { CallFaultInjector } from '../../../tools/shared/dynamodb-faults';
import { effectsOf, rounded } from '../../helpers/domain';
import { mentioning, unreachableDynamoDbClient, useFaultyDynamoDb } from '../../helpers/dynamodb';
import { restoreEnvironmentAfterEach } from '../../helpers/environment';
import {
  BUCKET,
  captureLogs,
  createdObjectsOf,
  lambdaContext,
  type LogCapture,
  notifiedObject,
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

type Response = ResponseOf<typeof domain>;
type PlanObject = (object: CreatedObject) => Plan<Response> | Promise<Plan<Response>>;

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

/** Example object `id` of the domain; group `group` is one effect item. */
const exampleObject = (id: string, group = 1): CreatedObject => examples.valid(id, { group });
/** The notification of a created version `versionId` of example object `id` (a versioned bucket). */
const versionOf = (id: string, versionId = 'v1', group = 1) =>
  notifiedObject(exampleObject(id, group), { versionId });
/** The object version key (object.ts) S3's notification of `object` as version `versionId` must give. */
const versionKeyOf = (object: CreatedObject, versionId = 'v1') =>
  objectVersionKeyOf({ bucket: object.bucket, key: object.key, versionId });
/** The one object a notification describes, as the handler hands it to the plan. */
function onlyObjectOf(message: string): CreatedObject {
  const objects = createdObjectsOf(message);
  expect(objects).toHaveLength(1);
  return objects[0];
}
/** The idempotency key (and side-effect recordKey) of each of `objects`. */
const recordKeysOf = (...objects: CreatedObject[]) => objects.map((object) => domain.idempotencyKey(object));

/** The effect table expected once each of `objects` was applied (an object listed twice: applied twice). */
const applied = (...objects: CreatedObject[]) => rounded(effectsOf(domain.plan, objects));
/** The effect table now, to compare with {@link applied} (counters rounded alike). */
const effectTable = async () => rounded(await db.effects());

/** `text` as a regular expression that matches it literally. */
const literally = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('object consumer handler', () => {
  it('processes a created object once: one side effect, one idempotency record, its effect applied once', async () => {
    const h = harness();
    const example = exampleObject('o-1');
    const message = s3Notification(notifiedObject(example, { versionId: 'v1' }));
    const object = onlyObjectOf(message);
    await h.invoke(snsEvent({ message, messageId: 'm-1' }));
    expect(sideEffects()).toEqual([
      expect.objectContaining({
        path: 'object',
        recordKey: domain.idempotencyKey(object),
        snsMessageId: 'm-1',
        objectVersionKey: versionKeyOf(example),
        effect: domain.plan(object).effect,
      }),
    ]);
    expect(await db.idempotencyRecords()).toEqual([
      expect.objectContaining({ status: 'COMPLETED', data: domain.plan(object).response }),
    ]);
    expect(await effectTable()).toEqual(applied(object));
  });

  it('the same SNS event delivered twice is applied once', async () => {
    const h = harness();
    const message = s3Notification(versionOf('o-1'));
    const event = snsEvent({ message, messageId: 'm-1' });
    await h.invoke(event);
    await h.invoke(event);
    expect(sideEffects()).toHaveLength(1);
    expect(await effectTable()).toEqual(applied(onlyObjectOf(message)));
  });

  it('the same object version in two different SNS messages is applied once', async () => {
    const h = harness();
    const message = s3Notification(
      notifiedObject(exampleObject('o-1'), { versionId: 'v1', sequencer: '01' }),
    );
    await h.invoke(snsEvent({ message, messageId: 'm-1' }));
    await h.invoke(snsEvent({ message, messageId: 'm-2' }));
    expect(sideEffects()).toHaveLength(1);
    expect(h.planCalls).toHaveLength(1);
    expect(await effectTable()).toEqual(applied(onlyObjectOf(message)));
  });

  it('a new version of the same key is new work: applied twice', async () => {
    const h = harness();
    const example = exampleObject('o-1');
    const first = s3Notification(versionOf('o-1', 'v1'));
    const second = s3Notification(versionOf('o-1', 'v2'));
    await h.invoke(snsEvent({ message: first, messageId: 'm-1' }));
    await h.invoke(snsEvent({ message: second, messageId: 'm-2' }));
    expect(h.planCalls.map((object) => object.objectVersionKey)).toEqual([
      versionKeyOf(example, 'v1'),
      versionKeyOf(example, 'v2'),
    ]);
    const versions = [onlyObjectOf(first), onlyObjectOf(second)];
    expect(appliedVersions()).toEqual(recordKeysOf(...versions));
    expect(await effectTable()).toEqual(applied(...versions));
  });

  it('in an unversioned bucket the sequencer tells uploads of one key apart', async () => {
    const h = harness();
    const example = exampleObject('o-1');
    const first = s3Notification(notifiedObject(example, { sequencer: '0055AED6DCD90281E5' }));
    const second = s3Notification(
      notifiedObject(example, { versionId: 'null', sequencer: '0055AED6DCD90281E6' }),
    );
    await h.invoke(snsEvent({ message: first, messageId: 'm-1' }));
    await h.invoke(snsEvent({ message: first, messageId: 'm-1b' }));
    await h.invoke(snsEvent({ message: second, messageId: 'm-2' }));
    const { bucket, key } = example;
    expect(h.planCalls.map((object) => object.objectVersionKey)).toEqual([
      objectVersionKeyOf({ bucket, key, sequencer: '0055AED6DCD90281E5' }),
      objectVersionKeyOf({ bucket, key, sequencer: '0055AED6DCD90281E6' }),
    ]);
    const uploads = [onlyObjectOf(first), onlyObjectOf(second)];
    expect(appliedVersions()).toEqual(recordKeysOf(...uploads));
    expect(await effectTable()).toEqual(applied(...uploads));
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
    const message = s3Notification({ key: 'a+b%2Fc%C3%A9.txt', versionId: 'v1' });
    await h.invoke(snsEvent({ message, messageId: 'm-1' }));
    expect(h.planCalls.map((object) => object.key)).toEqual(['a b/cé.txt']);
    expect(h.planCalls.map((object) => object.objectVersionKey)).toEqual([
      `s3://${BUCKET}/a%20b/c%C3%A9.txt?versionId=v1`,
    ]);
    expect(appliedVersions()).toEqual(recordKeysOf(...h.planCalls));
    expect(await effectTable()).toEqual(applied(...h.planCalls));
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
    const example = exampleObject('o-1');
    const invocation = h.invoke(
      snsEvent({ message: s3Notification(notifiedObject(example, { versionId: 'v1' })), messageId: 'm-1' }),
    );
    await expect(invocation).rejects.toThrow(IdempotencyPersistenceLayerError);
    expect(h.planCalls).toEqual([]);
    expect(sideEffects()).toEqual([]);
    expect(logs.withMessage('record failed; retried later')).toEqual([
      expect.objectContaining({
        level: 'ERROR',
        snsMessageId: 'm-1',
        objectVersionKey: versionKeyOf(example),
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
    const message = s3Notification(versionOf('o-1'));
    const event = snsEvent({ message, messageId: 'm-1' });
    await expect(h.invoke(event)).rejects.toThrow('downstream unavailable');
    expect(sideEffects()).toHaveLength(0);
    expect(await db.effects()).toEqual({});
    expect(await db.idempotencyRecords()).toEqual([]);

    await h.invoke(event); // Lambda's first retry, about a minute later
    await h.invoke(event); // a duplicate delivery after that
    expect(sideEffects()).toHaveLength(1);
    expect(h.planCalls).toHaveLength(2);
    expect(await effectTable()).toEqual(applied(onlyObjectOf(message)));
  });

  it('several records in one invocation: a failure fails it, and the retry redoes only what failed', async () => {
    const first = s3Notification(versionOf('o-a'), versionOf('o-b'));
    const second = s3Notification(versionOf('o-c'));
    const [a, b] = createdObjectsOf(first);
    const c = onlyObjectOf(second);
    const failing = new Set([b.key]);
    const h = harness({
      plan: async (object) => {
        if (failing.has(object.key)) throw new Error(`cannot process ${object.key}`);
        return domain.plan(object);
      },
    });
    const event = snsEvent({ message: first, messageId: 'm-1' }, { message: second, messageId: 'm-2' });
    await expect(h.invoke(event)).rejects.toThrow(`cannot process ${b.key}`);
    expect(appliedVersions()).toEqual(recordKeysOf(a, c));
    expect(await effectTable()).toEqual(applied(a, c));

    failing.clear();
    await h.invoke(event);
    expect(appliedVersions()).toEqual(recordKeysOf(a, c, b));
    expect(h.planCalls.map((object) => object.key)).toEqual([a.key, b.key, c.key, b.key]);
    expect(await effectTable()).toEqual(applied(a, b, c));
  });

  it('several failures are reported together in one AggregateError', async () => {
    const h = harness({
      plan: async (object) => {
        throw new Error(`cannot process ${object.key}`);
      },
    });
    const message = s3Notification(versionOf('o-a'));
    const event = snsEvent({ message, messageId: 'm-1' }, { message: 'not json', messageId: 'm-2' });
    const invocation = h.invoke(event);
    await expect(invocation).rejects.toThrow(AggregateError);
    const summary = `2 object records failed (0 done): Error: cannot process ${onlyObjectOf(message).key} | InvalidPayloadError: payload is not JSON`;
    await expect(invocation).rejects.toThrow(new RegExp(`^${literally(summary)}`));
    expect(logs.atLevel('ERROR').map((line) => line.message)).toEqual([
      'record failed; retried later',
      'invalid object notification',
    ]);
  });
});

describe('a commit that does not go through (F1)', () => {
  it('fails the invocation with nothing applied and the claim released; Lambda’s retry applies it once', async () => {
    const environment = 'object-env-1';
    const budget: DynamoDbCallBudget = { requestTimeoutMs: 500, maxAttempts: 2 };
    // Objects of two groups: b's commit (the one that writes its effect item) meets the fault, a's does not. The
    // contract gives each group one effect item; that a's commit does not name b's is checked here.
    const message = s3Notification(versionOf('o-a', 'v1', 1), versionOf('o-b', 'v1', 2));
    const [a, b] = createdObjectsOf(message);
    const itemOfB = domain.plan(b).effect[0].key;
    expect(JSON.stringify(domain.plan(a))).not.toContain(itemOfB);
    const injector = db.inject(
      [{ operation: 'TransactWriteItems', call: 1, kind: 'error' }],
      mentioning(itemOfB),
    );
    const h = harness({
      client: db.clientFor(environment, budget),
      budget,
      faults: { injector, environment },
    });
    const event = snsEvent({ message, messageId: 'm-1' });
    await expect(h.invoke(event)).rejects.toThrow(IdempotencyPersistenceLayerError);
    expect(injector.hits).toHaveLength(2);
    expect(appliedVersions()).toEqual(recordKeysOf(a));
    expect(await effectTable()).toEqual(applied(a));
    expect((await db.idempotencyRecords()).map((record) => record.status)).toEqual(['COMPLETED']);

    await h.invoke(event); // Lambda's retry: a answered from its record, b applied
    expect(appliedVersions()).toEqual(recordKeysOf(a, b));
    expect(await effectTable()).toEqual(applied(a, b));
  });
});

describe('stable idempotency key prefix (F4)', () => {
  restoreEnvironmentAfterEach('AWS_LAMBDA_FUNCTION_NAME');

  it('stores records under the fixed prefix whatever the function is named, so a replaced function still finds them', async () => {
    const message = s3Notification(versionOf('o-1'));
    const event = snsEvent({ message, messageId: 'm-1' });
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'ObjectIngestionStack-ObjectConsumerFunctionA1B2-Old';
    await harness().invoke(event);
    // CloudFormation replaced the function: a new generated name, the same table.
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'ObjectIngestionStack-ObjectConsumerFunctionC3D4-New';
    const replaced = harness();
    await replaced.invoke(event);

    const ids = (await db.idempotencyRecords()).map((record) => String(record.id));
    expect(ids).toEqual([expect.stringMatching(new RegExp(`^${domain.keyPrefix}#`))]);
    expect(replaced.planCalls).toEqual([]);
    expect(await effectTable()).toEqual(applied(onlyObjectOf(message)));
  });
});
