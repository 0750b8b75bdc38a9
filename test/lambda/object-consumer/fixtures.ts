/**
 * Events as Lambda delivers them on the object path (an SNS event whose Message is an S3 event notification),
 * a Lambda context, and (from ../shared/log-capture.ts) a capture of the structured log lines a handler writes.
 * The objects in them can be the domain's examples (`notifiedObject`), and what the handler makes of a
 * notification is read with the path's own parsing (`createdObjectsOf`), so tests derive their expectations from
 * whatever domain a fork puts in `domain.ts`.
 */
import {
  type CreatedObject,
  parseObjectNotification,
  toCreatedObject,
} from '../../../lambda/object-consumer/object';
import { encodeS3ObjectKey, s3ObjectCreatedRecord, snsEventRecord } from '../../../tools/shared/aws-events';
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
  /** @default '2026-01-15T10:00:00.000Z' */
  readonly eventTime?: string;
  readonly eTag?: string;
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
    eventTime: object.eventTime ?? '2026-01-15T10:00:00.000Z',
    eventName: object.eventName,
    eTag: object.eTag,
  });
}

/**
 * How S3 notifies the creation of `object` (an example of the domain): its bucket, key (encoded), size, eTag,
 * event name and time, and the version given: a version id (a versioned bucket) and/or a sequencer.
 */
export function notifiedObject(
  object: CreatedObject,
  version: { readonly versionId?: string; readonly sequencer?: string },
): S3ObjectFields {
  return {
    bucket: object.bucket,
    key: encodeS3ObjectKey(object.key),
    size: object.size,
    eventName: object.eventName,
    eventTime: object.eventTime,
    eTag: object.eTag,
    ...version,
  };
}

/** The objects of an S3 event notification as the handler hands them to the plan (the path's own parsing). */
export function createdObjectsOf(message: string): CreatedObject[] {
  const notification = parseObjectNotification(message);
  if (notification.kind !== 'objects') throw new Error('the S3 test event describes no object');
  return notification.records.map(toCreatedObject);
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
