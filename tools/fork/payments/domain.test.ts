/**
 * The payment domain's own tests: the replacement `test/lambda/sqs-consumer/domain.test.ts` of the fork check
 * (tools/fork/check.ts), which runs them in the forked copy. The check rewrites the import of `./domain` to
 * `../../../lambda/sqs-consumer/domain`.
 */
import { InvalidPayloadError, parseJsonPayload } from '../../../lambda/shared/parsing';
import { domain, examples, ledgerKey, type Payment, PaymentSchema, planBooking } from './domain';

const payment = (overrides: Partial<Payment> = {}): Payment => ({
  paymentId: 'p-1',
  accountId: 'acct-1',
  amountMinor: 1999,
  currency: 'EUR',
  method: 'card',
  ...overrides,
});

const issuesOf = (body: string): string[] => {
  try {
    parseJsonPayload(body, PaymentSchema);
    return [];
  } catch (error) {
    if (!(error instanceof InvalidPayloadError)) throw error;
    // Not JSON at all: no schema issue, the reason is the message.
    return error.issues.length > 0 ? [...error.issues] : [error.message];
  }
};

describe('PaymentSchema', () => {
  it('accepts a captured payment', () => {
    expect(issuesOf(JSON.stringify(payment()))).toEqual([]);
  });

  it.each([
    ['a zero amount', { amountMinor: 0 }, /^amountMinor: /],
    ['a fractional amount', { amountMinor: 19.99 }, /^amountMinor: /],
    ['a lower-case currency', { currency: 'eur' }, /^currency: must be a three-letter/],
    ['an unknown method', { method: 'cheque' }, /^method: /],
  ])('rejects %s', (_name, change, issue) => {
    expect(issuesOf(JSON.stringify({ ...payment(), ...change }))).toEqual([expect.stringMatching(issue)]);
  });
});

describe('planBooking', () => {
  it("adds the payment and its amount to the account's ledger in its currency", () => {
    expect(planBooking(payment())).toEqual({
      response: { paymentId: 'p-1', ledgerKey: 'account#acct-1#EUR' },
      effect: [{ key: 'account#acct-1#EUR', add: { paymentCount: 1, amountMinor: 1999 } }],
    });
    expect(ledgerKey(payment({ currency: 'USD' }))).toBe('account#acct-1#USD');
  });
});

describe('domain', () => {
  it('keys a payment by its paymentId', () => {
    expect(domain.idempotencyKey(payment({ amountMinor: 5 }))).toBe('p-1');
  });

  it('has invalid examples the schema rejects, each for its reason', () => {
    expect(examples.invalid('p-9').map((example) => issuesOf(example.body).length > 0)).toEqual([
      true,
      true,
      true,
    ]);
  });
});
