/**
 * The report of a run: per path, what the Lambda service did (invocations, batch sizes, retries, splits,
 * throttles), where failed work went (dead-letter queues, destinations), what happened to every record (side
 * effect once, in a sink, lost), and the invariants that must hold. `renderReport` prints it for people,
 * `toJsonReport` for machines (every invocation with the records it carried and its outcome).
 */
import type { IngestionPath } from './engine/config';
import type { StopReason } from './engine/scheduler';
import type { Simulation } from './engine/simulation';
import type { InvocationOutcome, InvocationRecord, SinkKind } from './engine/trace';
import type { FaultPlan } from './faults';
import { renderHttpReport, type HttpPathReport } from './http-report';
import { PATHS } from './scenario';
import type { RecordCatalog } from './workload';

export type RecordFate =
  /** Its side effect happened exactly once. */
  | 'done'
  /** Side effect once, and it (or its batch) also reached a dead-letter queue or destination. */
  | 'done-and-in-sink'
  /** No side effect; it is in a dead-letter queue or destination. */
  | 'in-sink'
  /** Still waiting when the run stopped at its time limit. */
  | 'pending'
  /** Never sent to the function: the mapping's filter criteria dropped it (a table stream's REMOVE, by default). */
  | 'filtered'
  /** Sent to the function, which applied nothing, by design: a deletion by time to live. */
  | 'skipped'
  /** No side effect and nowhere to be found: dropped, discarded or expired. */
  | 'lost';

export interface RecordReport {
  readonly id: string;
  readonly path: IngestionPath;
  readonly poison: boolean;
  readonly faults: readonly string[];
  /** How many times the function was handed the record. */
  readonly handed: number;
  readonly sideEffects: number;
  readonly sinks: readonly {
    readonly kind: SinkKind;
    readonly target: string;
    readonly condition?: string;
  }[];
  readonly fate: RecordFate;
}

/**
 * What the invariants need to know of the workload: the injected faults, and each record's ordering key (the
 * stream's partition key, the FIFO queue's message group).
 */
export interface FaultContext {
  readonly faults: FaultPlan;
  readonly partitionKeyOf: (recordId: string) => string | undefined;
  readonly messageGroupOf?: (recordId: string) => string | undefined;
}

export interface InvariantResult {
  readonly name: string;
  readonly holds: boolean;
  readonly detail: string;
  /** Up to 10 records that break it. */
  readonly examples: readonly string[];
}

export interface PathReport {
  readonly path: IngestionPath;
  readonly functionName: string;
  readonly source: string;
  readonly records: {
    readonly produced: number;
    readonly poison: number;
    readonly transient: number;
    readonly timeouts: number;
    readonly duplicates: number;
    /** Table stream: deletions by time to live (nothing to apply). */
    readonly expirations: number;
  };
  readonly invocations: {
    readonly count: number;
    readonly outcomes: Readonly<Record<InvocationOutcome, number>>;
    readonly batchSizes: { readonly min: number; readonly max: number; readonly mean: number };
    readonly throttles: number;
    readonly retries: number;
    readonly splits: number;
    readonly redeliveries: number;
  };
  readonly sinks: readonly {
    readonly kind: SinkKind;
    readonly target: string;
    readonly messages: number;
    readonly records: number;
    readonly conditions: Readonly<Record<string, number>>;
  }[];
  readonly fates: Readonly<Record<RecordFate, number>>;
  readonly sideEffects: {
    readonly total: number;
    readonly duplicated: number;
    readonly unattributed: number;
  };
  readonly notes: readonly string[];
  readonly invariants: readonly InvariantResult[];
}

export interface Report {
  readonly scenario: {
    readonly name: string;
    readonly seed: string | number;
    readonly functions: string;
    /** Paths the scenario drives that the deployment does not have (context `paths`): not run. */
    readonly skippedPaths?: readonly string[];
  };
  readonly stoppedBy: StopReason;
  readonly virtualDurationMs: number;
  readonly paths: readonly PathReport[];
  readonly records: readonly RecordReport[];
  /** The http path (synchronous invocation: clients, API Gateway, the function), when the scenario drives it. */
  readonly http?: HttpPathReport;
}

