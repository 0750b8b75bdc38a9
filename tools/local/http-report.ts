/**
 * The http path's part of the report: per client (one order each), its attempts, the 429s and 503s it met, its
 * time-outs and how long it took to get its order accepted; what API Gateway and Lambda did (stage throttles,
 * Lambda throttles, invocations, answers lost); and the path's invariants, over the enqueues the function made.
 * The enqueue is at-least-once (lambda/http-ingress/handler.ts: a function that dies between its SendMessage and
 * the key's completion leaves the claim in progress, and the retry after it expires sends the order again); the
 * SQS consumer applies an order once by its business key. So the path promises:
 * - one effect per order: every order the client saw accepted (202), or whose invocation finished with a 202 the
 *   client never saw, reached the queue at least once, and its effects downstream count once per business key (no
 *   enqueue of an order never submitted);
 * - an order enqueued more than once only after its function died between send and completion: every enqueue of
 *   an order beyond its first is explained by an earlier enqueue whose invocation died before completing the key
 *   (a client that changes its key per retry, or a key not honoured, sends it again without such a death);
 * - every healthy request accepted within the client's deadline.
 */
import type { ClientOutcome, HttpApiGateway } from './engine/http';
import type { EnqueueRecord, HttpPathRun, PlannedHttpSubmission } from './http-path';
import type { InvariantResult } from './report';
import { domain } from '../../lambda/sqs-consumer/domain';

/** What the http path accepts, in words: the record of the handler's domain (lambda/sqs-consumer/domain.ts). */
const RECORD = domain.recordName;

/** The invariants' names, for the report and the tests (a fork's domain names its own record). */
export const HTTP_INVARIANT_NAMES = {
  oneEffect: `one effect per ${RECORD}`,
  againOnlyAfterDeath: `${RECORD}s enqueued more than once only after their function died between send and completion`,
  inTime: "every healthy request accepted within the client's deadline",
} as const;

export interface HttpClientRow {
  readonly id: string;
  readonly startedAt: number;
  readonly attempts: number;
  readonly throttled: number;
  readonly unavailable: number;
  readonly timeouts: number;
  /** `accepted`, `refused` (an answer not worth retrying), `gave-up` (attempts or deadline ran out), `unfinished`. */
  readonly outcome: 'accepted' | 'refused' | 'gave-up' | 'unfinished';
  /** From `submit` to the accepting answer, ms. */
  readonly acceptedAfterMs?: number;
  /** The accepting answer was the stored answer of an earlier attempt. */
  readonly replayed: boolean;
  readonly enqueues: number;
  /** The last status, or what ended the last attempt. */
  readonly last: string;
}

export interface HttpPathReport {
  readonly api: string;
  readonly routeKey: string;
  readonly functionName: string;
  readonly rateLimit: number;
  readonly burstLimit: number;
  readonly reservedConcurrency: number;
  readonly functionTimeoutSeconds: number;
  readonly deadlineMs: number;
  readonly clients: readonly HttpClientRow[];
  readonly totals: {
    readonly attempts: number;
    readonly stageThrottles: number;
    readonly lambdaThrottles: number;
    readonly invocations: number;
    readonly answersLost: number;
    readonly enqueues: number;
    /** Answers the clients got, by status. */
    readonly statuses: Readonly<Record<string, number>>;
  };
  readonly timeToAcceptanceMs: { readonly p50: number; readonly p95: number; readonly max: number };
  readonly invariants: readonly InvariantResult[];
}

/** What the invariants look at, as plain data (tests build it by hand to see an invariant fail). */
export interface HttpInvariantInput {
  readonly submissions: readonly PlannedHttpSubmission[];
  readonly outcomes: readonly ClientOutcome[];
  readonly enqueues: readonly EnqueueRecord[];
  /** Submissions for which an invocation finished with a 2xx (seen by the client or not). */
  readonly finishedOnServer: ReadonlySet<string>;
  readonly deadlineMs: number;
}

/** From `submit` to the end of the accepting attempt; undefined when none accepted. */
export function acceptedAfterMs(outcome: ClientOutcome): number | undefined {
  const last = outcome.result?.attempts.at(-1);
  if (!outcome.result?.ok || !last) return undefined;
  return last.startedAtMs + last.durationMs;
}

