/**
 * The DynamoDB Streams consumer's handler against a real DynamoDB API (dynalite, in-process, with transactions):
 * Powertools' BatchProcessor and idempotency and the exactly-once commit run unmodified. dynalite has no Streams
 * API, so the events are built in the shape Lambda delivers (tools/shared/aws-events.ts) from the domain module's
 * example changes; keys, item keys and expected effects come from the domain too, so these tests hold for a
 * forked domain.
 */
import { FullBatchFailureError } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBRecord } from 'aws-lambda';
import type { MessageOf } from '../../../lambda/shared/domain';
import { createIdempotencyDependencies } from '../../../lambda/shared/powertools';
import { SIDE_EFFECT_LOG_MESSAGE } from '../../../lambda/shared/side-effect';
import { domain, examples } from '../../../lambda/table-stream-consumer/domain';
import {
  changeOf,
  createTableStreamConsumerHandler,
  itemKeyOf,
} from '../../../lambda/table-stream-consumer/handler';
import { InvalidPayloadError } from '../../../lambda/shared/parsing';
import { effectsOf } from '../../helpers/domain';
import { useLocalDynamoDb } from '../../helpers/dynamodb';
import { lambdaContext, sequenceNumber, streamEvent, streamRecord } from './events';

type Change = MessageOf<typeof domain>;
type LogCall = [string, Record<string, unknown>];

const db = useLocalDynamoDb();

/** Changes built in the current test, by id. */
const built = new Map<string, Change>();
beforeEach(() => built.clear());

/** Change `n` of item `group` (variant n: 0 inserts the item, later ones modify it in order). */
function change(id: string, group: number, n: number): Change {
  const value = examples.valid(id, { group, variant: n });
  built.set(id, value);
  return value;
}
function idOf(key: string): string {
  const entry = [...built].find(([, value]) => domain.idempotencyKey(value) === key);
  if (!entry) throw new Error(`no change of this test has the key ${key}`);
  return entry[0];
}
/** The first JSON invalid example, as an image (the domain's invalid bodies are item images). */
const invalidImage = (id: string) => JSON.parse(examples.invalid(id)[0].body) as Record<string, unknown>;