export function buildReport(
  sim: Simulation,
  catalog: RecordCatalog,
  faults: FaultPlan,
  stoppedBy: StopReason,
  scenario: Report['scenario'],
): Report {
  const records = recordReports(sim, catalog, faults, stoppedBy);
  const paths = PATHS.filter((p) => catalog.ofPath(p).length > 0).map((path) =>
    pathReport(
      sim,
      path,
      records.filter((r) => r.path === path),
      {
        faults,
        partitionKeyOf: (id) => catalog.records.get(id)?.partitionKey,
        messageGroupOf: (id) => catalog.records.get(id)?.messageGroupId,
      },
    ),
  );
  return { scenario, stoppedBy, virtualDurationMs: sim.scheduler.now, paths, records };
}

function recordReports(
  sim: Simulation,
  catalog: RecordCatalog,
  faults: FaultPlan,
  stoppedBy: StopReason,
): RecordReport[] {
  const handed = new Map<string, number>();
  for (const invocation of sim.trace.invocations) {
    for (const id of invocation.recordIds) handed.set(id, (handed.get(id) ?? 0) + 1);
  }
  const effects = new Map<string, number>();
  for (const effect of sim.trace.sideEffects)
    effects.set(effect.recordId, (effects.get(effect.recordId) ?? 0) + 1);
  const filtered = new Set(sim.trace.events.filter((e) => e.kind === 'filtered').flatMap((e) => e.recordIds));
  const sinks = new Map<string, RecordReport['sinks'][number][]>();
  for (const sink of sim.trace.sinks) {
    for (const id of new Set(sink.recordIds)) {
      const list = sinks.get(id) ?? [];
      list.push({
        kind: sink.kind,
        target: sim.nameOf(sink.targetArn),
        ...(sink.condition && { condition: sink.condition }),
      });
      sinks.set(id, list);
    }
  }
  return [...catalog.records.values()].map((record) => {
    const sideEffects = effects.get(record.id) ?? 0;
    const inSinks = (sinks.get(record.id) ?? []).filter((s) => s.kind !== 'on-success-destination');
    const fate: RecordFate =
      sideEffects > 0
        ? inSinks.length > 0
          ? 'done-and-in-sink'
          : 'done'
        : inSinks.length > 0
          ? 'in-sink'
          : filtered.has(record.id)
            ? 'filtered'
            : record.expiration && handed.has(record.id)
              ? 'skipped'
              : stoppedBy === 'idle'
                ? 'lost'
                : 'pending';
    const recordFaults = [
      record.poison && 'poison',
      faults.hasTransient(record.id) && 'transient',
      faults.hasHang(record.id) && 'timeout',
      record.duplicatesAfterMs !== undefined && 'duplicate',
      // Table stream: not faults of the record's content, but why it is not a change to apply.
      record.expiration && 'expiration',
      record.oldImageFrom !== undefined && 'old-image-poison',
    ].filter((f): f is string => typeof f === 'string');
    return {
      id: record.id,
      path: record.path,
      poison: record.poison,
      faults: recordFaults,
      handed: handed.get(record.id) ?? 0,
      sideEffects,
      sinks: sinks.get(record.id) ?? [],
      fate,
    };
  });
}

