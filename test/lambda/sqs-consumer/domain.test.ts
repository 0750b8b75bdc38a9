import fc from 'fast-check';
import {
  customerTotalsKey,
  domain,
  examples,
  ORDER_LIMITS,
  OrderMessage,
  OrderMessageSchema,
  orderTotalCents,
  planOrder,
  summariseOrder,
} from '../../../lambda/sqs-consumer/domain';
import { InvalidPayloadError, parseJsonPayload } from '../../../lambda/shared/parsing';

/** What one order built by {@link order} adds to its customer's totals in the effect table. */
const ONE_ORDER = { orderCount: 1, itemCount: 4, totalCents: 1750 } as const;

/** A valid order with the given id (two lines, 4 items, 3 × 250 + 1 × 1000 = 1750 cents). */
function order(orderId: string, overrides: Partial<OrderMessage> = {}): OrderMessage {
  return {
    orderId,
    customerId: 'customer-1',
    currency: 'EUR',
    lines: [
      { sku: 'sku-a', quantity: 3, unitPriceCents: 250 },
      { sku: 'sku-b', quantity: 1, unitPriceCents: 1000 },
    ],
    ...overrides,
  };
}

const issuesOf = (value: unknown): string[] => {
  try {
    parseJsonPayload(JSON.stringify(value), OrderMessageSchema);
  } catch (error) {
    if (error instanceof InvalidPayloadError) return [...error.issues];
    throw error;
  }
  return [];
};

describe('OrderMessageSchema', () => {
  it('accepts a valid order and drops fields it does not know', () => {
    const parsed = parseJsonPayload(JSON.stringify({ ...order('o-1'), note: 'gift' }), OrderMessageSchema);
    expect(parsed).toEqual(order('o-1'));
  });

  it.each<[string, unknown, RegExp]>([
    ['a missing orderId', { ...order('x'), orderId: undefined }, /^orderId: /],
    ['an empty orderId', order(''), /^orderId: /],
    [
      'a currency that is not ISO 4217',
      order('o-1', { currency: 'eur' }),
      /^currency: must be a three-letter/,
    ],
    ['no lines', order('o-1', { lines: [] }), /^lines: /],
    [
      'a zero quantity',
      order('o-1', { lines: [{ sku: 's', quantity: 0, unitPriceCents: 1 }] }),
      /^lines\.0\.quantity: /,
    ],
    [
      'a fractional price',
      order('o-1', { lines: [{ sku: 's', quantity: 1, unitPriceCents: 9.99 }] }),
      /^lines\.0\.unitPriceCents: /,
    ],
    [
      'a quantity above the limit',
      order('o-1', { lines: [{ sku: 's', quantity: ORDER_LIMITS.maxQuantity + 1, unitPriceCents: 1 }] }),
      /^lines\.0\.quantity: /,
    ],
    [
      'the same sku on two lines',
      order('o-1', {
        lines: [
          { sku: 's', quantity: 1, unitPriceCents: 1 },
          { sku: 's', quantity: 2, unitPriceCents: 1 },
        ],
      }),
      /^lines\.1\.sku: duplicate sku "s"/,
    ],
  ])('rejects %s', (_name, value, issue) => {
    expect(issuesOf(value)).toEqual([expect.stringMatching(issue)]);
  });
});

