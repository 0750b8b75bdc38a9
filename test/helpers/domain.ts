/**
 * What the handler tests need from a path's domain module, derived from its contract (lambda/shared/domain.ts), so
 * the tests hold for whatever domain a fork puts in `domain.ts`: the effect table expected after some records,
 * an invalid example that is JSON (it reaches the schema), and the issues the schema reports for a body.
 */
import type { DomainExamples } from '../../lambda/shared/domain';
import type { Plan } from '../../lambda/shared/exactly-once';
import { InvalidPayloadError, parseJsonPayload, type Schema } from '../../lambda/shared/parsing';
import type { EffectItem } from './dynamodb';

/** The effect table after `messages` were each applied once: every counter summed per item. */
export function effectsOf<M>(
  plan: (message: M) => Plan<unknown>,
  messages: readonly M[],
): Record<string, EffectItem> {
  const table: Record<string, EffectItem> = {};
  for (const message of messages) {
    for (const { key, add } of plan(message).effect) {
      const item = (table[key] ??= {});
      for (const [counter, amount] of Object.entries(add)) item[counter] = (item[counter] ?? 0) + amount;
    }
  }
  return table;
}

/** The first invalid example of `id` that is JSON: it fails on the schema, not on parsing. */
export function invalidJsonBody(examples: DomainExamples<unknown>, id: string): string {
  const body = examples.invalid(id).find((example) => isJson(example.body))?.body;
  if (body === undefined) {
    throw new Error('the domain has no invalid example that is JSON: add one that the schema rejects');
  }
  return body;
}

/** The issues (`path: message`) the schema reports for `body`, or [] when it is valid. */
export function schemaIssuesOf(schema: Schema, body: string): string[] {
  try {
    parseJsonPayload(body, schema);
    return [];
  } catch (error) {
    if (error instanceof InvalidPayloadError) return [...error.issues];
    throw error;
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
