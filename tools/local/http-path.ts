/**
 * The http path in a simulator run: plans the submissions of a scenario's `paths.http` (one client per order, each
 * with its own Idempotency-Key), binds the route's function to its code (the real bundle, its `SendMessage`
 * answered by the local SQS of tools/shared/local-sqs.ts, or the in-engine model) and starts the clients
 * (engine/http.ts). Every enqueue is captured, with its virtual time: the path's effect, which the invariants count
 * (http-report.ts).
 */
import { createHash } from 'node:crypto';
import type { RequestSigner } from '../http-client/client';
import { DEFAULT_RETRY_POLICY } from '../http-client/retry-policy';
import { readIdempotencyKey, IDEMPOTENCY_KEY_HEADER } from '../../lambda/http-ingress/idempotency-key';
import * as sqsDomain from '../../lambda/sqs-consumer/domain';
import type { LocalSqs } from '../shared/local-sqs';
import type { HttpApiConfig, SimulationConfig } from './engine/config';
import { HttpApiGateway, HttpClients, type HttpSubmission, SynchronousInvoker } from './engine/http';
import type { FunctionCode, FunctionInvocation, FunctionResult } from './engine/lambda';
import { Random } from './engine/random';
import type { Simulation } from './engine/simulation';
import type { FaultPlan } from './faults';
import type { BundleFunctionOptions } from './runtime/bundle-function';
import type { FaultLayer } from './runtime/fault-layer';
import type { LocalDynamoDb } from './runtime/local-dynamodb';
import { durationMs, type HttpPathScenario, type Scenario, ScenarioError } from './scenario';
import { select } from './workload';

/** The domain the http path's handler validates against (lambda/http-ingress/handler.ts: the SQS path's). */
const { domain, examples } = sqsDomain;

/** One `SendMessage` the function made: the path's effect. */
export interface EnqueueRecord {
  /** Virtual time of the invocation that sent it. */
  readonly at: number;
  /** The order's business key (the domain's idempotency key: `orderId`). */
  readonly businessKey: string;
  /** The `IdempotencyKey` message attribute: the key of the request that enqueued it. */
  readonly idempotencyKey?: string;
  /**
   * The invocation that sent it died before completing the key (the `diesAfterSend` fault): its claim stays in
   * progress until it expires, and a retry after that enqueues the order again (the window the handler documents).
   */
  readonly diedBeforeCompletion?: true;
}

export interface PlannedHttpSubmission extends HttpSubmission {
  /** The order's business key, by which its enqueues are found. */
  readonly businessKey: string;
  /** The function dies between its SendMessage and the key's completion, the first time it sends this order. */
  readonly diesAfterSend?: boolean;
}

/** The submissions of a scenario's http path: when, with which key, which order, and which meet which fault. */
export function planHttpSubmissions(spec: HttpPathScenario, seed: number | string): PlannedHttpSubmission[] {
  const random = new Random(seed).fork('http');
  const n = spec.requests;
  const lost = select(spec.faults.lostAnswers, n, random.fork('lost-answers'), new Set());
  const dies = select(spec.faults.diesAfterSend, n, random.fork('dies-after-send'), new Set());
  const arrivals = random.fork('arrivals');
  const keys = random.fork('keys');
  const submissions: PlannedHttpSubmission[] = [];
  let t = durationMs(spec.start);
  for (let number = 1; number <= n; number += 1) {
    const id = `http-${String(number).padStart(6, '0')}`;
    const order = examples.valid(id);
    submissions.push({
      id,
      at: Math.round(t),
      idempotencyKey: keys.uuid(),
      body: JSON.stringify(order),
      businessKey: domain.idempotencyKey(order),
      lostAnswers: lost.has(number) ? 1 : 0,
      ...(dies.has(number) && { diesAfterSend: true }),
    });
    t += (-Math.log(1 - arrivals.next()) / spec.ratePerSecond) * 1000;
  }
  return submissions;
}

/**
 * Refuses, before anything starts, a fault the chosen functions cannot play: `diesAfterSend` is the model's only
 * (the real bundle is not yet made to die between its SendMessage and the completion of its key).
 */
