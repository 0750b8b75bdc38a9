/**
 * The Lambda service's invoke path, shared by the three invocation models: concurrency (reserved concurrency,
 * injected throttling), the Lambda context, timeouts, and the virtual duration of each invocation.
 *
 * The function's code runs at the virtual instant the invocation starts; its outcome is applied by the caller
 * when the invocation ends (`startedAt + durationMs`), and the concurrency it holds is released then.
 */
import type { Context } from 'aws-lambda';
import { createLambdaContext } from '../../shared/lambda-context';
import { AWS_DEFAULTS, type FunctionConfig, type IngestionPath } from './config';
import type { Random } from './random';
import type { Scheduler } from './scheduler';
import type { InvocationReason, InvocationRecord, Trace } from './trace';
import { withVirtualWallClock } from './wall-clock';

/** The Lambda context object, as the Node.js runtime passes it to a handler. */
export type LambdaContext = Context;

/** One invocation as the code sees it. */
export interface FunctionInvocation {
  readonly seq: number;
  readonly function: FunctionConfig;
  /** The path whose source invoked it; `http`: API Gateway's synchronous Invoke (engine/http.ts). */
  readonly path: IngestionPath | 'http';
  readonly event: unknown;
  /** Logical record ids, parallel to the event's `Records`. */
  readonly recordIds: readonly string[];
  /** Virtual time (ms since the start) and virtual wall clock (epoch ms) when it starts. */
  readonly startedAt: number;
  readonly startEpochMs: number;
  readonly context: LambdaContext;
}

export type FunctionOutcome =
  | { readonly kind: 'returned'; readonly payload: unknown }
  | { readonly kind: 'threw'; readonly errorType: string; readonly errorMessage: string };

export interface FunctionResult {
  /** `timed-out`: the code froze (a simulated hang of its environment) until the function timeout. */
  readonly outcome: TimedOutcome;
  /** Logical records whose side effect this invocation performed. */
  readonly sideEffects: readonly string[];
  /** `recordKey`s of side effects that match no known record. */
  readonly unattributedSideEffects?: readonly string[];
}

/** Code the simulator can invoke: a real handler bundle, or a function written for a test. */
export interface FunctionCode {
  invoke(invocation: FunctionInvocation): Promise<FunctionResult>;
}

/** What the fault plan tells the Lambda service (record-level faults are the code's business). */
export interface ServiceFaults {
  /** Indexes (into the invocation's records) of records that make this invocation time out. */
  timeoutsFor(invocation: {
    readonly seq: number;
    readonly recordIds: readonly string[];
  }): ReadonlySet<number>;
  /** Concurrency the function may use at `at`; `undefined` when no throttling is injected. */
  concurrencyLimit(functionId: string, at: number): number | undefined;
}

export const NO_SERVICE_FAULTS: ServiceFaults = {
  timeoutsFor: () => new Set(),
  concurrencyLimit: () => undefined,
};

/** Virtual duration of an invocation that does not time out. */
export interface DurationModel {
  /** Fixed part (ms). */
  readonly baseMs: number;
  /** Per record (ms). */
  readonly perRecordMs: number;
  /** Uniform jitter, as a fraction of the total (0.2 = ±20%). */
  readonly jitter: number;
}

export const DEFAULT_DURATION: DurationModel = { baseMs: 40, perRecordMs: 4, jitter: 0.25 };

export interface InvokeRequest {
  readonly functionId: string;
  readonly path: IngestionPath;
  readonly sourceId: string;
  readonly event: { readonly Records: readonly unknown[] };
  readonly recordIds: readonly string[];
  readonly itemIds: readonly string[];
  readonly reason: InvocationReason;
  readonly attempt: number;
  /** Asynchronous retries keep the request id of the first attempt. */
  readonly requestId?: string;
  readonly shardId?: string;
  readonly lane?: number;
}

export type RecordProcessing = 'concurrent' | 'in-order' | 'per-key';

export type TimedOutcome = FunctionOutcome | { readonly kind: 'timed-out'; readonly errorMessage: string };

export type InvokeResult =
  | { readonly status: 'throttled' }
  | {
      readonly status: 'invoked';
      readonly record: InvocationRecord;
      readonly outcome: TimedOutcome;
      /** The invocation ends at `startedAt + durationMs`; apply its outcome then. */
      readonly durationMs: number;
    };

