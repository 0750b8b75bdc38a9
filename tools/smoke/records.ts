/**
 * `npm run smoke -- --records`: one healthy and one poison record through each deployed path, from the path's
 * domain module (its `examples` and `domain.plan`, as `npm run example` prints them), so a fork sends its own.
 *
 * - the healthy record must show its effect in the stack's effect table (the counters its plan adds, over what
 *   the item held before);
 * - the poison must reach where the path puts what it cannot process: the source queue's dead-letter queue
 *   (SQS, after maxReceiveCount receives), the on-failure queue of the asynchronous invocation (S3 → SNS: a
 *   message published to the topic that is no S3 notification, after the retries), the failure queue behind the
 *   stream mapping's on-failure destination (Kinesis: its failure record names the poison's shard and sequence
 *   number);
 * - each within a bounded time derived from the deployed settings (or `--timeout`);
 * - then what it sent is removed: the poison's message from the queue it reached, the uploaded object version,
 *   and the counters it added (the item is deleted if the smoke test created it). The idempotency records of the
 *   healthy records expire on their own (the idempotency table's TTL).
 *
 * The pure parts (what to send, what to wait for, how long) are exported for the tests.
 */
import {
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import { PutRecordCommand } from '@aws-sdk/client-kinesis';
import { GetFunctionEventInvokeConfigCommand } from '@aws-sdk/client-lambda';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { PublishCommand } from '@aws-sdk/client-sns';
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { marshall } from '@aws-sdk/util-dynamodb';
import { randomBytes } from 'node:crypto';
import * as fifoDomain from '../../lambda/fifo-consumer/domain';
import * as objectDomain from '../../lambda/object-consumer/domain';
import type { CounterIncrement, Effect } from '../../lambda/shared/exactly-once';
import * as sqsDomain from '../../lambda/sqs-consumer/domain';
import * as streamDomain from '../../lambda/stream-consumer/domain';
import * as tableStreamDomain from '../../lambda/table-stream-consumer/domain';
import type { Clients, DeployedStack } from './aws';
import type { CheckResult } from './checks';

/** A record id no earlier run used: part of the records' idempotency keys, and how the poison is recognised. */
export function smokeRunId(): string {
  return `smoke-${new Date()
    .toISOString()
    .replace(/[-:.TZ]/g, '')
    .slice(0, 14)}-${randomBytes(3).toString('hex')}`;
}

/** The healthy record and the poison of a path, as data. */
export interface RecordPlan {
  readonly path: string;
  /** SQS: the message body; stream: the record's data; object: the object key; table-stream: the item (JSON). */
  readonly healthy: string;
  /** FIFO: the message groups to send the healthy record and the poison with. */
  readonly healthyGroup?: string;
  readonly poisonGroup?: string;
  /** The stream record's partition key. */
  readonly healthyPartitionKey?: string;
  /** What the healthy record adds to the effect table. */
  readonly effect: Effect;
  /** SQS: the message body; stream: the record's data; object: a message published to the topic. */
  readonly poison: string;
  readonly poisonPartitionKey?: string;
  /** The id in the poison's payload, by which it is recognised where it ends (SQS, S3 → SNS). */
  readonly id: string;
  /** table-stream: the source table's partition key attribute, which the items sent are keyed by (the id). */
  readonly keyAttribute?: string;
}

/** What a plan needs to know of the deployed stack. */
export interface PlanContext {
  /** object: the bucket (output BucketName). */
  readonly bucket?: string;
  /** table-stream: the source table's partition key attribute. @default pk */
  readonly tableKey?: string;
}

/** The body of the object the object path's smoke test uploads (its size is what the effect counts). */
export const SMOKE_OBJECT_BODY = 'smoke test object: uploaded by npm run smoke, deleted after it\n';

/** What to send through a path: examples of its domain module under the run's id (undefined: a path it does not know). */
export function planRecords(path: string, id: string, context: PlanContext = {}): RecordPlan | undefined {
  const { bucket } = context;
  switch (path) {
    case 'sqs': {
      const message = sqsDomain.examples.valid(id);
      return {
        path,
        id,
        healthy: JSON.stringify(message),
        effect: sqsDomain.domain.plan(message).effect,
        poison: sqsDomain.examples.invalid(id)[0].body,
      };
    }
    case 'fifo': {
      const entry = fifoDomain.examples.valid(id);
      return {
        path,
        id,
        healthy: JSON.stringify(entry),
        healthyGroup: fifoDomain.domain.messageGroupId(entry),
        effect: fifoDomain.domain.plan(entry).effect,
        poison: fifoDomain.examples.invalid(id)[0].body,
        // Its own group: a failing message holds back the rest of its group until it reaches the DLQ.
        poisonGroup: `${id}-poison`,
      };
    }
    case 'object': {
      if (!bucket) throw new Error('the object path needs the bucket (output BucketName)');
      const example = objectDomain.examples.valid(id);
      const object = { ...example, bucket, size: Buffer.byteLength(SMOKE_OBJECT_BODY) };
      return {
        path,
        id,
        healthy: object.key,
        effect: objectDomain.domain.plan(object).effect,
        poison: objectDomain.examples.invalid(id)[0].body,
      };
    }
    case 'stream': {
      const reading = streamDomain.examples.valid(id);
      return {
        path,
        id,
        healthy: JSON.stringify(reading),
        healthyPartitionKey: streamDomain.domain.partitionKey(reading),
        effect: streamDomain.domain.plan(reading).effect,
        poison: streamDomain.examples.invalid(id)[0].body,
        // Its own key: a poison holds back nothing of the healthy record's key, but keep them apart anyway.
        poisonPartitionKey: `${id}-poison`,
      };
    }
    case 'table-stream': {
      // The example item under a key of its own (the run's id): no item of the table is overwritten.
      const key = context.tableKey ?? 'pk';
      const item = { ...tableStreamDomain.examples.valid(id).newItem!, [key]: id };
      const change = { eventId: id, eventName: 'INSERT' as const, itemKey: `${key}=${id}`, newItem: item };
      let poison: Record<string, unknown>;
      try {
        poison = JSON.parse(tableStreamDomain.examples.invalid(id)[0].body) as Record<string, unknown>;
      } catch {
        return undefined; // an invalid example that is no item cannot be written to the table
      }
      return {
        path,
        id,
        keyAttribute: key,
        healthy: JSON.stringify(item),
        effect: tableStreamDomain.domain.plan(change).effect,
        poison: JSON.stringify({ ...poison, [key]: `${id}-poison` }),
      };
    }
    default:
      return undefined;
  }
}

/** Whether an effect item now holds at least what it held before plus the increment. */
export function effectReached(
  before: Readonly<Record<string, number>>,
  now: Readonly<Record<string, number>>,
  increment: CounterIncrement,
): boolean {
  return Object.entries(increment.add).every(
    ([name, amount]) => (now[name] ?? 0) >= (before[name] ?? 0) + amount,
  );
}

/** Whether a message of the path's dead-letter queue or destination is the poison this run sent. */
export function isPoisonMessage(
  plan: Pick<RecordPlan, 'path' | 'poison' | 'id'>,
  body: string,
  poisonRecord?: { shardId: string; sequenceNumber: string },
): boolean {
  switch (plan.path) {
    case 'sqs':
    case 'fifo':
      return body === plan.poison;
    case 'object':
      // An asynchronous invocation record: the request payload holds the SNS message, which holds the poison.
      return body.includes(plan.id);
    case 'stream':
    case 'table-stream': {
      // A stream's failure record names the shard and the range of sequence numbers of the batch given up on.
      if (!poisonRecord) return false;
      let batch: { shardId?: string; startSequenceNumber?: string; endSequenceNumber?: string } | undefined;
      try {
        type Info = { KinesisBatchInfo?: typeof batch; DDBStreamBatchInfo?: typeof batch };
        const parsed = JSON.parse(body) as Info & { Message?: string };
        const inner = (parsed.Message ? JSON.parse(parsed.Message) : {}) as Info;
        batch =
          parsed.KinesisBatchInfo ??
          parsed.DDBStreamBatchInfo ??
          inner.KinesisBatchInfo ??
          inner.DDBStreamBatchInfo;
      } catch {
        return false;
      }
      if (!batch?.startSequenceNumber || !batch.endSequenceNumber || batch.shardId !== poisonRecord.shardId)
        return false;
      const sequence = BigInt(poisonRecord.sequenceNumber);
      return BigInt(batch.startSequenceNumber) <= sequence && sequence <= BigInt(batch.endSequenceNumber);
    }
    default:
      return false;
  }
}

/** How long to wait for the poison, from the deployed settings: the retries the path makes before giving up. */
export function poisonWaitSeconds(
  path: string,
  settings: { maxReceiveCount?: number; visibilityTimeout?: number; retryAttempts?: number },
): { seconds: number; why: string } {
  switch (path) {
    case 'object': {
      const retries = settings.retryAttempts ?? 2;
      return {
        seconds: (retries + 1) * 180 + 120,
        why: `${retries} async retries, about 1 then 2 min apart, + margin`,
      };
    }
    case 'stream':
    case 'table-stream':
      return { seconds: 600, why: 'the mapping retries and bisects at once; 10 min for a slow shard' };
    default: {
      // SQS, standard or FIFO: a message fails once per receive, and is received again after the visibility timeout.
      const receives = settings.maxReceiveCount ?? 5;
      const visibility = settings.visibilityTimeout ?? 30;
      return {
        seconds: receives * visibility + 120,
        why: `${receives} receives x ${visibility} s visibility timeout + 2 min`,
      };
    }
  }
}

function numbersOf(item: Record<string, { N?: string }> | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, value] of Object.entries(item ?? {}))
    if (value.N !== undefined) out[name] = Number(value.N);
  return out;
}

