/**
 * `npm run smoke -- --records`: what it sends (the domain modules' examples), how it recognises its poison where
 * it ends, how long it waits, and the whole send / wait / clean-up cycle against an in-memory stand-in for the
 * AWS APIs whose "consumer" applies valid records and routes invalid ones as the deployed paths do (no function
 * runs on the emulator, so this is where that cycle is exercised).
 */
import * as fifoDomain from '../../../lambda/fifo-consumer/domain';
import * as objectDomain from '../../../lambda/object-consumer/domain';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { parseJsonPayload } from '../../../lambda/shared/parsing';
import * as sqsDomain from '../../../lambda/sqs-consumer/domain';
import * as streamDomain from '../../../lambda/stream-consumer/domain';
import * as tableStreamDomain from '../../../lambda/table-stream-consumer/domain';
import type { Clients, DeployedStack } from '../../../tools/smoke/aws';
import {
  effectReached,
  isPoisonMessage,
  planRecords,
  poisonWaitSeconds,
  SMOKE_OBJECT_BODY,
  sendRecords,
  smokeRunId,
} from '../../../tools/smoke/records';

describe('smoke records: what is sent', () => {
  it('takes each path’s healthy record and poison from its domain module, under the run’s id', () => {
    const sqs = planRecords('sqs', 'smoke-1')!;
    expect(JSON.parse(sqs.healthy)).toEqual(sqsDomain.examples.valid('smoke-1'));
    expect(sqs.effect).toEqual(sqsDomain.domain.plan(sqsDomain.examples.valid('smoke-1')).effect);
    expect(sqs.poison).toBe(sqsDomain.examples.invalid('smoke-1')[0].body);

    const stream = planRecords('stream', 'smoke-1')!;
    const reading = streamDomain.examples.valid('smoke-1');
    expect(stream.healthyPartitionKey).toBe(streamDomain.domain.partitionKey(reading));
    expect(stream.poisonPartitionKey).not.toBe(stream.healthyPartitionKey);

    const object = planRecords('object', 'smoke-1', { bucket: 'real-bucket' })!;
    const example = objectDomain.examples.valid('smoke-1');
    expect(object.healthy).toBe(example.key);
    expect(object.effect).toEqual([
      {
        key: objectDomain.prefixTotalsKey({ bucket: 'real-bucket', key: example.key }),
        add: { objectCount: 1, totalBytes: Buffer.byteLength(SMOKE_OBJECT_BODY) },
      },
    ]);
    expect(() => planRecords('object', 'smoke-1')).toThrow(/BucketName/);

    const fifo = planRecords('fifo', 'smoke-1')!;
    expect(fifo.healthyGroup).toBe(fifoDomain.domain.messageGroupId(fifoDomain.examples.valid('smoke-1')));
    expect(fifo.poisonGroup).not.toBe(fifo.healthyGroup);

    const table = planRecords('table-stream', 'smoke-1', { tableKey: 'sku' })!;
    const item = JSON.parse(table.healthy) as Record<string, unknown>;
    expect(item).toEqual({ ...tableStreamDomain.examples.valid('smoke-1').newItem, sku: 'smoke-1' });
    expect(table.effect).toEqual(
      tableStreamDomain.domain.plan({
        eventId: 'smoke-1',
        eventName: 'INSERT',
        itemKey: 'sku=smoke-1',
        newItem: item as never,
      }).effect,
    );
    expect(JSON.parse(table.poison)).toMatchObject({ sku: 'smoke-1-poison' });

    expect(planRecords('carrier-pigeon', 'smoke-1')).toBeUndefined();
  });

  it('gives every run ids of its own', () => {
    expect(smokeRunId()).toMatch(/^smoke-\d{14}-[0-9a-f]{6}$/);
    expect(smokeRunId()).not.toBe(smokeRunId());
  });

  it('recognises its poison: the same SQS body, its id in an invocation record, its sequence number in a stream failure record', () => {
    const sqs = planRecords('sqs', 'smoke-7')!;
    expect(isPoisonMessage(sqs, sqs.poison)).toBe(true);
    expect(isPoisonMessage(sqs, sqsDomain.examples.invalid('smoke-8')[0].body)).toBe(false);

    const object = planRecords('object', 'smoke-7', { bucket: 'b' })!;
    expect(
      isPoisonMessage(
        object,
        JSON.stringify({ requestPayload: { Records: [{ Sns: { Message: object.poison } }] } }),
      ),
    ).toBe(true);
    expect(isPoisonMessage(object, JSON.stringify({ requestPayload: 'smoke-8' }))).toBe(false);

    const stream = planRecords('stream', 'smoke-7')!;
    const batch = (start: string, end: string, shardId = 'shardId-000000000000') =>
      JSON.stringify({ KinesisBatchInfo: { shardId, startSequenceNumber: start, endSequenceNumber: end } });
    const poison = {
      shardId: 'shardId-000000000000',
      sequenceNumber: '49650000000000000000000000000000000000000000000000000002',
    };
    expect(
      isPoisonMessage(
        stream,
        batch(
          '49650000000000000000000000000000000000000000000000000001',
          '49650000000000000000000000000000000000000000000000000003',
        ),
        poison,
      ),
    ).toBe(true);
    expect(
      isPoisonMessage(
        stream,
        batch(
          '49650000000000000000000000000000000000000000000000000003',
          '49650000000000000000000000000000000000000000000000000004',
        ),
        poison,
      ),
    ).toBe(false);
    expect(
      isPoisonMessage(stream, batch('1', '9', 'shardId-000000000001'), { ...poison, sequenceNumber: '5' }),
    ).toBe(false);
    expect(
      isPoisonMessage(stream, JSON.stringify({ Message: batch('1', '9') }), {
        ...poison,
        sequenceNumber: '5',
      }),
    ).toBe(true);
    expect(isPoisonMessage(stream, 'not json', poison)).toBe(false);
    const table = planRecords('table-stream', 'smoke-7')!;
    const ddb = JSON.stringify({
      DDBStreamBatchInfo: { shardId: 'shardId-1', startSequenceNumber: '100', endSequenceNumber: '200' },
    });
    expect(isPoisonMessage(table, ddb, { shardId: 'shardId-1', sequenceNumber: '150' })).toBe(true);
    expect(isPoisonMessage(table, ddb, { shardId: 'shardId-1', sequenceNumber: '250' })).toBe(false);
  });

  it('waits as long as the deployed retries take', () => {
    expect(poisonWaitSeconds('sqs', { maxReceiveCount: 5, visibilityTimeout: 180 })).toEqual({
      seconds: 1020,
      why: '5 receives x 180 s visibility timeout + 2 min',
    });
    expect(poisonWaitSeconds('object', { retryAttempts: 0 }).seconds).toBe(300);
    expect(poisonWaitSeconds('stream', {}).seconds).toBe(600);
  });

  it('counts an effect reached once every counter grew by at least the increment', () => {
    const increment = { key: 'k', add: { orderCount: 1, totalCents: 500 } };
    expect(
      effectReached({ orderCount: 2, totalCents: 100 }, { orderCount: 3, totalCents: 600 }, increment),
    ).toBe(true);
    expect(effectReached({}, { orderCount: 1, totalCents: 499 }, increment)).toBe(false);
  });
});