export interface LambdaServiceOptions {
  readonly region: string;
  readonly accountId: string;
  readonly epochMs: number;
  readonly duration?: DurationModel;
  /**
   * How the function of a path works through a batch, which decides what a hanging record (a timeout) stops:
   * - `concurrent`: every other record finishes (the SQS handler);
   * - `in-order`: the records after the hanging one never start;
   * - `per-key`: the later records of the hanging record's partition key never start, other keys finish (the
   *   stream handler: keys concurrently, each key in order).
   * Default: `per-key` for the stream paths (Kinesis, DynamoDB Streams), `in-order` for the FIFO path (Powertools' FIFO processor runs the
   * records one after the other), `concurrent` for the others (the object path gets one record).
   */
  readonly recordProcessing?: (path: IngestionPath) => RecordProcessing;
}

export class LambdaService {
  private readonly inFlight = new Map<string, number>();
  private readonly code = new Map<string, FunctionCode>();
  private seq = 0;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly random: Random,
    private readonly trace: Trace,
    private readonly functions: ReadonlyMap<string, FunctionConfig>,
    private readonly faults: ServiceFaults,
    private readonly options: LambdaServiceOptions,
  ) {}

  /** Binds the code that runs when `functionId` is invoked. */
  setCode(functionId: string, code: FunctionCode): void {
    if (!this.functions.has(functionId)) throw new Error(`No function "${functionId}" in the configuration.`);
    this.code.set(functionId, code);
  }

  functionConfig(functionId: string): FunctionConfig {
    const config = this.functions.get(functionId);
    if (!config) throw new Error(`No function "${functionId}" in the configuration.`);
    return config;
  }

  /** Concurrent executions the function may have now. */
  concurrencyLimit(functionId: string): number {
    const config = this.functionConfig(functionId);
    const injected = this.faults.concurrencyLimit(functionId, this.scheduler.now);
    const reserved = config.reservedConcurrency ?? AWS_DEFAULTS.accountConcurrency;
    return injected === undefined ? reserved : Math.min(injected, reserved);
  }

  running(functionId: string): number {
    return this.inFlight.get(functionId) ?? 0;
  }

  /** Invokes the function, or reports a throttle when no concurrency is left. */
  async invoke(request: InvokeRequest): Promise<InvokeResult> {
    const config = this.functionConfig(request.functionId);
    const now = this.scheduler.now;
    if (this.running(request.functionId) >= this.concurrencyLimit(request.functionId)) {
      this.trace.event({
        at: now,
        path: request.path,
        kind: 'throttled',
        sourceId: request.sourceId,
        recordIds: request.recordIds,
        detail: `429 TooManyRequestsException: ${config.functionName} is at its concurrency limit (${this.concurrencyLimit(request.functionId)})`,
      });
      return { status: 'throttled' };
    }
    const code = this.code.get(request.functionId);
    if (!code) throw new Error(`No code bound to function "${request.functionId}".`);

    const seq = ++this.seq;
    const requestId = request.requestId ?? this.random.uuid();
    const timeoutMs = config.timeoutSeconds * 1000;
    const startEpochMs = this.options.epochMs + now;
    const record = this.trace.invocation({
      seq,
      requestId,
      path: request.path,
      functionId: request.functionId,
      sourceId: request.sourceId,
      startedAt: now,
      endedAt: now,
      recordIds: request.recordIds,
      itemIds: request.itemIds,
      reason: request.reason,
      attempt: request.attempt,
      ...(request.shardId !== undefined && { shardId: request.shardId }),
      ...(request.lane !== undefined && { lane: request.lane }),
      outcome: 'success',
      failedItemIds: [],
      sideEffects: [],
    });

    // A record that hangs makes the invocation time out: the runtime reports "Task timed out" once the timeout
    // is reached. The hanging record never completes; the others of the batch complete (concurrent
    // processing) or only those before it do (in-order processing), and their work stays done.
    const hanging = this.faults.timeoutsFor({ seq, recordIds: request.recordIds });
    const processing = (this.options.recordProcessing ?? defaultRecordProcessing)(request.path);
    const firstHanging = Math.min(...hanging);
    const keyOf = (index: number) => recordKeyOf(request.event.Records[index]);
    // Per key: the first hanging record of each partition key; that key's later records never start.
    const firstHangingOfKey = new Map<string | undefined, number>();
    for (const index of [...hanging].sort((a, b) => b - a)) firstHangingOfKey.set(keyOf(index), index);
    const keep = request.event.Records.map(
      (_, index) =>
        hanging.size === 0 ||
        (processing === 'concurrent'
          ? !hanging.has(index)
          : processing === 'in-order'
            ? index < firstHanging
            : index < (firstHangingOfKey.get(keyOf(index)) ?? Infinity)),
    );
    const runnable = keep.some(Boolean);
    const event =
      hanging.size === 0
        ? request.event
        : { ...request.event, Records: request.event.Records.filter((_, i) => keep[i]) };
    const recordIds = hanging.size === 0 ? request.recordIds : request.recordIds.filter((_, i) => keep[i]);

    let outcome: TimedOutcome;
    /** Virtual time the code waited inside the invocation (wall-clock.ts): part of its duration. */
    let waitedMs = 0;
    if (runnable) {
      const context = createContext(config, requestId, startEpochMs, timeoutMs, this.random.hex(32));
      const result = await withVirtualWallClock(
        startEpochMs,
        () =>
          code.invoke({
            seq,
            function: config,
            path: request.path,
            event,
            recordIds,
            startedAt: now,
            startEpochMs,
            context,
          }),
        (waited) => {
          waitedMs = waited;
        },
      );
      record.sideEffects = result.sideEffects;
      for (const recordId of result.sideEffects)
        this.trace.sideEffect({ at: now, invocationSeq: seq, recordId });
      for (const recordKey of result.unattributedSideEffects ?? []) {
        this.trace.unattributedSideEffects.push({ invocationSeq: seq, recordKey });
      }
      outcome = result.outcome;
    } else {
      outcome = { kind: 'threw', errorType: 'Unreachable', errorMessage: 'not run' };
    }
    if (hanging.size > 0) {
      outcome = {
        kind: 'timed-out',
        errorMessage: `${new Date(startEpochMs + timeoutMs).toISOString()} ${requestId} Task timed out after ${config.timeoutSeconds.toFixed(2)} seconds`,
      };
    }

    const durationMs =
      outcome.kind === 'timed-out'
        ? timeoutMs
        : Math.min(this.durationOf(request.recordIds.length, timeoutMs) + waitedMs, timeoutMs - 1);
    record.endedAt = now + durationMs;
    record.outcome =
      outcome.kind === 'timed-out' ? 'timeout' : outcome.kind === 'threw' ? 'function-error' : 'success';
    if (outcome.kind !== 'returned') {
      record.error =
        outcome.kind === 'timed-out'
          ? { errorType: 'Sandbox.Timedout', errorMessage: outcome.errorMessage }
          : { errorType: outcome.errorType, errorMessage: outcome.errorMessage };
    }
    this.inFlight.set(request.functionId, this.running(request.functionId) + 1);
    this.scheduler.after(durationMs, () => {
      this.inFlight.set(request.functionId, this.running(request.functionId) - 1);
    });
    return { status: 'invoked', record, outcome, durationMs };
  }

  private durationOf(records: number, timeoutMs: number): number {
    const model = this.options.duration ?? DEFAULT_DURATION;
    const nominal = model.baseMs + model.perRecordMs * records;
    const jittered = nominal * (1 + model.jitter * (2 * this.random.next() - 1));
    return Math.max(1, Math.min(Math.round(jittered), timeoutMs - 1));
  }
}

/** The Lambda context object of one invocation; its remaining time counts down on the virtual wall clock. */
export function createContext(
  config: FunctionConfig,
  requestId: string,
  startEpochMs: number,
  timeoutMs: number,
  streamSuffix: string,
): LambdaContext {
  return createLambdaContext({
    functionName: config.functionName,
    functionArn: config.functionArn,
    memorySizeMb: config.memorySizeMb,
    requestId,
    startEpochMs,
    timeoutMs,
    logStreamSuffix: streamSuffix,
  });
}

function defaultRecordProcessing(path: IngestionPath): RecordProcessing {
  if (path === 'stream' || path === 'table-stream') return 'per-key';
  return path === 'fifo' ? 'in-order' : 'concurrent';
}

/** The key whose records a stream handler keeps in order: a Kinesis partition key, a DynamoDB item's key. */
export function recordKeyOf(record: unknown): string | undefined {
  const r = record as { kinesis?: { partitionKey?: string }; dynamodb?: { Keys?: unknown } };
  if (r.kinesis) return r.kinesis.partitionKey;
  return r.dynamodb?.Keys === undefined ? undefined : JSON.stringify(r.dynamodb.Keys);
}
