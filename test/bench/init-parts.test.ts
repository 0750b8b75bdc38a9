/**
 * `npm run bench`'s "where init time goes" parts (bench/lib/init-parts.ts) bundle and load: each names modules of
 * the project by path, and one that moved (lambda/sqs-consumer/order.ts became domain.ts) broke the whole bench at
 * that section, after a minute of cold starts. In `npm run test:heavy` (bundling seven parts takes seconds).
 */
import { CONSUMER_BUNDLING } from '../../lib/constructs/consumer-function';
import { prepareBenchDir } from '../../bench/lib/harness';
import { measureInitParts } from '../../bench/lib/init-parts';

it('bundles every part with the shipped settings and requires each in a fresh process', async () => {
  prepareBenchDir();
  const parts = await measureInitParts({ bundling: CONSUMER_BUNDLING, environment: {}, rounds: 1 });
  expect(parts.map((part) => part.name)).toEqual([
    'empty',
    'sdk',
    'logger',
    'batch',
    'idempotency',
    'zod-mini',
    'zod-classic',
  ]);
  for (const part of parts) {
    expect(part.bytes).toBeGreaterThan(0);
    expect(Number.isFinite(part.requireMs.median)).toBe(true);
  }
});
