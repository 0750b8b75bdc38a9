/**
 * Cold starts: a fresh process per run (process start + module init + the first batch of records against the
 * parent's DynamoDB), every variant once per round in a rotating order, ratios paired by round.
 */
import type { BenchDynamoDb } from './dynalite';
import type { EventKind } from '../../tools/shared/sample-events';
import { type ColdResult, coldStart, functionEnvironment } from './harness';
import { pairedRatios, rotate, type Summary, summarise } from './stats';

export interface ColdVariant {
  readonly name: string;
  readonly bundle: string;
  readonly kind: EventKind;
  readonly environment: Readonly<Record<string, string>>;
  /** The variants it is compared with, paired by round. */
  readonly references?: readonly string[];
}

export interface ColdRatios {
  /** Paired ratio of the wall time (process start to the first batch's result). */
  readonly wall: Summary;
  /** Paired ratio of the process's CPU time. */
  readonly cpu: Summary;
}

export interface ColdSummary {
  readonly name: string;
  /** Process start to the first batch's result, as the parent saw it. */
  readonly wallMs: Summary;
  readonly initMs: Summary;
  readonly firstBatchMs: Summary;
  /** CPU time of the whole process (user + system). */
  readonly processCpuMs: Summary;
  readonly maxRssMb: Summary;
  readonly logBytesPerRecord: number;
  readonly connections: number;
  /** Ratios to each reference, by its name. */
  readonly ratios: Readonly<Record<string, ColdRatios>>;
}

export async function measureColdStarts(options: {
  readonly childRuntime: string;
  readonly dynamo: BenchDynamoDb;
  readonly variants: readonly ColdVariant[];
  readonly rounds: number;
  readonly records: number;
  readonly label: string;
  readonly onProgress?: (message: string) => void;
}): Promise<ColdSummary[]> {
  const results = new Map<string, ColdResult[]>(options.variants.map((variant) => [variant.name, []]));
  for (let round = 0; round < options.rounds; round += 1) {
    for (const variant of rotate(options.variants, round)) {
      const result = await coldStart({
        childRuntime: options.childRuntime,
        bundle: variant.bundle,
        kind: variant.kind,
        count: options.records,
        runId: `${options.label}-${round}-${variant.name}`,
        env: functionEnvironment({
          functionName: `bench-${variant.name}`,
          own: variant.environment,
          dynamoDbEndpoint: options.dynamo.endpoint,
        }),
        connections: options.dynamo.connections,
      });
      results.get(variant.name)?.push(result);
    }
    options.onProgress?.(`cold ${options.label}: round ${round + 1}/${options.rounds}`);
  }
  return options.variants.map((variant) => {
    const runs = results.get(variant.name) ?? [];
    const ratios: Record<string, ColdRatios> = {};
    for (const referenceName of variant.references ?? []) {
      const reference = results.get(referenceName) ?? [];
      ratios[referenceName] = {
        wall: pairedRatios(
          runs.map((run) => run.wallMs),
          reference.map((run) => run.wallMs),
        ),
        cpu: pairedRatios(
          runs.map((run) => run.processCpuMs),
          reference.map((run) => run.processCpuMs),
        ),
      };
    }
    return {
      name: variant.name,
      wallMs: summarise(runs.map((run) => run.wallMs)),
      initMs: summarise(runs.map((run) => run.initMs)),
      firstBatchMs: summarise(runs.map((run) => run.ms)),
      processCpuMs: summarise(runs.map((run) => run.processCpuMs)),
      maxRssMb: summarise(runs.map((run) => run.maxRssKb / 1024)),
      logBytesPerRecord: runs.length ? runs[0].logBytes / options.records : 0,
      connections: runs.length ? runs[0].connections : 0,
      ratios,
    };
  });
}
