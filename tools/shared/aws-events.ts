/**
 * Records of events, shaped as AWS writes them: an S3 event notification record, the SNS record of Lambda's SNS
 * event that carries it, and a DynamoDB Streams record. Shared by the handler tests, the local simulator and the
 * benchmark, so all three feed the handler the same shape.
 */
import { marshall } from '@aws-sdk/util-dynamodb';

export interface S3ObjectCreatedRecordOptions {
  readonly bucket: string;
  /** @default `arn:aws:s3:::<bucket>` */
  readonly bucketArn?: string;
  /** The key as S3 writes it in a notification: URL-encoded like an HTML form (a space is `+`). */
  readonly key: string;
  readonly size: number;
  /** @default the MD5 of an empty object */
  readonly eTag?: string;
  /** Present for a versioned bucket. */
  readonly versionId?: string;
  readonly sequencer?: string;
  readonly region: string;
  /** ISO 8601. */
  readonly eventTime: string;
  /** @default 'ObjectCreated:Put' */
  readonly eventName?: string;
  /** @default a fixed example id */
  readonly requestId?: string;
  /** @default a fixed example id */
  readonly hostId?: string;
}

/**
 * An object key as S3 writes it into event notifications: URL-encoded like an HTML form, so a space is `+` (and a
 * real `+` is `%2B`); slashes stay. The inverse of the handler's `decodeS3ObjectKey`.
 */
export function encodeS3ObjectKey(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');
}

/** One record of an S3 event notification (`{ Records: [...] }`). */
export function s3ObjectCreatedRecord(options: S3ObjectCreatedRecordOptions): Record<string, unknown> {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: options.region,
    eventTime: options.eventTime,
    eventName: options.eventName ?? 'ObjectCreated:Put',
    userIdentity: { principalId: 'AWS:AIDAEXAMPLE' },
    requestParameters: { sourceIPAddress: '203.0.113.10' },
    responseElements: {
      'x-amz-request-id': options.requestId ?? 'C3D13FE58DE4C810',
      'x-amz-id-2': options.hostId ?? 'FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD',
    },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'object-created',
      bucket: {
        name: options.bucket,
        ownerIdentity: { principalId: 'A3NL1KOZZKEXAMPLE' },
        arn: options.bucketArn ?? `arn:aws:s3:::${options.bucket}`,
      },
      object: {
        key: options.key,
        size: options.size,
        eTag: options.eTag ?? 'd41d8cd98f00b204e9800998ecf8427e',
        ...(options.versionId !== undefined && { versionId: options.versionId }),
        ...(options.sequencer !== undefined && { sequencer: options.sequencer }),
      },
    },
  };
}

export interface SnsEventRecordOptions {
  readonly topicArn: string;
  readonly messageId: string;
  readonly message: string;
  /** ISO 8601. */
  readonly timestamp: string;
  /** @default 'Amazon S3 Notification' */
  readonly subject?: string;
}

/** One record of Lambda's SNS event (what an SNS subscription invokes the function with). */
export function snsEventRecord(options: SnsEventRecordOptions): Record<string, unknown> {
  const region = options.topicArn.split(':')[3] ?? 'us-east-1';
  const subscriptionArn = `${options.topicArn}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55`;
  const host = `https://sns.${region}.amazonaws.com`;
  return {
    EventSource: 'aws:sns',
    EventVersion: '1.0',
    EventSubscriptionArn: subscriptionArn,
    Sns: {
      Type: 'Notification',
      MessageId: options.messageId,
      TopicArn: options.topicArn,
      Subject: options.subject ?? 'Amazon S3 Notification',
      Message: options.message,
      Timestamp: options.timestamp,
      SignatureVersion: '1',
      Signature: 'EXAMPLE',
      SigningCertUrl: `${host}/SimpleNotificationService-0000000000000000000000.pem`,
      UnsubscribeUrl: `${host}/?Action=Unsubscribe&SubscriptionArn=${subscriptionArn}`,
      MessageAttributes: {},
    },
  };
}

export interface DynamoDbStreamRecordOptions {
  /** `eventID`: unique per change. */
  readonly eventId: string;
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  /** The item's key attributes, plain values (marshalled here). */
  readonly keys: Record<string, unknown>;
  /** Plain values (marshalled here); a string is put in as it is, already DynamoDB JSON or not. */
  readonly newImage?: Record<string, unknown>;
  readonly oldImage?: Record<string, unknown>;
  readonly sequenceNumber: string;
  readonly streamArn: string;
  /** Epoch seconds. */
  readonly approximateCreationDateTime: number;
  /** A deletion by DynamoDB's time to live carries the DynamoDB service as its identity. */
  readonly byTimeToLive?: boolean;
}

/** One record of Lambda's DynamoDB Streams event (view type NEW_AND_OLD_IMAGES), images in DynamoDB JSON. */
export function dynamoDbStreamRecord(options: DynamoDbStreamRecordOptions): Record<string, unknown> {
  const marshalled = (value: Record<string, unknown>) => marshall(value, { removeUndefinedValues: true });
  const region = options.streamArn.split(':')[3] ?? 'us-east-1';
  return {
    eventID: options.eventId,
    eventName: options.eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: region,
    dynamodb: {
      ApproximateCreationDateTime: options.approximateCreationDateTime,
      Keys: marshalled(options.keys),
      ...(options.newImage !== undefined && { NewImage: marshalled(options.newImage) }),
      ...(options.oldImage !== undefined && { OldImage: marshalled(options.oldImage) }),
      SequenceNumber: options.sequenceNumber,
      SizeBytes: 256,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
    ...(options.byTimeToLive && { userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' } }),
    eventSourceARN: options.streamArn,
  };
}
