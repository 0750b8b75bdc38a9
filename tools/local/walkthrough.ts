/**
 * The seeds' Kinesis walk-through as a command (`npm run local -- walkthrough`): "BisectOnFunctionError = True,
 * MaximumRetryAttempts = 2, and DestinationConfig includes an OnFailure Destination that points to an SNS topic.
 * Assume you have a batch of 10 records, and the third record in this batch of 10 returns a function error."
 * (shared seeds, "Error handling for stream-based events").
 *
 * It runs on a stream of one shard, every record on one partition key and all of them in the stream before the
 * first poll, so the first batch holds the first `BatchSize` records as in the seed. The records are the stream
 * domain's examples (lambda/<path>/domain.ts through the workload), the poison ones its invalid examples; the
 * function is the in-engine model (model-function.ts), so nothing is synthesized or bundled. The seed's function
 * throws when a record fails (partial batch responses off); `--partial on` makes it report the failed records and
 * turns `ReportBatchItemFailures` on, and then also runs the same records through this template's own stream
 * mapping, side by side.
 */
import {
  arnOf,
  AWS_DEFAULTS,
  DEFAULT_ACCOUNT,
  DEFAULT_REGION,
  type SimulationConfig,
  type StreamEventSourceMappingConfig,
} from './engine/config';
import { Simulation } from './engine/simulation';
import type { InvocationRecord } from './engine/trace';
import { modelFunction } from './model-function';
import { parseScenario } from './scenario';
import { planWorkload, type RecordCatalog } from './workload';

/** What the walk-through's flags change. */
export interface WalkthroughOptions {
  /** Records in the stream (the seed: 10). */
  readonly records: number;
  /** 1-based positions of the records that always fail (the seed: the third). */
  readonly poison: readonly number[];
  /** `MaximumRetryAttempts` (the seed: 2). */
  readonly retries: number;
  /** `BisectBatchOnFunctionError` (the seed: true). */
  readonly bisect: boolean;
  /** Partial batch responses: the function reports failed records and the mapping reads them (the seed: off). */
  readonly partial: boolean;
}

export const SEED_WALKTHROUGH: WalkthroughOptions = {
  records: 10,
  poison: [3],
  retries: 2,
  bisect: true,
  partial: false,
};

/** The seed's batch: "a batch of 10 records". */
const SEED_BATCH_SIZE = 10;
const SEED_FUNCTION_ID = 'walkthrough-function';
const SEED_STREAM_ARN = arnOf('kinesis', 'walkthrough-stream');
const SEED_TOPIC_ARN = arnOf('sns', 'walkthrough-on-failure');

/** The deployment of the seed's example: one function, one stream of one shard, its mapping, the SNS topic. */
export function seedConfig(options: WalkthroughOptions): SimulationConfig {
  const mapping: StreamEventSourceMappingConfig = {
    id: 'walkthrough-mapping',
    functionId: SEED_FUNCTION_ID,
    streamArn: SEED_STREAM_ARN,
    batchSize: SEED_BATCH_SIZE,
    maximumBatchingWindowSeconds: 0,
    bisectBatchOnFunctionError: options.bisect,
    maximumRetryAttempts: options.retries,
    maximumRecordAgeSeconds: -1,
    parallelizationFactor: 1,
    reportBatchItemFailures: options.partial,
    onFailureDestinationArn: SEED_TOPIC_ARN,
    startingPosition: 'TRIM_HORIZON',
    enabled: true,
  };
  return {
    region: DEFAULT_REGION,
    accountId: DEFAULT_ACCOUNT,
    functions: [
      {
        id: SEED_FUNCTION_ID,
        functionName: SEED_FUNCTION_ID,
        functionArn: arnOf('lambda', SEED_FUNCTION_ID),
        timeoutSeconds: 30,
        memorySizeMb: 256,
        environment: {},
      },
    ],
    queues: [],
    sqsEventSourceMappings: [],
    streams: [
      {
        id: 'walkthrough-stream',
        streamName: 'walkthrough-stream',
        streamArn: SEED_STREAM_ARN,
        shardCount: 1,
        retentionHours: AWS_DEFAULTS.kinesisRetentionHours,
      },
    ],
    kinesisEventSourceMappings: [mapping],
    tables: [],
    dynamoDbEventSourceMappings: [],
    topics: [{ id: 'walkthrough-on-failure', topicName: 'walkthrough-on-failure', topicArn: SEED_TOPIC_ARN }],
    snsSubscriptions: [],
    buckets: [],
    eventInvokeConfigs: [],
  };
}