function pathReport(
  sim: Simulation,
  path: IngestionPath,
  records: readonly RecordReport[],
  context?: FaultContext,
): PathReport {
  const invocations = sim.trace.invocations.filter((i) => i.path === path);
  const sizes = invocations.map((i) => i.recordIds.length);
  const outcomes = {
    success: 0,
    'partial-failure': 0,
    'invalid-response': 0,
    'function-error': 0,
    timeout: 0,
  };
  for (const invocation of invocations) outcomes[invocation.outcome] += 1;
  const events = sim.trace.events.filter((e) => e.path === path);
  const sinkRecords = sim.trace.sinks.filter((s) => s.path === path);
  type SinkGroup = { -readonly [K in keyof PathReport['sinks'][number]]: PathReport['sinks'][number][K] } & {
    ids: Set<string>;
  };
  const sinkGroups = new Map<string, SinkGroup>();
  for (const sink of sinkRecords) {
    const key = `${sink.kind}|${sink.targetArn}`;
    const group: SinkGroup = sinkGroups.get(key) ?? {
      kind: sink.kind,
      target: sim.nameOf(sink.targetArn),
      messages: 0,
      records: 0,
      conditions: {},
      ids: new Set<string>(),
    };
    group.messages += 1;
    sink.recordIds.forEach((id) => group.ids.add(id));
    group.records = group.ids.size;
    if (sink.condition) {
      (group.conditions as Record<string, number>)[sink.condition] =
        (group.conditions[sink.condition] ?? 0) + 1;
    }
    sinkGroups.set(key, group);
  }
  const fates = {
    done: 0,
    'done-and-in-sink': 0,
    'in-sink': 0,
    pending: 0,
    filtered: 0,
    skipped: 0,
    lost: 0,
  };
  for (const record of records) fates[record.fate] += 1;
  const functionId = invocations[0]?.functionId ?? functionOfPath(sim, path);
  const unattributed = sim.trace.unattributedSideEffects.filter((u) =>
    invocations.some((i) => i.seq === u.invocationSeq),
  ).length;
  return {
    path,
    functionName: functionId ? sim.lambda.functionConfig(functionId).functionName : '(none)',
    source: describeSource(sim, path),
    records: {
      produced: records.length,
      poison: records.filter((r) => r.poison).length,
      transient: records.filter((r) => r.faults.includes('transient')).length,
      timeouts: records.filter((r) => r.faults.includes('timeout')).length,
      duplicates: records.filter((r) => r.faults.includes('duplicate')).length,
      expirations: records.filter((r) => r.faults.includes('expiration')).length,
    },
    invocations: {
      count: invocations.length,
      outcomes,
      batchSizes: {
        min: sizes.length ? Math.min(...sizes) : 0,
        max: sizes.length ? Math.max(...sizes) : 0,
        mean: sizes.length ? Math.round((sizes.reduce((a, b) => a + b, 0) / sizes.length) * 10) / 10 : 0,
      },
      throttles: events.filter((e) => e.kind === 'throttled').length,
      retries: invocations.filter((i) => i.reason === 'retry' || i.reason === 'after-partial-failure').length,
      splits: events.filter((e) => e.kind === 'split').length,
      redeliveries: invocations.filter((i) => i.reason === 'redelivery').length,
    },
    sinks: [...sinkGroups.values()].map(({ ids: _ids, ...group }) => group),
    fates,
    sideEffects: {
      total: records.reduce((n, r) => n + r.sideEffects, 0),
      duplicated: records.filter((r) => r.sideEffects > 1).length,
      unattributed,
    },
    notes: [
      ...notesOf(sim, path),
      ...fifoNotes(sim, path, records, context),
      ...tableStreamNotes(path, records),
    ],
    invariants: checkInvariants(sim, path, records, context),
  };
}

function functionOfPath(sim: Simulation, path: IngestionPath): string | undefined {
  return sim.entryPoints()[path]?.functionId;
}

function describeSource(sim: Simulation, path: IngestionPath): string {
  const config = sim.config;
  const entry = sim.entryPoints();
  const on = (flag: boolean | undefined) => (flag ? 'on' : 'off');
  if (path === 'sqs' || path === 'fifo') {
    const m = config.sqsEventSourceMappings.find((x) => x.id === entry[path]?.mappingId);
    const q = config.queues.find((x) => x.queueArn === m?.queueArn);
    if (!m || !q) return '';
    const fifo = q.fifo
      ? `; content-based deduplication ${on(q.contentBasedDeduplication)}, deduplication scope ${q.deduplicationScope ?? 'queue'}`
      : '';
    return (
      `${q.fifo ? 'SQS FIFO' : 'SQS'} event source mapping: batch ${m.batchSize}, window ${m.maximumBatchingWindowSeconds} s, ` +
      `max concurrency ${m.maximumConcurrency ?? 'unset'}, ReportBatchItemFailures ${on(m.reportBatchItemFailures)}; ` +
      `queue visibility ${q.visibilityTimeoutSeconds} s, maxReceiveCount ${q.redrivePolicy?.maxReceiveCount ?? 'none (no DLQ)'}${fifo}`
    );
  }
  if (path === 'object') {
    const s = config.snsSubscriptions[0];
    const c = config.eventInvokeConfigs.find((x) => x.functionId === s?.functionId);
    if (!s) return '';
    return (
      `S3 → SNS → asynchronous invocation: retry attempts ${c?.maximumRetryAttempts ?? 2}, ` +
      `maximum event age ${c?.maximumEventAgeSeconds ?? 21600} s, on-failure ${c?.onFailureDestinationArn ? sim.nameOf(c.onFailureDestinationArn) : 'none'}, ` +
      `subscription DLQ ${s.deadLetterTargetArn ? sim.nameOf(s.deadLetterTargetArn) : 'none'}`
    );
  }
  if (path === 'table-stream') {
    const m = config.dynamoDbEventSourceMappings.find((x) => x.id === entry['table-stream']?.mappingId);
    const t = config.tables.find((x) => x.streamArn === m?.streamArn);
    if (!m || !t) return '';
    return (
      `DynamoDB Streams event source mapping: table ${t.id.slice(t.id.indexOf('/') + 1)} (${t.streamViewType}, ${t.streamShardCount} shards assumed, 24 h), ` +
      `batch ${m.batchSize}, bisect ${on(m.bisectBatchOnFunctionError)}, retries ${m.maximumRetryAttempts}, max record age ${m.maximumRecordAgeSeconds} s, ` +
      `parallelization ${m.parallelizationFactor}, ReportBatchItemFailures ${on(m.reportBatchItemFailures)}, ` +
      `filters ${m.filters?.length ? m.filters.join(' or ') : 'none'}, on-failure ${m.onFailureDestinationArn ? sim.nameOf(m.onFailureDestinationArn) : 'none'}`
    );
  }
  const m = config.kinesisEventSourceMappings.find((x) => x.id === entry.stream?.mappingId);
  const st = config.streams.find((x) => x.streamArn === m?.streamArn);
  if (!m || !st) return '';
  return (
    `Kinesis event source mapping: ${st.shardCount} shards, batch ${m.batchSize}, bisect ${on(m.bisectBatchOnFunctionError)}, ` +
    `retries ${m.maximumRetryAttempts}, max record age ${m.maximumRecordAgeSeconds} s, parallelization ${m.parallelizationFactor}, ` +
    `ReportBatchItemFailures ${on(m.reportBatchItemFailures)}, on-failure ${m.onFailureDestinationArn ? sim.nameOf(m.onFailureDestinationArn) : 'none'}`
  );
}

