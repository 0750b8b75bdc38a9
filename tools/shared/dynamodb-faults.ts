/**
 * The fault model of the local DynamoDB, shared by the handler tests and the simulator: any DynamoDB call of an
 * invocation can fail, be throttled or hang, and the function can crash or time out at any call, before the
 * table sees it or after the table applied it (the answer lost). That covers every point of a record's
 * processing where something can break: before the claim, between the claim and the commit, during the commit
 * (applied or not), and after it, before the batch response.
 *
 * Requests are told apart by execution environment: each environment's DynamoDB endpoint carries its id in the
 * path (`http://127.0.0.1:PORT/env/<id>`, {@link environmentEndpoint}), as the SDK keeps an endpoint's path.
 * Calls are counted per invocation of an environment, by the SDK's invocation id (the same for every attempt
 * of one call), so "the 2nd call" means the same call whatever the SDK retried.
 */

/** An error DynamoDB answers with. */
export interface DynamoDbFault {
  readonly status: number;
  /** DynamoDB error code, e.g. `InternalServerError`. */
  readonly code: string;
  readonly message: string;
}

/** One request, as the local DynamoDB's front receives it. */
export interface DynamoDbRequest {
  /** The environment named by the endpoint's path, if any. */
  readonly environment?: string;
  /** e.g. `PutItem`, `TransactWriteItems`. */
  readonly operation: string;
  readonly body: Record<string, unknown>;
  /** The SDK's id of the call (`amz-sdk-invocation-id`), the same for each of its attempts. */
  readonly callId?: string;
  /** 1 for the first attempt of a call. */
  readonly attempt: number;
}

/** What the front does with a request. `applied`: the table applies the request first, then this happens. */
export type RequestDecision =
  | { readonly action: 'forward' }
  | { readonly action: 'fail'; readonly fault: DynamoDbFault; readonly applied: boolean }
  /** No answer: the client's request timeout ends the attempt. */
  | { readonly action: 'hang'; readonly applied: boolean }
  /** The environment dies here: this request and every later one of it get no answer. */
  | { readonly action: 'crash'; readonly applied: boolean; readonly kind: CrashKind };

/** Decides about a request; `undefined` leaves it to the next interceptor (or forwards it). */
export type RequestInterceptor = (request: DynamoDbRequest) => RequestDecision | undefined;

/** How a function dies: the runtime exits (a crash), or the invocation reaches its timeout. */
export type CrashKind = 'crash' | 'timeout';

export type FaultKind = 'error' | 'throttle' | 'hang' | CrashKind;
export const FAULT_KINDS: readonly FaultKind[] = ['error', 'throttle', 'hang', 'crash', 'timeout'];

/** A fault on one call of an invocation. */
export interface CallFault {
  /** The 1-based number of the call within the invocation (among calls of `operation`, when given). */
  readonly call: number;
  readonly operation?: string;
  readonly kind: FaultKind;
  /** `before`: the table never sees the request; `after`: it is applied and the answer lost. @default 'before' */
  readonly timing?: 'before' | 'after';
  /** For error, throttle and hang: how many attempts of the call the fault hits. @default every attempt */
  readonly attempts?: number;
  /**
   * Which invocation it hits: 1-based, counted by the injector over every environment (a re-delivery after a
   * crash runs in a new environment and is the next invocation, untouched by a fault meant for the first).
   * @default 1
   */
  readonly invocation?: number;
}

export const THROTTLING: DynamoDbFault = {
  status: 400,
  code: 'ThrottlingException',
  message: 'Rate of requests exceeds the allowed throughput (simulated).',
};

export const INTERNAL_ERROR: DynamoDbFault = {
  status: 500,
  code: 'InternalServerError',
  message: 'Internal server error (simulated).',
};

/** The endpoint an execution environment uses, so that the front can tell its requests apart. */
export function environmentEndpoint(endpoint: string, environment: string): string {
  return `${endpoint.replace(/\/$/, '')}/env/${encodeURIComponent(environment)}`;
}

