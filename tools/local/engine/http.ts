/**
 * The synchronous invocation model (the http path): clients that POST with an Idempotency-Key and retry, API
 * Gateway's stage throttle, and Lambda's synchronous Invoke of the route's function, on the virtual clock.
 *
 * The seeds: "In a synchronous invocation, like between API Gateway and Lambda, no retries are built in. You have
 * to write code to handle errors and retries for all error types", and "If the limit for concurrency is exceeded,
 * throttling occurs with error message "Rate Exceeded" and 429 "TooManyRequestsException"". So here:
 * - the **client** is the project's own (tools/http-client/client.ts `submit`, with the retry policy of
 *   retry-policy.ts), run as is on the virtual clock through its `ClientClock` and `fetch` options: what it
 *   retries, its capped exponential backoff with full jitter, `Retry-After`, the same key on every attempt, its
 *   per-attempt timeout and total deadline are the very code `npm run send` runs;
 * - **API Gateway's stage throttle** is a token bucket ("API Gateway throttles requests to your API using the
 *   token bucket algorithm, where a token counts for a request": the bucket holds `burstLimit` tokens and refills
 *   at `rateLimit` per second); a request that finds it empty gets API Gateway's own `429 {"message":"Too Many
 *   Requests"}` (no `Retry-After`) and the function never runs;
 * - **Lambda's concurrency**: an invocation beyond the function's reserved concurrency is refused with 429
 *   `TooManyRequestsException`, which an HTTP API answers its caller with `500 {"message":"Internal Server
 *   Error"}` (docs/http-path.md: why the stage throttle is sized so that this never happens);
 * - a **lost answer**: the function finished (the order enqueued, the answer stored with the key) but its answer
 *   never reaches the client, whose attempt times out: the classic duplicate, which the retry with the same key
 *   must not turn into a second order.
 *
 * As for the other invocation models (lambda.ts), the function's code runs at the virtual instant the invocation
 * starts, and its answer reaches the client when the invocation ends.
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { submit, type RequestSigner, type SubmitResult } from '../../http-client/client';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../../http-client/retry-policy';
import { httpApiEvent } from '../../shared/http-events';
import type { FunctionConfig, HttpApiConfig } from './config';
import {
  createContext,
  DEFAULT_DURATION,
  type DurationModel,
  type FunctionCode,
  type TimedOutcome,
} from './lambda';
import type { Random } from './random';
import type { Scheduler } from './scheduler';
import { withVirtualWallClock } from './wall-clock';

/**
 * API Gateway's throttle per account and Region, which applies when a stage sets none ("The throttle quota is
 * 10,000 requests per second (RPS) with an additional burst capacity provided by the token bucket algorithm. The
 * maximum bucket capacity is 5,000 requests per account and Region").
 */
export const API_GATEWAY_ACCOUNT_THROTTLE = { rateLimit: 10_000, burstLimit: 5_000 } as const;

/** One way of the network between a client and API Gateway, in ms: small next to an invocation, never zero. */
export const NETWORK_MS = 5;

/** API Gateway's own answers (HTTP APIs), not the function's. */
export const GATEWAY_ANSWERS = {
  throttled: { status: 429, body: '{"message":"Too Many Requests"}' },
  internalError: { status: 500, body: '{"message":"Internal Server Error"}' },
} as const;

/**
 * The stage's token bucket: `burst` tokens at most, `ratePerSecond` added per second; a request takes one or is
 * refused. Starts full (a stage that has been idle).
 */
export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
    startMs = 0,
  ) {
    this.tokens = burst;
    this.lastMs = startMs;
  }

  /** Tokens in the bucket at `nowMs` (fractions included). */
  available(nowMs: number): number {
    this.refill(nowMs);
    return this.tokens;
  }

  /** Takes a token at `nowMs`: true when there was one (the request passes), false when it is throttled. */
  tryTake(nowMs: number): boolean {
    this.refill(nowMs);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private refill(nowMs: number): void {
    if (nowMs <= this.lastMs) return;
    this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.lastMs) * this.ratePerSecond) / 1000);
    this.lastMs = nowMs;
  }
}