function tableStreamNotes(path: IngestionPath, records: readonly RecordReport[]): string[] {
  if (path !== 'table-stream') return [];
  const poisoned = records.filter((r) => r.faults.includes('old-image-poison'));
  return poisoned.length === 0
    ? []
    : [
        `${poisoned.length} changes failed as invalid because their old image is the item a poison write left (the handler validates both images): ${poisoned
          .slice(0, 5)
          .map((r) => r.id)
          .join(', ')}`,
      ];
}

function fifoNotes(
  sim: Simulation,
  path: IngestionPath,
  records: readonly RecordReport[],
  context?: FaultContext,
): string[] {
  if (path !== 'fifo') return [];
  const held = fifoHeldBehind(sim, records, context?.messageGroupOf).size;
  return held === 0
    ? []
    : [
        `${held} healthy messages went to the dead-letter queue behind a failing message of their group: received with it and returned unprocessed (order per group), they counted its receives`,
      ];
}

function notesOf(sim: Simulation, path: IngestionPath): string[] {
  const counts = new Map<string, number>();
  for (const event of sim.trace.events) {
    if (event.path !== path) continue;
    if (
      [
        'expired',
        'discarded',
        'delivery-failed',
        'stale-receipt-handle',
        'redrive',
        'deduplicated',
        'filtered',
        'no-stream-record',
      ].includes(event.kind)
    ) {
      counts.set(event.kind, (counts.get(event.kind) ?? 0) + event.recordIds.length);
    }
  }
  const labels: Record<string, string> = {
    redrive: 'messages moved to the dead-letter queue by the redrive policy',
    expired: 'records expired (queue retention or stream retention) before they were processed',
    discarded: 'records discarded with nowhere to go (no destination or dead-letter queue)',
    'delivery-failed': 'SNS delivery failures (retried by SNS or sent to the subscription DLQ)',
    'stale-receipt-handle':
      'deletes ignored: the message had become visible again (visibility timeout too short)',
    deduplicated:
      "sends accepted and not delivered: a copy sent within the FIFO queue's 5-minute deduplication interval",
    filtered: "records the mapping's filter criteria kept from the function (they never invoke it)",
    'no-stream-record':
      'table writes that wrote no stream record (a write that changed nothing, or a conditional retry refused)',
  };
  return [...counts].map(([kind, n]) => `${n} ${labels[kind]}`);
}

