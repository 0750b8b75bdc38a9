/**
 * The object consumer against a real DynamoDB API (dynalite, in-process): Powertools idempotency runs
 * unmodified, so duplicates, retries and failures behave as in Lambda. "Side effects" are the
 * 'side effect done' log lines the business action writes, counted from the logger's real output.
 */
import { IdempotencyPersistenceLayerError } from '@aws-lambda-powertools/idempotency';
import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  createObjectConsumerHandler,
  type ObjectConsumerHandler,
} from '../../../lambda/object-consumer/handler';
import {
  classifyAndRecordObject,
  type CreatedObject,
  type ObjectAction,
} from '../../../lambda/object-consumer/object';
import { InvalidPayloadError } from '../../../lambda/shared/parsing';
import { createIdempotencyDependencies } from '../../../lambda/shared/powertools';
import { SIDE_EFFECT_LOG_MESSAGE } from '../../../lambda/shared/side-effect';
import { type LocalDynamoDb, startLocalDynamoDb, unreachableDynamoDbClient } from '../../helpers/dynamodb';
import {
  BUCKET,
  captureLogs,
  lambdaContext,
  type LogCapture,
  S3_TEST_EVENT_MESSAGE,
  s3Notification,
  snsEvent,
} from './fixtures';

let dynamo: LocalDynamoDb;
let logs: LogCapture;

beforeAll(async () => {
  dynamo = await startLocalDynamoDb();
});
afterAll(async () => {
  await dynamo.stop();
});
beforeEach(() => {
  logs = captureLogs();
});
afterEach(() => {
  logs.restore();
});

interface Harness {
  readonly handler: ObjectConsumerHandler;
  readonly tableName: string;
  /** Objects the action was called with, in order (whether it then succeeded or not). */
  readonly actionCalls: CreatedObject[];
}

/** A handler on its own fresh table, as `index.ts` builds it, with the action observed. */
async function harness(
  options: { action?: ObjectAction; client?: DynamoDBClient; tableName?: string } = {},
): Promise<Harness> {
  const tableName = options.tableName ?? (await dynamo.createIdempotencyTable());
  const actionCalls: CreatedObject[] = [];
  const action = options.action ?? classifyAndRecordObject;
  const handler = createObjectConsumerHandler({
    logger: new Logger({ serviceName: 'object-consumer-test', logLevel: 'INFO' }),
    ...createIdempotencyDependencies({
      tableName,
      expiresAfterSeconds: 7 * 3600,
      client: options.client ?? dynamo.client,
    }),
    action: async (object, logger) => {
      actionCalls.push(object);
      return action(object, logger);
    },
  });
  return { handler, tableName, actionCalls };
}

const sideEffects = () => logs.withMessage(SIDE_EFFECT_LOG_MESSAGE);