/** One synchronous invocation, as the report lists it. */
export interface SyncInvocationRecord {
  readonly seq: number;
  readonly submissionId: string;
  readonly startedAt: number;
  readonly endedAt: number;
  /** The status the function answered; 500 when it threw or timed out. */
  readonly status: number;
  readonly outcome: TimedOutcome['kind'];
}

export type SyncInvokeResult =
  | { readonly status: 'throttled'; readonly limit: number }
  | {
      readonly status: 'invoked';
      readonly seq: number;
      readonly outcome: TimedOutcome;
      /** The invocation ends (and its answer leaves the function) at `startedAt + durationMs`. */
      readonly durationMs: number;
    };

/**
 * Lambda's synchronous Invoke of one function: concurrency (reserved concurrency, or the account's), the context,
 * the virtual duration. No retry: the caller gets the error (the seeds' "no retries are built in").
 */
export class SynchronousInvoker {
  private running = 0;
  private seq = 0;
  readonly invocations: SyncInvocationRecord[] = [];
  /** Invokes refused for concurrency. */
  throttles = 0;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly random: Random,
    readonly fn: FunctionConfig,
    private readonly code: FunctionCode,
    private readonly options: {
      readonly epochMs: number;
      readonly duration?: DurationModel;
      /** Concurrency the account leaves the function when it reserves none. @default 1,000 */
      readonly accountConcurrency?: number;
    },
  ) {}

  /** The most concurrent invocations: the reserved concurrency, or what the account has. */
  get concurrencyLimit(): number {
    return this.fn.reservedConcurrency ?? this.options.accountConcurrency ?? 1000;
  }

  get inFlight(): number {
    return this.running;
  }

  async invoke(event: unknown, submissionId: string): Promise<SyncInvokeResult> {
    if (this.running >= this.concurrencyLimit) {
      this.throttles += 1;
      return { status: 'throttled', limit: this.concurrencyLimit };
    }
    const now = this.scheduler.now;
    const seq = ++this.seq;
    const requestId = this.random.uuid();
    const timeoutMs = this.fn.timeoutSeconds * 1000;
    const startEpochMs = this.options.epochMs + now;
    const context = createContext(this.fn, requestId, startEpochMs, timeoutMs, this.random.hex(32));
    this.running += 1;
    let waitedMs = 0;
    const result = await withVirtualWallClock(
      startEpochMs,
      () =>
        this.code.invoke({
          seq,
          function: this.fn,
          path: 'http',
          event,
          recordIds: [submissionId],
          startedAt: now,
          startEpochMs,
          context,
        }),
      (waited) => {
        waitedMs = waited;
      },
    );
    const outcome = result.outcome;
    const durationMs =
      outcome.kind === 'timed-out'
        ? timeoutMs
        : Math.min(this.nominalDuration(timeoutMs) + waitedMs, timeoutMs);
    this.scheduler.after(durationMs, () => {
      this.running -= 1;
    });
    this.invocations.push({
      seq,
      submissionId,
      startedAt: now,
      endedAt: now + durationMs,
      status: outcome.kind === 'returned' ? answerOf(outcome.payload).status : 500,
      outcome: outcome.kind,
    });
    return { status: 'invoked', seq, outcome, durationMs };
  }

  private nominalDuration(timeoutMs: number): number {
    const model = this.options.duration ?? DEFAULT_DURATION;
    const nominal = model.baseMs + model.perRecordMs;
    const jittered = nominal * (1 + model.jitter * (2 * this.random.next() - 1));
    return Math.max(1, Math.min(Math.round(jittered), timeoutMs - 1));
  }
}

/** An HTTP answer as it leaves API Gateway. */
export interface GatewayAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** From the request's arrival to the answer's departure. */
  readonly latencyMs: number;
  /** Who answered: the stage throttle, Lambda's throttle (API Gateway's 500), or the function. */
  readonly answeredBy: 'stage-throttle' | 'lambda-throttle' | 'function';
}

/** The answer an HTTP API makes of a payload format 2.0 result (a structured one; anything else is a 200 body). */
function answerOf(payload: unknown): { status: number; headers: Record<string, string>; body: string } {
  const result = payload as APIGatewayProxyStructuredResultV2 | undefined;
  if (result && typeof result === 'object' && typeof result.statusCode === 'number') {
    const headers = Object.fromEntries(
      Object.entries(result.headers ?? {}).map(([name, value]) => [name, String(value)]),
    );
    return { status: result.statusCode, headers, body: result.body ?? '' };
  }
  return {
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(payload ?? null),
  };
}