interface RecordsOptions {
  readonly path: string;
  readonly stack: DeployedStack;
  readonly timeoutSeconds?: number;
  readonly print: (line: string) => void;
  /** @default {@link smokeRunId} */
  readonly id?: string;
  /** Between polls. @default 5000 */
  readonly pollMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends a path's two records, waits for their outcome, cleans up. One result line each, and one for the cleanup. */
export async function sendRecords(clients: Clients, options: RecordsOptions): Promise<CheckResult[]> {
  const { path, stack, print } = options;
  const label = stack.stackName;
  const fail = (subject: string, detail: string): CheckResult => ({
    stack: label,
    subject,
    status: 'fail',
    detail,
  });
  const pass = (subject: string, detail: string): CheckResult => ({
    stack: label,
    subject,
    status: 'pass',
    detail,
  });
  const outputs = stack.outputs;
  const table = outputs.EffectTableName;
  const poisonQueue =
    path === 'object'
      ? outputs.OnFailureQueueUrl
      : path === 'stream' || path === 'table-stream'
        ? outputs.FailureQueueUrl
        : outputs.DeadLetterQueueUrl;
  if (!table) return [fail('records', 'the stack has no EffectTableName output')];
  const keyAttribute = effectKeyAttribute(stack);
  const id = options.id ?? smokeRunId();
  const planned = planRecords(path, id, {
    bucket: outputs.BucketName,
    tableKey: hashKeyOf(stack, outputs.SourceTableName),
  });
  if (!planned) {
    return [
      {
        stack: label,
        subject: 'records',
        status: 'not-checked',
        detail: `no record plan for the path "${path}" here (tools/smoke/records.ts)`,
      },
    ];
  }
  const plan: RecordPlan = planned;
  const pollMs = options.pollMs ?? 5000;
  const results: CheckResult[] = [];
  const cleanup: (() => Promise<string>)[] = [];

  const readItem = async (key: string) =>
    numbersOf(
      (
        await clients.dynamodb.send(
          new GetItemCommand({ TableName: table, Key: { [keyAttribute]: { S: key } }, ConsistentRead: true }),
        )
      ).Item as Record<string, { N?: string }> | undefined,
    );
  const before = new Map<string, { values: Record<string, number>; existed: boolean }>();
  for (const increment of plan.effect) {
    const values = await readItem(increment.key);
    before.set(increment.key, { values, existed: Object.keys(values).length > 0 });
  }

  // Send.
  let poisonRecord: { shardId: string; sequenceNumber: string } | undefined;
  let wait: { seconds: number; why: string };
  switch (path) {
    case 'sqs':
    case 'fifo': {
      const queueUrl = outputs.QueueUrl;
      if (!queueUrl) return [fail('records', 'the stack has no QueueUrl output')];
      const { Attributes = {} } = await clients.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['VisibilityTimeout', 'RedrivePolicy'],
        }),
      );
      const redrive = Attributes.RedrivePolicy
        ? (JSON.parse(Attributes.RedrivePolicy) as { maxReceiveCount?: number })
        : {};
      wait = poisonWaitSeconds(path, {
        visibilityTimeout: Number(Attributes.VisibilityTimeout),
        maxReceiveCount: Number(redrive.maxReceiveCount),
      });
      const fifo = (group: string | undefined, deduplication: string) =>
        group ? { MessageGroupId: group, MessageDeduplicationId: deduplication } : {};
      await clients.sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: plan.healthy,
          ...fifo(plan.healthyGroup, id),
        }),
      );
      await clients.sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: plan.poison,
          ...fifo(plan.poisonGroup, `${id}-poison`),
        }),
      );
      break;
    }
    case 'object': {
      const bucket = outputs.BucketName;
      const config = await clients.lambda
        .send(new GetFunctionEventInvokeConfigCommand({ FunctionName: outputs.ConsumerFunctionName }))
        .catch(() => undefined);
      wait = poisonWaitSeconds(path, { retryAttempts: config?.MaximumRetryAttempts });
      const put = await clients.s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: plan.healthy,
          Body: SMOKE_OBJECT_BODY,
          ContentType: 'text/plain',
        }),
      );
      cleanup.push(async () => {
        await clients.s3.send(
          new DeleteObjectCommand({ Bucket: bucket, Key: plan.healthy, VersionId: put.VersionId }),
        );
        return `object ${plan.healthy}${put.VersionId ? ` (version ${put.VersionId})` : ''} deleted`;
      });
      await clients.sns.send(
        new PublishCommand({ TopicArn: outputs.ObjectCreatedTopicArn, Message: plan.poison }),
      );
      break;
    }
    case 'table-stream': {
      wait = poisonWaitSeconds(path, {});
      const sourceTable = outputs.SourceTableName;
      const streamArn = outputs.StreamArn;
      if (!sourceTable || !streamArn)
        return [fail('records', 'the stack has no SourceTableName or StreamArn output')];
      const key = plan.keyAttribute ?? 'pk';
      await clients.dynamodb.send(
        new PutItemCommand({ TableName: sourceTable, Item: marshall(JSON.parse(plan.healthy)) }),
      );
      // The poison's sequence number, for its failure record: read from the stream from just before it is written.
      const iterators = await latestIterators(clients, streamArn);
      await clients.dynamodb.send(
        new PutItemCommand({ TableName: sourceTable, Item: marshall(JSON.parse(plan.poison)) }),
      );
      poisonRecord = await findStreamRecord(clients, iterators, key, `${id}-poison`, pollMs);
      for (const item of [id, `${id}-poison`]) {
        cleanup.push(async () => {
          await clients.dynamodb.send(
            new DeleteItemCommand({ TableName: sourceTable, Key: { [key]: { S: item } } }),
          );
          return `source item ${item} deleted`;
        });
      }
      break;
    }
    default: {
      wait = poisonWaitSeconds(path, {});
      const streamName = outputs.StreamName;
      await clients.kinesis.send(
        new PutRecordCommand({
          StreamName: streamName,
          PartitionKey: plan.healthyPartitionKey,
          Data: Buffer.from(plan.healthy),
        }),
      );
      const put = await clients.kinesis.send(
        new PutRecordCommand({
          StreamName: streamName,
          PartitionKey: plan.poisonPartitionKey,
          Data: Buffer.from(plan.poison),
        }),
      );
      poisonRecord = { shardId: put.ShardId ?? '', sequenceNumber: put.SequenceNumber ?? '0' };
      break;
    }
  }
  const seconds = options.timeoutSeconds ?? wait.seconds;
  print(
    `... ${label}: sent healthy and poison records (id ${id}); waiting up to ${seconds} s` +
      (options.timeoutSeconds ? ' (--timeout)' : ` (${wait.why})`),
  );
  const deadline = Date.now() + seconds * 1000;

  // Wait for the healthy record's effect and the poison's arrival, together.
  const effectDone = (async () => {
    const started = Date.now();
    for (;;) {
      const reached = [];
      for (const increment of plan.effect) {
        reached.push(
          effectReached(before.get(increment.key)!.values, await readItem(increment.key), increment),
        );
      }
      if (reached.every(Boolean)) {
        return pass(
          'healthy record',
          `its effect is in the effect table (${plan.effect.map((e) => e.key).join(', ')}) after ${Math.round((Date.now() - started) / 1000)} s`,
        );
      }
      if (Date.now() > deadline) {
        return fail('healthy record', `its effect did not reach the effect table within ${seconds} s`);
      }
      await sleep(pollMs);
    }
  })();
  const poisonDone = (async () => {
    if (!poisonQueue) {
      return {
        stack: label,
        subject: 'poison record',
        status: 'not-checked' as const,
        detail: 'the path has no queue output to read where failures go (e.g. a bucket destination)',
      };
    }
    const started = Date.now();
    for (;;) {
      const { Messages = [] } = await clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: poisonQueue,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: Math.max(0, Math.min(10, Math.round(pollMs / 1000))),
          // Other messages are left for their readers: visible again at once.
          VisibilityTimeout: 0,
        }),
      );
      const found = Messages.find((message) => isPoisonMessage(plan, message.Body ?? '', poisonRecord));
      if (found) {
        await clients.sqs.send(
          new DeleteMessageCommand({ QueueUrl: poisonQueue, ReceiptHandle: found.ReceiptHandle }),
        );
        return pass(
          'poison record',
          `reached ${poisonQueue === outputs.DeadLetterQueueUrl ? 'the dead-letter queue' : 'the failure destination'} after ${Math.round((Date.now() - started) / 1000)} s (deleted from it)`,
        );
      }
      if (Date.now() > deadline) {
        return fail('poison record', `did not reach ${poisonQueue} within ${seconds} s`);
      }
      await sleep(pollMs);
    }
  })();
  results.push(...(await Promise.all([effectDone, poisonDone])));

  // Clean up: the counters the healthy record added, and what else was left.
  const done: string[] = [];
  const problems: string[] = [];
  for (const increment of plan.effect) {
    try {
      const previous = before.get(increment.key)!;
      const now = await readItem(increment.key);
      if (!effectReached(previous.values, now, increment)) continue; // not applied (or not yet): nothing to undo
      const keepsOtherChanges = Object.entries(increment.add).some(
        ([name, amount]) => (now[name] ?? 0) !== (previous.values[name] ?? 0) + amount,
      );
      if (!previous.existed && !keepsOtherChanges) {
        await clients.dynamodb.send(
          new DeleteItemCommand({ TableName: table, Key: { [keyAttribute]: { S: increment.key } } }),
        );
        done.push(`effect item ${increment.key} deleted`);
      } else {
        const names = Object.keys(increment.add);
        await clients.dynamodb.send(
          new UpdateItemCommand({
            TableName: table,
            Key: { [keyAttribute]: { S: increment.key } },
            UpdateExpression: `ADD ${names.map((_, index) => `#a${index} :v${index}`).join(', ')}`,
            ExpressionAttributeNames: Object.fromEntries(names.map((name, index) => [`#a${index}`, name])),
            ExpressionAttributeValues: Object.fromEntries(
              names.map((name, index) => [`:v${index}`, { N: String(-increment.add[name]) }]),
            ),
          }),
        );
        done.push(`effect item ${increment.key} counters taken back`);
      }
    } catch (error) {
      problems.push(`effect item ${increment.key}: ${(error as Error).message}`);
    }
  }
  for (const step of cleanup) {
    try {
      done.push(await step());
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  results.push(
    problems.length > 0
      ? fail('cleanup', problems.join('; '))
      : pass('cleanup', done.length > 0 ? done.join('; ') : 'nothing left to remove'),
  );
  return results;
}

/** The open shards of a DynamoDB stream, each with an iterator at its latest record. */
async function latestIterators(
  clients: Clients,
  streamArn: string,
): Promise<{ shardId: string; iterator?: string }[]> {
  const { StreamDescription } = await clients.dynamodbStreams.send(
    new DescribeStreamCommand({ StreamArn: streamArn }),
  );
  const open = (StreamDescription?.Shards ?? []).filter(
    (shard) => !shard.SequenceNumberRange?.EndingSequenceNumber,
  );
  return Promise.all(
    open.map(async (shard) => ({
      shardId: shard.ShardId ?? '',
      iterator: (
        await clients.dynamodbStreams.send(
          new GetShardIteratorCommand({
            StreamArn: streamArn,
            ShardId: shard.ShardId,
            ShardIteratorType: 'LATEST',
          }),
        )
      ).ShardIterator,
    })),
  );
}

/** Reads the shards on from their iterators until the record of the item `key = value` appears (30 s at most). */
async function findStreamRecord(
  clients: Clients,
  shards: { shardId: string; iterator?: string }[],
  key: string,
  value: string,
  pollMs: number,
): Promise<{ shardId: string; sequenceNumber: string } | undefined> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    for (const shard of shards) {
      if (!shard.iterator) continue;
      const { Records = [], NextShardIterator } = await clients.dynamodbStreams.send(
        new GetRecordsCommand({ ShardIterator: shard.iterator }),
      );
      shard.iterator = NextShardIterator;
      const found = Records.find((record) => record.dynamodb?.Keys?.[key]?.S === value);
      if (found?.dynamodb?.SequenceNumber)
        return { shardId: shard.shardId, sequenceNumber: found.dynamodb.SequenceNumber };
    }
    await sleep(pollMs);
  }
  return undefined;
}

/** The partition key attribute of the stack's table with this physical name, from the deployed template. */
function hashKeyOf(stack: DeployedStack, tableName: string | undefined): string | undefined {
  if (!tableName) return undefined;
  for (const resource of stack.resources.values()) {
    if (resource.physicalId !== tableName) continue;
    const schema = stack.template.Resources?.[resource.logicalId]?.Properties?.KeySchema as
      { AttributeName: string; KeyType: string }[] | undefined;
    return schema?.find((entry) => entry.KeyType === 'HASH')?.AttributeName;
  }
  return undefined;
}

/** The effect table's partition key attribute, from the deployed template (the table the output names). */
function effectKeyAttribute(stack: DeployedStack): string {
  return hashKeyOf(stack, stack.outputs.EffectTableName) ?? 'pk';
}
