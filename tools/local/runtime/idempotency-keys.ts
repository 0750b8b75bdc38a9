/**
 * Which record an idempotency request is about. Powertools names a record `<prefix>#<hash>`, the hash being the
 * base64 MD5 of the JSON of the selected key (object keys sorted). The fault layer needs the record behind a
 * claim to fail *that* record's claim, so it computes, for each record of the running invocation, the hashes of
 * every value inside it (JSON strings and base64 JSON opened up), plus the keys a handler derives in a way no
 * value shows (a {@link KeyHint}). One record in the invocation settles it too.
 */
import { createHash } from 'node:crypto';

/** Extra key values a path's handler derives from a record (e.g. `event:<eventId>`). */
export type KeyHint = (eventRecord: unknown) => readonly unknown[];

/** Powertools' key hash: base64 MD5 of the JSON with object keys sorted case-insensitively. */
export function powertoolsHash(value: unknown): string {
  return createHash('md5')
    .update(JSON.stringify(deepSort(value)))
    .digest('base64');
}

function deepSort(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(deepSort);
  if (value && typeof value === 'object') {
    return Object.keys(value)
      .sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1))
      .reduce<Record<string, unknown>>((acc, key) => {
        acc[key] = deepSort((value as Record<string, unknown>)[key]);
        return acc;
      }, {});
  }
  return value;
}

/** Every value inside an event record, opening JSON strings and base64-encoded JSON. */
export function valuesInside(root: unknown, limit = 2000): unknown[] {
  const out: unknown[] = [];
  const visit = (value: unknown, depth: number) => {
    if (out.length >= limit || depth > 12) return;
    out.push(value);
    if (typeof value === 'string') {
      const opened = openString(value);
      if (opened !== undefined) visit(opened, depth + 1);
    } else if (Array.isArray(value)) {
      value.forEach((v) => visit(v, depth + 1));
    } else if (value && typeof value === 'object') {
      Object.values(value).forEach((v) => visit(v, depth + 1));
    }
  };
  visit(root, 0);
  return out;
}

function openString(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return JSON.parse(trimmed);
    } catch {
      return undefined;
    }
  }
  if (text.length >= 8 && /^[A-Za-z0-9+/]+={0,2}$/.test(text)) {
    const decoded = Buffer.from(text, 'base64').toString('utf8').trim();
    if (decoded.startsWith('{') || decoded.startsWith('[')) {
      try {
        return JSON.parse(decoded);
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** The key hashes a record could be claimed under. */
export function candidateHashes(eventRecord: unknown, hint?: KeyHint): Set<string> {
  const values = valuesInside(eventRecord);
  if (hint) {
    try {
      values.push(...hint(eventRecord));
    } catch {
      // A record the hint cannot read (e.g. a poison payload) is never claimed anyway.
    }
  }
  return new Set(values.map(powertoolsHash));
}

/** The hash part of a Powertools idempotency key (`prefix#hash`). */
export function hashOfKey(idempotencyKey: string): string {
  return idempotencyKey.slice(idempotencyKey.lastIndexOf('#') + 1);
}
