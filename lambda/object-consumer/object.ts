/**
 * The object path's record logic as plain functions: the two layers of the event (the SNS notification, and
 * the S3 event notification inside its `Message`), object-key decoding, the idempotency key of an object
 * version, and what processing an object version does (its plan: response and effect, as data). No AWS calls
 * here; `handler.ts` wires these to Powertools.
 */
// zod/mini, the tree-shakable build of zod. Powertools' parser schemas (`@aws-lambda-powertools/parser/schemas/
// sns|s3`) import `{ z }`, which pulls all of zod with every locale: measured on the build machine, writing the
// two schemas here took the bundle from ≈518 KB to ≈165 KB and its module load (cold-start init) from ≈200 ms to
// ≈140 ms; writing them with zod/mini instead of classic zod took it to ≈98 KB and ≈15 ms less init again
// (`npm run bench`, docs/performance.md). They mirror Powertools' field for field (a test checks that every
// fixture Powertools accepts is accepted here too), with the deviations noted on each.
import * as z from 'zod/mini';
import { InvalidPayloadError, parseJsonPayload, validatePayload } from '../shared/parsing';

/** One SNS notification as Lambda delivers it (Powertools' `SnsNotificationSchema`). */
export const SnsNotificationSchema = z.object({
  Type: z.literal('Notification'),
  MessageId: z.string().check(z.minLength(1)),
  TopicArn: z.string(),
  Subject: z.nullish(z.string()),
  /** The S3 event notification, as JSON text: parsed by {@link parseObjectNotification}. */
  Message: z.string(),
  Timestamp: z.iso.datetime(),
  SignatureVersion: z.optional(z.string()),
  Signature: z.optional(z.string()),
  SigningCertUrl: z.optional(z.url()),
  UnsubscribeUrl: z.url(),
  MessageAttributes: z.optional(z.record(z.string(), z.object({ Type: z.string(), Value: z.string() }))),
});

/** The outer layer: Lambda's SNS event (Powertools' `SnsSchema`). `Message` is still a string here. */
export const SnsEventSchema = z.object({
  Records: z
    .array(
      z.object({
        EventSource: z.literal('aws:sns'),
        EventVersion: z.string(),
        EventSubscriptionArn: z.string(),
        Sns: SnsNotificationSchema,
      }),
    )
    .check(z.minLength(1)),
});
export type SnsEvent = z.output<typeof SnsEventSchema>;

const S3IdentitySchema = z.object({ principalId: z.string() });

/**
 * One S3 event record (Powertools' S3 record schema), with two deviations:
 * - only object-created events are accepted (that is all the bucket notification sends; anything else on the
 *   topic was published by someone else and needs a person, not a retry);
 * - `sourceIPAddress` is any string: S3 reports IPv6 client addresses too, which Powertools' IPv4-only schema
 *   rejects.
 */
export const S3EventRecordSchema = z.object({
  eventVersion: z.string(),
  eventSource: z.literal('aws:s3'),
  awsRegion: z.string(),
  eventTime: z.iso.datetime(),
  eventName: z.string().check(z.startsWith('ObjectCreated:', 'is not an ObjectCreated:* event')),
  userIdentity: S3IdentitySchema,
  requestParameters: z.object({ sourceIPAddress: z.string() }),
  responseElements: z.object({ 'x-amz-request-id': z.string(), 'x-amz-id-2': z.string() }),
  s3: z.object({
    s3SchemaVersion: z.string(),
    configurationId: z.string(),
    bucket: z.object({
      name: z.string().check(z.minLength(1)),
      ownerIdentity: S3IdentitySchema,
      arn: z.string(),
    }),
    object: z.object({
      key: z.string().check(z.minLength(1)),
      size: z.optional(z.number()),
      eTag: z.optional(z.string()),
      versionId: z.optional(z.string()),
      sequencer: z.optional(z.string()),
    }),
  }),
});
export type S3EventRecord = z.output<typeof S3EventRecordSchema>;

/** The S3 event notification that S3 publishes as the SNS `Message`. */
export const S3EventNotificationSchema = z.object({
  Records: z.array(S3EventRecordSchema).check(z.minLength(1)),
});

/**
 * The message S3 sends once when a notification configuration is created or changed, to check the
 * destination. It describes no object and is ignored.
 */
export const S3TestEventSchema = z.object({
  Service: z.literal('Amazon S3'),
  Event: z.literal('s3:TestEvent'),
  Bucket: z.string(),
  Time: z.optional(z.string()),
  RequestId: z.optional(z.string()),
  HostId: z.optional(z.string()),
});
export type S3TestEvent = z.output<typeof S3TestEventSchema>;

