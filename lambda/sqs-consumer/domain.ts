/**
 * The SQS path's domain: an order message, its schema, its idempotency key, what recording an order does (its
 * plan: the response and the effect, as data), and example orders, good and bad. The handler, the tests, the
 * simulator, `npm run invoke`, the bench and the cost model all take the path's business from here.
 *
 * Everything here is pure, so it is tested without AWS. When you fork the template, this is the file you replace
 * (with its test, test/lambda/sqs-consumer/domain.test.ts): keep the exported names `domain` and `examples` (the
 * contract is lambda/shared/domain.ts). The plan's response is stored in the idempotency record (so it must be
 * JSON), and its effect is committed with that record in one DynamoDB transaction (lambda/shared/exactly-once.ts).
 */
// zod/mini, the tree-shakable build of zod: a schema is built from functions (`z.string().check(z.minLength(1))`)
// instead of methods, so the bundle keeps only what the schema uses. Measured by `npm run bench`
// (docs/performance.md): ≈22 KB of zod instead of ≈88 KB with classic zod, and ≈18 ms less init.
// Never `import { z } from 'zod'`: that keeps every error-message locale (≈450 KB).
import * as z from 'zod/mini';
import {
  type DomainExamples,
  type ExampleOptions,
  groupOfId,
  type InvalidExample,
  type MessageDomain,
} from '../shared/domain';
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

/**
 * The order path's domain. The idempotency key is the producer's business key, `orderId`; not the SQS
 * `messageId`: a producer that retries a send, or a message redriven from the dead-letter queue by hand, arrives
 * with a new `messageId` but is the same order. Powertools stores it as `<keyPrefix>#<base64 MD5 of its JSON>`.
 */
export const domain: MessageDomain<OrderMessage, OrderSummary> = {
  recordName: 'order',
  schema: OrderMessageSchema,
  idempotencyKey: (order) => order.orderId,
  keyPrefix: 'sqs-consumer.recordOrder',
  plan: planOrder,
};

const CURRENCIES = ['EUR', 'USD', 'GBP', 'JPY'] as const;

/**
 * Example orders. Group `g` is customer `customer-<g>` paying in one currency (group 1: EUR), so the orders of a
 * group add up on one effect item; the variant sets the lines (1–3 of them, amounts varying with it).
 */
export const examples: DomainExamples<OrderMessage> = {
  valid(id: string, options: ExampleOptions = {}): OrderMessage {
    const group = options.group ?? groupOfId(id, 500);
    const variant = options.variant ?? 0;
    return {
      orderId: id,
      customerId: `customer-${group}`,
      currency: CURRENCIES[(group - 1 + CURRENCIES.length) % CURRENCIES.length],
      lines: Array.from({ length: 1 + (variant % 3) }, (_, i) => ({
        sku: `sku-${i + 1}`,
        quantity: 1 + ((variant + i) % 5),
        unitPriceCents: 250 * (1 + ((variant * 7 + i * 3) % 80)),
      })),
    };
  },
  withOtherContent(order: OrderMessage): OrderMessage {
    const [first, ...rest] = order.lines;
    return {
      ...order,
      lines: [{ ...first, quantity: (first.quantity % ORDER_LIMITS.maxQuantity) + 1 }, ...rest],
    };
  },
  invalid(id: string): readonly InvalidExample[] {
    const order = examples.valid(id);
    return [
      { reason: 'not JSON', body: `orderId=${id}; this producer forgot to send JSON` },
      { reason: 'currency is not an ISO 4217 code', body: JSON.stringify({ ...order, currency: 'euros' }) },
      { reason: 'no lines', body: JSON.stringify({ ...order, lines: [] }) },
      {
        reason: 'the same sku on two lines',
        body: JSON.stringify({ ...order, lines: [order.lines[0], order.lines[0]] }),
      },
    ];
  },
};
