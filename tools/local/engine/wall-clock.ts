/**
 * While function code runs, `Date.now()` reads the virtual wall clock: the invocation's virtual start plus the
 * real time spent since, plus the waits the code made on the virtual clock. Powertools computes idempotency
 * expiry and in-progress deadlines from `Date.now()`, so records expire on the simulation's clock (an idempotency
 * expiry shorter than the re-delivery window shows up as a duplicate side effect, as it would in AWS). Only
 * `Date.now` and `setTimeout` are replaced, only for the duration of the call, and always restored.
 *
 * Virtual waits: a handler that waits inside an invocation (the in-invocation retry after a transient DynamoDB
 * failure, lambda/shared/deadlines.ts) would otherwise wait in real time while every request of the invocation
 * still met the same fault. A timer whose delay is one of the {@link setVirtualWaits} delays fires at once in
 * real time (a thousandth of the delay, so waits keep their order) and moves the invocation's clock by the
 * delay. The set must not contain any other timer's delay (the SDK's request timeout): `BundleFunction` checks.
 */
import { performance } from 'node:perf_hooks';
import { runInThisContext } from 'node:vm';
import { hostDate } from './host';

/** `Date` of this context and of the host context (the same object outside a test runner's sandbox). */
const clocks = [...new Set([Date, hostDate])].map((clock) => ({ clock, realNow: clock.now }));
/** The globals whose `setTimeout` the code may call (this context's and the host's). */
const timerGlobals = [...new Set([globalThis, runInThisContext('globalThis') as typeof globalThis])].map(
  (global) => ({ global, realSetTimeout: global.setTimeout }),
);
let depth = 0;
let virtualDelays: ReadonlySet<number> = new Set();
/** Virtual ms the running invocation has waited so far. */
let waited = 0;

/** The timer delays that run on the virtual clock (the handlers' in-invocation retry waits). */
export function setVirtualWaits(delays: readonly number[]): void {
  virtualDelays = new Set(delays);
}

/** What the running invocation has waited on the virtual clock so far (0 outside an invocation). */
export function virtualWaitedMs(): number {
  return waited;
}

/** Runs `run` on the virtual clock; `onWaited` gets what it waited on it (to add to the invocation's duration). */
export async function withVirtualWallClock<T>(
  startEpochMs: number,
  run: () => Promise<T>,
  onWaited?: (waitedMs: number) => void,
): Promise<T> {
  if (depth > 0) return run();
  const realStart = performance.now();
  depth += 1;
  waited = 0;
  const virtualNow = () => Math.floor(startEpochMs + (performance.now() - realStart) + waited);
  const realSetTimeout = timerGlobals[0].realSetTimeout;
  const virtualSetTimeout = ((callback: (...args: unknown[]) => void, delay?: number, ...args: unknown[]) => {
    if (delay === undefined || !virtualDelays.has(delay)) return realSetTimeout(callback, delay, ...args);
    // Counted on the waits alone, not on the real time around them, so the same run waits the same.
    const due = waited + delay;
    return realSetTimeout(
      () => {
        // Waits that overlap (two partition keys waiting at once) move the clock once, to the later due time.
        waited = Math.max(waited, due);
        callback(...args);
      },
      Math.max(1, Math.round(delay / 1000)),
    );
  }) as typeof setTimeout;
  for (const { clock } of clocks) clock.now = virtualNow;
  for (const { global } of timerGlobals) global.setTimeout = virtualSetTimeout;
  try {
    return await run();
  } finally {
    for (const { clock, realNow } of clocks) clock.now = realNow;
    for (const { global, realSetTimeout: original } of timerGlobals) global.setTimeout = original;
    onWaited?.(waited);
    waited = 0;
    depth -= 1;
  }
}