export function assertHttpFaultsPlayable(
  spec: HttpPathScenario,
  seed: number | string,
  functions: 'bundles' | 'model',
): void {
  if (functions !== 'bundles') return;
  if (planHttpSubmissions(spec, seed).some((s) => s.diesAfterSend))
    throw new ScenarioError(
      'paths.http.faults.diesAfterSend needs --model: the real bundle is not yet made to die between its ' +
        'SendMessage and the completion of its Idempotency-Key (docs/local-simulator.md).',
    );
}

/** Whether the queue refuses `SendMessage` at virtual time `at`. */
export function queueOutageAt(spec: HttpPathScenario): (at: number) => boolean {
  const windows = (spec.faults.queueOutages ?? []).map((w) => ({
    fromMs: durationMs(w.from),
    toMs: durationMs(w.to),
  }));
  return (at) => windows.some((w) => at >= w.fromMs && at < w.toMs);
}

/**
 * Seconds the handler asks a caller to wait (lambda/http-ingress/handler.ts `RETRY_AFTER_SECONDS`, which this model
 * does not import: a model run loads no Powertools; test/tools/local/http-bundle.test.ts checks they agree).
 */
export const MODEL_RETRY_AFTER_SECONDS = { inProgress: 1, unavailable: 2 } as const;

/**
 * The in-engine model of the ingress handler (`--model`): what lambda/http-ingress/handler.ts does for a valid
 * order, without its code: the key claimed and completed at once (the invocation runs at one virtual instant),
 * the same key and body answered with the stored 202, another body 422, a key refused 400; the queue or the
 * idempotency store unavailable: 503 with Retry-After and nothing kept.
 *
 * `diesAfterSend` (submission ids): the first invocation of such a submission that sends its order dies right
 * after the send, before completing the key (a crash: the invocation ends with an error, API Gateway answers 500
 * without a problem document). Its claim stays in progress until it expires, as Powertools' in-progress record
 * does with the context's remaining time: at the invocation's start plus the function's timeout. A retry with the
 * key before then gets 409 with Retry-After; one after it runs afresh and enqueues the order again.
 */
export function httpModelFunction(options: {
  readonly faults: FaultPlan;
  readonly queueDown: (at: number) => boolean;
  readonly onEnqueue: (record: EnqueueRecord) => void;
  readonly diesAfterSend?: ReadonlySet<string>;
}): FunctionCode {
  const completed = new Map<string, { readonly contentHash: string; readonly body: string }>();
  /** Claims of invocations that died: the key → when the in-progress record expires (virtual ms). */
  const inProgress = new Map<string, number>();
  /** Submissions whose function already died once after sending. */
  const died = new Set<string>();
  let messages = 0;
  const answer = (statusCode: number, body: unknown, headers: Record<string, string> = {}) => ({
    statusCode,
    headers: {
      'Content-Type': statusCode < 300 ? 'application/json' : 'application/problem+json',
      ...headers,
    },
    body: JSON.stringify(body),
  });
  return {
    async invoke(invocation: FunctionInvocation): Promise<FunctionResult> {
      const event = invocation.event as { headers?: Record<string, string>; body?: string };
      const done = (payload: unknown): FunctionResult => ({
        outcome: { kind: 'returned', payload },
        sideEffects: [],
      });
      const key = readIdempotencyKey(event.headers?.[IDEMPOTENCY_KEY_HEADER]);
      if (!key.ok) return done(answer(400, { title: 'Idempotency-Key', detail: key.reason }));
      const order = JSON.parse(event.body ?? '{}') as Parameters<typeof domain.idempotencyKey>[0];
      const contentHash = createHash('sha256')
        .update(JSON.stringify(JSON.parse(event.body ?? '{}')))
        .digest('hex');
      const unavailable = answer(
        503,
        { title: 'Service Unavailable' },
        {
          'Retry-After': String(MODEL_RETRY_AFTER_SECONDS.unavailable),
        },
      );
      if (options.faults.dynamoDbUnavailable(invocation.startedAt)) return done(unavailable);
      const stored = completed.get(key.key);
      if (stored) {
        return stored.contentHash === contentHash
          ? done({ ...answer(202, {}), body: stored.body, headers: { 'Idempotent-Replayed': 'true' } })
          : done(answer(422, { title: 'Idempotency-Key reused' }));
      }
      const claimExpiresAt = inProgress.get(key.key);
      if (claimExpiresAt !== undefined && invocation.startedAt < claimExpiresAt) {
        return done(
          answer(
            409,
            { title: 'Request in progress' },
            { 'Retry-After': String(MODEL_RETRY_AFTER_SECONDS.inProgress) },
          ),
        );
      }
      if (options.queueDown(invocation.startedAt)) return done(unavailable);
      messages += 1;
      const businessKey = domain.idempotencyKey(order);
      const submissionId = invocation.recordIds[0];
      if (options.diesAfterSend?.has(submissionId) && !died.has(submissionId)) {
        died.add(submissionId);
        inProgress.set(key.key, invocation.startedAt + invocation.function.timeoutSeconds * 1000);
        options.onEnqueue({
          at: invocation.startedAt,
          businessKey,
          idempotencyKey: key.key,
          diedBeforeCompletion: true,
        });
        return {
          outcome: {
            kind: 'threw',
            errorType: 'Runtime.ExitError',
            errorMessage: 'the function died after SendMessage, before completing the Idempotency-Key',
          },
          sideEffects: [],
        };
      }
      inProgress.delete(key.key);
      options.onEnqueue({ at: invocation.startedAt, businessKey, idempotencyKey: key.key });
      const accepted = answer(202, {
        status: 'accepted',
        [`${domain.recordName}Id`]: businessKey,
        messageId: `model-${messages}`,
      });
      completed.set(key.key, { contentHash, body: accepted.body });
      return done(accepted);
    },
  };
}