/** An in-memory stand-in for the AWS APIs the records use, with a consumer that behaves as the deployed paths. */
function fakeAws(options: { consumerRuns: boolean; tableItems?: Map<string, Record<string, number>> }) {
  const items = options.tableItems ?? new Map<string, Record<string, number>>();
  const queues = new Map<string, { id: string; body: string }[]>();
  const objects = new Map<string, string>();
  const sourceItems = new Map<string, unknown>();
  const streamRecords: { key: string; sequence: string }[] = [];
  const calls: string[] = [];
  let sequence = 100n;
  const push = (queue: string, body: string) => {
    const list = queues.get(queue) ?? [];
    list.push({ id: `m-${list.length}-${Math.random()}`, body });
    queues.set(queue, list);
  };
  const apply = (effect: readonly { key: string; add: Record<string, number> }[]) => {
    for (const increment of effect) {
      const item = { ...(items.get(increment.key) ?? {}) };
      for (const [name, amount] of Object.entries(increment.add)) item[name] = (item[name] ?? 0) + amount;
      items.set(increment.key, item);
    }
  };
  const later = (work: () => void) => {
    if (options.consumerRuns) setTimeout(work, 20);
  };
  const send = async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
    const input = command.input;
    const name = command.constructor.name.replace(/Command$/, '');
    calls.push(name);
    switch (name) {
      case 'GetItem': {
        const key = (input.Key as Record<string, { S: string }>).pk.S;
        const item = items.get(key);
        return {
          Item: item
            ? Object.fromEntries(Object.entries(item).map(([k, v]) => [k, { N: String(v) }]))
            : undefined,
        };
      }
      case 'UpdateItem': {
        const key = (input.Key as Record<string, { S: string }>).pk.S;
        const names = input.ExpressionAttributeNames as Record<string, string>;
        const values = input.ExpressionAttributeValues as Record<string, { N: string }>;
        const add: Record<string, number> = {};
        Object.keys(names).forEach((alias, index) => (add[names[alias]] = Number(values[`:v${index}`].N)));
        apply([{ key, add }]);
        return {};
      }
      case 'DeleteItem': {
        const key = Object.values(input.Key as Record<string, { S: string }>)[0].S;
        if (input.TableName === 'source') sourceItems.delete(key);
        else items.delete(key);
        return {};
      }
      case 'PutItem': {
        const item = unmarshall(input.Item as Record<string, never>) as { pk: string };
        sourceItems.set(item.pk, item);
        sequence += 1n;
        const number = String(sequence);
        streamRecords.push({ key: item.pk, sequence: number });
        later(() => {
          const valid = tableStreamDomain.domain.itemSchema['~standard'].validate(item) as {
            issues?: unknown;
          };
          if (valid.issues) {
            push(
              'failures',
              JSON.stringify({
                DDBStreamBatchInfo: {
                  shardId: 'shard-0',
                  startSequenceNumber: number,
                  endSequenceNumber: number,
                },
              }),
            );
          } else {
            apply(
              tableStreamDomain.domain.plan({
                eventId: item.pk,
                eventName: 'INSERT',
                itemKey: `pk=${item.pk}`,
                newItem: item as never,
              }).effect,
            );
          }
        });
        return {};
      }
      case 'DescribeStream':
        return { StreamDescription: { Shards: [{ ShardId: 'shard-0', SequenceNumberRange: {} }] } };
      case 'GetShardIterator':
        return { ShardIterator: String(streamRecords.length) };
      case 'GetRecords': {
        const from = Number(input.ShardIterator);
        return {
          Records: streamRecords.slice(from).map((record) => ({
            dynamodb: { Keys: { pk: { S: record.key } }, SequenceNumber: record.sequence },
          })),
          NextShardIterator: String(streamRecords.length),
        };
      }
      case 'GetQueueAttributes':
        return {
          Attributes: { VisibilityTimeout: '1', RedrivePolicy: JSON.stringify({ maxReceiveCount: 1 }) },
        };
      case 'SendMessage': {
        const body = String(input.MessageBody);
        later(() => {
          try {
            // A FIFO queue takes messages with a group only; its consumer applies ledger entries.
            apply(
              input.MessageGroupId
                ? fifoDomain.domain.plan(parseJsonPayload(body, fifoDomain.domain.schema)).effect
                : sqsDomain.domain.plan(parseJsonPayload(body, sqsDomain.domain.schema)).effect,
            );
          } catch {
            push('dlq', body);
          }
        });
        return {};
      }
      case 'PutObject': {
        objects.set(String(input.Key), String(input.Body));
        later(() =>
          apply(
            objectDomain.domain.plan({
              ...objectDomain.examples.valid('x'),
              bucket: 'bucket',
              key: String(input.Key),
              size: String(input.Body).length,
            }).effect,
          ),
        );
        return { VersionId: 'v1' };
      }
      case 'DeleteObject':
        objects.delete(String(input.Key));
        return {};
      case 'Publish': {
        const message = String(input.Message);
        later(() =>
          push(
            'on-failure',
            JSON.stringify({
              requestContext: { condition: 'RetriesExhausted' },
              requestPayload: { Records: [{ Sns: { Message: message } }] },
            }),
          ),
        );
        return {};
      }
      case 'GetFunctionEventInvokeConfig':
        return { MaximumRetryAttempts: 0 };
      case 'PutRecord': {
        sequence += 1n;
        const number = String(sequence);
        const data = Buffer.from(input.Data as Uint8Array).toString();
        later(() => {
          try {
            apply(streamDomain.domain.plan(parseJsonPayload(data, streamDomain.domain.schema)).effect);
          } catch {
            push(
              'failures',
              JSON.stringify({
                KinesisBatchInfo: {
                  shardId: 'shard-0',
                  startSequenceNumber: number,
                  endSequenceNumber: number,
                },
              }),
            );
          }
        });
        return { ShardId: 'shard-0', SequenceNumber: number };
      }
      case 'ReceiveMessage': {
        const list = queues.get(String(input.QueueUrl)) ?? [];
        return { Messages: list.map((message) => ({ Body: message.body, ReceiptHandle: message.id })) };
      }
      case 'DeleteMessage': {
        const list = queues.get(String(input.QueueUrl)) ?? [];
        queues.set(
          String(input.QueueUrl),
          list.filter((message) => message.id !== input.ReceiptHandle),
        );
        return {};
      }
      default:
        throw new Error(`the fake has no ${name}`);
    }
  };
  const client = { send };
  const clients = Object.fromEntries(
    [
      'cloudformation',
      'sqs',
      'sns',
      'lambda',
      'cloudwatch',
      'logs',
      's3',
      'dynamodb',
      'dynamodbStreams',
      'kinesis',
      'iam',
      'kms',
    ].map((name) => [name, client]),
  ) as unknown as Clients;
  return { clients, items, queues, objects, sourceItems, calls };
}