/** API Gateway's stage in front of the route's function: throttle first, then the synchronous Invoke. */
export class HttpApiGateway {
  readonly bucket: TokenBucket;
  /** Requests the stage throttle refused. */
  stageThrottles = 0;

  constructor(
    readonly api: HttpApiConfig,
    readonly routeKey: string,
    readonly invoker: SynchronousInvoker,
    private readonly scheduler: Scheduler,
    private readonly random: Random,
    private readonly epochMs: number,
  ) {
    this.bucket = new TokenBucket(
      api.rateLimit ?? API_GATEWAY_ACCOUNT_THROTTLE.rateLimit,
      api.burstLimit ?? API_GATEWAY_ACCOUNT_THROTTLE.burstLimit,
    );
  }

  /** Handles a request that arrives now; resolves to the answer (the function has run, if it was invoked). */
  async handle(request: {
    readonly submissionId: string;
    readonly headers: Readonly<Record<string, string>>;
    readonly body: string;
  }): Promise<GatewayAnswer> {
    const now = this.scheduler.now;
    if (!this.bucket.tryTake(now)) {
      this.stageThrottles += 1;
      return gatewayAnswer(GATEWAY_ANSWERS.throttled, 'stage-throttle');
    }
    const [method, path] = this.routeKey.split(' ');
    const event = httpApiEvent({
      method,
      path,
      headers: request.headers,
      body: request.body,
      requestId: this.random.uuid(),
      stage: this.api.stageName,
    });
    const epoch = this.epochMs + now;
    const timed = {
      ...event,
      requestContext: { ...event.requestContext, time: new Date(epoch).toISOString(), timeEpoch: epoch },
    };
    const invoked = await this.invoker.invoke(timed, request.submissionId);
    if (invoked.status === 'throttled')
      return gatewayAnswer(GATEWAY_ANSWERS.internalError, 'lambda-throttle');
    const answer =
      invoked.outcome.kind === 'returned'
        ? answerOf(invoked.outcome.payload)
        : { ...GATEWAY_ANSWERS.internalError, headers: { 'content-type': 'application/json' } };
    return { ...answer, latencyMs: invoked.durationMs, answeredBy: 'function' };
  }
}

function gatewayAnswer(
  answer: { readonly status: number; readonly body: string },
  answeredBy: GatewayAnswer['answeredBy'],
): GatewayAnswer {
  return {
    status: answer.status,
    headers: { 'content-type': 'application/json' },
    body: answer.body,
    latencyMs: 0,
    answeredBy,
  };
}

/** One order a client submits: once, with its retries. */
export interface HttpSubmission {
  readonly id: string;
  /** When the client calls `submit` (virtual ms). */
  readonly at: number;
  readonly idempotencyKey: string;
  /** The JSON body, the same on every attempt. */
  readonly body: string;
  /** How many accepting (2xx) answers of the function to this submission the network loses (the first ones). */
  readonly lostAnswers: number;
}

/** What happened to one submission, from the client's side and the network's. */
export interface ClientOutcome {
  readonly submission: HttpSubmission;
  /** The client's result; undefined while it is still trying (a run stopped at its time limit). */
  result?: SubmitResult;
  /** Answers of the function the network lost (the function had finished). */
  answersLost: number;
  /** Virtual time the client got its final answer or gave up. */
  endedAt?: number;
}

export interface HttpClientsOptions {
  /** The route's URL as the client sees it. */
  readonly url: string;
  readonly policy?: Partial<RetryPolicy>;
  /** Per-attempt headers over the client's own (tests: a client that changes its key per retry). */
  readonly sign?: RequestSigner;
}

/**
 * Runs the project's client (`submit`) for each submission on the virtual clock. Each client is a chain of
 * promises; the scheduler runs one event at a time and awaits it, so an event that resumes a client (its sleep
 * is over, its answer arrived) lasts until the client waits again ({@link ClientFiber}): the run stays a pure
 * function of its inputs and seed.
 */
