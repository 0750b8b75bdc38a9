/**
 * The faults of a scenario, resolved to records, functions and virtual time windows. The engine asks it about
 * throttling, hanging records (timeouts) and SNS delivery failures; the functions (the model function, or the
 * fault layer in front of dynalite for real handlers) ask it about poison records, transient failures and
 * DynamoDB outages.
 *
 * Every decision is a pure function of the plan, the record and the invocation sequence number, so the same
 * seed gives the same faults.
 */
import type { DeliveryFailure } from './engine/async';
import type { SimulationFaults } from './engine/simulation';

export interface TimeWindow {
  readonly fromMs: number;
  readonly toMs: number;
}

export interface ThrottleWindow extends TimeWindow {
  readonly functionId: string;
  /** Concurrency left to the function during the window (0 = every invoke is throttled). */
  readonly concurrency: number;
}

export interface DeliveryFailureWindow extends TimeWindow {
  readonly subscriptionId: string;
  readonly kind: DeliveryFailure;
}

export class FaultPlan implements SimulationFaults {
  private readonly poison = new Set<string>();
  /** Table stream: changes whose old image is an invalid item a poison write left. */
  private readonly invalidOldImages = new Set<string>();
  /** Remaining failing invocations per record. */
  private readonly transient = new Map<string, number>();
  /** Remaining hanging invocations per record (Infinity: always). */
  private readonly hangs = new Map<string, number>();
  /** Records given a hang (kept after their budget is used up). */
  private readonly hangRecords = new Set<string>();
  private readonly throttles: ThrottleWindow[] = [];
  private readonly outages: TimeWindow[] = [];
  private readonly deliveryFailures: DeliveryFailureWindow[] = [];
  /** Decisions already taken for an invocation: the same answer however often it is asked. */
  private readonly transientDecisions = new Map<string, boolean>();
  private readonly hangDecisions = new Map<number, ReadonlySet<number>>();

  addPoison(recordId: string): this {
    this.poison.add(recordId);
    return this;
  }

  /** The record fails in its first `failures` invocations, then succeeds. */
  addTransient(recordId: string, failures: number): this {
    this.transient.set(recordId, failures);
    return this;
  }

  /** Invocations carrying the record time out, `times` times (Infinity: always). */
  addHang(recordId: string, times: number): this {
    this.hangs.set(recordId, times);
    this.hangRecords.add(recordId);
    return this;
  }

  addThrottle(window: ThrottleWindow): this {
    this.throttles.push(window);
    return this;
  }

  addDynamoDbOutage(window: TimeWindow): this {
    this.outages.push(window);
    return this;
  }

  addDeliveryFailure(window: DeliveryFailureWindow): this {
    this.deliveryFailures.push(window);
    return this;
  }

  isPoison(recordId: string): boolean {
    return this.poison.has(recordId);
  }

  /** A change whose old image is the invalid item of a poison write (the handler rejects it too). */
  addInvalidOldImage(recordId: string): this {
    this.invalidOldImages.add(recordId);
    return this;
  }

  hasInvalidOldImage(recordId: string): boolean {
    return this.invalidOldImages.has(recordId);
  }

  get poisonRecords(): ReadonlySet<string> {
    return this.poison;
  }

  hasTransient(recordId: string): boolean {
    return this.transient.has(recordId);
  }

  hasHang(recordId: string): boolean {
    return this.hangRecords.has(recordId);
  }

  /** Whether the record fails (transiently) in invocation `seq`. Counts once per invocation. */
  failsTransiently(recordId: string, seq: number): boolean {
    // Most records have no transient fault, and their answer is always no: only the others need a decision
    // remembered per invocation (a key and a map entry per record and invocation otherwise).
    if (!this.transient.has(recordId)) return false;
    const key = `${seq}:${recordId}`;
    const decided = this.transientDecisions.get(key);
    if (decided !== undefined) return decided;
    const remaining = this.transient.get(recordId) ?? 0;
    const fails = remaining > 0;
    if (fails) this.transient.set(recordId, remaining - 1);
    this.transientDecisions.set(key, fails);
    return fails;
  }

  dynamoDbUnavailable(atMs: number): boolean {
    return this.outages.some((w) => atMs >= w.fromMs && atMs < w.toMs);
  }

  /** Whether an outage overlaps [fromMs, toMs] (an invocation that waited inside itself spans a while). */
  dynamoDbUnavailableDuring(fromMs: number, toMs: number): boolean {
    return this.outages.some((w) => fromMs < w.toMs && toMs >= w.fromMs);
  }

  timeoutsFor(invocation: {
    readonly seq: number;
    readonly recordIds: readonly string[];
  }): ReadonlySet<number> {
    const decided = this.hangDecisions.get(invocation.seq);
    if (decided) return decided;
    const hanging = new Set<number>();
    invocation.recordIds.forEach((recordId, index) => {
      const remaining = this.hangs.get(recordId) ?? 0;
      if (remaining > 0) {
        hanging.add(index);
        this.hangs.set(recordId, remaining - 1);
      }
    });
    this.hangDecisions.set(invocation.seq, hanging);
    return hanging;
  }

  concurrencyLimit(functionId: string, at: number): number | undefined {
    const active = this.throttles.filter((w) => w.functionId === functionId && at >= w.fromMs && at < w.toMs);
    return active.length === 0 ? undefined : Math.min(...active.map((w) => w.concurrency));
  }

  snsDeliveryFailure(subscriptionId: string, at: number): DeliveryFailure | undefined {
    return this.deliveryFailures.find(
      (w) => w.subscriptionId === subscriptionId && at >= w.fromMs && at < w.toMs,
    )?.kind;
  }
}