/** One run of the walk-through's records through a stream mapping. */
export interface WalkthroughRun {
  /** What ran: "the seed's settings", "this template's stream path". */
  readonly title: string;
  /** The mapping's settings that decide the sequence, one phrase each. */
  readonly settings: readonly string[];
  readonly sim: Simulation;
  readonly catalog: RecordCatalog;
  /** The record ids in stream order (position 1 first). */
  readonly recordIds: readonly string[];
  readonly mapping: StreamEventSourceMappingConfig;
}

/**
 * Runs the walk-through's records through the stream path of `config` (its first Kinesis mapping), the function
 * failing as `failureMode` says: `throw` at the first failed record, or `partial`: report every failed record.
 */
export async function runWalkthrough(
  options: WalkthroughOptions,
  config: SimulationConfig = seedConfig(options),
  title = "the seed's settings",
): Promise<WalkthroughRun> {
  const scenario = parseScenario(
    {
      name: 'walkthrough',
      seed: 'walkthrough',
      path: 'stream',
      records: options.records,
      // One partition key: every record on one shard, in one lane, in the order they were written.
      groups: 1,
      functions: 'model',
      faults: { poison: { records: [...options.poison] } },
    },
    'the walk-through',
  );
  const sim = new Simulation(config, { seed: 'walkthrough' });
  const entry = sim.entryPoints().stream;
  if (!entry) throw new Error(`${title}: the deployment has no Kinesis stream with an event source mapping.`);
  const { catalog, faults } = planWorkload(scenario, sim.entryPoints(), []);
  sim.setFunctionCode(
    entry.functionId,
    modelFunction(faults, { failureMode: options.partial ? 'partial' : 'throw' }),
  );
  const records = catalog.ofPath('stream').sort((a, b) => a.number - b.number);
  // Every record is in the stream before the mapping first reads it: the first batch is a full one, as in the seed.
  for (const record of records)
    sim.putRecord(entry.streamArn, record.partitionKey!, record.payload, record.id, 0);
  await sim.run({ untilMs: 7 * 24 * 3_600_000, maxEvents: 5_000_000 });
  const mapping = config.kinesisEventSourceMappings.find((m) => m.id === entry.mappingId)!;
  return {
    title,
    settings: mappingSettings(mapping),
    sim,
    catalog,
    recordIds: records.map((r) => r.id),
    mapping,
  };
}

/** The settings of a stream mapping that shape the sequence, as short phrases. */
export function mappingSettings(mapping: StreamEventSourceMappingConfig): string[] {
  const on = (value: boolean) => (value ? 'on' : 'off');
  return [
    `batch size ${mapping.batchSize}`,
    `bisect ${on(mapping.bisectBatchOnFunctionError)}`,
    `retries ${mapping.maximumRetryAttempts < 0 ? 'until the record expires' : mapping.maximumRetryAttempts}`,
    `maximum record age ${mapping.maximumRecordAgeSeconds < 0 ? 'none' : `${mapping.maximumRecordAgeSeconds} s`}`,
    `partial batch responses ${on(mapping.reportBatchItemFailures)}`,
  ];
}

/** ✓ the batch succeeded; ✗ the function threw or timed out (the whole batch failed); ◐ it reported failed records. */
export const OUTCOME_SYMBOL: Record<InvocationRecord['outcome'], string> = {
  success: '✓',
  'partial-failure': '◐',
  'function-error': '✗',
  timeout: '✗',
  'invalid-response': '✗',
};

export const SYMBOL_LEGEND =
  '✓ succeeded · ✗ the function threw (the whole batch failed) · ◐ it reported failed records';

/** The invocations in order, each as its batch size and outcome: `10✗ 5✗ 2✓ 3✗ 1✗ 1✗ 1✗ 2✓ 5✓`. */
export function invocationSequence(sim: Simulation): string {
  return sim.trace.invocations.map((i) => `${i.recordIds.length}${OUTCOME_SYMBOL[i.outcome]}`).join(' ');
}

