/**
 * The SQS consumer's handler against a real DynamoDB API (dynalite, in-process): Powertools' BatchProcessor and
 * idempotency run unmodified. The business action is the template's own (`createRecordOrderAction`) wrapped in
 * a jest mock, so every test counts both the action's calls and the "side effect done" log lines.
 */
import { FullBatchFailureError } from '@aws-lambda-powertools/batch';
import { IdempotencyPersistenceLayerError } from '@aws-lambda-powertools/idempotency';
import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSBatchResponse } from 'aws-lambda';
import {
  createSqsConsumerHandler,
  ORDER_IDEMPOTENCY_KEY_PREFIX,
  SqsConsumerHandler,
} from '../../../lambda/sqs-consumer/handler';
import { createRecordOrderAction, OrderAction, OrderMessage } from '../../../lambda/sqs-consumer/order';
import { createIdempotencyDependencies } from '../../../lambda/shared/powertools';
import { SIDE_EFFECT_LOG_MESSAGE } from '../../../lambda/shared/side-effect';
import { unreachableDynamoDbClient, useLocalDynamoDb } from '../../helpers/dynamodb';
import { lambdaContext, order, redelivered, sqsEvent, sqsRecord } from './events';

const local = useLocalDynamoDb();

interface Harness {
  readonly handler: SqsConsumerHandler;
  readonly logger: Logger;
  /** The action as the handler sees it (counts calls). */
  readonly recordOrder: jest.Mock<ReturnType<OrderAction>, Parameters<OrderAction>>;
  /** recordKey of every "side effect done" line, in order. */
  sideEffects(): string[];
  warnings(): [string, Record<string, unknown>][];
}

/**
 * A handler as `index.ts` builds it, but with the test's DynamoDB client and a silent logger whose calls are
 * recorded. `around` wraps the real action (to fail or block it on purpose).
 */
function harness(
  options: {
    client?: DynamoDBClient;
    around?: (order: OrderMessage, real: OrderAction) => ReturnType<OrderAction>;
  } = {},
): Harness {
  const logger = new Logger({ serviceName: 'sqs-consumer-test', logLevel: 'SILENT' });
  const info = jest.spyOn(logger, 'info');
  const warn = jest.spyOn(logger, 'warn');
  const real = createRecordOrderAction(logger);
  const recordOrder = jest.fn((o: OrderMessage) => (options.around ? options.around(o, real) : real(o)));
  const handler = createSqsConsumerHandler({
    ...createIdempotencyDependencies({
      tableName: local.tableName,
      expiresAfterSeconds: 3600,
      client: options.client ?? local.dynamo.client,
    }),
    logger,
    recordOrder,
  });
  return {
    handler,
    logger,
    recordOrder,
    sideEffects: () =>
      info.mock.calls
        .filter(([message]) => message === SIDE_EFFECT_LOG_MESSAGE)
        .map(([, extra]) => (extra as { recordKey: string }).recordKey),
    warnings: () => warn.mock.calls as unknown as [string, Record<string, unknown>][],
  };
}

const failedIds = (response: SQSBatchResponse): string[] =>
  response.batchItemFailures.map((failure) => failure.itemIdentifier).sort();

async function idempotencyRecords(): Promise<Record<string, unknown>[]> {
  return local.dynamo.scan(local.tableName);
}

