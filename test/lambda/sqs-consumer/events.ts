/**
 * Typed builders for the SQS consumer's tests: SQS records and events shaped like the ones the Lambda event source
 * mapping delivers, and a Lambda context. The bodies come from the path's domain module (its `examples`).
 */
import { createLambdaContext } from '../../../tools/shared/lambda-context';
import { randomUUID } from 'node:crypto';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';

export const QUEUE_ARN = 'arn:aws:sqs:us-east-1:123456789012:reliable-lambda-test-queue';

export interface RecordOptions {
  /** Defaults to a fresh UUID, as SQS assigns one per sent message. */
  readonly messageId?: string;
  /** `attributes.ApproximateReceiveCount`. @default 1 */
  readonly receiveCount?: number;
}

/** An SQS record whose body is `body` (objects are JSON-encoded, strings sent as they are). */
export function sqsRecord(body: unknown, options: RecordOptions = {}): SQSRecord {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const now = String(Date.now());
  return {
    messageId: options.messageId ?? randomUUID(),
    receiptHandle: `receipt-${randomUUID()}`,
    body: text,
    attributes: {
      ApproximateReceiveCount: String(options.receiveCount ?? 1),
      SentTimestamp: now,
      SenderId: 'AIDAEXAMPLE',
      ApproximateFirstReceiveTimestamp: now,
    },
    messageAttributes: {},
    md5OfBody: 'not-checked-by-the-handler',
    eventSource: 'aws:sqs',
    eventSourceARN: QUEUE_ARN,
    awsRegion: 'us-east-1',
  };
}

/** A record re-delivered: same message id and body, a higher receive count, a new receipt handle. */
export function redelivered(
  record: SQSRecord,
  receiveCount = Number(record.attributes.ApproximateReceiveCount) + 1,
): SQSRecord {
  return sqsRecord(record.body, { messageId: record.messageId, receiveCount });
}

export function sqsEvent(...records: SQSRecord[]): SQSEvent {
  return { Records: records };
}

/** A Lambda context with `remainingMillis` left (it bounds in-progress idempotency records). */
export function lambdaContext(remainingMillis = 30_000): Context {
  return createLambdaContext({
    functionName: 'reliable-lambda-test-sqs-consumer',
    timeoutMs: remainingMillis,
  });
}

/** A Lambda context whose remaining time stays at `remainingMillis` (for deadline tests: no clock involved). */
export function lambdaContextWithRemaining(remainingMillis: number): Context {
  return { ...lambdaContext(), getRemainingTimeInMillis: () => remainingMillis };
}
