/**
 * Turning raw record payloads into typed values. A payload that is not JSON, or does not match its schema, is
 * an {@link InvalidPayloadError}: the record fails on its own (an item failure, or for async invocations a
 * function error), and the message says exactly what was wrong so an operator can fix the producer.
 */
import type { z } from 'zod';

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
export function parseJsonPayload<Schema extends z.ZodType>(text: string, schema: Schema): z.output<Schema> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InvalidPayloadError(`payload is not JSON: ${(error as Error).message}`);
  }
  return validatePayload(json, schema);
}

/** Decodes base64 (as Kinesis delivers data), then parses and validates the JSON inside. */
export function parseBase64JsonPayload<Schema extends z.ZodType>(
  base64: string,
  schema: Schema,
): z.output<Schema> {
  return parseJsonPayload(Buffer.from(base64, 'base64').toString('utf8'), schema);
}

/** Validates an already-parsed value against `schema`. */
export function validatePayload<Schema extends z.ZodType>(value: unknown, schema: Schema): z.output<Schema> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issues = result.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new InvalidPayloadError(`payload does not match the schema: ${issues.join('; ')}`, issues);
  }
  return result.data;
}