describe('SQS consumer handler', () => {
  it('processes a valid batch: no item failures, one side effect and one COMPLETED record per order', async () => {
    const h = harness();
    const response = await h.handler(
      sqsEvent(sqsRecord(order('o-1')), sqsRecord(order('o-2')), sqsRecord(order('o-3'))),
      lambdaContext(),
    );
    expect(response).toEqual({ batchItemFailures: [] });
    expect(h.sideEffects().sort()).toEqual(['o-1', 'o-2', 'o-3']);
    const records = await idempotencyRecords();
    expect(records).toHaveLength(3);
    for (const record of records) {
      expect(record.status).toBe('COMPLETED');
      expect(record.id).toMatch(new RegExp(`^${ORDER_IDEMPOTENCY_KEY_PREFIX}#`));
    }
  });

  it('returns exactly the failed messageIds in a partial failure', async () => {
    const h = harness();
    const good1 = sqsRecord(order('o-1'));
    const notJson = sqsRecord('this is not json');
    const good2 = sqsRecord(order('o-2'));
    const wrongSchema = sqsRecord({ orderId: 'o-3', lines: [] });
    const response = await h.handler(sqsEvent(good1, notJson, good2, wrongSchema), lambdaContext());
    expect(failedIds(response)).toEqual([notJson.messageId, wrongSchema.messageId].sort());
    expect(h.sideEffects().sort()).toEqual(['o-1', 'o-2']);
  });

  it('logs one structured WARN line with messageId and issues for a body that is not JSON', async () => {
    const h = harness();
    const notJson = sqsRecord('{"orderId": ', { receiveCount: 3 });
    const response = await h.handler(sqsEvent(notJson, sqsRecord(order('o-1'))), lambdaContext());
    expect(failedIds(response)).toEqual([notJson.messageId]);
    expect(h.warnings()).toEqual([
      [
        'invalid message',
        {
          messageId: notJson.messageId,
          approximateReceiveCount: 3,
          reason: expect.stringMatching(/^payload is not JSON/),
          issues: [],
        },
      ],
    ]);
  });

  it('logs one WARN line naming every schema issue, and never calls the action for an invalid order', async () => {
    const h = harness();
    const wrong = sqsRecord({
      ...order('o-9'),
      currency: 'euro',
      lines: [{ sku: '', quantity: 0, unitPriceCents: 1 }],
    });
    const response = await h.handler(sqsEvent(wrong, sqsRecord(order('o-1'))), lambdaContext());
    expect(failedIds(response)).toEqual([wrong.messageId]);
    expect(h.warnings()).toHaveLength(1);
    const [message, extra] = h.warnings()[0];
    expect(message).toBe('invalid message');
    expect(extra.messageId).toBe(wrong.messageId);
    expect(extra.issues).toEqual([
      expect.stringMatching(/^currency: /),
      expect.stringMatching(/^lines\.0\.sku: /),
      expect.stringMatching(/^lines\.0\.quantity: /),
    ]);
    expect(h.recordOrder.mock.calls.map(([o]) => o.orderId)).toEqual(['o-1']);
  });

  it('has the side effect once per order when the same batch is delivered twice', async () => {
    const h = harness();
    const batch = [sqsRecord(order('o-1')), sqsRecord(order('o-2'))];
    const first = await h.handler(sqsEvent(...batch), lambdaContext());
    const second = await h.handler(sqsEvent(...batch.map((record) => redelivered(record))), lambdaContext());
    expect(first).toEqual({ batchItemFailures: [] });
    expect(second).toEqual({ batchItemFailures: [] });
    expect(h.sideEffects().sort()).toEqual(['o-1', 'o-2']);
    expect(h.recordOrder).toHaveBeenCalledTimes(2);
  });

  it('has the side effect once when the same message arrives in two different batches', async () => {
    const h = harness();
    const shared = sqsRecord(order('o-shared'));
    await h.handler(sqsEvent(sqsRecord(order('o-1')), shared), lambdaContext());
    const later = await h.handler(sqsEvent(redelivered(shared), sqsRecord(order('o-2'))), lambdaContext());
    expect(later).toEqual({ batchItemFailures: [] });
    expect(h.sideEffects().filter((key) => key === 'o-shared')).toHaveLength(1);
    expect(h.sideEffects().sort()).toEqual(['o-1', 'o-2', 'o-shared']);
  });

  it('has the side effect once when a producer sends the same order twice (new messageId, same orderId)', async () => {
    const h = harness();
    await h.handler(sqsEvent(sqsRecord(order('o-1'))), lambdaContext());
    const resent = await h.handler(sqsEvent(sqsRecord(order('o-1'))), lambdaContext());
    expect(resent).toEqual({ batchItemFailures: [] });
    expect(h.sideEffects()).toEqual(['o-1']);
  });

  it('runs an order once when two invocations deliver it concurrently; the loser is an item failure', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let sharedCalls = 0;
    const h = harness({
      around: async (o, real) => {
        if (o.orderId === 'o-shared') {
          // The winner holds the order in progress until the loser has answered; a second entry would be
          // the bug under test, so it opens the gate rather than deadlock.
          if (++sharedCalls > 1) release();
          await gate;
        }
        return real(o);
      },
    });
    const shared = sqsRecord(order('o-shared'));
    const inProgressDuringRace = jest.fn(async () => idempotencyRecords());
    const invocations = [
      h.handler(sqsEvent(shared, sqsRecord(order('o-a'))), lambdaContext()),
      h.handler(sqsEvent(redelivered(shared), sqsRecord(order('o-b'))), lambdaContext()),
    ].map((invocation) =>
      invocation.then(async (response) => {
        if (response.batchItemFailures.length > 0) await inProgressDuringRace();
        release();
        return response;
      }),
    );
    const responses = await Promise.all(invocations);

    expect(h.sideEffects().sort()).toEqual(['o-a', 'o-b', 'o-shared']);
    const failures = responses.map(failedIds);
    expect(failures.filter((ids) => ids.length === 0)).toHaveLength(1);
    expect(failures.flat()).toEqual([shared.messageId]);

    // While the loser answered, the winner's record was IN_PROGRESS, bounded by the invocation's remaining time.
    expect(inProgressDuringRace).toHaveBeenCalledTimes(1);
    const duringRace = await inProgressDuringRace.mock.results[0].value;
    const inProgress = duringRace.filter((record: Record<string, unknown>) => record.status === 'INPROGRESS');
    expect(inProgress).toHaveLength(1);
    expect(Number(inProgress[0].in_progress_expiration)).toBeGreaterThan(Date.now());
    expect(Number(inProgress[0].in_progress_expiration)).toBeLessThanOrEqual(Date.now() + 30_000);

    // The loser's retry, after the visibility timeout, finds the order done and succeeds without running it.
    const retry = await h.handler(sqsEvent(redelivered(shared, 3), sqsRecord(order('o-c'))), lambdaContext());
    expect(retry).toEqual({ batchItemFailures: [] });
    expect(h.sideEffects().filter((key) => key === 'o-shared')).toHaveLength(1);
  });

  it('runs an order once when it appears twice in one batch; a loser is logged at INFO and retried', async () => {
    const h = harness();
    const info = jest.spyOn(h.logger, 'info');
    const error = jest.spyOn(h.logger, 'error');
    // Two messages with the same order in one batch run in parallel: one of them may find the other in progress.
    const a = sqsRecord(order('o-dup'));
    const b = sqsRecord(order('o-dup'));
    const response = await h.handler(sqsEvent(a, b, sqsRecord(order('o-1'))), lambdaContext());
    expect(h.sideEffects().filter((key) => key === 'o-dup')).toHaveLength(1);
    const failed = failedIds(response);
    expect(failed.length).toBeLessThanOrEqual(1);
    if (failed.length === 1) {
      expect(info).toHaveBeenCalledWith(
        expect.stringMatching(/already in progress/),
        expect.objectContaining({ messageId: failed[0] }),
      );
    }
    expect(error).not.toHaveBeenCalled();
    // Whatever failed is retried later and completes without a second side effect.
    const retried = [a, b]
      .filter((record) => failed.includes(record.messageId))
      .map((record) => redelivered(record));
    if (retried.length > 0) {
      expect(await h.handler(sqsEvent(...retried, sqsRecord(order('o-2'))), lambdaContext())).toEqual({
        batchItemFailures: [],
      });
    }
    expect(h.sideEffects().filter((key) => key === 'o-dup')).toHaveLength(1);
  });

  it('answers an empty batch with no item failures and does nothing (Powertools returns the default response)', async () => {
    const h = harness();
    await expect(h.handler(sqsEvent(), lambdaContext())).resolves.toEqual({ batchItemFailures: [] });
    expect(h.recordOrder).not.toHaveBeenCalled();
  });

  it('throws FullBatchFailureError when every record fails, so the whole batch is retried', async () => {
    const h = harness();
    const invocation = h.handler(sqsEvent(sqsRecord('nope'), sqsRecord({ orderId: 'o-1' })), lambdaContext());
    await expect(invocation).rejects.toBeInstanceOf(FullBatchFailureError);
    await invocation.catch((error: FullBatchFailureError) => expect(error.recordErrors).toHaveLength(2));
    expect(h.recordOrder).not.toHaveBeenCalled();
  });

  it('fails every record and never runs the action while DynamoDB is unreachable; nothing is marked done', async () => {
    const down = harness({ client: unreachableDynamoDbClient() });
    const batch = [sqsRecord(order('o-1')), sqsRecord(order('o-2'))];
    const invocation = down.handler(sqsEvent(...batch), lambdaContext());
    await expect(invocation).rejects.toBeInstanceOf(FullBatchFailureError);
    await invocation.catch((error: FullBatchFailureError) => {
      expect(error.recordErrors).toHaveLength(2);
      for (const recordError of error.recordErrors) {
        expect(recordError).toBeInstanceOf(IdempotencyPersistenceLayerError);
      }
    });
    expect(down.recordOrder).not.toHaveBeenCalled();
    expect(down.sideEffects()).toEqual([]);
    expect(await idempotencyRecords()).toEqual([]);

    // Once DynamoDB is back, the retried batch runs each order once.
    const up = harness();
    const retry = await up.handler(sqsEvent(...batch.map((record) => redelivered(record))), lambdaContext());
    expect(retry).toEqual({ batchItemFailures: [] });
    expect(up.sideEffects().sort()).toEqual(['o-1', 'o-2']);
  });

  it('reports a failing business action as an item failure, deletes its record, and a later retry succeeds', async () => {
    let failuresLeft = 1;
    const h = harness({
      around: async (o, real) => {
        if (o.orderId === 'o-flaky' && failuresLeft-- > 0) throw new Error('downstream unavailable');
        return real(o);
      },
    });
    const error = jest.spyOn(h.logger, 'error');
    const flaky = sqsRecord(order('o-flaky'));
    const first = await h.handler(sqsEvent(sqsRecord(order('o-1')), flaky), lambdaContext());
    expect(failedIds(first)).toEqual([flaky.messageId]);
    expect(error).toHaveBeenCalledWith(
      'message failed; retried after the visibility timeout',
      expect.objectContaining({
        messageId: flaky.messageId,
        error: { name: 'Error', message: 'downstream unavailable' },
      }),
    );
    // Only o-1 is recorded: Powertools deleted the in-progress record of the failed order.
    expect(await idempotencyRecords()).toHaveLength(1);

    const retry = await h.handler(sqsEvent(redelivered(flaky)), lambdaContext());
    expect(retry).toEqual({ batchItemFailures: [] });
    expect(h.recordOrder.mock.calls.filter(([o]) => o.orderId === 'o-flaky')).toHaveLength(2);
    expect(h.sideEffects().sort()).toEqual(['o-1', 'o-flaky']);
  });
});
