/**
 * The object path's domain: what processing one created object version does (classify it, count it and its bytes
 * in its prefix's totals), its idempotency key, and example objects, good and bad. The event's layers (the SNS
 * notification, S3's event notification, key decoding) are S3's and stay in object.ts; this file is the path's
 * business, and the one a fork replaces (with test/lambda/object-consumer/domain.test.ts), keeping the exported
 * `domain` and `examples` (the contract is lambda/shared/domain.ts).
 *
 * Everything here is pure: no AWS calls, no clock, no randomness.
 */
import {
  type Domain,
  type DomainExamples,
  type ExampleOptions,
  groupOfId,
  type InvalidExample,
} from '../shared/domain';
import type { Plan } from '../shared/exactly-once';
import { type CreatedObject, objectVersionKeyOf } from './object';

/** What kind of content an object holds, judged by its key's extension. */
export type ObjectCategory = 'image' | 'document' | 'data' | 'archive' | 'other';
/** Rough size class. */
export type ObjectSizeClass = 'empty' | 'small' | 'large' | 'unknown';

const CATEGORY_BY_EXTENSION: Record<string, ObjectCategory> = {
  jpg: 'image',
  jpeg: 'image',
  png: 'image',
  gif: 'image',
  webp: 'image',
  pdf: 'document',
  txt: 'document',
  md: 'document',
  doc: 'document',
  docx: 'document',
  csv: 'data',
  json: 'data',
  jsonl: 'data',
  parquet: 'data',
  xml: 'data',
  zip: 'archive',
  gz: 'archive',
  tar: 'archive',
};

/** Objects from this size on count as large (multipart-upload territory). */
export const LARGE_OBJECT_BYTES = 100 * 1024 * 1024;

export interface ObjectClassification {
  readonly category: ObjectCategory;
  readonly sizeClass: ObjectSizeClass;
}

/** Classifies an object by the extension of its (decoded) key and its size. */
export function classifyObject(object: Pick<CreatedObject, 'key' | 'size'>): ObjectClassification {
  const fileName = object.key.slice(object.key.lastIndexOf('/') + 1);
  const dot = fileName.lastIndexOf('.');
  const extension = dot > 0 ? fileName.slice(dot + 1).toLowerCase() : '';
  const category = CATEGORY_BY_EXTENSION[extension] ?? 'other';
  const sizeClass: ObjectSizeClass =
    object.size === undefined
      ? 'unknown'
      : object.size === 0
        ? 'empty'
        : object.size >= LARGE_OBJECT_BYTES
          ? 'large'
          : 'small';
  return { category, sizeClass };
}

/** The result of the business action, stored in the idempotency record and returned for duplicates. */
export interface ObjectOutcome extends ObjectClassification {
  readonly objectVersionKey: string;
}

/**
 * The effect table item of an object prefix's totals: `prefix#<bucket>/<first path segment>` (`(root)` for a key
 * with no `/`). One item per top-level folder keeps the sample readable; a fork picks its own grouping.
 */
export function prefixTotalsKey(object: Pick<CreatedObject, 'bucket' | 'key'>): string {
  const slash = object.key.indexOf('/');
  return `prefix#${object.bucket}/${slash > 0 ? object.key.slice(0, slash) : '(root)'}`;
}

/**
 * What processing an object version does: classify it, and count it and its bytes in its prefix's totals
 * (naturally not idempotent: counted twice, the totals show it). Replace it with your own; read the object with
 * its `versionId`, so a retry hours later reads the same bytes the notification described.
 */
export function planObject(object: CreatedObject): Plan<ObjectOutcome> {
  const classification = classifyObject(object);
  return {
    response: { objectVersionKey: object.objectVersionKey, ...classification },
    effect: [{ key: prefixTotalsKey(object), add: { objectCount: 1, totalBytes: object.size ?? 0 } }],
  };
}

/**
 * The object path's domain. The idempotency key is the object version ({@link objectVersionKeyOf}): one record
 * per version, whatever notification (or retry) delivered it.
 */
export const domain: Domain<CreatedObject, ObjectOutcome> = {
  recordName: 'object',
  idempotencyKey: (object) => object.objectVersionKey,
  keyPrefix: 'object-consumer.processObjectVersion',
  plan: planObject,
};

const EXTENSIONS = ['csv', 'json', 'png', 'pdf'] as const;

/** The bucket example objects name; the simulator and `npm run invoke` put them in the deployment's bucket. */
export const EXAMPLE_BUCKET = 'example-bucket';

/**
 * Example objects. Group `g` is the top-level folder `folder-<g>` (one effect item per folder); the id sets the
 * file name and extension (about one in five with a space in its key, which S3 encodes as `+` in the notification);
 * the variant sets the size.
 */
export const examples: DomainExamples<CreatedObject> = {
  valid(id: string, options: ExampleOptions = {}): CreatedObject {
    const group = options.group ?? groupOfId(id, 20);
    const variant = options.variant ?? 0;
    // The object's identity (key, sequencer) depends on the id and the group only, never on the variant.
    const kind = groupOfId(id, 5);
    const name = kind === 5 ? `daily report ${id}` : id;
    const identity = {
      bucket: EXAMPLE_BUCKET,
      key: `folder-${group}/${name}.${EXTENSIONS[kind % EXTENSIONS.length]}`,
      sequencer: groupOfId(id, 2 ** 31)
        .toString(16)
        .toUpperCase()
        .padStart(18, '0'),
    };
    return {
      ...identity,
      objectVersionKey: objectVersionKeyOf(identity),
      eventName: 'ObjectCreated:Put',
      eventTime: new Date(Date.UTC(2026, 0, 1) + variant * 1000).toISOString(),
      size: 1024 * (1 + (variant % 64)),
      eTag: `etag-${variant}`,
    };
  },
  withOtherContent(object: CreatedObject): CreatedObject {
    return { ...object, size: (object.size ?? 0) + 1 };
  },
  invalid(id: string): readonly InvalidExample[] {
    return [
      {
        reason: 'published to the topic by another service',
        body: JSON.stringify({ source: 'billing-service', note: 'published to the wrong topic', ref: id }),
      },
      { reason: 'not JSON', body: `object ${id} was uploaded` },
    ];
  },
};
