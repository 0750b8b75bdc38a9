import { MAX_IDEMPOTENCY_KEY_LENGTH, readIdempotencyKey } from '../../../lambda/http-ingress/idempotency-key';
import { jsonPointer, problem, PROBLEMS, problemType } from '../../../lambda/http-ingress/problem';

describe('readIdempotencyKey', () => {
  it.each([
    ['"8e03978e-40d5-43e8-bc93-6894a57f9324"', '8e03978e-40d5-43e8-bc93-6894a57f9324'],
    ['8e03978e-40d5-43e8-bc93-6894a57f9324', '8e03978e-40d5-43e8-bc93-6894a57f9324'],
    ['"with space and \\"quotes\\" and \\\\"', 'with space and "quotes" and \\'],
    ['"a,b"', 'a,b'],
    [`"${'k'.repeat(MAX_IDEMPOTENCY_KEY_LENGTH)}"`, 'k'.repeat(MAX_IDEMPOTENCY_KEY_LENGTH)],
  ])('reads %s (an RFC 8941 sf-string, or a bare key)', (header, key) => {
    expect(readIdempotencyKey(header)).toEqual({ ok: true, key });
  });

  it.each([undefined, '', '   '])('calls %j missing', (header) => {
    expect(readIdempotencyKey(header)).toMatchObject({ ok: false, missing: true });
  });

  it.each([
    '"open',
    '"a" "b"',
    '"bad \\x escape"',
    'a,b',
    'two words',
    'quo"te',
    '""',
    'k'.repeat(256),
    '"tab\there"',
  ])('refuses %j as malformed', (header) => {
    expect(readIdempotencyKey(header)).toMatchObject({
      ok: false,
      missing: false,
      reason: expect.any(String),
    });
  });
});

describe('problem details (RFC 9457)', () => {
  it('has a stable type and title per kind, and the status repeated in the body', () => {
    expect(problem('idempotencyKeyReused', 'why', { idempotencyKey: 'k' })).toEqual({
      type: 'urn:reliable-lambda:problem:idempotency-key-reused',
      title: PROBLEMS.idempotencyKeyReused.title,
      status: 422,
      detail: 'why',
      idempotencyKey: 'k',
    });
    const types = Object.keys(PROBLEMS).map((kind) => problemType(kind as keyof typeof PROBLEMS));
    expect(new Set(types).size).toBe(types.length);
  });

  it('points at fields with RFC 6901 JSON Pointers', () => {
    expect(jsonPointer(['lines', 0, 'sku'])).toBe('/lines/0/sku');
    expect(jsonPointer([])).toBe('');
    expect(jsonPointer(['a/b', 'c~d'])).toBe('/a~1b/c~0d');
  });
});
