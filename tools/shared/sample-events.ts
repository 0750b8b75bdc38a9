/**
 * Realistic events, one builder per kind of source: the benchmark's batches and `npm run invoke`'s sample events. The records are the domain modules'
 * examples (lambda/<path>-consumer/domain.ts), so they are valid for each handler's schema and a fork's own domain
 * is measured without a change here (test/bench/events.test.ts checks them against the schemas). Every record
 * carries ids derived from `runId`, so no run ever meets an idempotency record of another: the bench measures
 * first deliveries.
 *
 * - SQS: the batch the event source mapping delivers; bodies are the domain's messages, 97 groups.
 * - Object: Lambda's SNS event; each SNS record's `Message` is the S3 event notification of one new object
 *   version in a versioned bucket, as S3 publishes it (`SnsEventSchema`, `S3EventNotificationSchema`). SNS sends
 *   one record per invocation; a batch of n here is n such records in one event (the handler accepts several).
 * - Stream: a Kinesis batch of one shard; data is a base64 message, partition key the domain's, ten groups
 *   interleaved, sequence numbers increasing.
 * - Table stream: a DynamoDB Streams batch of one shard (view type NEW_AND_OLD_IMAGES): each group an item, its
 *   changes in order (INSERT, then MODIFY with the previous image as the old one), ten groups interleaved; an
 *   invalid record is a change whose new image is the domain's invalid item, under its group's key.
 *
 * With `groups` of 1–10 records sharing an effect item (and, on the stream, a partition key), and `invalid`: the
 * last records of the batch are the domain's invalid examples (one SNS message that is not an S3 notification,
 * on the object path), so a sample shows a partial batch failure.
 *
 * The bench builds them in its parent process (bench/lib/harness.ts) and sends them to the child that plays the
 * Lambda runtime, so the child loads none of this.
 */
import * as fifoDomain from '../../lambda/fifo-consumer/domain';
import * as objectDomain from '../../lambda/object-consumer/domain';
import * as sqsDomain from '../../lambda/sqs-consumer/domain';
import * as streamDomain from '../../lambda/stream-consumer/domain';
import * as tableStreamDomain from '../../lambda/table-stream-consumer/domain';
import { dynamoDbStreamRecord, encodeS3ObjectKey, s3ObjectCreatedRecord, snsEventRecord } from './aws-events';
import type { DynamoDBStreamEvent, KinesisStreamEvent, SQSEvent } from 'aws-lambda';
import { createHash } from 'node:crypto';

export type EventKind = 'sqs' | 'fifo' | 'object' | 'stream' | 'table-stream';

/** How a batch is made. */
export interface BatchOptions {
  /** How many of the last records are invalid examples. @default 0 */
  readonly invalid?: number;
  /** How many groups the valid records are spread over (round robin). @default 97 on SQS, 10 otherwise */
  readonly groups?: number;
}

/** The invalid example body for record `index` of a batch, or undefined when the record is valid. */
function invalidBody(
  index: number,
  count: number,
  id: string,
  invalid: (id: string) => readonly { readonly body: string }[],
  options: BatchOptions,
): string | undefined {
  const firstInvalid = count - (options.invalid ?? 0);
  if (index < firstInvalid) return undefined;
  const examples = invalid(id);
  return examples[(index - firstInvalid) % examples.length].body;
}

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
const EPOCH_MS = Date.UTC(2026, 0, 15, 10, 0, 0);

