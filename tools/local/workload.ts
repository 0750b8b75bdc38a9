/**
 * Turns a scenario into records, producers and faults: which records exist, what their payloads are (the domain
 * modules' examples: valid for the real handlers' schemas, or deliberately not, for poison records), when they arrive, and which of them meet
 * which fault. Everything is drawn from the scenario's seed.
 *
 * Every record has an id (`sqs-000042`, `object-000007`, `stream-000123`, `fifo-000009`) that its payload carries in
 * the field the handler uses as its business key, so a `side effect done` line (`recordKey`) names its record.
 */
import * as fifoDomain from '../../lambda/fifo-consumer/domain';
import * as objectDomain from '../../lambda/object-consumer/domain';
import * as sqsDomain from '../../lambda/sqs-consumer/domain';
import * as streamDomain from '../../lambda/stream-consumer/domain';
import type { IngestionPath } from './engine/config';
import { Random } from './engine/random';
import type { EntryPoints, Simulation } from './engine/simulation';
import { FaultPlan } from './faults';
import { durationMs, durationsMs, PATHS, type PathScenario, type Scenario, type Selection } from './scenario';

export interface CatalogRecord {
  readonly id: string;
  readonly path: IngestionPath;
  /** 1-based number within its path. */
  readonly number: number;
  readonly poison: boolean;
  /** When the producer sends it (virtual ms). */
  readonly producedAt: number;
  /** The business key the handler's side effect line names (order id, event id; object keys carry the id). */
  readonly businessKey: string;
  /** Stream: the partition key. */
  readonly partitionKey?: string;
  /** FIFO: the message group it is sent with (an invalid message: its valid counterpart's). */
  readonly messageGroupId?: string;
  /** What the producer sends: the SQS body, the object key, the Kinesis data, or a foreign SNS message. */
  readonly payload: string;
  /** Object: the object's size in bytes. */
  readonly size?: number;
  /** Also sent (delivered, notified) again, once per delay, this much later (ms). */
  readonly duplicatesAfterMs?: readonly number[];
}

const ID_PATTERN = /\b(sqs|fifo|object|stream)-\d{6}\b/;

/** The produced records, and how to find a record from what a handler logs. */
export class RecordCatalog {
  readonly records = new Map<string, CatalogRecord>();
  private readonly byBusinessKey = new Map<string, string>();

  add(record: CatalogRecord): void {
    this.records.set(record.id, record);
    this.byBusinessKey.set(record.businessKey, record.id);
  }

  /** The record a side effect's `recordKey` belongs to: by business key, or by the record id inside it. */
  resolve(recordKey: string): string | undefined {
    const exact = this.byBusinessKey.get(recordKey);
    if (exact) return exact;
    const match = ID_PATTERN.exec(recordKey) ?? ID_PATTERN.exec(safeDecode(recordKey));
    return match && this.records.has(match[0]) ? match[0] : undefined;
  }

  ofPath(path: IngestionPath): CatalogRecord[] {
    return [...this.records.values()].filter((r) => r.path === path);
  }
}

export function recordId(path: IngestionPath, number: number): string {
  return `${path}-${String(number).padStart(6, '0')}`;
}

export interface Workload {
  readonly catalog: RecordCatalog;
  readonly faults: FaultPlan;
}

/** Builds the fault plan and catalog for a scenario, against the entry points of a configuration. */
export function planWorkload(
  scenario: Scenario,
  entryPoints: EntryPoints,
  subscriptionIds: readonly string[],
): Workload {
  const catalog = new RecordCatalog();
  const faults = new FaultPlan();
  const root = new Random(scenario.seed);
  for (const window of scenario.dynamodbOutages) {
    faults.addDynamoDbOutage({ fromMs: durationMs(window.from), toMs: durationMs(window.to) });
  }
  for (const path of PATHS) {
    const spec = scenario.paths[path];
    if (!spec) continue;
    const entry = entryPoints[path];
    if (!entry) {
      throw new Error(
        `The scenario drives the ${path} path, but the deployment has no ${describeEntry(path)}. Synthesize the stack of that path, or remove it from the scenario.`,
      );
    }
    planPath(path, spec, root.fork(path), catalog, faults, entry.functionId, subscriptionIds);
  }
  return { catalog, faults };
}

