import { domainSizes } from '../../bench/lib/domain-sizes';
import * as sqsDomain from '../../lambda/sqs-consumer/domain';
import * as tableStreamDomain from '../../lambda/table-stream-consumer/domain';

describe('domainSizes', () => {
  it("measures the SQS message on the domain's examples", () => {
    const lengths = Array.from(
      { length: 100 },
      (_, i) =>
        JSON.stringify(sqsDomain.examples.valid(`cost-${i}`, { group: 1 + (i % 50), variant: i })).length,
    );
    expect(domainSizes('sqs').eventBytes).toBe(
      Math.round(lengths.reduce((a, b) => a + b, 0) / lengths.length),
    );
  });

  it("measures the table stream's event as the item a change writes (its new image), not the change", () => {
    const lengths = Array.from(
      { length: 100 },
      (_, i) =>
        JSON.stringify(
          tableStreamDomain.examples.valid(`cost-${i}`, { group: 1 + (i % 50), variant: i }).newItem,
        ).length,
    );
    expect(domainSizes('table-stream').eventBytes).toBe(
      Math.round(lengths.reduce((a, b) => a + b, 0) / lengths.length),
    );
    expect(domainSizes('fifo').eventBytes).toBeGreaterThan(50);
  });

  it('sizes idempotency records above their fixed attributes and effect items above their key', () => {
    for (const path of ['sqs', 'object', 'stream', 'fifo', 'table-stream'] as const) {
      const sizes = domainSizes(path);
      expect(sizes.idempotencyItemBytes).toBeGreaterThan(100);
      expect(sizes.effectItemBytes).toBeGreaterThan(20);
      expect(sizes.idempotencyItemBytes).toBeLessThan(1024);
    }
    // The object path's event is S3's notification: an assumption, not a domain size.
    expect(domainSizes('object').eventBytes).toBeUndefined();
  });
});