export function httpInvariants(input: HttpInvariantInput): InvariantResult[] {
  const enqueuesOf = new Map<string, number>();
  for (const e of input.enqueues) enqueuesOf.set(e.businessKey, (enqueuesOf.get(e.businessKey) ?? 0) + 1);
  const known = new Set(input.submissions.map((s) => s.businessKey));
  const outcomeOf = new Map(input.outcomes.map((o) => [o.submission.id, o]));

  // Each enqueue beyond an order's first must follow an enqueue of that order whose invocation died before
  // completing the key (in time order: a death explains the enqueues after it, one each).
  const unexplainedOf = new Map<string, number>();
  const deathsOf = new Map<string, number>();
  const seen = new Set<string>();
  for (const e of [...input.enqueues].sort((a, b) => a.at - b.at)) {
    if (seen.has(e.businessKey)) {
      const deaths = deathsOf.get(e.businessKey) ?? 0;
      if (deaths > 0) deathsOf.set(e.businessKey, deaths - 1);
      else unexplainedOf.set(e.businessKey, (unexplainedOf.get(e.businessKey) ?? 0) + 1);
    }
    seen.add(e.businessKey);
    if (e.diedBeforeCompletion) deathsOf.set(e.businessKey, (deathsOf.get(e.businessKey) ?? 0) + 1);
  }
  const twice = input.submissions.filter((s) => (enqueuesOf.get(s.businessKey) ?? 0) > 1);
  const unexplained = input.submissions.filter((s) => (unexplainedOf.get(s.businessKey) ?? 0) > 0);
  const strangers = [...enqueuesOf.keys()].filter((key) => !known.has(key));
  const effects = input.submissions.filter((s) => (enqueuesOf.get(s.businessKey) ?? 0) > 0).length;

  const accepted = input.submissions.filter(
    (s) => outcomeOf.get(s.id)?.result?.ok === true || input.finishedOnServer.has(s.id),
  );
  const lost = accepted.filter((s) => (enqueuesOf.get(s.businessKey) ?? 0) === 0);

  // Every submission is healthy (valid, with its own key; the scenario has no bad requests). The client stops at its
  // deadline, so "accepted within the deadline" is "accepted at all" in a run; the bound is checked anyway, for a
  // client whose deadline is not enforced by its own code.
  const late = input.submissions.filter((s) => {
    const outcome = outcomeOf.get(s.id);
    const after = outcome && acceptedAfterMs(outcome);
    return after === undefined || after > input.deadlineMs;
  });
  const describe = (s: PlannedHttpSubmission) => {
    const outcome = outcomeOf.get(s.id);
    const result = outcome?.result;
    if (!result) return `${s.id}: still trying when the run stopped`;
    return `${s.id}: ${result.ok ? `accepted after ${acceptedAfterMs(outcome)} ms` : result.reason}`;
  };

  return [
    {
      name: HTTP_INVARIANT_NAMES.oneEffect,
      holds: lost.length === 0 && strangers.length === 0,
      detail:
        `${accepted.length} ${RECORD}s accepted (a 202 the client saw, or a function that finished with one), ` +
        `${lost.length} of them never enqueued; ${effects} effects downstream (counted once per business key)` +
        (strangers.length > 0 ? `, ${strangers.length} of no submitted ${RECORD}` : ''),
      examples: [
        ...lost.map((s) => `${s.id} never enqueued`),
        ...strangers.map((key) => `unknown ${RECORD} ${key}`),
      ].slice(0, 10),
    },
    {
      name: HTTP_INVARIANT_NAMES.againOnlyAfterDeath,
      holds: unexplained.length === 0,
      detail: `${input.submissions.length} ${RECORD}s: ${twice.length} enqueued more than once, ${unexplained.length} of them without a death between send and completion`,
      examples: unexplained
        .slice(0, 10)
        .map(
          (s) =>
            `${s.id} enqueued ${enqueuesOf.get(s.businessKey)}×, ${unexplainedOf.get(s.businessKey)} not after a death`,
        ),
    },
    {
      name: HTTP_INVARIANT_NAMES.inTime,
      holds: late.length === 0,
      detail: `${input.submissions.length - late.length} of ${input.submissions.length} accepted within ${input.deadlineMs / 1000} s`,
      examples: late.slice(0, 10).map(describe),
    },
  ];
}