function describeEntry(path: IngestionPath): string {
  return {
    sqs: 'SQS queue with an event source mapping',
    fifo: 'SQS FIFO queue with an event source mapping',
    object: 'bucket notifying an SNS topic with a Lambda subscription',
    stream: 'Kinesis stream with an event source mapping',
  }[path];
}

function planPath(
  path: IngestionPath,
  spec: PathScenario,
  random: Random,
  catalog: RecordCatalog,
  faults: FaultPlan,
  functionId: string,
  subscriptionIds: readonly string[],
): void {
  const n = spec.records;
  const f = spec.faults;
  const poison = select(f.poison, n, random.fork('poison'), new Set());
  const transient = select(f.transient, n, random.fork('transient'), poison);
  const hangs = select(f.timeouts, n, random.fork('timeouts'), poison);
  const duplicates = select(f.duplicates, n, random.fork('duplicates'), new Set());
  const arrivals = random.fork('arrivals');
  const payloads = random.fork('payloads');
  const duplicatesAfter = f.duplicates ? durationsMs(f.duplicates.after) : [];
  const groups = spec.groups ?? spec.partitionKeys;
  /** Records so far per group: a group's n-th record is its variant n − 1 (FIFO: the entry's sequence). */
  const perGroup = new Map<number, number>();

  let t = durationMs(spec.start);
  for (let number = 1; number <= n; number += 1) {
    const id = recordId(path, number);
    const isPoison = poison.has(number);
    const group = path === 'stream' || path === 'fifo' ? payloads.int(1, groups) : undefined;
    const position = group === undefined ? 0 : (perGroup.get(group) ?? 0);
    if (group !== undefined) perGroup.set(group, position + 1);
    catalog.add({
      id,
      path,
      number,
      poison: isPoison,
      producedAt: Math.round(t),
      ...payloadOf(path, id, isPoison, group, position, payloads),
      ...(duplicates.has(number) && { duplicatesAfterMs: duplicatesAfter }),
    });
    if (isPoison) faults.addPoison(id);
    if (transient.has(number)) faults.addTransient(id, f.transient!.failures);
    if (hangs.has(number)) faults.addHang(id, f.timeouts!.times === 'always' ? Infinity : f.timeouts!.times);
    // Exponential gaps: a Poisson arrival process at `ratePerSecond`.
    t += (-Math.log(1 - arrivals.next()) / spec.ratePerSecond) * 1000;
  }
  for (const window of f.throttle ?? []) {
    faults.addThrottle({
      functionId,
      fromMs: durationMs(window.from),
      toMs: durationMs(window.to),
      concurrency: window.concurrency,
    });
  }
  for (const window of f.dynamodbOutages ?? []) {
    faults.addDynamoDbOutage({ fromMs: durationMs(window.from), toMs: durationMs(window.to) });
  }
  for (const window of f.deliveryFailures ?? []) {
    for (const subscriptionId of subscriptionIds) {
      faults.addDeliveryFailure({
        subscriptionId,
        fromMs: durationMs(window.from),
        toMs: durationMs(window.to),
        kind: window.kind,
      });
    }
  }
}

/** Record numbers (1-based) a fault selects, drawn from those not `excluded`. */
function select(
  selection: Selection | undefined,
  n: number,
  random: Random,
  excluded: ReadonlySet<number>,
): Set<number> {
  if (selection === undefined) return new Set();
  if (typeof selection === 'object' && selection.records)
    return new Set(selection.records.filter((r) => r <= n));
  const count =
    typeof selection === 'number' ? selection : (selection.count ?? Math.round((selection.rate ?? 0) * n));
  const candidates = Array.from({ length: n }, (_, i) => i + 1).filter((i) => !excluded.has(i));
  return new Set(random.sample(candidates.length, count).map((i) => candidates[i]));
}

