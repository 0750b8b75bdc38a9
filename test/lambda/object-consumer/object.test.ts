import { S3Schema } from '@aws-lambda-powertools/parser/schemas/s3';
import { SnsSchema } from '@aws-lambda-powertools/parser/schemas/sns';
import { InvalidPayloadError } from '../../../lambda/shared/parsing';
import {
  decodeS3ObjectKey,
  objectVersionKeyOf,
  parseObjectNotification,
  parseSnsEvent,
  S3EventNotificationSchema,
  SnsEventSchema,
  toCreatedObject,
} from '../../../lambda/object-consumer/object';
import { BUCKET, S3_TEST_EVENT_MESSAGE, s3Notification, s3Record, snsEvent } from './fixtures';

describe('decodeS3ObjectKey', () => {
  it.each([
    ['a+b%2Fc%C3%A9.txt', 'a b/cé.txt'],
    ['plain/key.csv', 'plain/key.csv'],
    ['a%2Bb.txt', 'a+b.txt'],
    ['100%25+done', '100% done'],
    ['%E6%97%A5%E6%9C%AC.png', '日本.png'],
  ])('decodes %s as %s (+ is a space, then percent-decoding)', (encoded, decoded) => {
    expect(decodeS3ObjectKey(encoded)).toBe(decoded);
  });

  it('rejects malformed percent-encoding with an InvalidPayloadError naming the key', () => {
    expect(() => decodeS3ObjectKey('bad%E9key')).toThrow(InvalidPayloadError);
    expect(() => decodeS3ObjectKey('bad%E9key')).toThrow(/object key "bad%E9key" is not valid URL encoding/);
  });
});

describe('objectVersionKeyOf', () => {
  it('identifies a version by bucket, key and version id, as an S3 URI with the key percent-encoded', () => {
    expect(objectVersionKeyOf({ bucket: 'b', key: 'a b/cé.txt', versionId: 'v1', sequencer: 's1' })).toBe(
      's3://b/a%20b/c%C3%A9.txt?versionId=v1',
    );
  });

  it('falls back to the sequencer when there is no version id, or S3 reports it as "null"', () => {
    expect(objectVersionKeyOf({ bucket: 'b', key: 'k', sequencer: '0055AED6DCD90281E5' })).toBe(
      's3://b/k?sequencer=0055AED6DCD90281E5',
    );
    expect(objectVersionKeyOf({ bucket: 'b', key: 'k', versionId: 'null', sequencer: '01' })).toBe(
      's3://b/k?sequencer=01',
    );
  });

  it('cannot be confused by keys that look like a version suffix', () => {
    const tricky = objectVersionKeyOf({ bucket: 'b', key: 'k?versionId=v1', sequencer: '01' });
    const plain = objectVersionKeyOf({ bucket: 'b', key: 'k', versionId: 'v1' });
    expect(tricky).not.toBe(plain);
  });

  it('differs between versions of one key, and between keys', () => {
    const keys = new Set([
      objectVersionKeyOf({ bucket: 'b', key: 'k', versionId: 'v1' }),
      objectVersionKeyOf({ bucket: 'b', key: 'k', versionId: 'v2' }),
      objectVersionKeyOf({ bucket: 'b', key: 'k2', versionId: 'v1' }),
      objectVersionKeyOf({ bucket: 'b2', key: 'k', versionId: 'v1' }),
    ]);
    expect(keys.size).toBe(4);
  });

  it('rejects an object without version id or sequencer', () => {
    expect(() => objectVersionKeyOf({ bucket: 'b', key: 'k' })).toThrow(
      /s3:\/\/b\/k has neither a versionId nor a sequencer/,
    );
  });
});