export class HttpClients {
  readonly outcomes: ClientOutcome[] = [];
  private readonly policy: RetryPolicy;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly random: Random,
    private readonly gateway: HttpApiGateway,
    private readonly options: HttpClientsOptions,
  ) {
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.policy };
  }

  /** Schedules a submission at its time. */
  start(submission: HttpSubmission): void {
    const outcome: ClientOutcome = { submission, answersLost: 0 };
    this.outcomes.push(outcome);
    const random = this.random.fork(submission.id);
    this.scheduler.at(submission.at, () => {
      const fiber = new ClientFiber();
      const deadline = this.scheduler.now + this.policy.deadlineMs;
      return fiber.run(async () => {
        outcome.result = await submit(submission.body, {
          url: this.options.url,
          idempotencyKey: submission.idempotencyKey,
          policy: this.policy,
          ...(this.options.sign && { sign: this.options.sign }),
          clock: {
            now: () => this.scheduler.now,
            random: () => random.next(),
            sleep: (ms) =>
              new Promise<void>((wake) => {
                this.scheduler.after(ms, () => fiber.resume(wake));
                fiber.park();
              }),
          },
          fetch: ((_url: unknown, init?: RequestInit) =>
            this.send(submission, outcome, fiber, deadline, init)) as typeof fetch,
        });
        outcome.endedAt = this.scheduler.now;
      });
    });
  }

  /**
   * One attempt: the request reaches API Gateway now; its answer comes back when the invocation ends, unless the
   * client's attempt timeout comes first (the answer is then ignored) or the network loses it.
   */
  private send(
    submission: HttpSubmission,
    outcome: ClientOutcome,
    fiber: ClientFiber,
    deadline: number,
    init: RequestInit | undefined,
  ): Promise<Response> {
    // The client's own attempt timeout (client.ts: the policy's, cut at the deadline); its AbortSignal runs on
    // the real clock, so the virtual one is applied here.
    const timeoutMs = Math.max(1, Math.min(this.policy.attemptTimeoutMs, deadline - this.scheduler.now));
    return new Promise<Response>((resolve, reject) => {
      let settled = false;
      const settle = (deliver: () => void) => () => {
        if (settled) return undefined;
        settled = true;
        return fiber.resume(deliver);
      };
      this.scheduler.after(NETWORK_MS, async () => {
        const answer = await this.gateway.handle({
          submissionId: submission.id,
          headers: (init?.headers ?? {}) as Record<string, string>,
          body: String(init?.body ?? ''),
        });
        // Only an accepting answer is lost: the function finished its work, and the client never learns it.
        const accepted = answer.answeredBy === 'function' && answer.status >= 200 && answer.status < 300;
        if (accepted && outcome.answersLost < submission.lostAnswers) {
          outcome.answersLost += 1;
          return;
        }
        this.scheduler.after(
          answer.latencyMs + NETWORK_MS,
          settle(() =>
            resolve(new Response(answer.body, { status: answer.status, headers: answer.headers })),
          ),
        );
      });
      this.scheduler.after(
        timeoutMs,
        settle(() =>
          reject(
            Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' }),
          ),
        ),
      );
      fiber.park();
    });
  }
}

/**
 * A client's flow of control on the scheduler: `run` and `resume` return a promise that settles when the client
 * next waits (`park`: it slept, or sent a request) or ends, so the event that let it go on lasts exactly that long.
 */
export class ClientFiber {
  private parked?: { readonly resolve: () => void; readonly reject: (error: unknown) => void };

  run(body: () => Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.parked = { resolve, reject };
      // A client that throws is a bug of the simulator's: it fails the event that let the client run, and the run.
      body().then(
        () => this.park(),
        (error: unknown) => this.park(error),
      );
    });
  }

  /** Lets the client go on (`deliver` settles what it waits for); resolves when it waits again or ends. */
  resume(deliver: () => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.parked = { resolve, reject };
      deliver();
    });
  }

  /** The client waits (or ended, or failed): the event that let it run is over. */
  park(error?: unknown): void {
    const parked = this.parked;
    this.parked = undefined;
    if (error === undefined) parked?.resolve();
    else parked?.reject(error);
  }
}
