/**
 * The DynamoDB Streams path's domain: stock levels. The source table holds one item per stock-keeping unit (its
 * quantity in a warehouse); every change of an item reaches the function as a stream record, and the path keeps
 * each warehouse's total stock and its number of changes. Its item schema, idempotency key, plan and example
 * changes are here; the handler, the tests and the tools take the path's business from this module only (the
 * contract: lambda/shared/domain.ts).
 *
 * Everything here is pure, so it is tested without AWS. When you fork, replace this file (and
 * test/lambda/table-stream-consumer/domain.test.ts), keeping the exported `domain` and `examples`.
 */
// zod/mini, as in the other handlers: esbuild keeps only what the schema uses (docs/performance.md).
import * as z from 'zod/mini';
import {
  type DomainExamples,
  type ExampleOptions,
  groupOfId,
  type InvalidExample,
  type ItemChange,
  type TableStreamDomain,
} from '../shared/domain';
import type { Plan } from '../shared/exactly-once';

/** One item of the source table. Unknown attributes are dropped. */
export const StockItemSchema = z.object({
  /** The table's partition key: the stock-keeping unit. */
  pk: z.string().check(z.minLength(1), z.maxLength(128)),
  warehouse: z.string().check(z.minLength(1), z.maxLength(64)),
  quantity: z.int().check(z.minimum(0), z.maximum(1_000_000_000)),
  updatedAt: z.iso.datetime({ offset: true }),
});

export type StockItem = z.output<typeof StockItemSchema>;
export type StockChange = ItemChange<StockItem>;

/** What applying a change answers (stored with its idempotency record). */
export interface StockOutcome {
  readonly eventId: string;
  readonly itemKey: string;
  readonly eventName: StockChange['eventName'];
}

/** The effect table item of a warehouse's stock: `stock#<warehouse>`. */
export function warehouseStockKey(item: Pick<StockItem, 'warehouse'>): string {
  return `stock#${item.warehouse}`;
}

/**
 * What a change does: the warehouse's stock moves by the change in quantity (the old image's quantity leaves its
 * warehouse, the new one's arrives in its own, so a move between warehouses shows in both) and the warehouse of the
 * item after the change (before it, for a removal) counts one more change. Naturally not idempotent.
 */
export function planChange(change: StockChange): Plan<StockOutcome> {
  const moves = new Map<string, Record<string, number>>();
  const add = (key: string, counters: Record<string, number>) => {
    const item = moves.get(key) ?? {};
    for (const [name, amount] of Object.entries(counters)) item[name] = (item[name] ?? 0) + amount;
    moves.set(key, item);
  };
  if (change.oldItem)
    add(warehouseStockKey(change.oldItem), { quantity: -change.oldItem.quantity, changeCount: 0 });
  if (change.newItem)
    add(warehouseStockKey(change.newItem), { quantity: change.newItem.quantity, changeCount: 0 });
  const counted = change.newItem ?? change.oldItem;
  if (counted) add(warehouseStockKey(counted), { changeCount: 1 });
  return {
    response: { eventId: change.eventId, itemKey: change.itemKey, eventName: change.eventName },
    effect: [...moves].map(([key, counters]) => ({ key, add: counters })),
  };
}

/** The stock path's domain: one idempotency record per stream record, order per item. */
export const domain: TableStreamDomain<StockItem, StockOutcome> = {
  recordName: 'change',
  itemSchema: StockItemSchema,
  idempotencyKey: (change) => change.eventId,
  keyPrefix: 'table-stream-consumer.applyChange',
  plan: planChange,
};

const quantityAt = (variant: number): number => 10 + ((variant * 37) % 500);

/**
 * Example changes. Group `g` is item `sku-<g>` in warehouse `wh-<g>` (one item key, one effect item); variant 0
 * inserts it, variant v > 0 modifies its quantity from that of variant v − 1 to that of v.
 */
export const examples: DomainExamples<StockChange> = {
  valid(id: string, options: ExampleOptions = {}): StockChange {
    const group = options.group ?? groupOfId(id, 50);
    const variant = options.variant ?? 0;
    const item = (v: number): StockItem => ({
      pk: `sku-${group}`,
      warehouse: `wh-${group}`,
      quantity: quantityAt(v),
      updatedAt: new Date(Date.UTC(2026, 0, 1) + v * 60_000).toISOString(),
    });
    return {
      eventId: id,
      eventName: variant === 0 ? 'INSERT' : 'MODIFY',
      itemKey: `pk=sku-${group}`,
      newItem: item(variant),
      ...(variant > 0 && { oldItem: item(variant - 1) }),
    };
  },
  withOtherContent(change: StockChange): StockChange {
    const newItem = change.newItem ?? change.oldItem!;
    return { ...change, newItem: { ...newItem, quantity: newItem.quantity + 1 } };
  },
  invalid(id: string): readonly InvalidExample[] {
    const item = examples.valid(id).newItem!;
    return [
      { reason: 'a negative quantity', body: JSON.stringify({ ...item, quantity: -3 }) },
      { reason: 'no warehouse', body: JSON.stringify({ ...item, warehouse: undefined }) },
    ];
  },
};