/** The invariants of the issue: each holds, or names the records that break it. */
export function checkInvariants(
  sim: Simulation,
  path: IngestionPath,
  records: readonly RecordReport[],
  context?: FaultContext,
): InvariantResult[] {
  const results: InvariantResult[] = [];
  if (context) results.push(healthyRecordsAppliedInvariant(sim, records, context));
  const twice = records.filter((r) => r.sideEffects > 1);
  results.push({
    name: 'no side effect twice',
    holds: twice.length === 0,
    detail:
      twice.length === 0
        ? 'every record had its side effect at most once'
        : `${twice.length} records had their side effect more than once`,
    examples: twice.slice(0, 10).map((r) => `${r.id} (${r.sideEffects}×)`),
  });
  const unaccounted = records.filter((r) => r.fate === 'lost');
  results.push({
    name: 'every record done once or in a dead-letter queue / destination',
    holds: unaccounted.length === 0,
    detail:
      unaccounted.length === 0
        ? 'no record lost'
        : `${unaccounted.length} records have no side effect and are in no dead-letter queue or destination`,
    examples: unaccounted.slice(0, 10).map((r) => r.id),
  });
  const poisonDone = records.filter((r) => r.poison && r.sideEffects > 0);
  results.push({
    name: 'poison records never succeed',
    holds: poisonDone.length === 0,
    detail:
      poisonDone.length === 0
        ? 'no poison record had a side effect'
        : `${poisonDone.length} poison records had a side effect`,
    examples: poisonDone.slice(0, 10).map((r) => r.id),
  });
  if (path === 'fifo') results.push(fifoOrderInvariant(sim));
  if (path === 'stream' || path === 'table-stream') {
    results.push(streamOrderInvariant(sim, path));
    // Isolation is what bisection on function errors gives. With ReportBatchItemFailures the handler names the
    // failed record instead, and a batch whose first record fails is retried (and finally discarded) whole.
    const mappingId = sim.entryPoints()[path]?.mappingId;
    const mapping = [
      ...sim.config.kinesisEventSourceMappings,
      ...sim.config.dynamoDbEventSourceMappings,
    ].find((m) => m.id === mappingId);
    if (mapping?.bisectBatchOnFunctionError && !mapping.reportBatchItemFailures) {
      results.push(bisectBoundInvariant(sim, records, mapping.batchSize, path));
    }
  }
  return results;
}

/**
 * A record with no injected fault that can make it fail must end applied, not in a sink. What can make a healthy
 * record fail, and so excuses it:
 * - a DynamoDB outage while an invocation carrying it ran (from its start to its end, waits included);
 * - an SNS delivery failure (only that sends a record to the subscription dead-letter queue);
 * - on the stream, an earlier record of its partition key in the same on-failure message that has a fault that
 *   may pass (transient, timeout): per-key order holds the healthy record back behind it. A poison record (it can
 *   never pass) holds nothing back, so it excuses nothing;
 * - on a FIFO queue, an earlier message of its message group with a fault of its own (poison included) that also
 *   went to the dead-letter queue: a group's later messages received with a failing one are returned unprocessed
 *   with it (order per group), so every receive counts for them too, and they reach `maxReceiveCount` with it. The
 *   report notes how many (`fifoHeldBehind`).
 * Anything else that leaves a healthy record unapplied (held back behind a poison record, a batch given up on
 * for another record's sake, an expired message) breaks the invariant.
 */
export function healthyRecordsAppliedInvariant(
  sim: Simulation,
  records: readonly RecordReport[],
  { faults, partitionKeyOf, messageGroupOf }: FaultContext,
): InvariantResult {
  const isHealthy = (r: RecordReport) => !r.poison && !r.faults.some((f) => f !== 'duplicate');
  const byId = new Map(records.map((r) => [r.id, r]));
  const inOutage = new Set<string>();
  for (const invocation of sim.trace.invocations) {
    if (faults.dynamoDbUnavailableDuring(invocation.startedAt, invocation.endedAt)) {
      invocation.recordIds.forEach((id) => inOutage.add(id));
    }
  }
  const heldBehindRetryableFault = (id: string) =>
    sim.trace.sinks.some(
      (sink) =>
        sink.recordIds.includes(id) &&
        sink.recordIds.some((other) => {
          const report = byId.get(other);
          return (
            other < id &&
            report !== undefined &&
            !report.poison &&
            report.faults.some((f) => f === 'transient' || f === 'timeout') &&
            partitionKeyOf(other) === partitionKeyOf(id)
          );
        }),
    );
  const behindInGroup = fifoHeldBehind(sim, records, messageGroupOf);
  const unapplied = records.filter(
    (r) =>
      isHealthy(r) &&
      r.sideEffects === 0 &&
      r.fate !== 'pending' &&
      !inOutage.has(r.id) &&
      !r.sinks.some((sink) => sink.kind === 'subscription-dead-letter-queue') &&
      !heldBehindRetryableFault(r.id) &&
      !behindInGroup.has(r.id),
  );
  return {
    name: 'every healthy record is applied',
    holds: unapplied.length === 0,
    detail:
      unapplied.length === 0
        ? 'every record with no fault that can make it fail was applied'
        : `${unapplied.length} healthy records were not applied (in a sink or lost) with no fault to account for it`,
    examples: unapplied
      .slice(0, 10)
      .map((r) => `${r.id} (${r.fate}${r.sinks.map((s) => ` → ${s.kind}`).join('')})`),
  };
}