describe('schemas, compared with Powertools’ parser schemas they mirror', () => {
  const snsFixture = snsEvent({
    message: s3Notification({ key: 'a.txt', versionId: 'v1' }),
    messageId: 'm-1',
  });
  const s3Fixture = JSON.parse(
    s3Notification({ key: 'a+b.txt', versionId: 'v1', sequencer: '01' }, { key: 'c.csv', sequencer: '02' }),
  );

  it('the fixtures are real events by Powertools’ standard, and ours accept them too', () => {
    expect(SnsSchema.safeParse(snsFixture).success).toBe(true);
    expect(SnsEventSchema.safeParse(snsFixture).success).toBe(true);
    expect(S3Schema.safeParse(s3Fixture).success).toBe(true);
    expect(S3EventNotificationSchema.safeParse(s3Fixture).success).toBe(true);
  });

  it('ours accept an IPv6 source address, which Powertools’ S3 schema rejects', () => {
    const record = s3Record({ key: 'a.txt', versionId: 'v1' });
    record.requestParameters = { sourceIPAddress: '2001:db8::1' };
    expect(S3Schema.safeParse({ Records: [record] }).success).toBe(false);
    expect(S3EventNotificationSchema.safeParse({ Records: [record] }).success).toBe(true);
  });

  it('ours reject what Powertools’ reject: an SNS record without MessageId, an S3 record without a bucket', () => {
    const sns = structuredClone(snsFixture) as { Records: { Sns: Record<string, unknown> }[] };
    delete sns.Records[0].Sns.MessageId;
    expect(SnsSchema.safeParse(sns).success).toBe(false);
    expect(SnsEventSchema.safeParse(sns).success).toBe(false);
    const s3 = structuredClone(s3Fixture);
    delete s3.Records[0].s3.bucket;
    expect(S3Schema.safeParse(s3).success).toBe(false);
    expect(S3EventNotificationSchema.safeParse(s3).success).toBe(false);
  });
});

describe('parseSnsEvent', () => {
  it('accepts an SNS event as Lambda delivers it', () => {
    const event = snsEvent({ message: 'anything', messageId: 'm-1' });
    expect(parseSnsEvent(event).Records[0].Sns.MessageId).toBe('m-1');
  });

  it('rejects what is not an SNS event, naming the path', () => {
    expect(() => parseSnsEvent({ Records: [{ eventSource: 'aws:sqs' }] })).toThrow(InvalidPayloadError);
    expect(() => parseSnsEvent({})).toThrow(/Records: /);
  });
});

describe('parseObjectNotification', () => {
  it('recognises the S3 test event', () => {
    expect(parseObjectNotification(S3_TEST_EVENT_MESSAGE)).toEqual({
      kind: 'test',
      event: expect.objectContaining({ Event: 's3:TestEvent', Bucket: BUCKET }),
    });
  });

  it('parses an S3 event notification with every record', () => {
    const notification = parseObjectNotification(
      s3Notification({ key: 'a.txt', versionId: 'v1' }, { key: 'b.txt', versionId: 'v2' }),
    );
    expect(notification.kind).toBe('objects');
    expect(notification.kind === 'objects' && notification.records.map((r) => r.s3.object.key)).toEqual([
      'a.txt',
      'b.txt',
    ]);
  });

  it('rejects a message that is not JSON', () => {
    expect(() => parseObjectNotification('not json')).toThrow(/payload is not JSON/);
  });

  it('rejects a message of the wrong shape, naming each issue with its path', () => {
    const record = s3Record({ key: 'a.txt', versionId: 'v1' });
    delete (record.s3 as Record<string, unknown>).bucket;
    try {
      parseObjectNotification(JSON.stringify({ Records: [record] }));
      throw new Error('expected a failure');
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidPayloadError);
      expect((error as InvalidPayloadError).issues).toEqual([
        expect.stringMatching(/^Records\.0\.s3\.bucket: /),
      ]);
    }
  });

  it('rejects an event that is not an object-created event', () => {
    expect(() =>
      parseObjectNotification(
        s3Notification({ key: 'a.txt', sequencer: '01', eventName: 'ObjectRemoved:Delete' }),
      ),
    ).toThrow(/Records\.0\.eventName: is not an ObjectCreated:\* event/);
  });

  it('rejects an empty Records list', () => {
    expect(() => parseObjectNotification(JSON.stringify({ Records: [] }))).toThrow(/Records: /);
  });
});

describe('toCreatedObject', () => {
  it('decodes the key and derives the idempotency key', () => {
    const notification = parseObjectNotification(
      s3Notification({ key: 'a+b%2Fc%C3%A9.txt', versionId: 'v9', size: 7 }),
    );
    if (notification.kind !== 'objects') throw new Error('expected an S3 event notification');
    expect(toCreatedObject(notification.records[0])).toEqual({
      bucket: BUCKET,
      key: 'a b/cé.txt',
      versionId: 'v9',
      objectVersionKey: `s3://${BUCKET}/a%20b/c%C3%A9.txt?versionId=v9`,
      eventName: 'ObjectCreated:Put',
      eventTime: '2026-01-15T10:00:00.000Z',
      size: 7,
      eTag: 'd41d8cd98f00b204e9800998ecf8427e',
    });
  });
});
