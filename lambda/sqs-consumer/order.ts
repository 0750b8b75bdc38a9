/**
 * The SQS path's business: an order message, its schema, and what recording an order does (its plan: the
 * response and the effect, as data).
 *
 * Everything here is pure, so it is tested without AWS. When you fork the template, replace the schema and
 * {@link planOrder}; its response is stored in the idempotency record (so it must be JSON), and its effect is
 * committed with that record in one DynamoDB transaction (lambda/shared/exactly-once.ts).
 */
// zod/mini, the tree-shakable build of zod: a schema is built from functions (`z.string().check(z.minLength(1))`)
// instead of methods, so the bundle keeps only what the schema uses. Measured by `npm run bench`
// (docs/performance.md): ≈22 KB of zod instead of ≈88 KB with classic zod, and ≈18 ms less init.
// Never `import { z } from 'zod'`: that keeps every error-message locale (≈450 KB).
import * as z from 'zod/mini';
import type { Plan } from '../shared/exactly-once';

/** Upper bounds that keep a single message's arithmetic exact (well below Number.MAX_SAFE_INTEGER). */
export const ORDER_LIMITS = {
  maxLines: 100,
  maxQuantity: 1_000,
  maxUnitPriceCents: 100_000_000,
} as const;

/** One line of an order. Prices are whole cents: no floating-point money. */
export const OrderLineSchema = z.object({
  sku: z.string().check(z.minLength(1), z.maxLength(64)),
  quantity: z.int().check(z.minimum(1), z.maximum(ORDER_LIMITS.maxQuantity)),
  unitPriceCents: z.int().check(z.minimum(0), z.maximum(ORDER_LIMITS.maxUnitPriceCents)),
});

/**
 * The message body producers send to the source queue. `orderId` is the producer-supplied business key: it is
 * the idempotency key, so the same order sent twice (a producer retry, an SQS duplicate, a redrive) has its side
 * effect once. Unknown fields are ignored (dropped), so producers can add fields before consumers read them.
 */
export const OrderMessageSchema = z
  .object({
    orderId: z.string().check(z.minLength(1), z.maxLength(128)),
    customerId: z.string().check(z.minLength(1), z.maxLength(128)),
    /** ISO 4217 code, e.g. `EUR`. */
    currency: z.string().check(z.regex(/^[A-Z]{3}$/, 'must be a three-letter ISO 4217 code such as EUR')),
    lines: z.array(OrderLineSchema).check(z.minLength(1), z.maxLength(ORDER_LIMITS.maxLines)),
  })
  .check(
    z.superRefine((order, context) => {
      const seen = new Set<string>();
      order.lines.forEach((line, index) => {
        if (seen.has(line.sku)) {
          context.addIssue({
            code: 'custom',
            path: ['lines', index, 'sku'],
            message: `duplicate sku "${line.sku}": put the quantity on one line`,
          });
        }
        seen.add(line.sku);
      });
    }),
  );

export type OrderMessage = z.infer<typeof OrderMessageSchema>;
export type OrderLine = z.infer<typeof OrderLineSchema>;

/** What processing an order produces; stored in the idempotency record and returned to duplicates. */
export interface OrderSummary {
  readonly orderId: string;
  readonly customerId: string;
  readonly currency: string;
  /** Number of distinct lines. */
  readonly lineCount: number;
  /** Sum of all quantities. */
  readonly itemCount: number;
  /** Sum of quantity × unit price, in cents. */
  readonly totalCents: number;
}

/** Total of an order in cents. */
export function orderTotalCents(order: Pick<OrderMessage, 'lines'>): number {
  return order.lines.reduce((total, line) => total + line.quantity * line.unitPriceCents, 0);
}

/** The summary of an order: counts and total. Pure. */
export function summariseOrder(order: OrderMessage): OrderSummary {
  return {
    orderId: order.orderId,
    customerId: order.customerId,
    currency: order.currency,
    lineCount: order.lines.length,
    itemCount: order.lines.reduce((count, line) => count + line.quantity, 0),
    totalCents: orderTotalCents(order),
  };
}

/** The effect table item of a customer's totals in one currency: `customer#<customerId>#<currency>`. */
export function customerTotalsKey(order: Pick<OrderMessage, 'customerId' | 'currency'>): string {
  return `customer#${order.customerId}#${order.currency}`;
}

/**
 * What recording an order does: the customer's running totals grow by one order, its items and its amount.
 * Naturally not idempotent (applied twice, the totals show it), so it is committed exactly once per `orderId`.
 */
export function planOrder(order: OrderMessage): Plan<OrderSummary> {
  const summary = summariseOrder(order);
  return {
    response: summary,
    effect: [
      {
        key: customerTotalsKey(order),
        add: { orderCount: 1, itemCount: summary.itemCount, totalCents: summary.totalCents },
      },
    ],
  };
}
