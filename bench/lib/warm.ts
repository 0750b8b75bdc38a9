/**
 * Warm throughput: one long-lived execution environment per handler (and per floor), warmed up, then batches of
 * each size sent to every one of them in a rotating order; throughput ratios paired by round.
 */
import type { InvocationReport } from './child';
import type { BenchDynamoDb } from './dynalite';
import { assertNoFailures, functionEnvironment, WarmChild } from './harness';
import type { HandlerSpec } from './handlers';
import { pairedRatios, rotate, type Summary, summarise } from './stats';

export interface WarmSummary {
  readonly name: string;
  readonly processing: string;
  readonly batchSize: number;
  readonly reference?: string;
  readonly batchMs: Summary;
  readonly recordsPerSecond: Summary;
  /** CPU time of the handler's process per record (user + system), in ms. */
  readonly cpuMsPerRecord: Summary;
  /** Throughput ratio to the floor (> 1: faster than the floor), paired by round. */
  readonly throughputRatio?: Summary;
  readonly logBytesPerRecord: number;
  /** TCP connections opened during the measured batches: 0 when the SDK client and its sockets are reused. */
  readonly newConnections: number;
  readonly maxRssMb: number;
}

export async function measureWarmThroughput(options: {
  readonly childRuntime: string;
  readonly dynamo: BenchDynamoDb;
  readonly specs: readonly HandlerSpec[];
  readonly bundles: ReadonlyMap<string, { readonly file: string }>;
  readonly batchSizes: readonly number[];
  readonly rounds: (batchSize: number) => number;
  readonly onProgress?: (message: string) => void;
}): Promise<WarmSummary[]> {
  const children = options.specs.map(
    (spec) =>
      [
        spec,
        new WarmChild(
          spec.name,
          options.childRuntime,
          options.bundles.get(spec.name)?.file ?? '',
          functionEnvironment({
            functionName: `bench-${spec.name}`,
            own: spec.environment,
            dynamoDbEndpoint: options.dynamo.endpoint,
          }),
        ),
      ] as const,
  );
  const summaries: WarmSummary[] = [];
  try {
    // Warm-up: JIT, lazily loaded SDK parts, the sockets of the connection pool.
    for (const [spec, child] of children) {
      for (const [index, count] of [10, 10, 100, 10].entries()) {
        const report = await child.invoke({ kind: spec.kind, count, runId: `${spec.name}-warmup-${index}` });
        assertNoFailures(spec.name, report, count);
      }
    }
    for (const batchSize of options.batchSizes) {
      const rounds = options.rounds(batchSize);
      const reports = new Map<string, InvocationReport[]>(options.specs.map((spec) => [spec.name, []]));
      const connections = new Map<string, number>(options.specs.map((spec) => [spec.name, 0]));
      for (let round = 0; round < rounds; round += 1) {
        for (const [spec, child] of rotate(children, round)) {
          const before = options.dynamo.connections();
          const report = await child.invoke({
            kind: spec.kind,
            count: batchSize,
            runId: `${spec.name}-w${batchSize}-${round}`,
          });
          assertNoFailures(spec.name, report, batchSize);
          connections.set(
            spec.name,
            (connections.get(spec.name) ?? 0) + options.dynamo.connections() - before,
          );
          reports.get(spec.name)?.push(report);
        }
      }
      options.onProgress?.(`warm: batches of ${batchSize} done (${rounds} rounds)`);
      for (const spec of options.specs) {
        const runs = reports.get(spec.name) ?? [];
        // One row per floor it is compared with (the same runs, paired with each floor's runs of the round).
        for (const floor of spec.floor
          ? [spec.floor, ...(spec.alsoComparedWith ? [spec.alsoComparedWith] : [])]
          : [undefined]) {
          const reference = floor ? reports.get(floor) : undefined;
          summaries.push({
            name: spec.name,
            processing: spec.processing,
            batchSize,
            ...(floor && { reference: floor }),
            batchMs: summarise(runs.map((run) => run.ms)),
            recordsPerSecond: summarise(runs.map((run) => (batchSize / run.ms) * 1000)),
            cpuMsPerRecord: summarise(runs.map((run) => run.cpuMs / batchSize)),
            ...(reference && {
              // Throughput ratio = the floor's time / the handler's time, round by round.
              throughputRatio: pairedRatios(
                reference.map((run) => run.ms),
                runs.map((run) => run.ms),
              ),
            }),
            logBytesPerRecord: runs.length ? runs[0].logBytes / batchSize : 0,
            newConnections: connections.get(spec.name) ?? 0,
            maxRssMb: runs.length ? Math.max(...runs.map((run) => run.maxRssKb)) / 1024 : 0,
          });
        }
      }
    }
  } finally {
    await Promise.all(children.map(([, child]) => child.stop()));
  }
  return summaries;
}