function stack(path: string, outputs: Record<string, string>): DeployedStack {
  return {
    stackName: `app-dev-${path}`,
    stackId: 'arn:aws:cloudformation:eu-west-1:111122223333:stack/app-dev/1',
    status: 'CREATE_COMPLETE',
    outputs: { EffectTableName: 'effects', ...outputs },
    template: {
      Resources: {
        Effects: {
          Type: 'AWS::DynamoDB::Table',
          Properties: { KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }] },
        },
      },
    },
    resources: new Map([
      [
        'Effects',
        {
          logicalId: 'Effects',
          type: 'AWS::DynamoDB::Table',
          physicalId: 'effects',
          status: 'CREATE_COMPLETE',
        },
      ],
    ]),
    context: undefined as unknown as DeployedStack['context'],
  };
}

const OUTPUTS: Record<string, Record<string, string>> = {
  sqs: { QueueUrl: 'source', DeadLetterQueueUrl: 'dlq' },
  object: {
    BucketName: 'bucket',
    ObjectCreatedTopicArn: 'topic',
    OnFailureQueueUrl: 'on-failure',
    ConsumerFunctionName: 'fn',
  },
  stream: { StreamName: 'stream', FailureQueueUrl: 'failures' },
  fifo: { QueueUrl: 'source.fifo', DeadLetterQueueUrl: 'dlq' },
  'table-stream': { SourceTableName: 'source', StreamArn: 'arn:stream', FailureQueueUrl: 'failures' },
};