export function buildHttpReport(run: HttpPathRun): HttpPathReport {
  const gateway: HttpApiGateway = run.gateway;
  const invoker = gateway.invoker;
  const finishedOnServer = new Set(
    invoker.invocations.filter((i) => i.status >= 200 && i.status < 300).map((i) => i.submissionId),
  );
  const enqueuesOf = new Map<string, number>();
  for (const e of run.enqueues) enqueuesOf.set(e.businessKey, (enqueuesOf.get(e.businessKey) ?? 0) + 1);
  const statuses: Record<string, number> = {};
  const clients = run.clients.outcomes.map((outcome): HttpClientRow => {
    const attempts = outcome.result?.attempts ?? [];
    for (const a of attempts) {
      const label = a.status !== undefined ? String(a.status) : (a.error ?? 'no answer');
      statuses[label] = (statuses[label] ?? 0) + 1;
    }
    const last = attempts.at(-1);
    const after = acceptedAfterMs(outcome);
    return {
      id: outcome.submission.id,
      startedAt: outcome.submission.at,
      attempts: attempts.length,
      throttled: attempts.filter((a) => a.status === 429).length,
      unavailable: attempts.filter((a) => a.status === 503).length,
      timeouts: attempts.filter((a) => a.error === 'timeout').length,
      outcome: !outcome.result
        ? 'unfinished'
        : outcome.result.ok
          ? 'accepted'
          : last?.outcome === 'gave-up'
            ? 'gave-up'
            : 'refused',
      ...(after !== undefined && { acceptedAfterMs: after }),
      replayed: last?.replayed === true,
      enqueues: enqueuesOf.get((outcome.submission as PlannedHttpSubmission).businessKey) ?? 0,
      last: last ? (last.status !== undefined ? String(last.status) : (last.error ?? '')) : '',
    };
  });
  const times = clients
    .map((c) => c.acceptedAfterMs)
    .filter((t): t is number => t !== undefined)
    .sort((a, b) => a - b);
  const quantile = (q: number) =>
    times.length === 0 ? 0 : times[Math.min(times.length - 1, Math.floor(q * times.length))];
  return {
    api: run.api.apiName,
    routeKey: gateway.routeKey,
    functionName: invoker.fn.functionName,
    rateLimit: gateway.bucket.ratePerSecond,
    burstLimit: gateway.bucket.burst,
    reservedConcurrency: invoker.concurrencyLimit,
    functionTimeoutSeconds: invoker.fn.timeoutSeconds,
    deadlineMs: run.deadlineMs,
    clients,
    totals: {
      attempts: clients.reduce((n, c) => n + c.attempts, 0),
      stageThrottles: gateway.stageThrottles,
      lambdaThrottles: invoker.throttles,
      invocations: invoker.invocations.length,
      answersLost: run.clients.outcomes.reduce((n, o) => n + o.answersLost, 0),
      enqueues: run.enqueues.length,
      statuses,
    },
    timeToAcceptanceMs: { p50: quantile(0.5), p95: quantile(0.95), max: times.at(-1) ?? 0 },
    invariants: httpInvariants({
      submissions: run.submissions,
      outcomes: run.clients.outcomes,
      enqueues: run.enqueues,
      finishedOnServer,
      deadlineMs: run.deadlineMs,
    }),
  };
}

/** Clients listed one per line up to this many; more are summarised (the JSON report has them all). */
const CLIENT_LINES = 80;

export function renderHttpReport(report: HttpPathReport): string[] {
  const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const t = report.totals;
  const statuses = Object.entries(t.statuses)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([status, n]) => `${n}× ${status}`)
    .join(', ');
  const out = [
    '',
    `━━ HTTP path: ${report.routeKey} on ${report.api} → ${report.functionName}`,
    `   API Gateway stage throttle ${report.rateLimit} requests/s, burst ${report.burstLimit}; function reserved concurrency ${report.reservedConcurrency}, timeout ${report.functionTimeoutSeconds} s; clients' deadline ${seconds(report.deadlineMs)}`,
    `   clients       ${report.clients.length} ${RECORD}s, ${t.attempts} attempts: ${statuses || 'none'}`,
    `   API Gateway   ${t.stageThrottles} refused by the stage throttle (429, function not run), ${t.lambdaThrottles} by Lambda's concurrency (500), ${t.invocations} invocations, ${t.answersLost} answers lost after the function finished`,
    `   enqueues      ${t.enqueues}; accepted after p50 ${seconds(report.timeToAcceptanceMs.p50)}, p95 ${seconds(report.timeToAcceptanceMs.p95)}, max ${seconds(report.timeToAcceptanceMs.max)}`,
  ];
  for (const inv of report.invariants) {
    out.push(
      `   ${inv.holds ? '✔' : '✘'} ${inv.name}: ${inv.detail}${inv.examples.length && !inv.holds ? ` (${inv.examples.join('; ')})` : ''}`,
    );
  }
  out.push(
    '   client        start    attempts  429s  503s  time-outs  outcome                             enqueued',
  );
  for (const c of report.clients.slice(0, CLIENT_LINES)) {
    const outcome =
      c.outcome === 'accepted'
        ? `accepted after ${seconds(c.acceptedAfterMs ?? 0)}${c.replayed ? ' (replayed)' : ''}`
        : `${c.outcome} (last: ${c.last})`;
    out.push(
      `   ${c.id.padEnd(13)} ${seconds(c.startedAt).padStart(7)}  ${String(c.attempts).padStart(8)}  ${String(c.throttled).padStart(4)}  ${String(c.unavailable).padStart(4)}  ${String(c.timeouts).padStart(9)}  ${outcome.padEnd(35)} ${c.enqueues}×`,
    );
  }
  if (report.clients.length > CLIENT_LINES)
    out.push(`   … and ${report.clients.length - CLIENT_LINES} more clients (see --json)`);
  return out;
}
