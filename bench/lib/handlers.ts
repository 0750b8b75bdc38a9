/**
 * The handlers the benchmark measures, as CDK ships them, and the floor each is compared with.
 */
import * as path from 'node:path';
import { CONSUMER_NODE_OPTIONS, type ConsumerBundling } from '../../lib/constructs/consumer-function';
import { BENCH_DIR } from './harness';
import { configuredPaths } from '../../tools/shared/project-paths';
import { type BuiltBundle, bundleHandler, PROJECT_ROOT } from './bundle';
import type { EventKind } from '../../tools/shared/sample-events';

/** `in-order per key`: records of one key one after the other, different keys concurrently. */
export type Processing = 'parallel' | 'in-order' | 'in-order per key';

export interface HandlerSpec {
  /** `floor`, `floor-in-order`, `sqs`, `object`, `stream`, `fifo`, `table-stream`. */
  readonly name: string;
  readonly entry: string;
  /** The kind of event it gets (the floor takes SQS batches). */
  readonly kind: EventKind;
  /** How it runs the records of a batch. */
  readonly processing: Processing;
  /** Its own environment variables (as `ConsumerFunction` sets them). */
  readonly environment: Readonly<Record<string, string>>;
  /** The name of the floor it is compared with (none for the floors themselves). */
  readonly floor?: string;
  /**
   * Another floor its warm throughput is also reported against (a second row of the same runs), when neither
   * floor processes the way it does.
   */
  readonly alsoComparedWith?: string;
  /** Not what ships: a variant measured to explain a figure (left out of the goals). */
  readonly diagnostic?: string;
}

const TABLE_PLACEHOLDER = 'bench-idempotency';

/** The effect table that goes with an idempotency table of the bench (created with it, bench/lib/dynalite.ts). */
export function effectTableOf(tableName: string): string {
  return `${tableName}-effects`;
}

function consumerEnvironment(serviceName: string, tableName: string): Record<string, string> {
  return {
    POWERTOOLS_SERVICE_NAME: serviceName,
    POWERTOOLS_LOG_LEVEL: 'INFO',
    IDEMPOTENCY_TABLE_NAME: tableName,
    IDEMPOTENCY_EXPIRY_SECONDS: '3600',
    EFFECT_TABLE_NAME: effectTableOf(tableName),
    // The local DynamoDB runs transactions one at a time (tools/shared/dynamodb-transactions.ts): a batch of 1,000
    // commits queues for seconds, which the deployed 1,566 ms request timeout would take for a hung DynamoDB.
    // One attempt of 8 s, and no waits between tries of a record: the bench measures work, and a failed record
    // shows in its failure count (bench/lib/child.ts gives each invocation Lambda's longest timeout).
    DYNAMODB_REQUEST_TIMEOUT_MS: '8000',
    DYNAMODB_MAX_ATTEMPTS: '1',
    DEPENDENCY_RETRY_DELAYS_MS: '',
    NODE_OPTIONS: CONSUMER_NODE_OPTIONS,
  };
}

/**
 * The floors (parallel and in-order) and the handlers of the deployed paths (cdk.json context `paths`), writing
 * to `tableName`. The SQS handler's bundling variants and init parts are measured whether or not the app deploys
 * the SQS path: they measure the shared machinery, and its code is in the repository either way.
 */
export function handlerSpecs(
  tableName = TABLE_PLACEHOLDER,
  paths: readonly string[] = configuredPaths(PROJECT_ROOT),
): HandlerSpec[] {
  return allHandlerSpecs(tableName).filter(
    (spec) => spec.name.startsWith('floor') || paths.includes(spec.kind),
  );
}