/** The environment a request path names (`/env/<id>/...`), and the path left for the table. */
export function splitEnvironmentPath(path: string): { environment?: string; path: string } {
  const match = /^\/env\/([^/]+)(\/.*)?$/.exec(path);
  if (!match) return { path };
  return { environment: decodeURIComponent(match[1]), path: match[2] ?? '/' };
}

interface InvocationCalls {
  readonly number: number;
  readonly ordinals: Map<string, { readonly overall: number; readonly ofOperation: number }>;
  readonly perOperation: Map<string, number>;
}

/**
 * Applies a list of {@link CallFault}s. The harness says when an invocation of an environment begins; the
 * injector counts its calls and decides each request. A crash kills the environment: {@link crashes} tells the
 * harness, and the environment's later requests (its code may still be running in this process) never get an
 * answer, so nothing it does after its death reaches the table.
 */
export class CallFaultInjector {
  private readonly invocations = new Map<string, InvocationCalls>();
  private invocationCount = 0;
  private readonly dead = new Set<string>();
  private readonly listeners = new Map<string, (kind: CrashKind) => void>();
  /** Faults that hit a request, for the report. */
  readonly hits: { readonly fault: CallFault; readonly operation: string; readonly attempt: number }[] = [];

  constructor(private readonly faults: readonly CallFault[]) {}

  /** Calls made by each invocation so far (index 0: the first invocation). */
  readonly callsPerInvocation: number[] = [];

  /** An invocation begins in `environment`: its calls are counted from 1. */
  beginInvocation(environment: string): void {
    this.invocationCount += 1;
    this.callsPerInvocation.push(0);
    this.invocations.set(environment, {
      number: this.invocationCount,
      ordinals: new Map(),
      perOperation: new Map(),
    });
  }

  /** Resolves when `environment` dies (a crash or timeout fault was hit). One waiter per environment. */
  crashes(environment: string): Promise<CrashKind> {
    return new Promise((resolve) => this.listeners.set(environment, resolve));
  }

  isDead(environment: string): boolean {
    return this.dead.has(environment);
  }

  intercept: RequestInterceptor = (request) => {
    const { environment } = request;
    if (environment === undefined) return undefined;
    if (this.dead.has(environment)) return { action: 'hang', applied: false };
    const calls = this.invocations.get(environment);
    if (!calls) return undefined;
    const callId = request.callId ?? `${request.operation}#${calls.ordinals.size}`;
    let ordinal = calls.ordinals.get(callId);
    if (!ordinal) {
      const ofOperation = (calls.perOperation.get(request.operation) ?? 0) + 1;
      calls.perOperation.set(request.operation, ofOperation);
      ordinal = { overall: calls.ordinals.size + 1, ofOperation };
      calls.ordinals.set(callId, ordinal);
      this.callsPerInvocation[calls.number - 1] = ordinal.overall;
    }
    const fault = this.faults.find(
      (candidate) =>
        (candidate.invocation ?? 1) === calls.number &&
        (candidate.operation === undefined
          ? candidate.call === ordinal.overall
          : candidate.operation === request.operation && candidate.call === ordinal.ofOperation),
    );
    if (!fault) return undefined;
    const applied = fault.timing === 'after';
    if (fault.kind === 'crash' || fault.kind === 'timeout') {
      this.hits.push({ fault, operation: request.operation, attempt: request.attempt });
      this.dead.add(environment);
      this.listeners.get(environment)?.(fault.kind);
      return { action: 'crash', applied, kind: fault.kind };
    }
    if (request.attempt > (fault.attempts ?? Infinity)) return undefined;
    this.hits.push({ fault, operation: request.operation, attempt: request.attempt });
    if (fault.kind === 'hang') return { action: 'hang', applied };
    return { action: 'fail', fault: fault.kind === 'throttle' ? THROTTLING : INTERNAL_ERROR, applied };
  };
}

/** The first interceptor's decision, in order; forward when none decides. */
export function chainInterceptors(
  ...interceptors: readonly (RequestInterceptor | undefined)[]
): RequestInterceptor {
  return (request) => {
    for (const interceptor of interceptors) {
      const decision = interceptor?.(request);
      if (decision) return decision;
    }
    return { action: 'forward' };
  };
}
