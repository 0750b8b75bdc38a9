/**
 * Events as Lambda delivers them on the object path (an SNS event whose Message is an S3 event notification),
 * a Lambda context, and (from ../shared/log-capture.ts) a capture of the structured log lines a handler writes.
 */
import { s3ObjectCreatedRecord, snsEventRecord } from '../../../tools/shared/aws-events';
import { createLambdaContext } from '../../../tools/shared/lambda-context';
import type { Context } from 'aws-lambda';

export const BUCKET = 'reliable-lambda-sandbox-object-bucket';
export const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:ObjectCreatedTopic';

export interface S3ObjectFields {
  readonly key: string;
  readonly versionId?: string;
  readonly sequencer?: string;
  readonly size?: number;
  readonly bucket?: string;
  readonly eventName?: string;
}

/** One S3 event record as S3 writes it (the key URL-encoded). */
export function s3Record(object: S3ObjectFields): Record<string, unknown> {
  return s3ObjectCreatedRecord({
    bucket: object.bucket ?? BUCKET,
    key: object.key,
    size: object.size ?? 1024,
    versionId: object.versionId,
    sequencer: object.sequencer,
    region: 'eu-west-1',
    eventTime: '2026-01-15T10:00:00.000Z',
    eventName: object.eventName,
  });
}

/** An S3 event notification (what S3 publishes to the topic) for the given objects. */
export function s3Notification(...objects: S3ObjectFields[]): string {
  return JSON.stringify({ Records: objects.map(s3Record) });
}

/** The message S3 sends when a notification configuration is created. */
export const S3_TEST_EVENT_MESSAGE = JSON.stringify({
  Service: 'Amazon S3',
  Event: 's3:TestEvent',
  Time: '2026-01-15T09:59:00.000Z',
  Bucket: BUCKET,
  RequestId: '5582815E1AEA5ADF',
  HostId: '8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE',
});

/** One SNS record of Lambda's SNS event. */
export function snsRecord(message: string, messageId: string): Record<string, unknown> {
  return snsEventRecord({ topicArn: TOPIC_ARN, messageId, message, timestamp: '2026-01-15T10:00:00.100Z' });
}

/** Lambda's SNS event: one record per message (SNS sends exactly one; the handler accepts several). */
export function snsEvent(...records: { message: string; messageId: string }[]): Record<string, unknown> {
  return { Records: records.map(({ message, messageId }) => snsRecord(message, messageId)) };
}

/** A Lambda context with `remainingMs` left (it bounds in-progress idempotency records). */
export function lambdaContext(remainingMs = 30_000): Context {
  return createLambdaContext({
    functionName: 'reliable-lambda-test-object-consumer',
    timeoutMs: remainingMs,
  });
}

// The log capture lives with the other shared test helpers; re-exported for this path's tests.
export { captureLogs, type LogCapture } from '../shared/log-capture';