/** What an SNS `Message` turned out to be. */
export type ObjectNotification =
  | { readonly kind: 'test'; readonly event: S3TestEvent }
  | { readonly kind: 'objects'; readonly records: readonly S3EventRecord[] };

/** Validates Lambda's SNS event (the outer layer). Throws {@link InvalidPayloadError}. */
export function parseSnsEvent(event: unknown): SnsEvent {
  return validatePayload(event, SnsEventSchema);
}

/**
 * Parses one SNS `Message`: JSON, then either the S3 test event or an S3 event notification.
 * Throws {@link InvalidPayloadError} naming what is wrong.
 */
export function parseObjectNotification(message: string): ObjectNotification {
  const json = parseJsonPayload(message, z.unknown());
  const test = S3TestEventSchema.safeParse(json);
  if (test.success) return { kind: 'test', event: test.data };
  return { kind: 'objects', records: validatePayload(json, S3EventNotificationSchema).Records };
}

/**
 * Decodes an object key as S3 writes it into event notifications: URL-encoded as in an HTML form, so `+` is a
 * space (a real `+` arrives as `%2B`), then percent-decoding (UTF-8). `a+b%2Fc%C3%A9.txt` is `a b/cé.txt`.
 */
export function decodeS3ObjectKey(encodedKey: string): string {
  try {
    return decodeURIComponent(encodedKey.replace(/\+/g, ' '));
  } catch (error) {
    throw new InvalidPayloadError(
      `object key "${encodedKey}" is not valid URL encoding: ${(error as Error).message}`,
    );
  }
}

/** What identifies one version of one object. */
export interface ObjectVersionIdentity {
  readonly bucket: string;
  /** The decoded key. */
  readonly key: string;
  /** The version id; absent (or the string `null`) when the bucket was not versioned at upload time. */
  readonly versionId?: string;
  /** S3's per-key event order, present on every object-created event; the fallback identity. */
  readonly sequencer?: string;
}

/**
 * The idempotency key of an object version, as an S3 URI with the key percent-encoded (so no key can be
 * mistaken for another key plus a version): `s3://bucket/a%20b/c%C3%A9.txt?versionId=…`. The version id
 * identifies the upload in a versioned bucket; without one (versioning off or suspended, when S3 reports the
 * version id as `null`), the sequencer, which S3 sets per event and which a duplicate notification repeats.
 */
export function objectVersionKeyOf(identity: ObjectVersionIdentity): string {
  const uri = `s3://${identity.bucket}/${encodeURIComponent(identity.key).replace(/%2F/g, '/')}`;
  if (identity.versionId && identity.versionId !== 'null') {
    return `${uri}?versionId=${encodeURIComponent(identity.versionId)}`;
  }
  if (identity.sequencer) return `${uri}?sequencer=${encodeURIComponent(identity.sequencer)}`;
  throw new InvalidPayloadError(
    `object s3://${identity.bucket}/${identity.key} has neither a versionId nor a sequencer: its version cannot be identified.`,
  );
}

/** One created object version: the argument of the idempotent business action (JSON-serialisable). */
export interface CreatedObject extends ObjectVersionIdentity {
  /**
   * The idempotency key ({@link objectVersionKeyOf}): one record per object version, whatever notification (or
   * retry) delivered it. The handler passes it to Powertools as the value to hash.
   */
  readonly objectVersionKey: string;
  /** `ObjectCreated:Put`, `ObjectCreated:CompleteMultipartUpload`... */
  readonly eventName: string;
  readonly eventTime: string;
  /** Size in bytes. */
  readonly size?: number;
  readonly eTag?: string;
}

/** Turns an S3 event record into the {@link CreatedObject} the business action receives. */
export function toCreatedObject(record: S3EventRecord): CreatedObject {
  const { bucket, object } = record.s3;
  const identity: ObjectVersionIdentity = {
    bucket: bucket.name,
    key: decodeS3ObjectKey(object.key),
    ...(object.versionId !== undefined && { versionId: object.versionId }),
    ...(object.sequencer !== undefined && { sequencer: object.sequencer }),
  };
  return {
    ...identity,
    objectVersionKey: objectVersionKeyOf(identity),
    eventName: record.eventName,
    eventTime: record.eventTime,
    ...(object.size !== undefined && { size: object.size }),
    ...(object.eTag !== undefined && { eTag: object.eTag }),
  };
}
