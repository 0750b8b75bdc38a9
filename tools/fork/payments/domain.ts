/**
 * A payment domain: the replacement `lambda/sqs-consumer/domain.ts` that the fork check (tools/fork/check.ts) puts
 * in a copy of the repository, as a team forking the template for a payments service would. Kept here, compiled
 * and linted with the project and held to the domain contract by test/lambda/shared/domain.test.ts, so the fork
 * CI runs is a real one. The check rewrites the `../../../lambda/shared/` imports to `../shared/` when it copies
 * the file.
 */
import * as z from 'zod/mini';
import {
  type DomainExamples,
  type ExampleOptions,
  groupOfId,
  type InvalidExample,
  type MessageDomain,
} from '../../../lambda/shared/domain';
import type { Plan } from '../../../lambda/shared/exactly-once';

/** A payment a payment service reports as captured. Amounts are minor units (cents): no floating-point money. */
export const PaymentSchema = z.object({
  /** The payment service's own id: the idempotency key. */
  paymentId: z.string().check(z.minLength(1), z.maxLength(64)),
  accountId: z.string().check(z.minLength(1), z.maxLength(64)),
  amountMinor: z.int().check(z.minimum(1), z.maximum(10_000_000_000)),
  currency: z.string().check(z.regex(/^[A-Z]{3}$/, 'must be a three-letter ISO 4217 code such as EUR')),
  method: z.enum(['card', 'transfer', 'wallet']),
});

export type Payment = z.infer<typeof PaymentSchema>;

/** What booking a payment answers, stored with its idempotency record. */
export interface Booking {
  readonly paymentId: string;
  readonly ledgerKey: string;
}

/** The ledger item of an account in one currency. */
export function ledgerKey(payment: Pick<Payment, 'accountId' | 'currency'>): string {
  return `account#${payment.accountId}#${payment.currency}`;
}

/** Booking a payment: the account's ledger counts one more payment and its amount. */
export function planBooking(payment: Payment): Plan<Booking> {
  const key = ledgerKey(payment);
  return {
    response: { paymentId: payment.paymentId, ledgerKey: key },
    effect: [{ key, add: { paymentCount: 1, amountMinor: payment.amountMinor } }],
  };
}

export const domain: MessageDomain<Payment, Booking> = {
  recordName: 'payment',
  schema: PaymentSchema,
  idempotencyKey: (payment) => payment.paymentId,
  keyPrefix: 'payments.bookPayment',
  plan: planBooking,
};

const METHODS = ['card', 'transfer', 'wallet'] as const;

/** Group `g` is account `acct-<g>` in EUR; the variant sets the amount and the method. */
export const examples: DomainExamples<Payment> = {
  valid(id: string, options: ExampleOptions = {}): Payment {
    const group = options.group ?? groupOfId(id, 50);
    const variant = options.variant ?? 0;
    return {
      paymentId: id,
      accountId: `acct-${group}`,
      amountMinor: 100 + ((variant * 137) % 100_000),
      currency: 'EUR',
      method: METHODS[variant % METHODS.length],
    };
  },
  withOtherContent(payment: Payment): Payment {
    return { ...payment, amountMinor: payment.amountMinor + 1 };
  },
  invalid(id: string): readonly InvalidExample[] {
    const payment = examples.valid(id);
    return [
      { reason: 'a negative amount', body: JSON.stringify({ ...payment, amountMinor: -5 }) },
      { reason: 'an unknown method', body: JSON.stringify({ ...payment, method: 'cheque' }) },
      { reason: 'not JSON', body: `payment ${id} captured` },
    ];
  },
};
