/**
 * While function code runs, `Date.now()` reads the virtual wall clock: the invocation's virtual start plus the
 * real time spent since. Powertools computes idempotency expiry and in-progress deadlines from `Date.now()`, so
 * records expire on the simulation's clock (an idempotency expiry shorter than the re-delivery window shows up
 * as a duplicate side effect, as it would in AWS). Only `Date.now` is replaced, only for the duration of the
 * call, and always restored.
 */
import { performance } from 'node:perf_hooks';
import { hostDate } from './host';

/** `Date` of this context and of the host context (the same object outside a test runner's sandbox). */
const clocks = [...new Set([Date, hostDate])].map((clock) => ({ clock, realNow: clock.now }));
let depth = 0;

export async function withVirtualWallClock<T>(startEpochMs: number, run: () => Promise<T>): Promise<T> {
  if (depth > 0) return run();
  const realStart = performance.now();
  depth += 1;
  const virtualNow = () => Math.floor(startEpochMs + (performance.now() - realStart));
  for (const { clock } of clocks) clock.now = virtualNow;
  try {
    return await run();
  } finally {
    for (const { clock, realNow } of clocks) clock.now = realNow;
    depth -= 1;
  }
}
