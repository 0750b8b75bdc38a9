/**
 * The `Idempotency-Key` request header (IETF HTTPAPI working group, "The Idempotency-Key HTTP Header Field",
 * draft-ietf-httpapi-idempotency-key-header): a key the client makes unique per operation (a UUID, say) and sends
 * again, unchanged, with every retry of that operation, so the server can answer a retry with the first answer
 * instead of doing the operation twice.
 *
 * The draft defines the field as an Item Structured Header (RFC 8941) whose value is a String, that is in double
 * quotes: `Idempotency-Key: "8e03978e-40d5-43e8-bc93-6894a57f9324"`. Many clients send the bare key, as earlier
 * APIs (Stripe's among them) documented it; both are accepted and mean the same key. Pure: no I/O.
 */

/** Longest key accepted, in characters (the draft sets none; this bounds what is hashed and logged). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/** The header's name as API Gateway's payload format 2.0 delivers it (header names in lower case). */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';

export type IdempotencyKeyReading =
  | { readonly ok: true; readonly key: string }
  | { readonly ok: false; readonly missing: boolean; readonly reason: string };

/** Visible ASCII (RFC 8941 sf-string characters), without space. */
const BARE_KEY = /^[\x21-\x7e]+$/;

/**
 * Reads the key from the header's value (`undefined` when the request has none). A quoted value is an RFC 8941
 * sf-string: printable ASCII, `\"` and `\\` escapes; a bare value is visible ASCII without quotes or spaces. An
 * empty key, a longer one than {@link MAX_IDEMPOTENCY_KEY_LENGTH}, or anything else is refused with the reason.
 * API Gateway joins repeated header lines with commas, so a header sent twice arrives as a list and is refused.
 */
export function readIdempotencyKey(value: string | undefined): IdempotencyKeyReading {
  if (value === undefined || value.trim() === '') {
    return {
      ok: false,
      missing: true,
      reason:
        'POST /orders requires an Idempotency-Key header: a key unique to this order submission (a UUID, for ' +
        'example), sent again unchanged with every retry of it, e.g. Idempotency-Key: "8e03978e-40d5-43e8-bc93-6894a57f9324".',
    };
  }
  const text = value.trim();
  const key = text.startsWith('"')
    ? unquote(text)
    : BARE_KEY.test(text) && !text.includes('"')
      ? text
      : undefined;
  if (key === undefined) {
    return {
      ok: false,
      missing: false,
      reason:
        'the Idempotency-Key header must be one string: in double quotes (an RFC 8941 sf-string, as the IETF draft ' +
        'defines it) or bare visible ASCII without spaces, commas or quotes; was it sent twice?',
    };
  }
  if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    return {
      ok: false,
      missing: false,
      reason: `the Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters long, got ${key.length}.`,
    };
  }
  if (!text.startsWith('"') && key.includes(',')) {
    return {
      ok: false,
      missing: false,
      reason: 'the Idempotency-Key header holds a list (a comma): send the header once, with one key.',
    };
  }
  return { ok: true, key };
}

/** An RFC 8941 sf-string's content, or undefined when `text` is not exactly one well-formed sf-string. */
function unquote(text: string): string | undefined {
  let key = '';
  for (let i = 1; i < text.length; i += 1) {
    const char = text[i];
    if (char === '\\') {
      const next = text[i + 1];
      if (next !== '"' && next !== '\\') return undefined;
      key += next;
      i += 1;
    } else if (char === '"') {
      return i === text.length - 1 ? key : undefined;
    } else if (char < ' ' || char > '~') {
      return undefined;
    } else {
      key += char;
    }
  }
  return undefined; // no closing quote
}