describe('orderTotalCents and summariseOrder', () => {
  it('sums quantity × unit price and counts lines and items', () => {
    expect(orderTotalCents(order('o-1'))).toBe(1750);
    expect(summariseOrder(order('o-1'))).toEqual({
      orderId: 'o-1',
      customerId: 'customer-1',
      currency: 'EUR',
      lineCount: 2,
      itemCount: 4,
      totalCents: 1750,
    });
  });

  it('is exact for every order the schema accepts, up to its limits', () => {
    const line = fc.record({
      quantity: fc.integer({ min: 1, max: ORDER_LIMITS.maxQuantity }),
      unitPriceCents: fc.integer({ min: 0, max: ORDER_LIMITS.maxUnitPriceCents }),
    });
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: ORDER_LIMITS.maxLines }), (lines) => {
        const value: OrderMessage = order('o-1', { lines: lines.map((l, i) => ({ sku: `sku-${i}`, ...l })) });
        const summary = summariseOrder(value);
        const expected = lines.reduce((sum, l) => sum + BigInt(l.quantity) * BigInt(l.unitPriceCents), 0n);
        expect(BigInt(summary.totalCents)).toBe(expected);
        expect(Number.isSafeInteger(summary.totalCents)).toBe(true);
        expect(summary.itemCount).toBe(lines.reduce((sum, l) => sum + l.quantity, 0));
        expect(summary.lineCount).toBe(lines.length);
      }),
    );
  });
});

describe('customerTotalsKey', () => {
  it('is one item per customer and currency', () => {
    expect(customerTotalsKey(order('o-1', { customerId: 'c-1', currency: 'EUR' }))).toBe('customer#c-1#EUR');
    expect(customerTotalsKey(order('o-1', { customerId: 'c-1', currency: 'USD' }))).toBe('customer#c-1#USD');
    expect(customerTotalsKey(order('o-2', { customerId: 'c-2' }))).toBe('customer#c-2#EUR');
  });
});

describe('planOrder', () => {
  it("answers with the summary and adds one order, its items and its total to the customer's totals", () => {
    expect(planOrder(order('o-7', { customerId: 'c-1' }))).toEqual({
      response: summariseOrder(order('o-7', { customerId: 'c-1' })),
      effect: [{ key: 'customer#c-1#EUR', add: ONE_ORDER }],
    });
  });

  it('adds exactly what summariseOrder counts, for every order the schema accepts', () => {
    const line = fc.record({
      quantity: fc.integer({ min: 1, max: ORDER_LIMITS.maxQuantity }),
      unitPriceCents: fc.integer({ min: 0, max: ORDER_LIMITS.maxUnitPriceCents }),
    });
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 10 }), (lines) => {
        const value = order('o-1', { lines: lines.map((l, i) => ({ sku: `sku-${i}`, ...l })) });
        const summary = summariseOrder(value);
        expect(planOrder(value).effect).toEqual([
          {
            key: customerTotalsKey(value),
            add: { orderCount: 1, itemCount: summary.itemCount, totalCents: summary.totalCents },
          },
        ]);
      }),
      { numRuns: 50 },
    );
  });

  it('is pure: planning writes nothing and the same order gives the same plan', () => {
    const value = order('o-1');
    const copy = structuredClone(value);
    expect(planOrder(value)).toEqual(planOrder(copy));
    expect(value).toEqual(copy);
  });
});

describe('domain', () => {
  it("keys an order by its orderId, the producer's business key, whatever else differs", () => {
    expect(domain.idempotencyKey(order('o-1'))).toBe('o-1');
    expect(domain.idempotencyKey(order('o-1', { customerId: 'c-2' }))).toBe('o-1');
  });

  it('plans with planOrder', () => {
    expect(domain.plan(order('o-1'))).toEqual(planOrder(order('o-1')));
  });
});

describe('examples', () => {
  it('puts a group on one customer and currency (group 1 pays in EUR)', () => {
    expect(customerTotalsKey(examples.valid('o-1', { group: 1 }))).toBe('customer#customer-1#EUR');
    expect(customerTotalsKey(examples.valid('o-2', { group: 2 }))).toBe('customer#customer-2#USD');
  });

  it.each([
    ['currency is not an ISO 4217 code', /^currency: /],
    ['no lines', /^lines: /],
    ['the same sku on two lines', /^lines\.1\.sku: duplicate sku/],
  ])('has an invalid example where %s', (reason, issue) => {
    const example = examples.invalid('o-1').find((candidate) => candidate.reason === reason);
    expect(issuesOf(JSON.parse(example!.body))).toEqual([expect.stringMatching(issue)]);
  });
});
