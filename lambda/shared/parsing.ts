/**
 * Turning raw record payloads into typed values. A payload that is not JSON, or does not match its schema, is
 * an {@link InvalidPayloadError}: the record fails on its own (an item failure, or for async invocations a
 * function error), and the message says exactly what was wrong so an operator can fix the producer.
 */
// zod/mini: the functional build of zod, which esbuild tree-shakes down to what a schema uses (`npm run bench`,
// docs/performance.md: the order schema is ≈23 KB and ≈10 ms of init with it, ≈88 KB and ≈32 ms with classic
// zod). Classic schemas (`import * as z from 'zod'`) are accepted too: both are `core.$ZodType`s.
import * as z from 'zod/mini';
import { en } from 'zod/locales';

// zod/mini loads no locale, so every issue would read "Invalid input". English messages (what classic zod
// shows) are what an operator reads in the invalid-payload log line; the locale is ≈3 KB.
z.config(en());

/** Any zod schema, classic or mini. */
export type Schema = z.core.$ZodType;

/** A payload that can never succeed as it is: retrying it will not help, it needs a person. */
export class InvalidPayloadError extends Error {
  constructor(
    message: string,
    /** Schema issues as `path: message` strings, for the structured log line. */
    readonly issues: readonly string[] = [],
  ) {
    super(message);
    this.name = 'InvalidPayloadError';
  }
}

/** Parses JSON text and validates it against `schema`. */
export function parseJsonPayload<S extends Schema>(text: string, schema: S): z.output<S> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InvalidPayloadError(`payload is not JSON: ${(error as Error).message}`);
  }
  return validatePayload(json, schema);
}

/** Decodes base64 (as Kinesis delivers data), then parses and validates the JSON inside. */
export function parseBase64JsonPayload<S extends Schema>(base64: string, schema: S): z.output<S> {
  return parseJsonPayload(Buffer.from(base64, 'base64').toString('utf8'), schema);
}

/** Validates an already-parsed value against `schema`. */
export function validatePayload<S extends Schema>(value: unknown, schema: S): z.output<S> {
  const result = z.safeParse(schema, value);
  if (!result.success) {
    const issues = result.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new InvalidPayloadError(`payload does not match the schema: ${issues.join('; ')}`, issues);
  }
  return result.data;
}

/**
 * An event that is not from the source the function is wired to (an SQS event given to the stream function, a
 * hand-made test event missing a field): no record of it can be reported on its own, so the whole invocation
 * fails, with a message that says what arrived.
 */
export class WrongEventError extends InvalidPayloadError {
  constructor(message: string) {
    super(message);
    this.name = 'WrongEventError';
  }
}

/**
 * Checks that `event` is a batch from `eventSource` whose every record has the string `fields` (dotted paths) the
 * handler reads before it can report the record on its own. Throws {@link WrongEventError} naming the first record
 * that is not, its `eventSource`, and the fields it lacks.
 */
export function assertEventOf(event: unknown, eventSource: string, fields: readonly string[]): void {
  const records = (event as { Records?: unknown } | null | undefined)?.Records;
  if (!Array.isArray(records)) {
    throw new WrongEventError(`not an ${eventSource} event: it has no Records array`);
  }
  records.forEach((record: unknown, index) => {
    const source = (record as { eventSource?: unknown; EventSource?: unknown } | null)?.eventSource;
    const missing = fields.filter((path) => typeof valueAt(record, path) !== 'string');
    if (source !== eventSource || missing.length > 0) {
      throw new WrongEventError(
        `not an ${eventSource} event: record ${index} has eventSource ${JSON.stringify(source ?? null)}` +
          (missing.length > 0 ? ` and no ${missing.join(', ')}` : ''),
      );
    }
  });
}

function valueAt(root: unknown, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>((value, key) => (value as Record<string, unknown> | null)?.[key], root);
}