/** How many invocations carried each record, by record id. */
export function deliveries(run: WalkthroughRun): Map<string, number> {
  const counts = new Map(run.recordIds.map((id) => [id, 0]));
  for (const invocation of run.sim.trace.invocations)
    for (const id of invocation.recordIds) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

/** Where records left the stream without succeeding: the on-failure destination, or skipped without one. */
export function failedRecordLines(run: WalkthroughRun): string[] {
  const position = (id: string) => `#${run.recordIds.indexOf(id) + 1}`;
  const positions = (ids: readonly string[]) =>
    ids.length === 1 ? position(ids[0]) : `${position(ids[0])}–${position(ids.at(-1)!)}`;
  const processed = new Set(run.sim.trace.sideEffects.map((effect) => effect.recordId));
  const lines = run.sim.trace.sinks.map((sink) => {
    const invokes = (sink.message as { requestContext?: { approximateInvokeCount?: number } }).requestContext
      ?.approximateInvokeCount;
    // The destination's message names a range of the shard: records of it may have been processed all the same
    // (a partial batch response reported only the failed one, and the rest was retried with it).
    const done = sink.recordIds.filter((id) => processed.has(id));
    return (
      `${positions(sink.recordIds)} (${sink.recordIds.join(', ')}) → on-failure destination ` +
      `${run.sim.nameOf(sink.targetArn)}: ${sink.condition}` +
      `${invokes === undefined ? '' : ` after ${invokes} invocation${invokes === 1 ? '' : 's'} of that batch`}` +
      ' (the message carries the shard and sequence numbers, not the records)' +
      (done.length > 0
        ? `; ${done.map(position).join(', ')} of that range ${done.length === 1 ? 'was' : 'were'} processed all the same`
        : '')
    );
  });
  for (const event of run.sim.trace.events.filter((e) => e.kind === 'discarded' || e.kind === 'expired'))
    lines.push(`${positions(event.recordIds)}: ${event.detail}`);
  return lines.length > 0 ? lines : ['none: every record succeeded'];
}

/** `#1×3 #2×3 #3×6 …`: invocations that carried each record, by position. */
export function deliveryLine(run: WalkthroughRun): string {
  return [...deliveries(run).values()].map((count, i) => `#${i + 1}×${count}`).join(' ');
}

/** The walk-through as text: one run, or the seed's run and this template's, side by side. */
export function renderWalkthrough(options: WalkthroughOptions, runs: readonly WalkthroughRun[]): string {
  const poison = options.poison.map((p) => `#${p}`).join(', ');
  const lines = [
    `Stream walk-through: ${options.records} records on one shard (one partition key), record${options.poison.length === 1 ? '' : 's'} ${poison || 'none'} always fail${options.poison.length === 1 ? 's' : ''}; ` +
      `the function ${options.partial ? 'reports the failed records' : 'throws when a record fails'}.`,
    SYMBOL_LEGEND,
  ];
  if (runs.length === 1) {
    const [run] = runs;
    lines.push(
      '',
      `Settings (${run.title}): ${run.settings.join(', ')}`,
      `Invocations: ${invocationSequence(run.sim)}`,
      'Failed records:',
      ...failedRecordLines(run).map((line) => `  ${line}`),
      `Deliveries per record: ${deliveryLine(run)}`,
    );
    return lines.join('\n');
  }
  const rows: [string, ...string[]][] = [
    ['', ...runs.map((r) => r.title)],
    ...runs[0].settings.map((_, i): [string, ...string[]] => [
      i === 0 ? 'settings' : '',
      ...runs.map((r) => r.settings[i]),
    ]),
    ['invocations', ...runs.map((r) => invocationSequence(r.sim))],
    ['deliveries', ...runs.map((r) => deliveryLine(r))],
  ];
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  lines.push(
    '',
    ...rows.map((row) =>
      row
        .map((cell, c) => cell.padEnd(widths[c]))
        .join('   ')
        .trimEnd(),
    ),
  );
  for (const run of runs) {
    lines.push('', `Failed records (${run.title}):`, ...failedRecordLines(run).map((line) => `  ${line}`));
  }
  return lines.join('\n');
}