/**
 * The real bundle, its queue the local SQS: before each invocation the queue is made to refuse (`unavailable`: a
 * 5xx to every SendMessage, which the SDK retries within its bounded attempts) when an outage covers the
 * invocation's virtual time; after it, the messages it sent are the invocation's enqueues.
 */
class HttpBundleFunction implements FunctionCode {
  constructor(
    private readonly inner: FunctionCode,
    private readonly sqs: LocalSqs,
    private readonly queueUrl: string,
    private readonly queueDown: (at: number) => boolean,
    private readonly onEnqueue: (record: EnqueueRecord) => void,
  ) {}

  async invoke(invocation: FunctionInvocation): Promise<FunctionResult> {
    this.sqs.setFault(
      this.queueUrl,
      this.queueDown(invocation.startedAt) ? { kind: 'unavailable' } : undefined,
    );
    const before = this.sqs.messages(this.queueUrl).length;
    const result = await this.inner.invoke(invocation);
    for (const message of this.sqs.messages(this.queueUrl).slice(before)) {
      const order = JSON.parse(message.body) as Parameters<typeof domain.idempotencyKey>[0];
      this.onEnqueue({
        at: invocation.startedAt,
        businessKey: domain.idempotencyKey(order),
        ...(message.attributes.IdempotencyKey !== undefined && {
          idempotencyKey: message.attributes.IdempotencyKey,
        }),
      });
    }
    return result;
  }
}

/**
 * The deployment's http path: the route the clients submit to, a `POST` route to a function (the ingress takes
 * orders by `POST`), the first of the first HTTP API that has one; without any, the first route to a function. The
 * report names the route it drove, so a fork with more routes sees which one was simulated.
 */
export function httpEntryPoint(
  config: SimulationConfig,
): { readonly api: HttpApiConfig; readonly routeKey: string; readonly functionId: string } | undefined {
  const candidates = (config.httpApis ?? []).flatMap((api) => api.routes.map((route) => ({ api, route })));
  const chosen = candidates.find(({ route }) => route.routeKey.startsWith('POST ')) ?? candidates[0];
  return chosen && { api: chosen.api, routeKey: chosen.route.routeKey, functionId: chosen.route.functionId };
}

export interface HttpPathRun {
  readonly api: HttpApiConfig;
  readonly gateway: HttpApiGateway;
  readonly clients: HttpClients;
  readonly submissions: readonly PlannedHttpSubmission[];
  readonly enqueues: readonly EnqueueRecord[];
  readonly deadlineMs: number;
  stop(): Promise<void>;
}

