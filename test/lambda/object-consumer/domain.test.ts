import {
  classifyObject,
  LARGE_OBJECT_BYTES,
  planObject,
  prefixTotalsKey,
} from '../../../lambda/object-consumer/domain';
import { BUCKET } from './fixtures';

describe('classifyObject', () => {
  it.each([
    ['photos/cat.JPG', 10, 'image', 'small'],
    ['reports/q1.pdf', 0, 'document', 'empty'],
    ['data/orders.csv', LARGE_OBJECT_BYTES, 'data', 'large'],
    ['backup.tar', 5, 'archive', 'small'],
    ['README', 5, 'other', 'small'],
    ['dir.with.dots/file', 5, 'other', 'small'],
    ['.hidden', 5, 'other', 'small'],
  ])('%s of %d bytes is %s and %s', (key, size, category, sizeClass) => {
    expect(classifyObject({ key, size })).toEqual({ category, sizeClass });
  });

  it('reports an unknown size class when S3 gave no size', () => {
    expect(classifyObject({ key: 'a.json' })).toEqual({ category: 'data', sizeClass: 'unknown' });
  });
});

describe('prefixTotalsKey', () => {
  it.each([
    ['in/a.csv', `prefix#${BUCKET}/in`],
    ['in/deeper/b.csv', `prefix#${BUCKET}/in`],
    ['a.txt', `prefix#${BUCKET}/(root)`],
    ['/leading-slash.txt', `prefix#${BUCKET}/(root)`],
    ['a b/cé.txt', `prefix#${BUCKET}/a b`],
  ])('groups %s under %s (the first path segment of the decoded key)', (key, expected) => {
    expect(prefixTotalsKey({ bucket: BUCKET, key })).toBe(expected);
  });

  it('tells buckets apart', () => {
    expect(prefixTotalsKey({ bucket: 'b1', key: 'in/a' })).not.toBe(
      prefixTotalsKey({ bucket: 'b2', key: 'in/a' }),
    );
  });
});

describe('planObject', () => {
  const object = {
    bucket: BUCKET,
    key: 'photos/cat.jpg',
    versionId: 'v1',
    objectVersionKey: `s3://${BUCKET}/photos/cat.jpg?versionId=v1`,
    eventName: 'ObjectCreated:Put',
    eventTime: '2026-01-15T10:00:00.000Z',
    size: 2048,
  };

  it('answers with the classification and counts the object and its bytes in its prefix', () => {
    expect(planObject(object)).toEqual({
      response: { objectVersionKey: object.objectVersionKey, category: 'image', sizeClass: 'small' },
      effect: [{ key: `prefix#${BUCKET}/photos`, add: { objectCount: 1, totalBytes: 2048 } }],
    });
  });

  it('counts no bytes when S3 gave no size', () => {
    const { size: _size, ...withoutSize } = object;
    expect(planObject(withoutSize)).toEqual({
      response: { objectVersionKey: object.objectVersionKey, category: 'image', sizeClass: 'unknown' },
      effect: [{ key: `prefix#${BUCKET}/photos`, add: { objectCount: 1, totalBytes: 0 } }],
    });
  });

  it('is pure: the same object gives the same plan, and the object is not changed', () => {
    const copy = structuredClone(object);
    expect(planObject(object)).toEqual(planObject(copy));
    expect(object).toEqual(copy);
  });
});
