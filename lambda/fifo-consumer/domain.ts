/**
 * The SQS FIFO path's domain: ledger entries. A producer sends one entry per message with the account as the
 * message group, so SQS delivers an account's entries in the order it sent them, and the handler applies them in
 * that order. Its schema, idempotency key, message group, plan and example entries are here; the handler, the tests
 * and the tools take the path's business from this module only (the contract: lambda/shared/domain.ts).
 *
 * Everything here is pure, so it is tested without AWS. When you fork, replace this file (and
 * test/lambda/fifo-consumer/domain.test.ts), keeping the exported `domain` and `examples`.
 */
// zod/mini, as in the other handlers: esbuild keeps only what the schema uses (docs/performance.md).
import * as z from 'zod/mini';
import {
  type DomainExamples,
  type ExampleOptions,
  type FifoDomain,
  groupOfId,
  type InvalidExample,
} from '../shared/domain';
import type { Plan } from '../shared/exactly-once';

/** Largest amount of one entry, in minor units: keeps every balance exact (far below Number.MAX_SAFE_INTEGER). */
export const MAX_ENTRY_MINOR = 10_000_000_000;

/** One ledger entry, as the producer sends it. Unknown fields are dropped. */
export const LedgerEntrySchema = z.object({
  /** The producer's id of the entry: the idempotency key (a resend, a redrive keep it). */
  entryId: z.string().check(z.minLength(1), z.maxLength(128)),
  /** The account: the message group. */
  accountId: z.string().check(z.minLength(1), z.maxLength(128)),
  /** The producer's number of the entry within its account, 1, 2, 3…: what order per group looks like. */
  sequence: z.int().check(z.minimum(1)),
  /** A credit (positive) or a debit (negative), in minor units (cents): never zero, no floating-point money. */
  amountMinor: z.int().check(
    z.minimum(-MAX_ENTRY_MINOR),
    z.maximum(MAX_ENTRY_MINOR),
    z.refine((amount) => amount !== 0, 'must not be zero'),
  ),
  /** ISO 4217 code, e.g. `EUR`. */
  currency: z.string().check(z.regex(/^[A-Z]{3}$/, 'must be a three-letter ISO 4217 code such as EUR')),
});

export type LedgerEntry = z.output<typeof LedgerEntrySchema>;

/** What booking an entry answers (stored with its idempotency record, returned to later deliveries). */
export interface Booking {
  readonly entryId: string;
  readonly accountId: string;
  readonly sequence: number;
}

/** The effect table item of an account's balance in one currency: `account#<accountId>#<currency>`. */
export function accountBalanceKey(entry: Pick<LedgerEntry, 'accountId' | 'currency'>): string {
  return `account#${entry.accountId}#${entry.currency}`;
}

/**
 * What booking an entry does: the account's balance moves by its amount and counts one more entry. Naturally not
 * idempotent (booked twice, the balance shows it), so it is committed exactly once per `entryId`.
 */
export function planEntry(entry: LedgerEntry): Plan<Booking> {
  return {
    response: { entryId: entry.entryId, accountId: entry.accountId, sequence: entry.sequence },
    effect: [{ key: accountBalanceKey(entry), add: { entryCount: 1, balanceMinor: entry.amountMinor } }],
  };
}

/** The ledger path's domain: keyed by `entryId`, grouped by account. */
export const domain: FifoDomain<LedgerEntry, Booking> = {
  recordName: 'entry',
  schema: LedgerEntrySchema,
  idempotencyKey: (entry) => entry.entryId,
  messageGroupId: (entry) => entry.accountId,
  keyPrefix: 'fifo-consumer.bookEntry',
  plan: planEntry,
};

/**
 * Example entries. Group `g` is account `account-<g>` in EUR (one effect item, one message group); the variant
 * sets the sequence (variant + 1) and the amount (every third a debit).
 */
export const examples: DomainExamples<LedgerEntry> = {
  valid(id: string, options: ExampleOptions = {}): LedgerEntry {
    const group = options.group ?? groupOfId(id, 50);
    const variant = options.variant ?? 0;
    const amount = 100 + ((variant * 211) % 90_000);
    return {
      entryId: id,
      accountId: `account-${group}`,
      sequence: variant + 1,
      amountMinor: variant % 3 === 2 ? -amount : amount,
      currency: 'EUR',
    };
  },
  withOtherContent(entry: LedgerEntry): LedgerEntry {
    return { ...entry, amountMinor: entry.amountMinor + 1 === 0 ? 2 : entry.amountMinor + 1 };
  },
  invalid(id: string): readonly InvalidExample[] {
    const entry = examples.valid(id);
    return [
      { reason: 'a zero amount', body: JSON.stringify({ ...entry, amountMinor: 0 }) },
      { reason: 'a fractional amount', body: JSON.stringify({ ...entry, amountMinor: 12.5 }) },
      { reason: 'not JSON', body: `entry ${id}: +12.50 EUR` },
    ];
  },
};
