import {
  domain,
  examples,
  planChange,
  type StockChange,
  type StockItem,
  StockItemSchema,
  warehouseStockKey,
} from '../../../lambda/table-stream-consumer/domain';

const item = (overrides: Partial<StockItem> = {}): StockItem => ({
  pk: 'sku-1',
  warehouse: 'wh-a',
  quantity: 10,
  updatedAt: '2026-01-01T00:00:00Z',
  ...overrides,
});
const changeOf = (overrides: Partial<StockChange>): StockChange => ({
  eventId: 'ev-1',
  eventName: 'MODIFY',
  itemKey: 'pk=sku-1',
  ...overrides,
});

describe('StockItemSchema', () => {
  it('accepts an item and rejects a negative quantity or a missing warehouse', () => {
    expect(StockItemSchema.safeParse(item()).success).toBe(true);
    expect(StockItemSchema.safeParse(item({ quantity: -1 })).success).toBe(false);
    expect(StockItemSchema.safeParse({ ...item(), warehouse: undefined }).success).toBe(false);
  });
});

describe('planChange', () => {
  it('adds an inserted item to its warehouse and counts the change', () => {
    expect(planChange(changeOf({ eventName: 'INSERT', newItem: item() })).effect).toEqual([
      { key: 'stock#wh-a', add: { quantity: 10, changeCount: 1 } },
    ]);
  });

  it('moves a modified quantity by the difference', () => {
    expect(planChange(changeOf({ oldItem: item(), newItem: item({ quantity: 4 }) })).effect).toEqual([
      { key: 'stock#wh-a', add: { quantity: -6, changeCount: 1 } },
    ]);
  });

  it('moves stock between warehouses when the item moves', () => {
    expect(planChange(changeOf({ oldItem: item(), newItem: item({ warehouse: 'wh-b' }) })).effect).toEqual([
      { key: 'stock#wh-a', add: { quantity: -10, changeCount: 0 } },
      { key: 'stock#wh-b', add: { quantity: 10, changeCount: 1 } },
    ]);
  });

  it('takes a removed item out of its warehouse', () => {
    expect(planChange(changeOf({ eventName: 'REMOVE', oldItem: item() })).effect).toEqual([
      { key: 'stock#wh-a', add: { quantity: -10, changeCount: 1 } },
    ]);
    expect(warehouseStockKey(item())).toBe('stock#wh-a');
  });

  it('answers with the change it applied', () => {
    expect(planChange(changeOf({ newItem: item(), oldItem: item() })).response).toEqual({
      eventId: 'ev-1',
      itemKey: 'pk=sku-1',
      eventName: 'MODIFY',
    });
  });
});

describe('domain and examples', () => {
  it('keys a change by its stream record id', () => {
    expect(domain.idempotencyKey(changeOf({ eventId: 'ev-9' }))).toBe('ev-9');
  });

  it("inserts a group's item first, then modifies it from the previous quantity", () => {
    const [first, second] = [0, 1].map((variant) => examples.valid(`e-${variant}`, { group: 2, variant }));
    expect(first.eventName).toBe('INSERT');
    expect(second.eventName).toBe('MODIFY');
    expect(second.oldItem).toEqual({ ...first.newItem, updatedAt: first.newItem!.updatedAt });
  });
});
