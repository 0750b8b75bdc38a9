/**
 * Runs a scenario against a configuration: plans the workload and faults, binds each path's function to its
 * code (the real bundles against dynalite, or the model), plays the simulation out and builds the report.
 */
import { performance } from 'node:perf_hooks';
import type { IngestionPath, SimulationConfig } from './engine/config';
import type { FunctionCode } from './engine/lambda';
import type { StopReason } from './engine/scheduler';
import { type EntryPoints, Simulation } from './engine/simulation';
import type { FaultPlan } from './faults';
import { modelFunction, type ModelOptions } from './model-function';
import { applySettings, scenarioSettings, type PathSettings, type SettingRow } from './overrides';
import { buildReport, toJsonReport, type Report } from './report';
import { assertHttpFaultsPlayable, httpEntryPoint, startHttpPath, type HttpPathRun } from './http-path';
import { buildHttpReport } from './http-report';
import type { FaultLayer } from './runtime/fault-layer';
import type { KeyHint } from './runtime/idempotency-keys';
import type { LocalDynamoDb } from './runtime/local-dynamodb';
import type { CallFault, CallFaultInjector } from '../shared/dynamodb-faults';
import { durationMs, PATHS, type Scenario } from './scenario';
import { planWorkload, produce, type RecordCatalog } from './workload';

/**
 * Keys a handler derives in a way no value of the record shows, so the fault layer can tell which record a
 * claim is for. The stream handler keys a reading by `event:<eventId>` (lambda/stream-consumer/handler.ts).
 */
export const KEY_HINTS: Partial<Record<IngestionPath, KeyHint>> = {
  stream: (record) => {
    const data = (record as { kinesis?: { data?: string } }).kinesis?.data ?? '';
    const reading = JSON.parse(Buffer.from(data, 'base64').toString('utf8'));
    return [streamHandler().keyByEventId(reading, record as never)];
  },
};

/**
 * The stream handler's module, loaded on first use. The bundles, dynalite and the AWS SDK are loaded only by
 * runs that use them: a model run (the property tests, `npm run local -- --model`) starts ≈0.4 s sooner.
 */
function streamHandler(): typeof import('../../lambda/stream-consumer/handler') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('../../lambda/stream-consumer/handler');
}

export interface RunResult {
  readonly sim: Simulation;
  readonly catalog: RecordCatalog;
  readonly faults: FaultPlan;
  readonly report: Report;
  readonly stoppedBy: StopReason;
  readonly realMs: number;
  /** DynamoDB requests per operation and those the fault layer failed (bundles only). */
  readonly dynamoDb?: LocalDynamoDb['stats'];
  /** Bundles only: each path's effect table at the end of the run (the durable business data), by item key. */
  readonly effects?: Partial<Record<IngestionPath, Record<string, Record<string, unknown>>>>;
  /** Bundles only: the call faults that hit a request. */
  readonly callFaultHits?: CallFaultInjector['hits'];
  /** Bundles only: the DynamoDB calls each invocation made, in invocation order. */
  readonly callsPerInvocation?: readonly number[];
  readonly unattributedClaims: number;
  /** Every setting of the paths driven, with where its value came from (template, scenario, --set). */
  readonly settings: readonly SettingRow[];
  /** The http path's run, when the scenario drives it (its gateway, invocations, clients: the HTML timeline). */
  readonly http?: HttpPathRun;
  json(): unknown;
}

export interface RunOptions {
  readonly scenario: Scenario;
  readonly config: SimulationConfig;
  /** Overrides the scenario's `functions`. */
  readonly functions?: 'bundles' | 'model';
  /** Progress on long runs (virtual time, events, invocations). */
  readonly onProgress?: (line: string) => void;
  /** Extra environment for the bundles (e.g. AWS_MAX_ATTEMPTS). */
  readonly bundleEnvironment?: Readonly<Record<string, string>>;
  readonly onLog?: (line: string, invocationSeq: number) => void;
  /** Bundles only: faults on the DynamoDB calls of invocations, crashes and timeouts included. */
  readonly callFaults?: readonly CallFault[];
  /** Model functions only: how they fail (see model-function.ts); a path's `failureMode` setting wins. */
  readonly failureMode?: 'partial' | 'throw';
  /** Settings from `--set` flags, over the scenario's `settings` (overrides.ts). */
  readonly settings?: PathSettings;
  /** Model functions only: the stream's idempotency (see model-function.ts). */
  readonly streamIdempotency?: ModelOptions['streamIdempotency'];
}