export interface StartHttpPathOptions {
  readonly sim: Simulation;
  readonly scenario: Scenario;
  readonly spec: HttpPathScenario;
  readonly faults: FaultPlan;
  readonly functions: 'bundles' | 'model';
  /** Bundles: the local DynamoDB and the fault layer of the run (DynamoDB outages apply to every function). */
  readonly bundles?: {
    readonly dynamoDb: LocalDynamoDb;
    readonly faultLayer: FaultLayer;
    readonly extraEnvironment?: Readonly<Record<string, string>>;
    readonly onLog?: BundleFunctionOptions['onLog'];
  };
  /** Per-attempt headers over the client's (tests: a client that breaks the rules). */
  readonly sign?: RequestSigner;
  readonly epochMs: number;
  readonly duration?: ConstructorParameters<typeof SynchronousInvoker>[4]['duration'];
}

/** Binds the function, plans the submissions and schedules the clients on the simulation's clock. */
export async function startHttpPath(options: StartHttpPathOptions): Promise<HttpPathRun> {
  const { sim, spec } = options;
  const entry = httpEntryPoint(sim.config);
  if (!entry) throw new Error('The scenario drives the http path, but the deployment has no HTTP API.');
  const fn = sim.config.functions.find((f) => f.id === entry.functionId);
  if (!fn) throw new Error(`The route ${entry.routeKey} invokes ${entry.functionId}, not in the assembly.`);
  const enqueues: EnqueueRecord[] = [];
  const onEnqueue = (record: EnqueueRecord) => enqueues.push(record);
  const queueDown = queueOutageAt(spec);
  let sqs: LocalSqs | undefined;
  let code: FunctionCode;
  const submissions = planHttpSubmissions(spec, options.scenario.seed);
  const diesAfterSend = new Set(submissions.filter((s) => s.diesAfterSend).map((s) => s.id));
  if (options.functions === 'model') {
    code = httpModelFunction({ faults: options.faults, queueDown, onEnqueue, diesAfterSend });
  } else {
    assertHttpFaultsPlayable(spec, options.scenario.seed, options.functions);
    const bundles = options.bundles;
    if (!bundles) throw new Error('A bundle run of the http path needs the local DynamoDB.');
    if (!fn.code)
      throw new Error(`The http function ${fn.functionName} has no bundle in the cloud assembly.`);
    const { startLocalSqs } = await import('../shared/local-sqs');
    const { BundleFunction } = await import('./runtime/bundle-function');
    sqs = await startLocalSqs();
    const queueName = (fn.environment.QUEUE_URL ?? 'queue').split('/').pop()!;
    const queueUrl = sqs.createQueue(queueName);
    if (fn.environment.IDEMPOTENCY_TABLE_NAME)
      await bundles.dynamoDb.createIdempotencyTable(fn.environment.IDEMPOTENCY_TABLE_NAME);
    const inner = new BundleFunction({
      config: fn,
      dynamoDbEndpointFor: (environment) => bundles.dynamoDb.endpointFor(environment),
      region: sim.config.region,
      resolveRecordKey: () => undefined,
      faultLayer: bundles.faultLayer,
      extraEnvironment: {
        ...bundles.extraEnvironment,
        QUEUE_URL: queueUrl,
        AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      },
      ...(bundles.onLog && { onLog: bundles.onLog }),
    });
    code = new HttpBundleFunction(inner, sqs, queueUrl, queueDown, onEnqueue);
  }
  const random = new Random(options.scenario.seed).fork('http-engine');
  const invoker = new SynchronousInvoker(sim.scheduler, random.fork('lambda'), fn, code, {
    epochMs: options.epochMs,
    ...(options.duration && { duration: options.duration }),
  });
  const gateway = new HttpApiGateway(
    entry.api,
    entry.routeKey,
    invoker,
    sim.scheduler,
    random.fork('gateway'),
    options.epochMs,
  );
  const clients = new HttpClients(sim.scheduler, random.fork('clients'), gateway, {
    url: `https://${entry.api.id.split('/').pop()!.toLowerCase()}.execute-api.${sim.config.region}.amazonaws.com${entry.routeKey.split(' ')[1]}`,
    policy: spec.retry,
    ...(options.sign && { sign: options.sign }),
  });
  for (const submission of submissions) clients.start(submission);
  return {
    api: entry.api,
    gateway,
    clients,
    submissions,
    enqueues,
    deadlineMs: { ...DEFAULT_RETRY_POLICY, ...spec.retry }.deadlineMs,
    stop: async () => {
      await sqs?.stop();
    },
  };
}
