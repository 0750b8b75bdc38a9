/**
 * While function code runs, `Date.now()` reads the virtual wall clock: the invocation's virtual start plus the
 * real time spent since. Powertools computes idempotency expiry and in-progress deadlines from `Date.now()`, so
 * records expire on the simulation's clock (an idempotency expiry shorter than the re-delivery window shows up
 * as a duplicate side effect, as it would in AWS). Only `Date.now` is replaced, only for the duration of the
 * call, and always restored.
 */
import { performance } from 'node:perf_hooks';

const realDateNow = Date.now;
let depth = 0;

export async function withVirtualWallClock<T>(startEpochMs: number, run: () => Promise<T>): Promise<T> {
  if (depth > 0) return run();
  const realStart = performance.now();
  depth += 1;
  Date.now = () => Math.floor(startEpochMs + (performance.now() - realStart));
  try {
    return await run();
  } finally {
    Date.now = realDateNow;
    depth -= 1;
  }
}