function harness(options: { poison?: ReadonlySet<string> } = {}) {
  const logger = new Logger({ serviceName: 'table-stream-consumer-test', logLevel: 'SILENT' });
  const info = jest.spyOn(logger, 'info');
  const warn = jest.spyOn(logger, 'warn');
  const error = jest.spyOn(logger, 'error');
  const planned: string[] = [];
  const handler = createTableStreamConsumerHandler({
    ...createIdempotencyDependencies({
      tableName: db.tableName,
      effectTableName: db.effectTableName,
      expiresAfterSeconds: 3600,
      client: db.dynamo.client,
      scheme: 'read-then-complete',
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
    invoke: (...records: DynamoDBRecord[]) => handler(streamEvent(...records), lambdaContext()),
    planned,
    applied: () =>
      (info.mock.calls as LogCall[])
        .filter(([message]) => message === SIDE_EFFECT_LOG_MESSAGE)
        .map(([, extra]) => idOf(String(extra.recordKey))),
    infos: () => info.mock.calls as LogCall[],
    warnings: () => warn.mock.calls as LogCall[],
    errors: () => error.mock.calls as LogCall[],
  };
}

/** An item's changes are applied in their order; across items, in any order. */
const perItem = (ids: readonly string[]) => {
  const groups: Record<string, string[]> = {};
  for (const id of ids) (groups[built.get(id)!.itemKey] ??= []).push(id);
  return groups;
};

describe('DynamoDB Streams consumer handler', () => {
  it("applies every change once, each item's in order, and reports no failure", async () => {
    const h = harness();
    const changes = [
      change('a0', 1, 0),
      change('b0', 2, 0),
      change('a1', 1, 1),
      change('a2', 1, 2),
      change('b1', 2, 1),
    ];
    expect(await h.invoke(...changes.map((value, i) => streamRecord(value, i + 1)))).toEqual({
      batchItemFailures: [],
    });
    expect(perItem(h.applied())).toEqual(perItem(['a0', 'b0', 'a1', 'a2', 'b1']));
    expect(await db.effects()).toEqual(effectsOf(domain.plan, changes));
  });

  it('holds back the later changes of an item after a failure that may pass; other items go on', async () => {
    const h = harness({ poison: new Set(['a1']) });
    const changes = [
      change('a0', 1, 0),
      change('a1', 1, 1),
      change('b0', 2, 0),
      change('a2', 1, 2),
      change('b1', 2, 1),
    ];
    const response = await h.invoke(...changes.map((value, i) => streamRecord(value, i + 1)));
    // a1 failed, a2 held back (not planned); both reported, in delivery order; item b applied.
    expect(response).toEqual({
      batchItemFailures: [{ itemIdentifier: sequenceNumber(2) }, { itemIdentifier: sequenceNumber(4) }],
    });
    expect(h.planned).not.toContain('a2');
    expect(perItem(h.applied())).toEqual(perItem(['a0', 'b0', 'b1']));
    expect(h.warnings()).toContainEqual([
      'record held back',
      expect.objectContaining({ sequenceNumber: sequenceNumber(4) }),
    ]);
  });

  it('fails an invalid image alone, with one ERROR line, and applies the later changes of its item', async () => {
    const h = harness();
    const valid = [change('a0', 1, 0), change('a2', 1, 2)];
    const invalid = streamRecord(change('a1', 1, 1), 2, { images: { newImage: invalidImage('a1') } });
    const response = await h.invoke(streamRecord(valid[0], 1), invalid, streamRecord(valid[1], 3));
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: sequenceNumber(2) }] });
    expect(h.errors()).toEqual([
      [
        'invalid payload',
        expect.objectContaining({ sequenceNumber: sequenceNumber(2), issues: expect.any(Array) }),
      ],
    ]);
    expect(h.applied()).toEqual(['a0', 'a2']);
    expect(await db.effects()).toEqual(effectsOf(domain.plan, valid));
  });

  it('logs one ERROR line for a record whose idempotency key is empty (the applier refuses it), not two', async () => {
    const h = harness();
    const keyless = { ...change('a0', 1, 0), eventId: '' };
    built.set('keyless', keyless);
    const response = await h.invoke(streamRecord(keyless, 1), streamRecord(change('b0', 2, 0), 2));
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: sequenceNumber(1) }] });
    expect(h.errors()).toHaveLength(1);
    expect(h.planned).toEqual(['b0']);
  });

  it('recognises a deletion by time to live: logged, nothing applied, no failure', async () => {
    const h = harness();
    const inserted = change('a0', 1, 0);
    const expired: Change = {
      eventId: 'a-ttl',
      eventName: 'REMOVE',
      itemKey: inserted.itemKey,
      oldItem: inserted.newItem,
    };
    built.set('a-ttl', expired);
    await h.invoke(streamRecord(inserted, 1));
    expect(await h.invoke(streamRecord(expired, 2, { byTimeToLive: true }))).toEqual({
      batchItemFailures: [],
    });
    expect(h.infos()).toContainEqual([
      'expired by time to live: nothing applied',
      expect.objectContaining({ sequenceNumber: sequenceNumber(2) }),
    ]);
    expect(h.planned).toEqual(['a0']);
    expect(await db.effects()).toEqual(effectsOf(domain.plan, [inserted]));
  });

  it('applies a change once when its batch is delivered again (idempotency per stream record)', async () => {
    const h = harness();
    const records = [change('a0', 1, 0), change('a1', 1, 1)].map((value, i) => streamRecord(value, i + 1));
    await h.invoke(...records);
    expect(await h.invoke(...records)).toEqual({ batchItemFailures: [] });
    expect(h.applied()).toEqual(['a0', 'a1']);
    expect(await db.effects()).toEqual(effectsOf(domain.plan, [...built.values()]));
  });

  it('throws FullBatchFailureError when every record fails, so the batch is retried (and bisected)', async () => {
    const h = harness({ poison: new Set(['a0']) });
    await expect(h.invoke(streamRecord(change('a0', 1, 0), 1))).rejects.toBeInstanceOf(FullBatchFailureError);
  });

  it('fails whole, with one ERROR line, on an event of another source', async () => {
    const h = harness();
    const kinesis = {
      Records: [{ eventSource: 'aws:kinesis', eventID: 'shardId-0:1', kinesis: { data: 'e30=' } }],
    };
    const error = await h.invoke(...(kinesis.Records as never[])).catch((caught: unknown) => caught);
    expect((error as Error).name).toBe('WrongEventError');
    expect(h.planned).toEqual([]);
  });
});

describe('changeOf and itemKeyOf', () => {
  it('reads the change a record describes, images unmarshalled and validated', () => {
    const value = change('a1', 3, 1);
    expect(changeOf(streamRecord(value, 1))).toEqual(value);
  });

  it('refuses a MODIFY without its new image (a stream whose view type lacks new images)', () => {
    const record = streamRecord(change('a1', 3, 1), 1);
    delete record.dynamodb!.NewImage;
    expect(() => changeOf(record)).toThrow(InvalidPayloadError);
    expect(() => changeOf(record)).toThrow(/NEW_AND_OLD_IMAGES/);
  });

  it('writes an item key as its key attributes, sorted by name', () => {
    expect(itemKeyOf({ sk: { S: 'b' }, pk: { S: 'a' } })).toBe('pk=a&sk=b');
    expect(itemKeyOf({ pk: { N: '7' } })).toBe('pk=7');
  });
});
