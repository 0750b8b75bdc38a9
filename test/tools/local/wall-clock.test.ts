/**
 * The simulator's virtual wall clock (tools/local/engine/wall-clock.ts): `Date.now()` during function code, and the
 * handler's waits run on the virtual clock instead of in real time.
 */
import { performance } from 'node:perf_hooks';
import {
  setVirtualWaits,
  virtualWaitedMs,
  withVirtualWallClock,
} from '../../../tools/local/engine/wall-clock';

const START = Date.UTC(2025, 0, 1);
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

afterEach(() => setVirtualWaits([]));

describe('withVirtualWallClock', () => {
  it('reads the virtual clock inside, the real one after', async () => {
    const inside = await withVirtualWallClock(START, async () => Date.now());
    expect(inside - START).toBeGreaterThanOrEqual(0);
    expect(inside - START).toBeLessThan(1_000);
    expect(Date.now()).toBeGreaterThan(START + 365 * 24 * 3600 * 1000);
  });

  it('runs a wait of a listed delay on the virtual clock: at once in real time, the clock moved by the delay', async () => {
    setVirtualWaits([8_000]);
    let waitedReported = -1;
    const realStart = performance.now();
    const [before, after, waitedInside] = await withVirtualWallClock(
      START,
      async () => {
        const before = Date.now();
        await wait(8_000);
        return [before, Date.now(), virtualWaitedMs()];
      },
      (waited) => {
        waitedReported = waited;
      },
    );
    expect(performance.now() - realStart).toBeLessThan(2_000);
    expect(after - before).toBeGreaterThanOrEqual(8_000);
    expect(waitedInside).toBe(8_000);
    expect(waitedReported).toBe(8_000);
    // Outside an invocation nothing is waited.
    expect(virtualWaitedMs()).toBe(0);
  });

  it('counts overlapping waits once (two partition keys waiting together), and chained waits in sum', async () => {
    setVirtualWaits([1_000, 2_000]);
    let waited = 0;
    await withVirtualWallClock(
      START,
      async () => {
        await Promise.all([wait(1_000), wait(1_000)]);
        await wait(2_000);
      },
      (ms) => {
        waited = ms;
      },
    );
    expect(waited).toBe(3_000);
  });

  it('leaves other timers in real time (the SDK request timeout must not fire early)', async () => {
    setVirtualWaits([1_000]);
    let waited = -1;
    const realStart = performance.now();
    await withVirtualWallClock(
      START,
      () => wait(30),
      (ms) => {
        waited = ms;
      },
    );
    expect(performance.now() - realStart).toBeGreaterThanOrEqual(25);
    expect(waited).toBe(0);
  });
});
