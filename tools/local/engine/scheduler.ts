/**
 * The virtual clock and its discrete-event queue. Time is in milliseconds since the start of the simulation
 * and only moves when the next event is taken: nothing here sleeps. Events at the same instant run in the order
 * they were scheduled, and each one (even an asynchronous one, such as a real handler running against
 * dynalite) finishes before the next starts, so a run is a pure function of its inputs and seed.
 */
export type EventAction = () => void | Promise<void>;

interface Entry {
  readonly time: number;
  readonly seq: number;
  readonly action: EventAction;
}

export interface RunLimits {
  /** Stop before the first event later than this virtual time (ms). */
  readonly untilMs?: number;
  /** Stop after this many events (a guard against a scenario that never settles). */
  readonly maxEvents?: number;
  /** Called every `progressEvery` events, e.g. to print progress on long runs. */
  readonly onProgress?: (state: {
    readonly now: number;
    readonly events: number;
    readonly pending: number;
  }) => void;
  readonly progressEvery?: number;
}

export type StopReason = 'idle' | 'time-limit' | 'event-limit';

export class Scheduler {
  private readonly heap: Entry[] = [];
  private seq = 0;
  private current = 0;
  private executed = 0;

  /** Virtual time now (ms since the start). */
  get now(): number {
    return this.current;
  }

  /** Events run so far. */
  get eventCount(): number {
    return this.executed;
  }

  get pendingCount(): number {
    return this.heap.length;
  }

  /** Runs `action` at virtual time `time` (never in the past). */
  at(time: number, action: EventAction): void {
    this.push({ time: Math.max(time, this.current), seq: this.seq++, action });
  }

  /** Runs `action` `delayMs` from now. */
  after(delayMs: number, action: EventAction): void {
    this.at(this.current + Math.max(0, delayMs), action);
  }

  /** Takes events in time order until none is left or a limit is reached. */
  async run(limits: RunLimits = {}): Promise<StopReason> {
    const every = limits.progressEvery ?? 5000;
    while (this.heap.length > 0) {
      const next = this.heap[0];
      if (limits.untilMs !== undefined && next.time > limits.untilMs) {
        this.current = limits.untilMs;
        return 'time-limit';
      }
      if (limits.maxEvents !== undefined && this.executed >= limits.maxEvents) return 'event-limit';
      this.pop();
      this.current = next.time;
      this.executed += 1;
      const result = next.action();
      if (result) await result;
      if (limits.onProgress && this.executed % every === 0) {
        limits.onProgress({ now: this.current, events: this.executed, pending: this.heap.length });
      }
    }
    return 'idle';
  }

  // Sift with a hole (the moving entry is written once, where it stops) rather than swapping pairs: the same
  // order, fewer writes, and no temporary arrays from destructuring swaps on the simulator's hottest path.
  private push(entry: Entry): void {
    const heap = this.heap;
    let i = heap.length;
    heap.push(entry);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(entry, heap[parent])) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = entry;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop()!;
    const size = heap.length;
    if (size === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      let smallestEntry = last;
      if (left < size && before(heap[left], smallestEntry)) {
        smallest = left;
        smallestEntry = heap[left];
      }
      if (right < size && before(heap[right], smallestEntry)) {
        smallest = right;
        smallestEntry = heap[right];
      }
      if (smallest === i) break;
      heap[i] = smallestEntry;
      i = smallest;
    }
    heap[i] = last;
  }
}

function before(x: Entry, y: Entry): boolean {
  return x.time < y.time || (x.time === y.time && x.seq < y.seq);
}