export async function runScenario(options: RunOptions): Promise<RunResult> {
  // The template's settings with the scenario's and the flags' overrides (overrides.ts).
  const applied = applySettings(
    options.config,
    [
      ...PATHS.filter((path) => options.scenario.paths[path]),
      ...(options.scenario.paths.http ? (['http'] as const) : []),
    ],
    scenarioSettings(options.scenario.paths),
    options.settings ?? {},
    options.functions ?? options.scenario.functions,
  );
  const { config } = applied;
  const probe = new Simulation(config, { seed: options.scenario.seed });
  const entry = probe.entryPoints();
  const { scenario, skippedPaths } = forDeployment(options.scenario, entry, !!httpEntryPoint(config));
  const functions = options.functions ?? scenario.functions;
  const subscriptionIds = config.snsSubscriptions
    .filter((s) => s.topicArn === entry.object?.topicArn)
    .map((s) => s.id);
  const { catalog, faults } = planWorkload(scenario, entry, subscriptionIds);
  const sim = new Simulation(config, {
    seed: scenario.seed,
    faults,
    ...(scenario.startTime && { epochMs: Date.parse(scenario.startTime) }),
    ...(scenario.invocationDuration && { duration: scenario.invocationDuration }),
  });

  let dynamoDb: LocalDynamoDb | undefined;
  let faultLayer: FaultLayer | undefined;
  let callFaults: CallFaultInjector | undefined;
  let http: HttpPathRun | undefined;
  const paths = PATHS.filter((p) => scenario.paths[p]);
  if (scenario.paths.http) assertHttpFaultsPlayable(scenario.paths.http, scenario.seed, functions);
  try {
    if (functions === 'bundles') {
      const { startLocalDynamoDb } = await import('./runtime/local-dynamodb');
      const { FaultLayer } = await import('./runtime/fault-layer');
      const { CallFaultInjector, chainInterceptors } = await import('../shared/dynamodb-faults');
      dynamoDb = await startLocalDynamoDb();
      faultLayer = new FaultLayer(faults);
      callFaults = new CallFaultInjector(options.callFaults ?? []);
      dynamoDb.setInterceptor(chainInterceptors(callFaults.intercept, faultLayer.intercept));
    }
    for (const path of paths) {
      const functionId = entry[path]!.functionId;
      sim.setFunctionCode(functionId, await codeFor(path, functionId));
    }
    if (scenario.paths.http) {
      http = await startHttpPath({
        sim,
        scenario,
        spec: scenario.paths.http,
        faults,
        functions,
        epochMs: sim.epochMs,
        ...(scenario.invocationDuration && { duration: scenario.invocationDuration }),
        ...(dynamoDb && {
          bundles: {
            dynamoDb,
            faultLayer: faultLayer!,
            ...(options.bundleEnvironment && { extraEnvironment: options.bundleEnvironment }),
            ...(options.onLog && { onLog: options.onLog }),
          },
        }),
      });
    }
    produce(sim, catalog);
    const started = performance.now();
    const stoppedBy = await sim.run({
      untilMs: durationMs(scenario.maxDuration),
      maxEvents: 50_000_000,
      progressEvery: functions === 'bundles' ? 500 : 20_000,
      ...(options.onProgress && {
        onProgress: ({ now, events }) =>
          options.onProgress!(
            `  … virtual ${formatClock(now)}, ${sim.trace.invocations.length + (http?.gateway.invoker.invocations.length ?? 0)} invocations, ${events} events, ${((performance.now() - started) / 1000).toFixed(1)} s`,
          ),
      }),
    });
    const realMs = performance.now() - started;
    const report: Report = {
      ...buildReport(sim, catalog, faults, stoppedBy, {
        name: scenario.name ?? 'unnamed',
        seed: scenario.seed,
        functions,
        ...(skippedPaths.length > 0 && { skippedPaths }),
      }),
      ...(http && { http: buildHttpReport(http) }),
    };
    const effects = dynamoDb && (await scanEffects(dynamoDb));
    return {
      sim,
      catalog,
      faults,
      report,
      stoppedBy,
      realMs,
      ...(dynamoDb && { dynamoDb: dynamoDb.stats }),
      ...(effects && { effects }),
      ...(callFaults && {
        callFaultHits: callFaults.hits,
        callsPerInvocation: callFaults.callsPerInvocation,
      }),
      unattributedClaims: faultLayer?.unattributedClaims ?? 0,
      settings: applied.rows,
      ...(http && { http }),
      json: () => ({ ...(toJsonReport(report, sim) as object), realMs: Math.round(realMs) }),
    };
  } finally {
    await http?.stop();
    await dynamoDb?.stop();
  }

  async function codeFor(path: IngestionPath, functionId: string): Promise<FunctionCode> {
    if (functions === 'model')
      return modelFunction(faults, {
        failureMode: applied.failureModes[path]
          ? applied.failureModes[path] === 'throw'
            ? 'throw'
            : 'partial'
          : (options.failureMode ?? 'partial'),
        ...(options.streamIdempotency && { streamIdempotency: options.streamIdempotency }),
      });
    const fn = config.functions.find((f) => f.id === functionId)!;
    if (!fn.code)
      throw new Error(`The ${path} function ${fn.functionName} has no bundle in the cloud assembly.`);
    const table = fn.environment.IDEMPOTENCY_TABLE_NAME;
    if (table) await dynamoDb!.createIdempotencyTable(table);
    const effectTable = fn.environment.EFFECT_TABLE_NAME;
    if (effectTable) await dynamoDb!.createEffectTable(effectTable);
    const { BundleFunction } = await import('./runtime/bundle-function');
    return new BundleFunction({
      config: fn,
      dynamoDbEndpointFor: (environment) => dynamoDb!.endpointFor(environment),
      region: config.region,
      resolveRecordKey: (key) => catalog.resolve(key),
      faultLayer: faultLayer!,
      callFaults: callFaults!,
      ...(KEY_HINTS[path] && { keyHint: KEY_HINTS[path] }),
      ...(options.bundleEnvironment && { extraEnvironment: options.bundleEnvironment }),
      ...(options.onLog && { onLog: options.onLog }),
    });
  }

  /** Each path's effect table, by item key (`pk`). */
  async function scanEffects(db: LocalDynamoDb): Promise<RunResult['effects']> {
    const effects: NonNullable<RunResult['effects']> = {};
    for (const path of paths) {
      const table = config.functions.find((f) => f.id === entry[path]!.functionId)?.environment
        .EFFECT_TABLE_NAME;
      if (!table) continue;
      const items = await db.scan(table);
      effects[path] = Object.fromEntries(items.map(({ pk, ...attributes }) => [String(pk), attributes]));
    }
    return effects;
  }
}

