/**
 * The SQS FIFO consumer's handler against a real DynamoDB API (dynalite, in-process, with transactions):
 * Powertools' SqsFifoPartialProcessorAsync and idempotency and the exactly-once commit run unmodified. Records,
 * keys and expected effects come from the path's domain module (its examples, key, message group and plan), so
 * these tests hold for any domain a fork puts in domain.ts. What was applied, and in which order, is read from the
 * "side effect done" lines and the effect table.
 */
import { FullBatchFailureError } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { domain, examples } from '../../../lambda/fifo-consumer/domain';
import { createFifoConsumerHandler } from '../../../lambda/fifo-consumer/handler';
import type { MessageOf } from '../../../lambda/shared/domain';
import { createIdempotencyDependencies } from '../../../lambda/shared/powertools';
import { SIDE_EFFECT_LOG_MESSAGE } from '../../../lambda/shared/side-effect';
import { effectsOf, invalidJsonBody } from '../../helpers/domain';
import { useLocalDynamoDb } from '../../helpers/dynamodb';
import { fifoRecord, lambdaContext, redeliveredFifo, sqsEvent } from './events';

type Message = MessageOf<typeof domain>;
type LogCall = [string, Record<string, unknown>];

const db = useLocalDynamoDb();

/** Messages built in the current test, by id (a key or a group may depend on the id and the group). */
const built = new Map<string, Message>();
beforeEach(() => built.clear());

/** Message `n` of group `group` (variant n: in a group, the sequence grows with n). */
function message(id: string, group: number, n: number): Message {
  const value = examples.valid(id, { group, variant: n });
  built.set(id, value);
  return value;
}
/** The id of a message (from its idempotency key), as the test built it. */
function idOf(key: string): string {
  const entry = [...built].find(([, value]) => domain.idempotencyKey(value) === key);
  if (!entry) throw new Error(`no message of this test has the key ${key}`);
  return entry[0];
}
/** A FIFO record of a message, sent with its own message group. */
const recordOf = (value: Message): SQSRecord => fifoRecord(value, domain.messageGroupId(value));
const failedIds = (response: SQSBatchResponse) => response.batchItemFailures.map((f) => f.itemIdentifier);

function harness(options: { poison?: ReadonlySet<string> } = {}) {
  const logger = new Logger({ serviceName: 'fifo-consumer-test', logLevel: 'SILENT' });
  const info = jest.spyOn(logger, 'info');
  const warn = jest.spyOn(logger, 'warn');
  const error = jest.spyOn(logger, 'error');
  const planned: string[] = [];
  const handler = createFifoConsumerHandler({
    ...createIdempotencyDependencies({
      tableName: db.tableName,
      effectTableName: db.effectTableName,
      expiresAfterSeconds: 3600,
      client: db.dynamo.client,
    }),
    dependencyRetryDelaysMs: [],
    logger,
    plan: (value) => {
      const id = idOf(domain.idempotencyKey(value));
      planned.push(id);
      if (options.poison?.has(id)) throw new Error(`downstream refused ${id}`);
      return domain.plan(value);
    },
  });
  return {
    invoke: (...records: SQSRecord[]) => handler(sqsEvent(...records), lambdaContext()),
    invokeEvent: (event: SQSEvent) => handler(event, lambdaContext()),
    planned,
    /** Ids of the "side effect done" lines, in the order they were written. */
    applied: () =>
      (info.mock.calls as LogCall[])
        .filter(([message]) => message === SIDE_EFFECT_LOG_MESSAGE)
        .map(([, extra]) => idOf(String(extra.recordKey))),
    warnings: () => warn.mock.calls as LogCall[],
    errors: () => error.mock.calls as LogCall[],
  };
}