describe('smoke records: send, wait, clean up', () => {
  it.each(['sqs', 'fifo', 'object', 'stream', 'table-stream'])(
    '%s: the healthy record’s effect arrives, the poison reaches its queue, and everything sent is removed',
    async (path) => {
      const existing = new Map<string, Record<string, number>>();
      const aws = fakeAws({ consumerRuns: true, tableItems: existing });
      const lines: string[] = [];
      const results = await sendRecords(aws.clients, {
        path,
        stack: stack(path, OUTPUTS[path]),
        print: (line) => lines.push(line),
        id: 'smoke-t',
        pollMs: 5,
        timeoutSeconds: 5,
      });
      expect(results.map((result) => [result.subject, result.status])).toEqual([
        ['healthy record', 'pass'],
        ['poison record', 'pass'],
        ['cleanup', 'pass'],
      ]);
      expect(lines[0]).toMatch(
        /sent healthy and poison records \(id smoke-t\); waiting up to 5 s \(--timeout\)/,
      );
      // The effect item it created is gone again; the poison is no longer in its queue; the object is deleted.
      expect([...aws.items.keys()]).toEqual([]);
      expect([...aws.queues.values()].flat()).toEqual([]);
      expect([...aws.objects.keys()]).toEqual([]);
      expect([...aws.sourceItems.keys()]).toEqual([]);
    },
  );

  it('takes back only its own counters from an item that was there before', async () => {
    const plan = planRecords('sqs', 'smoke-t')!;
    // Counters the item had before, one per counter the record adds (whatever the path's domain is).
    const before = Object.fromEntries(Object.keys(plan.effect[0].add).map((name, i) => [name, 10 * (i + 1)]));
    const aws = fakeAws({ consumerRuns: true, tableItems: new Map([[plan.effect[0].key, { ...before }]]) });
    const results = await sendRecords(aws.clients, {
      path: 'sqs',
      stack: stack('sqs', OUTPUTS.sqs),
      print: () => undefined,
      id: 'smoke-t',
      pollMs: 5,
      timeoutSeconds: 5,
    });
    expect(results[2].detail).toBe(`effect item ${plan.effect[0].key} counters taken back`);
    expect(aws.items.get(plan.effect[0].key)).toEqual(before);
  });

  it('fails both records when nothing consumes them (and leaves the item alone)', async () => {
    const aws = fakeAws({ consumerRuns: false });
    const results = await sendRecords(aws.clients, {
      path: 'sqs',
      stack: stack('sqs', OUTPUTS.sqs),
      print: () => undefined,
      id: 'smoke-t',
      pollMs: 5,
      timeoutSeconds: 0.2,
    });
    expect(results).toEqual([
      expect.objectContaining({
        subject: 'healthy record',
        status: 'fail',
        detail: 'its effect did not reach the effect table within 0.2 s',
      }),
      expect.objectContaining({
        subject: 'poison record',
        status: 'fail',
        detail: 'did not reach dlq within 0.2 s',
      }),
      expect.objectContaining({ subject: 'cleanup', status: 'pass', detail: 'nothing left to remove' }),
    ]);
  });

  it('says what it cannot do: a stack without the outputs it needs, a path it has no plan for', async () => {
    const aws = fakeAws({ consumerRuns: true });
    const noQueue = await sendRecords(aws.clients, {
      path: 'sqs',
      stack: stack('sqs', {}),
      print: () => undefined,
    });
    expect(noQueue).toEqual([
      expect.objectContaining({ status: 'fail', detail: 'the stack has no QueueUrl output' }),
    ]);
    const unknown = await sendRecords(aws.clients, {
      path: 'pigeon',
      stack: stack('pigeon', {}),
      print: () => undefined,
    });
    expect(unknown).toEqual([expect.objectContaining({ status: 'not-checked' })]);
  });
});