export function formatClock(ms: number): string {
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/**
 * The scenario restricted to the paths the deployment has: an app deploys the paths of its `paths` context, and a
 * scenario written for every path (demo.json) runs on what is there. Fails only when none of its paths is there.
 */
export function forDeployment(
  scenario: Scenario,
  entry: EntryPoints,
  httpDeployed = false,
): { scenario: Scenario; skippedPaths: (IngestionPath | 'http')[] } {
  const has = (path: IngestionPath | 'http') => (path === 'http' ? httpDeployed : !!entry[path]);
  const all = [...PATHS, 'http' as const];
  const driven = all.filter((path) => scenario.paths[path]);
  const skippedPaths = driven.filter((path) => !has(path));
  const deployed = all.filter(has);
  if (driven.length > 0 && skippedPaths.length === driven.length) {
    throw new Error(
      `The scenario drives the ${driven.join(', ')} path${driven.length > 1 ? 's' : ''}, but the deployment has ` +
        `${deployed.length > 0 ? `only ${deployed.join(', ')}` : 'no ingestion path'}: add a path the deployment ` +
        'has to the scenario, or deploy the path (cdk.json context "paths").',
    );
  }
  const paths = Object.fromEntries(
    Object.entries(scenario.paths).filter(([path]) => has(path as IngestionPath | 'http')),
  );
  return { scenario: { ...scenario, paths }, skippedPaths };
}
