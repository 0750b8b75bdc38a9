import { domainSizes } from '../../bench/lib/domain-sizes';
import * as sqsDomain from '../../lambda/sqs-consumer/domain';

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

  it('sizes idempotency records above their fixed attributes and effect items above their key', () => {
    for (const path of ['sqs', 'object', 'stream'] as const) {
      const sizes = domainSizes(path);
      expect(sizes.idempotencyItemBytes).toBeGreaterThan(100);
      expect(sizes.effectItemBytes).toBeGreaterThan(20);
      expect(sizes.idempotencyItemBytes).toBeLessThan(1024);
    }
    // The object path's event is S3's notification: an assumption, not a domain size.
    expect(domainSizes('object').eventBytes).toBeUndefined();
  });
});