/**
 * FIFO: the healthy messages that went to the dead-letter queue with an earlier message of their group that has a
 * fault of its own (in the same dead-letter queue, at the same time or before): held back behind it, they counted
 * its receives.
 */
export function fifoHeldBehind(
  sim: Simulation,
  records: readonly RecordReport[],
  messageGroupOf: FaultContext['messageGroupOf'],
): Set<string> {
  const held = new Set<string>();
  if (!messageGroupOf) return held;
  const byId = new Map(records.map((r) => [r.id, r]));
  const faulty = (r: RecordReport | undefined) =>
    r !== undefined && (r.poison || r.faults.some((f) => f !== 'duplicate'));
  const dead = sim.trace.sinks.filter((s) => s.path === 'fifo' && s.kind === 'queue-dead-letter-queue');
  const firstMove = new Map<string, { at: number; targetArn: string }>();
  for (const sink of dead) {
    for (const id of sink.recordIds) if (!firstMove.has(id)) firstMove.set(id, sink);
  }
  for (const [id, move] of firstMove) {
    const record = byId.get(id);
    if (!record || faulty(record)) continue;
    const group = messageGroupOf(id);
    const behind = [...firstMove].some(
      ([other, otherMove]) =>
        other < id &&
        faulty(byId.get(other)) &&
        messageGroupOf(other) === group &&
        otherMove.targetArn === move.targetArn &&
        otherMove.at <= move.at,
    );
    if (behind) held.add(id);
  }
  return held;
}

/**
 * For each message group of a FIFO queue, side effects happen in the order SQS accepted the messages that produced
 * them (their `SequenceNumber`; a producer's resend past the deduplication interval is a later message, ordered
 * there), read from the order of the side-effect lines.
 */
export function fifoOrderInvariant(sim: Simulation): InvariantResult {
  const bySeq = new Map(sim.trace.invocations.map((i) => [i.seq, i]));
  const messageOf = new Map<string, { readonly group: string; readonly sequence: bigint }>();
  for (const queue of sim.queues.values()) {
    if (!queue.config.fifo) continue;
    for (const m of queue.messages)
      messageOf.set(m.messageId, { group: m.messageGroupId!, sequence: BigInt(m.sequenceNumber!) });
  }
  const lastByGroup = new Map<string, { recordId: string; sequence: bigint }>();
  const broken: string[] = [];
  let checked = 0;
  for (const effect of sim.trace.sideEffects) {
    const invocation = bySeq.get(effect.invocationSeq);
    if (!invocation || invocation.path !== 'fifo') continue;
    const message = messageOf.get(invocation.itemIds[invocation.recordIds.indexOf(effect.recordId)]);
    if (!message) continue;
    checked += 1;
    const last = lastByGroup.get(message.group);
    if (last && message.sequence < last.sequence)
      broken.push(`${effect.recordId} after ${last.recordId} (group ${message.group})`);
    lastByGroup.set(message.group, { recordId: effect.recordId, sequence: message.sequence });
  }
  return {
    name: 'FIFO side effects in order per message group',
    holds: broken.length === 0,
    detail:
      broken.length === 0
        ? `every message group applied in the order SQS accepted its messages (${checked} side effects, ${lastByGroup.size} groups)`
        : `${broken.length} messages applied after a later message of their group`,
    examples: broken.slice(0, 10),
  };
}

/**
 * For each shard and partition key, side effects happen in the order of the stream positions of the copies that
 * produced them (a producer retry is a later copy, at a later position, and is ordered there).
 */
