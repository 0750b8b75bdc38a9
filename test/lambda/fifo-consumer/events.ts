/**
 * SQS FIFO records as Lambda's event source mapping delivers them: an SQS record (../sqs-consumer/events.ts) with
 * the FIFO attributes (message group, sequence number, deduplication id).
 */
import type { SQSRecord } from 'aws-lambda';
import { sqsRecord, type RecordOptions } from '../sqs-consumer/events';

export { lambdaContext, sqsEvent } from '../sqs-consumer/events';

let sequence = 10_000_000_000_000_000_000n;

/** A FIFO record of `body` sent with `messageGroupId`; sequence numbers grow in the order records are built. */
export function fifoRecord(body: unknown, messageGroupId: string, options: RecordOptions = {}): SQSRecord {
  const record = sqsRecord(body, options);
  sequence += 1n;
  return {
    ...record,
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:reliable-lambda-test-queue.fifo',
    attributes: {
      ...record.attributes,
      MessageGroupId: messageGroupId,
      SequenceNumber: sequence.toString(),
      MessageDeduplicationId: record.messageId,
    },
  };
}

/** The same record delivered again: a higher receive count, a new receipt handle. */
export function redeliveredFifo(record: SQSRecord): SQSRecord {
  const again = fifoRecord(record.body, record.attributes.MessageGroupId!, {
    messageId: record.messageId,
    receiveCount: Number(record.attributes.ApproximateReceiveCount) + 1,
  });
  return { ...again, attributes: { ...again.attributes, SequenceNumber: record.attributes.SequenceNumber! } };
}