describe('object consumer handler', () => {
  it('processes a created object once: one side effect, one idempotency record', async () => {
    const { handler, tableName } = await harness();
    await handler(
      snsEvent({ message: s3Notification({ key: 'in/a.csv', versionId: 'v1', size: 10 }), messageId: 'm-1' }),
      lambdaContext(),
    );
    expect(sideEffects()).toEqual([
      expect.objectContaining({
        path: 'object',
        recordKey: `s3://${BUCKET}/in/a.csv?versionId=v1`,
        bucket: BUCKET,
        key: 'in/a.csv',
        versionId: 'v1',
        category: 'data',
        sizeClass: 'small',
      }),
    ]);
    const records = await dynamo.scan(tableName);
    expect(records).toEqual([expect.objectContaining({ status: 'COMPLETED' })]);
  });

  it('the same SNS event delivered twice causes one side effect', async () => {
    const { handler } = await harness();
    const event = snsEvent({ message: s3Notification({ key: 'a.txt', versionId: 'v1' }), messageId: 'm-1' });
    await handler(event, lambdaContext());
    await handler(event, lambdaContext());
    expect(sideEffects()).toHaveLength(1);
  });

  it('the same object version in two different SNS messages causes one side effect', async () => {
    const { handler, actionCalls } = await harness();
    const message = s3Notification({ key: 'a.txt', versionId: 'v1', sequencer: '01' });
    await handler(snsEvent({ message, messageId: 'm-1' }), lambdaContext());
    await handler(snsEvent({ message, messageId: 'm-2' }), lambdaContext());
    expect(sideEffects()).toHaveLength(1);
    expect(actionCalls).toHaveLength(1);
  });

  it('a new version of the same key is new work: two side effects', async () => {
    const { handler } = await harness();
    await handler(
      snsEvent({ message: s3Notification({ key: 'a.txt', versionId: 'v1' }), messageId: 'm-1' }),
      lambdaContext(),
    );
    await handler(
      snsEvent({ message: s3Notification({ key: 'a.txt', versionId: 'v2' }), messageId: 'm-2' }),
      lambdaContext(),
    );
    expect(sideEffects().map((line) => line.versionId)).toEqual(['v1', 'v2']);
  });

  it('in an unversioned bucket the sequencer tells uploads of one key apart', async () => {
    const { handler } = await harness();
    const first = s3Notification({ key: 'a.txt', sequencer: '0055AED6DCD90281E5' });
    const second = s3Notification({ key: 'a.txt', versionId: 'null', sequencer: '0055AED6DCD90281E6' });
    await handler(snsEvent({ message: first, messageId: 'm-1' }), lambdaContext());
    await handler(snsEvent({ message: first, messageId: 'm-1b' }), lambdaContext());
    await handler(snsEvent({ message: second, messageId: 'm-2' }), lambdaContext());
    expect(sideEffects().map((line) => line.recordKey)).toEqual([
      `s3://${BUCKET}/a.txt?sequencer=0055AED6DCD90281E5`,
      `s3://${BUCKET}/a.txt?sequencer=0055AED6DCD90281E6`,
    ]);
  });

  it('ignores the S3 test event: no side effect, no error, one INFO line', async () => {
    const { handler, tableName, actionCalls } = await harness();
    await expect(
      handler(snsEvent({ message: S3_TEST_EVENT_MESSAGE, messageId: 'm-test' }), lambdaContext()),
    ).resolves.toBeUndefined();
    expect(actionCalls).toEqual([]);
    expect(sideEffects()).toEqual([]);
    expect(logs.withMessage('S3 test event ignored')).toEqual([
      expect.objectContaining({ level: 'INFO', snsMessageId: 'm-test', bucket: BUCKET }),
    ]);
    expect(await dynamo.scan(tableName)).toEqual([]);
  });

  it('decodes object keys before the action sees them (a+b%2Fc%C3%A9.txt is "a b/cé.txt")', async () => {
    const { handler, actionCalls } = await harness();
    await handler(
      snsEvent({ message: s3Notification({ key: 'a+b%2Fc%C3%A9.txt', versionId: 'v1' }), messageId: 'm-1' }),
      lambdaContext(),
    );
    expect(actionCalls.map((object) => object.key)).toEqual(['a b/cé.txt']);
    expect(sideEffects()).toEqual([expect.objectContaining({ key: 'a b/cé.txt' })]);
  });

  describe('bad input', () => {
    it('a Message that is not JSON throws an InvalidPayloadError after one ERROR line', async () => {
      const { handler, actionCalls } = await harness();
      const invocation = handler(snsEvent({ message: 'not json', messageId: 'm-bad' }), lambdaContext());
      await expect(invocation).rejects.toThrow(InvalidPayloadError);
      await expect(invocation).rejects.toThrow(/payload is not JSON/);
      expect(logs.atLevel('ERROR')).toEqual([
        expect.objectContaining({
          message: 'invalid object notification',
          snsMessageId: 'm-bad',
          reason: expect.stringMatching(/^payload is not JSON/),
        }),
      ]);
      expect(actionCalls).toEqual([]);
    });

    it('a Message of the wrong shape throws, naming the path of every issue', async () => {
      const { handler } = await harness();
      const message = JSON.stringify({ Records: [{ eventSource: 'aws:s3', s3: {} }] });
      const invocation = handler(snsEvent({ message, messageId: 'm-shape' }), lambdaContext());
      await expect(invocation).rejects.toThrow(InvalidPayloadError);
      await expect(invocation).rejects.toThrow(/Records\.0\.s3\.bucket: /);
      const [line] = logs.atLevel('ERROR');
      expect(logs.atLevel('ERROR')).toHaveLength(1);
      expect(line.issues).toEqual(
        expect.arrayContaining([expect.stringMatching(/^Records\.0\.eventName: /)]),
      );
    });

    it('an event that is not an SNS event throws before anything is processed', async () => {
      const { handler, actionCalls } = await harness();
      const invocation = handler({ Records: [{ eventSource: 'aws:sqs', body: '{}' }] }, lambdaContext());
      await expect(invocation).rejects.toThrow(InvalidPayloadError);
      expect(logs.atLevel('ERROR')).toEqual([expect.objectContaining({ message: 'invalid SNS event' })]);
      expect(actionCalls).toEqual([]);
    });

    it('an object key that is not valid URL encoding throws and names the key', async () => {
      const { handler } = await harness();
      const invocation = handler(
        snsEvent({ message: s3Notification({ key: 'bad%E9key', versionId: 'v1' }), messageId: 'm-key' }),
        lambdaContext(),
      );
      await expect(invocation).rejects.toThrow(/object key "bad%E9key" is not valid URL encoding/);
    });
  });

  it('DynamoDB unreachable: the invocation fails and no business action runs', async () => {
    const { handler, actionCalls } = await harness({
      client: unreachableDynamoDbClient(),
      tableName: 'idempotency-unreachable',
    });
    const invocation = handler(
      snsEvent({ message: s3Notification({ key: 'a.txt', versionId: 'v1' }), messageId: 'm-1' }),
      lambdaContext(),
    );
    await expect(invocation).rejects.toThrow(IdempotencyPersistenceLayerError);
    expect(actionCalls).toEqual([]);
    expect(sideEffects()).toEqual([]);
    expect(logs.withMessage('object processing failed')).toEqual([
      expect.objectContaining({ objectVersionKey: `s3://${BUCKET}/a.txt?versionId=v1` }),
    ]);
  });

  it('a failing business action fails the invocation; Lambda’s retry succeeds, once', async () => {
    let failuresLeft = 1;
    const { handler, actionCalls } = await harness({
      action: async (object, logger) => {
        if (failuresLeft-- > 0) throw new Error('downstream unavailable');
        return classifyAndRecordObject(object, logger);
      },
    });
    const event = snsEvent({ message: s3Notification({ key: 'a.txt', versionId: 'v1' }), messageId: 'm-1' });
    await expect(handler(event, lambdaContext())).rejects.toThrow('downstream unavailable');
    expect(sideEffects()).toHaveLength(0);

    await handler(event, lambdaContext()); // Lambda's first retry, about a minute later
    await handler(event, lambdaContext()); // a duplicate delivery after that
    expect(sideEffects()).toHaveLength(1);
    expect(actionCalls).toHaveLength(2);
  });

  it('several records in one invocation: a failure fails it, and the retry redoes only what failed', async () => {
    const failing = new Set(['b.txt']);
    const { handler, actionCalls } = await harness({
      action: async (object, logger) => {
        if (failing.has(object.key)) throw new Error(`cannot process ${object.key}`);
        return classifyAndRecordObject(object, logger);
      },
    });
    const event = snsEvent(
      {
        message: s3Notification({ key: 'a.txt', versionId: 'v1' }, { key: 'b.txt', versionId: 'v1' }),
        messageId: 'm-1',
      },
      { message: s3Notification({ key: 'c.txt', versionId: 'v1' }), messageId: 'm-2' },
    );
    await expect(handler(event, lambdaContext())).rejects.toThrow('cannot process b.txt');
    expect(sideEffects().map((line) => line.key)).toEqual(['a.txt', 'c.txt']);

    failing.clear();
    await handler(event, lambdaContext());
    expect(sideEffects().map((line) => line.key)).toEqual(['a.txt', 'c.txt', 'b.txt']);
    expect(actionCalls.map((object) => object.key)).toEqual(['a.txt', 'b.txt', 'c.txt', 'b.txt']);
  });

  it('several failures are reported together in one AggregateError', async () => {
    const { handler } = await harness({
      action: async (object) => {
        throw new Error(`cannot process ${object.key}`);
      },
    });
    const event = snsEvent(
      { message: s3Notification({ key: 'a.txt', versionId: 'v1' }), messageId: 'm-1' },
      { message: 'not json', messageId: 'm-2' },
    );
    const invocation = handler(event, lambdaContext());
    await expect(invocation).rejects.toThrow(AggregateError);
    await expect(invocation).rejects.toThrow(
      /^2 object records failed \(0 done\): Error: cannot process a\.txt \| InvalidPayloadError: payload is not JSON/,
    );
    expect(logs.atLevel('ERROR')).toHaveLength(2);
  });
});