export function streamOrderInvariant(
  sim: Simulation,
  path: 'stream' | 'table-stream' = 'stream',
): InvariantResult {
  const bySeq = new Map(sim.trace.invocations.map((i) => [i.seq, i]));
  const keyOf = new Map<string, string>();
  const streams = [
    ...sim.streams.values(),
    ...[...sim.tables.values()].flatMap((t) => (t.stream ? [t.stream] : [])),
  ];
  for (const stream of streams) {
    for (const shard of stream.shards)
      for (const r of shard.records) keyOf.set(`${shard.shardId}|${r.sequenceNumber}`, r.partitionKey);
  }
  const lastByKey = new Map<string, { recordId: string; seq: bigint }>();
  const broken: string[] = [];
  for (const effect of sim.trace.sideEffects) {
    const invocation = bySeq.get(effect.invocationSeq);
    if (!invocation || invocation.path !== path) continue;
    const index = invocation.recordIds.indexOf(effect.recordId);
    const sequenceNumber = BigInt(invocation.itemIds[index]);
    const key = `${invocation.shardId}|${keyOf.get(`${invocation.shardId}|${invocation.itemIds[index]}`) ?? '?'}`;
    const last = lastByKey.get(key);
    if (last && sequenceNumber < last.seq)
      broken.push(`${effect.recordId} after ${last.recordId} (${key.split('|')[1]})`);
    lastByKey.set(key, { recordId: effect.recordId, seq: sequenceNumber });
  }
  const key = path === 'stream' ? 'partition key' : 'item key';
  return {
    name: `${path === 'stream' ? 'stream' : 'table stream'} side effects in order per shard and ${key}`,
    holds: broken.length === 0,
    detail:
      broken.length === 0
        ? `every ${key} applied in sequence-number order`
        : `${broken.length} records applied after a later record of their key`,
    examples: broken.slice(0, 10),
  };
}

/** A poison record that reaches the destination does so alone, after at most ⌈log2(batch size)⌉ splits. */
export function bisectBoundInvariant(
  sim: Simulation,
  records: readonly RecordReport[],
  batchSize: number,
  path: 'stream' | 'table-stream' = 'stream',
): InvariantResult {
  const bound = Math.ceil(Math.log2(Math.max(2, batchSize)));
  const splitsOf = new Map<string, number>();
  for (const event of sim.trace.events) {
    if (event.path !== path || event.kind !== 'split') continue;
    for (const id of event.recordIds) splitsOf.set(id, (splitsOf.get(id) ?? 0) + 1);
  }
  const aloneInDestination = new Set(
    sim.trace.sinks.filter((s) => s.path === path && s.recordIds.length === 1).map((s) => s.recordIds[0]),
  );
  const broken = records
    .filter((r) => r.poison && r.fate !== 'pending')
    .filter((r) => !aloneInDestination.has(r.id) || (splitsOf.get(r.id) ?? 0) > bound)
    .map(
      (r) =>
        `${r.id} (${splitsOf.get(r.id) ?? 0} splits${aloneInDestination.has(r.id) ? '' : ', not alone in the destination'})`,
    );
  return {
    name: `poison records isolated by bisection within ⌈log2(${batchSize})⌉ = ${bound} splits`,
    holds: broken.length === 0,
    detail:
      broken.length === 0
        ? 'every poison record reached the destination on its own'
        : `${broken.length} poison records not isolated within the bound`,
    examples: broken.slice(0, 10),
  };
}

const KIND_LABEL: Record<SinkKind, string> = {
  'queue-dead-letter-queue': 'source queue DLQ',
  'subscription-dead-letter-queue': 'SNS subscription DLQ',
  'function-dead-letter-queue': 'function DLQ',
  'on-failure-destination': 'on-failure destination',
  'on-success-destination': 'on-success destination',
};