describe('FIFO consumer handler', () => {
  it('applies every message once, in the order of its group, and reports no failure', async () => {
    const h = harness();
    const batch = [message('a1', 1, 1), message('b1', 2, 1), message('a2', 1, 2), message('b2', 2, 2)];
    expect(await h.invoke(...batch.map(recordOf))).toEqual({ batchItemFailures: [] });
    expect(h.applied()).toEqual(['a1', 'b1', 'a2', 'b2']);
    expect(await db.effects()).toEqual(effectsOf(domain.plan, batch));
  });

  it("holds back the rest of a failed message's group, and lets the other groups go on (skipGroupOnError)", async () => {
    const h = harness({ poison: new Set(['a2']) });
    const records = [
      message('a1', 1, 1),
      message('b1', 2, 1),
      message('a2', 1, 2),
      message('b2', 2, 2),
      message('a3', 1, 3),
      message('b3', 2, 3),
    ].map(recordOf);
    const response = await h.invoke(...records);
    // a2 failed; a3 comes after it in group 1: returned without running. Group 2 is not affected.
    expect(failedIds(response)).toEqual([records[2].messageId, records[4].messageId]);
    expect(h.planned).toEqual(['a1', 'b1', 'a2', 'b2', 'b3']);
    expect(h.applied()).toEqual(['a1', 'b1', 'b2', 'b3']);
    expect(await db.effects()).toEqual(
      effectsOf(domain.plan, [...['a1', 'b1', 'b2', 'b3'].map((id) => built.get(id)!)]),
    );

    // SQS returns the two together, in the group's order; once the cause is gone they are applied in that order.
    const retry = harness();
    expect(await retry.invoke(redeliveredFifo(records[2]), redeliveredFifo(records[4]))).toEqual({
      batchItemFailures: [],
    });
    expect(retry.applied()).toEqual(['a2', 'a3']);
    expect(await db.effects()).toEqual(effectsOf(domain.plan, [...built.values()]));
  });

  it("fails an invalid message with one ERROR line and holds back its group's later messages", async () => {
    const h = harness();
    const invalid = fifoRecord(invalidJsonBody(examples, 'a1'), domain.messageGroupId(message('a0', 1, 0)));
    const later = recordOf(message('a2', 1, 2));
    const other = recordOf(message('b1', 2, 1));
    const response = await h.invoke(invalid, other, later);
    expect(failedIds(response)).toEqual([invalid.messageId, later.messageId]);
    expect(h.errors()).toEqual([
      [
        'invalid payload',
        expect.objectContaining({ messageId: invalid.messageId, issues: expect.any(Array) }),
      ],
    ]);
    expect(h.applied()).toEqual(['b1']);
  });

  it('applies a message once when its batch is delivered again', async () => {
    const h = harness();
    const records = [message('a1', 1, 1), message('a2', 1, 2)].map(recordOf);
    await h.invoke(...records);
    expect(await h.invoke(...records.map(redeliveredFifo))).toEqual({ batchItemFailures: [] });
    expect(h.applied()).toEqual(['a1', 'a2']);
    expect(await db.effects()).toEqual(effectsOf(domain.plan, [...built.values()]));
  });

  it('warns when a message was sent with another group than its own, and still applies it', async () => {
    const h = harness();
    const value = message('a1', 1, 1);
    const record = fifoRecord(value, 'some-other-group');
    expect(await h.invoke(record)).toEqual({ batchItemFailures: [] });
    expect(h.warnings()).toEqual([
      [
        `message group is not the ${domain.recordName}'s own: order is kept per message group only`,
        expect.objectContaining({
          messageId: record.messageId,
          messageGroupId: 'some-other-group',
          expectedMessageGroupId: domain.messageGroupId(value),
        }),
      ],
    ]);
    expect(h.applied()).toEqual(['a1']);
  });

  it('throws FullBatchFailureError when every message fails, so the whole batch is retried', async () => {
    const h = harness({ poison: new Set(['a1']) });
    const invocation = h.invoke(recordOf(message('a1', 1, 1)), recordOf(message('a2', 1, 2)));
    await expect(invocation).rejects.toBeInstanceOf(FullBatchFailureError);
    expect(h.planned).toEqual(['a1']);
  });

  it('fails whole, with one ERROR line, on an event that is not from an SQS FIFO queue', async () => {
    const h = harness();
    const standard = recordOf(message('a1', 1, 1));
    const { MessageGroupId: _dropped, ...attributes } = standard.attributes;
    const error = await h
      .invokeEvent(sqsEvent({ ...standard, attributes: attributes as SQSRecord['attributes'] }))
      .catch((caught: unknown) => caught);
    expect((error as Error).name).toBe('WrongEventError');
    expect(h.errors()).toEqual([
      [
        "not an event of this function's source: the whole invocation fails",
        { reason: expect.stringContaining('attributes.MessageGroupId') },
      ],
    ]);
    expect(h.planned).toEqual([]);
  });
});