/** A stable, UUID-shaped id from a run id and an index (no randomness: runs are reproducible). */
export function idOf(runId: string, index: number): string {
  const hex = createHash('md5').update(`${runId}:${index}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** An SQS batch (the standard queue's, or the FIFO queue's with `groupOf`): bodies from `bodyOf(index)`. */
function sqsBatch(
  count: number,
  runId: string,
  queueName: string,
  bodyOf: (index: number) => { body: string; messageGroupId?: string },
): SQSEvent {
  const sent = String(EPOCH_MS);
  return {
    Records: Array.from({ length: count }, (_, index) => {
      const messageId = idOf(`m-${runId}`, index);
      const { body, messageGroupId } = bodyOf(index);
      return {
        messageId,
        receiptHandle: `AQEB${Buffer.from(`${runId}/${index}`).toString('base64')}`,
        body,
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: sent,
          SenderId: 'AIDAIENQZJOLO23YVJ4VO',
          ApproximateFirstReceiveTimestamp: sent,
          ...(messageGroupId !== undefined && {
            MessageGroupId: messageGroupId,
            MessageDeduplicationId: messageId,
            SequenceNumber: (10n ** 19n + BigInt(index)).toString(),
          }),
        },
        messageAttributes: {},
        md5OfBody: '7b270e59b47ff90a553787216d55d91d',
        eventSource: 'aws:sqs',
        eventSourceARN: `arn:aws:sqs:${REGION}:${ACCOUNT}:${queueName}`,
        awsRegion: REGION,
      };
    }),
  };
}

export function sqsEvent(count: number, runId: string, options: BatchOptions = {}): SQSEvent {
  const groups = options.groups ?? 97;
  return sqsBatch(count, runId, 'reliable-lambda-bench-queue', (index) => ({
    body:
      invalidBody(index, count, `${runId}-${index}`, sqsDomain.examples.invalid, options) ??
      JSON.stringify(
        sqsDomain.examples.valid(`${runId}-${index}`, { group: 1 + (index % groups), variant: index }),
      ),
  }));
}

/**
 * An SQS FIFO batch: `groups` message groups interleaved, each group's messages in their order (variant 0, 1, 2…
 * within a group); an invalid message is sent with the group of its valid counterpart.
 */
export function fifoEvent(count: number, runId: string, options: BatchOptions = {}): SQSEvent {
  const groups = options.groups ?? 10;
  return sqsBatch(count, runId, 'reliable-lambda-bench-queue.fifo', (index) => {
    const id = `${runId}-${index}`;
    const message = fifoDomain.examples.valid(id, {
      group: 1 + (index % groups),
      variant: Math.floor(index / groups),
    });
    return {
      body: invalidBody(index, count, id, fifoDomain.examples.invalid, options) ?? JSON.stringify(message),
      messageGroupId: fifoDomain.domain.messageGroupId(message),
    };
  });
}

/** Lambda's SNS event for `count` object-created notifications (typed loosely: the handler validates it). */
export function objectEvent(
  count: number,
  runId: string,
  options: BatchOptions = {},
): { Records: Record<string, unknown>[] } {
  const bucket = 'reliable-lambda-bench-bucket';
  const topicArn = `arn:aws:sns:${REGION}:${ACCOUNT}:reliable-lambda-bench-ObjectCreatedTopic`;
  const groups = options.groups ?? 10;
  return {
    Records: Array.from({ length: count }, (_, index) => {
      const time = new Date(EPOCH_MS + index).toISOString();
      const foreign = invalidBody(index, count, `${runId}-${index}`, objectDomain.examples.invalid, options);
      if (foreign !== undefined) {
        return snsEventRecord({
          topicArn,
          messageId: idOf(`sns-${runId}`, index),
          message: foreign,
          timestamp: time,
        });
      }
      const object = objectDomain.examples.valid(`${runId}-${index}`, {
        group: 1 + (index % groups),
        variant: index,
      });
      const notification = {
        Records: [
          s3ObjectCreatedRecord({
            bucket,
            key: encodeS3ObjectKey(object.key),
            size: object.size ?? 0,
            versionId: `v.${Buffer.from(`${runId}-${index}`).toString('base64url')}`,
            sequencer: (0x0065a4f1c3e2d1b0n + BigInt(index)).toString(16).toUpperCase().padStart(18, '0'),
            region: REGION,
            eventTime: time,
          }),
        ],
      };
      return snsEventRecord({
        topicArn,
        messageId: idOf(`sns-${runId}`, index),
        message: JSON.stringify(notification),
        timestamp: time,
      });
    }),
  };
}

const SEQUENCE_BASE = 49_590_338_271_490_256_608_559_692_538_361_571_095_921_575_989_136_588_800n;

export function streamEvent(count: number, runId: string, options: BatchOptions = {}): KinesisStreamEvent {
  const shardId = 'shardId-000000000000';
  const groups = options.groups ?? 10;
  return {
    Records: Array.from({ length: count }, (_, index) => {
      const id = idOf(`r-${runId}`, index);
      const message = streamDomain.examples.valid(id, { group: 1 + (index % groups), variant: index });
      const data =
        invalidBody(index, count, id, streamDomain.examples.invalid, options) ?? JSON.stringify(message);
      const sequenceNumber = (SEQUENCE_BASE + BigInt(index) * 1_000n).toString();
      return {
        kinesis: {
          kinesisSchemaVersion: '1.0',
          // An invalid record is written under the key its valid counterpart would have: the producer's key.
          partitionKey: streamDomain.domain.partitionKey(message),
          sequenceNumber,
          data: Buffer.from(data).toString('base64'),
          approximateArrivalTimestamp: EPOCH_MS / 1000 + index,
        },
        eventSource: 'aws:kinesis',
        eventVersion: '1.0',
        eventID: `${shardId}:${sequenceNumber}`,
        eventName: 'aws:kinesis:record',
        invokeIdentityArn: `arn:aws:iam::${ACCOUNT}:role/reliable-lambda-bench-stream-consumer`,
        awsRegion: REGION,
        eventSourceARN: `arn:aws:kinesis:${REGION}:${ACCOUNT}:stream/reliable-lambda-bench-readings`,
      };
    }),
  };
}

/** An item's key attributes from the domain's item key (`name=value` joined by `&`, as the handler writes it). */
function keysOfItemKey(itemKey: string): Record<string, string> {
  return Object.fromEntries(
    itemKey.split('&').map((pair) => {
      const at = pair.indexOf('=');
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
}

export function tableStreamEvent(
  count: number,
  runId: string,
  options: BatchOptions = {},
): DynamoDBStreamEvent {
  const groups = options.groups ?? 10;
  const streamArn = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/reliable-lambda-bench-stock/stream/2026-01-15T10:00:00.000`;
  return {
    Records: Array.from({ length: count }, (_, index) => {
      const id = idOf(`c-${runId}`, index);
      const change = tableStreamDomain.examples.valid(id, {
        group: 1 + (index % groups),
        variant: Math.floor(index / groups),
      });
      const keys = keysOfItemKey(change.itemKey);
      const invalid = invalidBody(index, count, id, tableStreamDomain.examples.invalid, options);
      let newImage: Record<string, unknown> | undefined = change.newItem;
      if (invalid !== undefined) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(invalid);
        } catch {
          parsed = undefined;
        }
        newImage =
          typeof parsed === 'object' && parsed !== null
            ? { ...(parsed as object), ...keys }
            : { ...keys, invalid };
      }
      return dynamoDbStreamRecord({
        eventId: id.replace(/-/g, ''),
        eventName: change.eventName,
        keys,
        ...(newImage !== undefined && { newImage }),
        ...(change.oldItem !== undefined && { oldImage: change.oldItem }),
        sequenceNumber: (10n ** 26n + BigInt(index) * 100n).toString(),
        streamArn,
        approximateCreationDateTime: EPOCH_MS / 1000 + index,
      });
    }),
  } as unknown as DynamoDBStreamEvent;
}

export function eventOf(kind: EventKind, count: number, runId: string, options: BatchOptions = {}): unknown {
  switch (kind) {
    case 'sqs':
      return sqsEvent(count, runId, options);
    case 'fifo':
      return fifoEvent(count, runId, options);
    case 'object':
      return objectEvent(count, runId, options);
    case 'stream':
      return streamEvent(count, runId, options);
    case 'table-stream':
      return tableStreamEvent(count, runId, options);
  }
}

/**
 * `npm run invoke`'s sample event of a path when no event file is given: four records in two groups, the last one
 * invalid, with fixed ids, so `--times 2` shows the second invocation answered from the idempotency store.
 */
export function sampleEvent(kind: EventKind): unknown {
  return eventOf(kind, kind === 'object' ? 2 : 4, 'sample', { invalid: 1, groups: 2 });
}
