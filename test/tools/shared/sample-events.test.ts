/**
 * The benchmark's events must be valid for each handler's schema, or the bench would measure the failure path.
 */
import { eventOf, idOf, sampleEvent } from '../../../tools/shared/sample-events';
import {
  parseObjectNotification,
  parseSnsEvent,
  toCreatedObject,
} from '../../../lambda/object-consumer/object';
import { parseBase64JsonPayload, parseJsonPayload } from '../../../lambda/shared/parsing';
import * as fifo from '../../../lambda/fifo-consumer/domain';
import * as sqs from '../../../lambda/sqs-consumer/domain';
import * as stream from '../../../lambda/stream-consumer/domain';
import { changeOf } from '../../../lambda/table-stream-consumer/handler';
import type { DynamoDBStreamEvent, KinesisStreamEvent, SQSEvent } from 'aws-lambda';

describe('bench events', () => {
  it('SQS: every body is a valid message with its own idempotency key', () => {
    const event = eventOf('sqs', 25, 'run-1') as SQSEvent;
    const messages = event.Records.map((record) => parseJsonPayload(record.body, sqs.domain.schema));
    expect(new Set(messages.map(sqs.domain.idempotencyKey)).size).toBe(25);
    expect(new Set(event.Records.map((record) => record.messageId)).size).toBe(25);
  });

  it('FIFO: valid messages sent with their own group, each group in its order', () => {
    const event = eventOf('fifo', 30, 'run-1', { groups: 3 }) as SQSEvent;
    const messages = event.Records.map((record) => {
      const message = parseJsonPayload(record.body, fifo.domain.schema);
      expect(record.attributes.MessageGroupId).toBe(fifo.domain.messageGroupId(message));
      return message;
    });
    expect(new Set(messages.map(fifo.domain.idempotencyKey)).size).toBe(30);
    expect(new Set(event.Records.map((record) => record.attributes.MessageGroupId)).size).toBe(3);
    const firstGroup = messages.filter(
      (m) => fifo.domain.messageGroupId(m) === fifo.domain.messageGroupId(messages[0]),
    );
    expect(firstGroup.map((m) => m.sequence)).toEqual(firstGroup.map((_, i) => i + 1));
  });

  it('a sample event ends with an invalid record, sent with a group on the FIFO path', () => {
    const event = sampleEvent('fifo') as SQSEvent;
    const last = event.Records.at(-1)!;
    expect(() => parseJsonPayload(last.body, fifo.domain.schema)).toThrow();
    expect(last.attributes.MessageGroupId).toEqual(expect.any(String));
  });

  it('object: a valid SNS event whose messages are S3 notifications of distinct object versions', () => {
    const event = parseSnsEvent(eventOf('object', 5, 'run-1'));
    const keys = event.Records.map((record) => {
      const notification = parseObjectNotification(record.Sns.Message);
      if (notification.kind !== 'objects') throw new Error('expected an S3 event notification');
      return toCreatedObject(notification.records[0]).objectVersionKey;
    });
    expect(new Set(keys).size).toBe(5);
  });

  it("stream: every record is a valid message under the domain's partition key, with its own idempotency key", () => {
    const event = eventOf('stream', 30, 'run-1') as KinesisStreamEvent;
    const messages = event.Records.map((record) => {
      const message = parseBase64JsonPayload(record.kinesis.data, stream.domain.schema);
      expect(record.kinesis.partitionKey).toBe(stream.domain.partitionKey(message));
      return message;
    });
    expect(new Set(messages.map(stream.domain.idempotencyKey)).size).toBe(30);
    expect(new Set(event.Records.map((record) => record.kinesis.partitionKey)).size).toBe(10);
    const sequence = event.Records.map((record) => BigInt(record.kinesis.sequenceNumber));
    expect(sequence).toEqual([...sequence].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  });

  it("table stream: every record is a valid change in AWS's shape, each item's changes in order with its old image", () => {
    const event = eventOf('table-stream', 30, 'run-1') as DynamoDBStreamEvent;
    const changes = event.Records.map((record) => changeOf(record));
    expect(new Set(changes.map((c) => c.eventId)).size).toBe(30);
    expect(new Set(changes.map((c) => c.itemKey)).size).toBe(10);
    const [first] = changes;
    const ofFirst = changes.filter((c) => c.itemKey === first.itemKey);
    expect(ofFirst.map((c) => c.eventName)).toEqual(['INSERT', 'MODIFY', 'MODIFY']);
    expect(ofFirst[1].oldItem).toEqual(ofFirst[0].newItem);
    const sequence = event.Records.map((record) => BigInt(record.dynamodb!.SequenceNumber!));
    expect(sequence).toEqual([...sequence].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  });

  it('a sample event ends with an invalid change under its item key on the table stream', () => {
    const event = sampleEvent('table-stream') as DynamoDBStreamEvent;
    const last = event.Records.at(-1)!;
    expect(() => changeOf(last)).toThrow();
    // Four records over two items: the last is the second item's, as the second record is.
    expect(last.dynamodb!.Keys).toEqual(event.Records[1].dynamodb!.Keys);
  });

  it('never repeats an id across runs', () => {
    expect(idOf('run-1', 1)).not.toBe(idOf('run-2', 1));
    expect(idOf('run-1', 1)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