/**
 * The payload of record `id`: an example from the path's domain module (lambda/<path>-consumer/domain.ts), so a
 * fork's own records run through the simulator without a change here. A poison record is one of the domain's
 * invalid examples, which fail validation on every delivery (on the object path: a message on the topic that is
 * not an S3 notification). `group` puts stream records on a partition key.
 */
function payloadOf(
  path: IngestionPath,
  id: string,
  poison: boolean,
  group: number | undefined,
  position: number,
  random: Random,
): { businessKey: string; payload: string; partitionKey?: string; messageGroupId?: string; size?: number } {
  const variant = random.int(0, 999);
  switch (path) {
    case 'sqs': {
      const message = sqsDomain.examples.valid(id, { variant });
      const businessKey = sqsDomain.domain.idempotencyKey(message);
      if (!poison) return { businessKey, payload: JSON.stringify(message) };
      return { businessKey, payload: random.pick(sqsDomain.examples.invalid(id)).body };
    }
    case 'object': {
      const object = objectDomain.examples.valid(id, { variant });
      if (!poison) return { businessKey: object.key, payload: object.key, size: object.size };
      return { businessKey: object.key, payload: random.pick(objectDomain.examples.invalid(id)).body };
    }
    case 'stream': {
      const message = streamDomain.examples.valid(id, { variant, ...(group !== undefined && { group }) });
      const businessKey = streamDomain.domain.idempotencyKey(message);
      const partitionKey = streamDomain.domain.partitionKey(message);
      if (!poison) return { businessKey, partitionKey, payload: JSON.stringify(message) };
      return { businessKey, partitionKey, payload: random.pick(streamDomain.examples.invalid(id)).body };
    }
    case 'fifo': {
      // The group's n-th message is its variant n − 1: the ledger's `sequence` counts the account's entries.
      const message = fifoDomain.examples.valid(id, {
        variant: position,
        ...(group !== undefined && { group }),
      });
      const businessKey = fifoDomain.domain.idempotencyKey(message);
      const messageGroupId = fifoDomain.domain.messageGroupId(message);
      if (!poison) return { businessKey, messageGroupId, payload: JSON.stringify(message) };
      return { businessKey, messageGroupId, payload: random.pick(fifoDomain.examples.invalid(id)).body };
    }
  }
}

/** Schedules every record of the catalog on the simulation. */
export function produce(sim: Simulation, catalog: RecordCatalog): void {
  const entry = sim.entryPoints();
  for (const record of catalog.records.values()) {
    const at = record.producedAt;
    const again = record.duplicatesAfterMs ?? [];
    switch (record.path) {
      case 'sqs':
        for (const delay of [0, ...again])
          sim.sendMessage(entry.sqs!.queueArn, record.payload, record.id, at + delay);
        break;
      case 'fifo':
        // A resend within the queue's deduplication interval is accepted and not delivered (engine/sqs-fifo.ts).
        for (const delay of [0, ...again]) {
          sim.sendMessage(entry.fifo!.queueArn, record.payload, record.id, at + delay, undefined, {
            messageGroupId: record.messageGroupId!,
          });
        }
        break;
      case 'object':
        if (record.poison) {
          for (const delay of [0, ...again])
            sim.publish(entry.object!.topicArn, record.payload, record.id, at + delay);
        } else {
          sim.putObject(
            entry.object!.bucketName,
            record.payload,
            { recordId: record.id, size: record.size ?? 0, duplicatesAfterMs: again },
            at,
          );
        }
        break;
      case 'stream':
        for (const delay of [0, ...again])
          sim.putRecord(entry.stream!.streamArn, record.partitionKey!, record.payload, record.id, at + delay);
        break;
    }
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}