function allHandlerSpecs(tableName: string): HandlerSpec[] {
  const floorEnvironment = { IDEMPOTENCY_TABLE_NAME: tableName, IDEMPOTENCY_EXPIRY_SECONDS: '3600' };
  return [
    {
      name: 'floor',
      entry: 'bench/floor-handler.ts',
      kind: 'sqs',
      processing: 'parallel',
      environment: floorEnvironment,
    },
    {
      name: 'floor-in-order',
      entry: 'bench/floor-handler.ts',
      kind: 'sqs',
      processing: 'in-order',
      environment: { ...floorEnvironment, FLOOR_IN_ORDER: 'true' },
    },
    {
      // Standard queues have no order: Powertools' BatchProcessor runs the records in parallel.
      name: 'sqs',
      entry: 'lambda/sqs-consumer/index.ts',
      kind: 'sqs',
      processing: 'parallel',
      environment: consumerEnvironment('sqs-consumer', tableName),
      floor: 'floor',
    },
    {
      // What the per-record "side effect done" line costs: the same handler with INFO lines switched off.
      name: 'sqs-no-info-log',
      entry: 'lambda/sqs-consumer/index.ts',
      kind: 'sqs',
      processing: 'parallel',
      environment: { ...consumerEnvironment('sqs-consumer', tableName), POWERTOOLS_LOG_LEVEL: 'WARN' },
      floor: 'floor',
      diagnostic: 'POWERTOOLS_LOG_LEVEL=WARN: no per-record log line',
    },
    {
      // One object after the other (SNS delivers one notification per invocation anyway).
      name: 'object',
      entry: 'lambda/object-consumer/index.ts',
      kind: 'object',
      processing: 'in-order',
      environment: consumerEnvironment('object-consumer', tableName),
      floor: 'floor-in-order',
    },
    {
      // Per-partition-key order: each key's records in order, different keys concurrently (the bench's stream
      // events have ten keys). No floor does exactly that: the in-order floor runs everything one after the
      // other (what the handler must beat to be worth it), the parallel floor overlaps every record (what it
      // could reach with as many keys as records). Reported against both.
      name: 'stream',
      entry: 'lambda/stream-consumer/index.ts',
      kind: 'stream',
      processing: 'in-order per key',
      environment: consumerEnvironment('stream-consumer', tableName),
      floor: 'floor-in-order',
      alsoComparedWith: 'floor',
    },
    {
      // Order per message group: Powertools' SqsFifoPartialProcessorAsync runs a batch's messages one after the
      // other (lambda/fifo-consumer/handler.ts), whatever their groups, as the in-order floor does.
      name: 'fifo',
      entry: 'lambda/fifo-consumer/index.ts',
      kind: 'fifo',
      processing: 'in-order',
      environment: consumerEnvironment('fifo-consumer', tableName),
      floor: 'floor-in-order',
    },
    {
      // Per-item order, as the Kinesis handler keeps per-partition-key order (lambda/shared/key-ordered.ts): the
      // bench's table-stream events have ten items. Reported against both floors, as the stream handler is.
      name: 'table-stream',
      entry: 'lambda/table-stream-consumer/index.ts',
      kind: 'table-stream',
      processing: 'in-order per key',
      environment: consumerEnvironment('table-stream-consumer', tableName),
      floor: 'floor-in-order',
      alsoComparedWith: 'floor',
    },
  ];
}

/** Bundles every distinct entry once into .tmp/bench/bundles/<label>/<name>. */
export async function bundleAll(
  specs: readonly HandlerSpec[],
  bundling: ConsumerBundling,
  label: string,
  root = '.',
): Promise<Map<string, BuiltBundle>> {
  const byEntry = new Map<string, BuiltBundle>();
  const bundles = new Map<string, BuiltBundle>();
  for (const spec of specs) {
    let built = byEntry.get(spec.entry);
    if (!built) {
      const outdir = path.join(BENCH_DIR, 'bundles', label, path.basename(path.dirname(spec.entry)));
      built = await bundleHandler(bundling, path.join(root, spec.entry), outdir);
      byEntry.set(spec.entry, built);
    }
    bundles.set(spec.name, built);
  }
  return bundles;
}
