/**
 * What the handler tests need from a path's domain module, derived from its contract (lambda/shared/domain.ts), so
 * the tests hold for whatever domain a fork puts in `domain.ts`: the effect table expected after some records (and
 * the rounding to compare it with the table's), an invalid example that is JSON (it reaches the schema), one body
 * with the faults of all of them, and the issues the schema reports for a body.
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

/**
 * Effect items with every counter rounded to 3 decimals, to compare the table with an expectation from
 * {@link effectsOf}: the table adds decimals exactly, the expectation adds floats (20.1 + 20.2 is not 40.3).
 */
export function rounded(effects: Record<string, EffectItem>): Record<string, EffectItem> {
  return Object.fromEntries(
    Object.entries(effects).map(([key, item]) => [
      key,
      Object.fromEntries(
        Object.entries(item).map(([name, value]) => [name, Math.round(value * 1000) / 1000]),
      ),
    ]),
  );
}

/** The first invalid example of `id` that is JSON: it fails on the schema, not on parsing. */
export function invalidJsonBody(examples: DomainExamples<unknown>, id: string): string {
  const body = examples.invalid(id).find((example) => isJson(example.body))?.body;
  if (body === undefined) {
    throw new Error('the domain has no invalid example that is JSON: add one that the schema rejects');
  }
  return body;
}

/**
 * One JSON body with the faults of every invalid example of `id` that is a JSON object: the fields where each
 * differs from the valid example `id` (a field it leaves out is left out), laid over that valid example. Where the
 * invalid examples are a valid record with something wrong, the schema finds all those faults at once, so a test
 * can tell "every issue" from "the first issue". When the combined body would pass the schema, the first invalid
 * example that is JSON ({@link invalidJsonBody}).
 */
export function invalidJsonBodyOfAllFaults(
  examples: DomainExamples<unknown>,
  schema: Schema,
  id: string,
): string {
  const valid: unknown = JSON.parse(JSON.stringify(examples.valid(id)));
  const faults = examples
    .invalid(id)
    .map((example) => example.body)
    .filter(isJson)
    .map((body): unknown => JSON.parse(body))
    .filter(isObject);
  if (isObject(valid) && faults.length > 0) {
    const body: Record<string, unknown> = { ...valid };
    for (const fault of faults) {
      for (const name of new Set([...Object.keys(valid), ...Object.keys(fault)])) {
        if (JSON.stringify(fault[name]) === JSON.stringify(valid[name])) continue;
        if (name in fault) body[name] = fault[name];
        else delete body[name];
      }
    }
    const combined = JSON.stringify(body);
    if (schemaIssuesOf(schema, combined).length > 0) return combined;
  }
  return invalidJsonBody(examples, id);
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

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