/** The report as text for a terminal. */
export function renderReport(report: Report, realMs?: number): string {
  const out: string[] = [];
  const minutes = (ms: number) =>
    ms >= 3_600_000
      ? `${(ms / 3_600_000).toFixed(1)} h`
      : ms >= 60_000
        ? `${(ms / 60_000).toFixed(1)} min`
        : `${(ms / 1000).toFixed(1)} s`;
  out.push(
    `Scenario ${report.scenario.name} (seed ${report.scenario.seed}, functions: ${report.scenario.functions}): ` +
      `${minutes(report.virtualDurationMs)} of virtual time${realMs !== undefined ? ` in ${(realMs / 1000).toFixed(1)} s` : ''}` +
      (report.stoppedBy === 'idle'
        ? ', ran until no work was left.'
        : `, stopped at the ${report.stoppedBy} with work left.`),
  );
  if (report.scenario.skippedPaths?.length) {
    out.push(
      `Not deployed, so not run: the ${report.scenario.skippedPaths.join(', ')} path${report.scenario.skippedPaths.length > 1 ? 's' : ''} of the scenario (cdk.json context "paths").`,
    );
  }
  for (const p of report.paths) {
    out.push('', `━━ ${p.path.toUpperCase()} path: ${p.functionName}`, `   ${p.source}`);
    const r = p.records;
    out.push(
      `   records       ${r.produced} produced` +
        [
          r.poison && `${r.poison} poison`,
          r.transient && `${r.transient} transient`,
          r.timeouts && `${r.timeouts} hanging (time-outs)`,
          r.duplicates && `${r.duplicates} sent twice`,
          r.expirations && `${r.expirations} deletions by time to live`,
        ]
          .filter(Boolean)
          .map((s) => `, ${s}`)
          .join(''),
    );
    const i = p.invocations;
    const outcomes = Object.entries(i.outcomes)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${n} ${k}`)
      .join(', ');
    out.push(
      `   invocations   ${i.count} (${outcomes || 'none'}); batch size min ${i.batchSizes.min} / mean ${i.batchSizes.mean} / max ${i.batchSizes.max}`,
    );
    out.push(
      `   retries       ${i.retries} retries, ${i.splits} splits, ${i.redeliveries} redeliveries, ${i.throttles} throttled invokes`,
    );
    if (p.sinks.length === 0) out.push('   failed work   nothing reached a dead-letter queue or destination');
    for (const s of p.sinks) {
      const conditions = Object.entries(s.conditions)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ');
      out.push(
        `   → ${KIND_LABEL[s.kind]} ${s.target}: ${s.messages} messages, ${s.records} records${conditions ? ` (${conditions})` : ''}`,
      );
    }
    const f = p.fates;
    out.push(
      `   side effects  ${p.sideEffects.total} for ${r.produced} records: ${f.done} done once, ${f['done-and-in-sink']} done and also in a sink, ` +
        `${f['in-sink']} only in a sink, ${f.pending} pending, ${f.lost} lost` +
        (f.filtered ? `, ${f.filtered} filtered out` : '') +
        (f.skipped ? `, ${f.skipped} skipped by design` : '') +
        `; ${p.sideEffects.duplicated} duplicated` +
        (p.sideEffects.unattributed ? `, ${p.sideEffects.unattributed} unattributed` : ''),
    );
    for (const note of p.notes) out.push(`   note          ${note}`);
    for (const inv of p.invariants) {
      out.push(
        `   ${inv.holds ? '✔' : '✘'} ${inv.name}: ${inv.detail}${inv.examples.length && !inv.holds ? ` (${inv.examples.join('; ')})` : ''}`,
      );
    }
    const sinkRecords = report.records.filter((x) => x.path === p.path && x.fate !== 'done').slice(0, 12);
    if (sinkRecords.length > 0) {
      out.push('   records not simply done:');
      for (const x of sinkRecords) {
        const where = x.sinks
          .map((s) => `${KIND_LABEL[s.kind]}${s.condition ? ` (${s.condition})` : ''}`)
          .join(', ');
        out.push(
          `     ${x.id}  ${x.fate.padEnd(16)} handed ${x.handed}×, side effects ${x.sideEffects}${x.faults.length ? `, faults: ${x.faults.join('+')}` : ''}${where ? ` → ${where}` : ''}`,
        );
      }
      const more =
        report.records.filter((x) => x.path === p.path && x.fate !== 'done').length - sinkRecords.length;
      if (more > 0) out.push(`     … and ${more} more (see --json)`);
    }
  }
  if (report.http) out.push(...renderHttpReport(report.http));
  return out.join('\n');
}

/** The machine-readable report: the summary, every record, and every invocation with its records and outcome. */
export function toJsonReport(report: Report, sim: Simulation): unknown {
  return {
    ...report,
    invocations: sim.trace.invocations.map((i: InvocationRecord) => ({
      seq: i.seq,
      requestId: i.requestId,
      path: i.path,
      function: sim.lambda.functionConfig(i.functionId).functionName,
      source: i.sourceId,
      startedAtMs: i.startedAt,
      endedAtMs: i.endedAt,
      reason: i.reason,
      attempt: i.attempt,
      ...(i.shardId && { shardId: i.shardId, lane: i.lane }),
      recordIds: i.recordIds,
      itemIds: i.itemIds,
      outcome: i.outcome,
      failedItemIds: i.failedItemIds,
      ...(i.error && { error: i.error }),
      sideEffects: i.sideEffects,
    })),
    sinks: sim.trace.sinks.map((s) => ({ ...s, target: sim.nameOf(s.targetArn) })),
    events: sim.trace.events,
  };
}
