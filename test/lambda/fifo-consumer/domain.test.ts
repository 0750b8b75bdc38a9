import {
  accountBalanceKey,
  domain,
  examples,
  type LedgerEntry,
  LedgerEntrySchema,
  MAX_ENTRY_MINOR,
  planEntry,
} from '../../../lambda/fifo-consumer/domain';
import { InvalidPayloadError, parseJsonPayload } from '../../../lambda/shared/parsing';

const entry = (overrides: Partial<LedgerEntry> = {}): LedgerEntry => ({
  entryId: 'e-1',
  accountId: 'acct-1',
  sequence: 1,
  amountMinor: 1250,
  currency: 'EUR',
  ...overrides,
});

const issuesOf = (value: unknown): string[] => {
  try {
    parseJsonPayload(JSON.stringify(value), LedgerEntrySchema);
    return [];
  } catch (error) {
    if (error instanceof InvalidPayloadError) return [...error.issues];
    throw error;
  }
};

describe('LedgerEntrySchema', () => {
  it('accepts credits and debits and drops unknown fields', () => {
    expect(issuesOf(entry())).toEqual([]);
    expect(issuesOf(entry({ amountMinor: -MAX_ENTRY_MINOR }))).toEqual([]);
    expect(parseJsonPayload(JSON.stringify({ ...entry(), note: 'x' }), LedgerEntrySchema)).toEqual(entry());
  });

  it.each<[string, Partial<LedgerEntry> | Record<string, unknown>, RegExp]>([
    ['a zero amount', { amountMinor: 0 }, /^amountMinor: must not be zero/],
    ['a fractional amount', { amountMinor: 12.5 }, /^amountMinor: /],
    ['an amount beyond the limit', { amountMinor: MAX_ENTRY_MINOR + 1 }, /^amountMinor: /],
    ['a sequence of 0', { sequence: 0 }, /^sequence: /],
    ['a lower-case currency', { currency: 'eur' }, /^currency: must be a three-letter/],
    ['an empty entryId', { entryId: '' }, /^entryId: /],
  ])('rejects %s', (_name, change, issue) => {
    expect(issuesOf({ ...entry(), ...change })).toEqual([expect.stringMatching(issue)]);
  });
});

describe('planEntry', () => {
  it("moves the account's balance by the amount and counts the entry", () => {
    expect(planEntry(entry({ amountMinor: -300 }))).toEqual({
      response: { entryId: 'e-1', accountId: 'acct-1', sequence: 1 },
      effect: [{ key: 'account#acct-1#EUR', add: { entryCount: 1, balanceMinor: -300 } }],
    });
    expect(accountBalanceKey(entry({ currency: 'USD' }))).toBe('account#acct-1#USD');
  });
});

describe('domain', () => {
  it('keys an entry by its entryId and groups it by its account', () => {
    expect(domain.idempotencyKey(entry({ amountMinor: 5 }))).toBe('e-1');
    expect(domain.messageGroupId(entry())).toBe('acct-1');
  });
});

describe('examples', () => {
  it('number a group in order and make every third entry a debit', () => {
    const group = [0, 1, 2].map((variant) => examples.valid(`e-${variant}`, { group: 4, variant }));
    expect(group.map((e) => e.sequence)).toEqual([1, 2, 3]);
    expect(group.map((e) => Math.sign(e.amountMinor))).toEqual([1, 1, -1]);
    expect(new Set(group.map((e) => e.accountId))).toEqual(new Set(['account-4']));
  });
});
