/**
 * Every domain module meets the contract the handlers, the tests and the tools rely on (lambda/shared/domain.ts):
 * the template's three, and the payment domain the fork check puts in a copy (tools/fork/payments). A fork's own
 * domain is held to it here too, before any handler test runs on it.
 */
import * as fifoDomain from '../../../lambda/fifo-consumer/domain';
import * as objectDomain from '../../../lambda/object-consumer/domain';
import type { Domain, DomainExamples } from '../../../lambda/shared/domain';
import { groupOfId } from '../../../lambda/shared/domain';
import { payloadHashOf } from '../../../lambda/shared/exactly-once';
import { InvalidPayloadError, parseJsonPayload, type Schema } from '../../../lambda/shared/parsing';
import * as sqsDomain from '../../../lambda/sqs-consumer/domain';
import * as streamDomain from '../../../lambda/stream-consumer/domain';
import * as tableStreamDomain from '../../../lambda/table-stream-consumer/domain';
import * as paymentDomain from '../../../tools/fork/payments/domain';

interface Module {
  readonly domain: Domain<unknown, unknown> & {
    readonly schema?: Schema;
    readonly partitionKey?: (m: unknown) => string;
    readonly messageGroupId?: (m: unknown) => string;
    readonly itemSchema?: Schema;
  };
  readonly examples: DomainExamples<unknown>;
}

const MODULES: [string, Module][] = [
  ['sqs-consumer', sqsDomain as unknown as Module],
  ['fifo-consumer', fifoDomain as unknown as Module],
  ['object-consumer', objectDomain as unknown as Module],
  ['stream-consumer', streamDomain as unknown as Module],
  ['table-stream-consumer', tableStreamDomain as unknown as Module],
  ['fork example: payments', paymentDomain as unknown as Module],
];

const ids = ['r-1', 'r-2', 'run7-evt-30', 'sqs-000042'];
const GROUPS = [1, 2, 3, 4, 5];
const VARIANTS = [0, 1, 2, 5, 6, 13, 999];
const effectKeys = (module: Module, message: unknown) =>
  module.domain.plan(message).effect.map((item) => item.key);

describe.each(MODULES)('the %s domain', (_name, module) => {
  const { domain, examples } = module;

  it('has a record name, and a fixed key prefix that is not a generated function name', () => {
    expect(domain.recordName).toMatch(/^[a-z][a-z -]*$/);
    expect(domain.keyPrefix).toMatch(/^[A-Za-z][\w.-]*$/);
  });

  it('gives valid examples that its schema accepts as they are', () => {
    if (domain.itemSchema) {
      // A table stream's change: its images are what the schema reads.
      for (const variant of VARIANTS) {
        const change = examples.valid('r-1', { group: 2, variant }) as {
          newItem?: unknown;
          oldItem?: unknown;
        };
        for (const image of [change.newItem, change.oldItem].filter((i) => i !== undefined)) {
          expect(parseJsonPayload(JSON.stringify(image), domain.itemSchema)).toEqual(image);
        }
      }
      return;
    }
    if (!domain.schema) return expect(domain.schema).toBeUndefined(); // the object path: S3's schema, object.ts
    for (const variant of VARIANTS) {
      for (const group of GROUPS) {
        const message = examples.valid('r-1', { group, variant });
        expect(parseJsonPayload(JSON.stringify(message), domain.schema)).toEqual(message);
      }
    }
  });

  it('keys an example by its id: the key contains it, differs between ids, and no variant changes it', () => {
    for (const group of GROUPS) {
      const keys = ids.map((id) => domain.idempotencyKey(examples.valid(id, { group })));
      ids.forEach((id, index) => expect(keys[index]).toContain(id));
      expect(new Set(keys).size).toBe(ids.length);
      for (const variant of VARIANTS) {
        expect(domain.idempotencyKey(examples.valid(ids[0], { group, variant }))).toBe(keys[0]);
      }
    }
  });

  it('puts the records of a group on the same effect items, and different groups on different ones', () => {
    for (const group of GROUPS) {
      const items = VARIANTS.map((variant) =>
        effectKeys(module, examples.valid(`r-${variant}`, { group, variant })),
      );
      expect(new Set(items.map((keys) => keys.join('|'))).size).toBe(1);
    }
    const perGroup = GROUPS.map((group) => effectKeys(module, examples.valid('r-1', { group })).join('|'));
    expect(new Set(perGroup).size).toBe(GROUPS.length);
  });

  it("makes a record's effect depend on its group and variant only, not on its id", () => {
    for (const variant of VARIANTS) {
      const a = domain.plan(examples.valid('r-1', { group: 2, variant })).effect;
      const b = domain.plan(examples.valid('r-2', { group: 2, variant })).effect;
      expect(a).toEqual(b);
    }
  });

  it('plans purely: the same record gives the same plan, a JSON response, and finite counters', () => {
    for (const variant of VARIANTS) {
      const message = examples.valid('r-1', { variant });
      const copy = structuredClone(message);
      const plan = domain.plan(message);
      expect(domain.plan(copy)).toEqual(plan);
      expect(message).toEqual(copy);
      expect(JSON.parse(JSON.stringify(plan.response))).toEqual(plan.response);
      expect(plan.effect.length).toBeGreaterThan(0);
      for (const item of plan.effect) {
        expect(item.key).not.toBe('');
        for (const amount of Object.values(item.add)) expect(Number.isFinite(amount)).toBe(true);
      }
    }
  });

  it('gives a conflicting duplicate: the same key, other content', () => {
    const message = examples.valid('r-1', { variant: 4 });
    const other = examples.withOtherContent(message);
    expect(domain.idempotencyKey(other)).toBe(domain.idempotencyKey(message));
    expect(payloadHashOf(other)).not.toBe(payloadHashOf(message));
  });

  it('gives invalid examples that fail validation, each with a reason', () => {
    const invalid = examples.invalid('r-1');
    expect(invalid.length).toBeGreaterThan(0);
    for (const example of invalid) {
      expect(example.reason).not.toBe('');
      // The body is what the schema reads: a message, or on a table stream an item image.
      const schema = domain.schema ?? domain.itemSchema;
      if (schema) expect(() => parseJsonPayload(example.body, schema)).toThrow(InvalidPayloadError);
    }
  });

  it('orders by group when it has an ordering key (a partition key, a message group, an item key)', () => {
    const itemKey = domain.itemSchema ? (m: unknown) => (m as { itemKey: string }).itemKey : undefined;
    const partitionKey = domain.partitionKey ?? domain.messageGroupId ?? itemKey;
    if (!partitionKey) return expect(partitionKey).toBeUndefined();
    const keysOf = (group: number) =>
      new Set(VARIANTS.map((variant) => partitionKey(examples.valid(`r-${variant}`, { group, variant }))));
    for (const group of GROUPS) expect(keysOf(group).size).toBe(1);
    expect(new Set(GROUPS.map((group) => [...keysOf(group)][0])).size).toBe(GROUPS.length);
  });
});

describe('groupOfId', () => {
  it('spreads ids over 1..groups, the same id always in the same group', () => {
    const groups = Array.from({ length: 200 }, (_, i) => groupOfId(`id-${i}`, 10));
    expect(Math.min(...groups)).toBe(1);
    expect(Math.max(...groups)).toBe(10);
    expect(groupOfId('id-7', 10)).toBe(groupOfId('id-7', 10));
  });
});
