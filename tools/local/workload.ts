/**
 * Turns a scenario into records, producers and faults: which records exist, what their payloads are (the domain
 * modules' examples: valid for the real handlers' schemas, or deliberately not, for poison records), when they arrive, and which of them meet
 * which fault. Everything is drawn from the scenario's seed.
 *
 * Every record has an id (`sqs-000042`, `object-000007`, `stream-000123`, `fifo-000009`) that its payload carries in
 * the field the handler uses as its business key, so a `side effect done` line (`recordKey`) names its record. A
 * table-stream record is a table write: its key is the stream record's `eventID`, which DynamoDB gives the change;
 * the producer tells the catalog which record it is (`RecordCatalog.addKey`).
 */
import * as fifoDomain from '../../lambda/fifo-consumer/domain';
import * as objectDomain from '../../lambda/object-consumer/domain';
import * as sqsDomain from '../../lambda/sqs-consumer/domain';
import * as streamDomain from '../../lambda/stream-consumer/domain';
import * as tableStreamDomain from '../../lambda/table-stream-consumer/domain';
import { keyString, type Item, type WriteResult } from './engine/dynamodb-streams';
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
  /** Stream: the partition key; table stream: the item's key (`pk=sku-3`), which orders its changes. */
  readonly partitionKey?: string;
  /** FIFO: the message group it is sent with (an invalid message: its valid counterpart's). */
  readonly messageGroupId?: string;
  /** What the producer sends: the SQS body, the object key, the Kinesis data, or a foreign SNS message. */
  readonly payload: string;
  /** Object: the object's size in bytes. */
  readonly size?: number;
  /** Also sent (delivered, notified, written) again, once per delay, this much later (ms). */
  readonly duplicatesAfterMs?: readonly number[];
  /**
   * Table stream: not a write but the item's deletion by DynamoDB's time to live (`payload`: the item's key). Such a
   * change has nothing to apply: the mapping's filter drops it, or the handler skips it.
   */
  readonly expiration?: boolean;
  /**
   * Table stream: the poison record whose write left the item this write changes: the change's old image is that
   * invalid item, so the handler rejects the change too (it validates both images).
   */
  readonly oldImageFrom?: string;
}

const ID_PATTERN = /\b(sqs|fifo|object|table-stream|stream)-\d{6}\b/;

/** The produced records, and how to find a record from what a handler logs. */
export class RecordCatalog {
  readonly records = new Map<string, CatalogRecord>();
  private readonly byBusinessKey = new Map<string, string>();

  add(record: CatalogRecord): void {
    this.records.set(record.id, record);
    this.byBusinessKey.set(record.businessKey, record.id);
  }

  /** Another key a handler may log for a record (a table change's `eventID`, known once the change is written). */
  addKey(key: string, recordId: string): void {
    this.byBusinessKey.set(key, recordId);
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
    planPath(path, spec, root.fork(path), catalog, faults, entry.functionId, subscriptionIds, {
      keyAttributes: 'keyAttributes' in entry ? entry.keyAttributes : [],
    });
  }
  return { catalog, faults };
}

function describeEntry(path: IngestionPath): string {
  return {
    sqs: 'SQS queue with an event source mapping',
    fifo: 'SQS FIFO queue with an event source mapping',
    object: 'bucket notifying an SNS topic with a Lambda subscription',
    stream: 'Kinesis stream with an event source mapping',
    'table-stream': 'DynamoDB table whose stream has an event source mapping',
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
  table: { readonly keyAttributes: readonly string[] },
): void {
  const n = spec.records;
  const f = spec.faults;
  const poison = select(f.poison, n, random.fork('poison'), new Set());
  const transient = select(f.transient, n, random.fork('transient'), poison);
  const hangs = select(f.timeouts, n, random.fork('timeouts'), poison);
  // Table stream: expirations are chosen among the records with no fault (an expiration writes nothing of its own).
  const expirations =
    path === 'table-stream'
      ? select(spec.expirations, n, random.fork('expirations'), new Set([...poison, ...transient, ...hangs]))
      : new Set<number>();
  const duplicates = select(f.duplicates, n, random.fork('duplicates'), new Set());
  const arrivals = random.fork('arrivals');
  const payloads = random.fork('payloads');
  const duplicatesAfter = f.duplicates ? durationsMs(f.duplicates.after) : [];
  const groups = spec.groups ?? spec.partitionKeys;
  /** Records so far per group: a group's n-th record is its variant n − 1 (FIFO: the entry's sequence). */
  const perGroup = new Map<number, number>();
  /** Table stream: the record whose write each item holds now (none: no item), and whether it was poison. */
  const itemWriter = new Map<number, { readonly id: string; readonly poison: boolean }>();

  let t = durationMs(spec.start);
  for (let number = 1; number <= n; number += 1) {
    const id = recordId(path, number);
    const isPoison = poison.has(number);
    const group = path !== 'sqs' && path !== 'object' ? payloads.int(1, groups) : undefined;
    const position = group === undefined ? 0 : (perGroup.get(group) ?? 0);
    if (group !== undefined) perGroup.set(group, position + 1);
    const base = payloadOf(path, id, isPoison, group, position, payloads);
    let record: CatalogRecord = {
      id,
      path,
      number,
      poison: isPoison,
      producedAt: Math.round(t),
      ...base,
      ...(duplicates.has(number) && { duplicatesAfterMs: duplicatesAfter }),
    };
    if (path === 'table-stream') {
      record = tableWrite(record, table.keyAttributes, expirations.has(number), itemWriter.get(group!));
      if (record.expiration) itemWriter.delete(group!);
      else itemWriter.set(group!, { id, poison: isPoison });
      if (record.oldImageFrom !== undefined) faults.addInvalidOldImage(id);
    }
    catalog.add(record);
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
export function select(
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
    case 'table-stream': {
      // The item the change writes (its key is its group's item, tableWrite below); the stream record's eventID,
      // the handler's key, is the change's own.
      const change = tableStreamDomain.examples.valid(id, {
        variant: position,
        ...(group !== undefined && { group }),
      });
      const item = change.newItem ?? change.oldItem!;
      if (!poison) return { businessKey: id, payload: JSON.stringify(item) };
      return {
        businessKey: id,
        // The valid item, for its key: the invalid one is written under it (tableWrite).
        partitionKey: JSON.stringify(item),
        payload: random.pick(tableStreamDomain.examples.invalid(id)).body,
      };
    }
  }
}

/**
 * A table-stream record as the producer's write: the item (a poison record's invalid item under its group's key),
 * or, for an expiration, the item's key; the item key that orders its changes; the poison write its old image comes
 * from, if any.
 */
function tableWrite(
  record: CatalogRecord,
  keyAttributes: readonly string[],
  expiration: boolean,
  current: { readonly id: string; readonly poison: boolean } | undefined,
): CatalogRecord {
  const valid = JSON.parse(record.poison ? record.partitionKey! : record.payload) as Item;
  const keys = Object.fromEntries(keyAttributes.map((name) => [name, valid[name]]));
  let item: Item = valid;
  if (record.poison) {
    let invalid: unknown;
    try {
      invalid = JSON.parse(record.payload);
    } catch {
      invalid = undefined;
    }
    item =
      typeof invalid === 'object' && invalid !== null && !Array.isArray(invalid)
        ? { ...(invalid as Item), ...keys }
        : { ...keys, payload: record.payload };
  }
  // An expiration of an item that is not there changes nothing: the record is a write instead.
  const expires = expiration && current !== undefined;
  return {
    ...record,
    partitionKey: keyString(keys),
    payload: JSON.stringify(expires ? keys : item),
    ...(expires && { expiration: true }),
    ...(current?.poison && !expires && { oldImageFrom: current.id }),
  };
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
      case 'table-stream': {
        const tableArn = entry['table-stream']!.tableArn;
        const item = JSON.parse(record.payload) as Item;
        // The change's eventID is the handler's key: the catalog learns it when DynamoDB writes the change.
        const learn = (result: WriteResult) => {
          if (result.kind === 'written' && result.record) catalog.addKey(result.record.eventId, record.id);
        };
        if (record.expiration) {
          sim.deleteItem(tableArn, item, record.id, at, learn, { byTimeToLive: true });
          for (const delay of again) sim.deleteItem(tableArn, item, record.id, at + delay, learn);
        } else {
          sim.putItem(tableArn, item, record.id, at, learn);
          // A producer's retry is conditional on the item being as its first write left it: then it changes
          // nothing, and otherwise it is refused. Either way DynamoDB writes no stream record.
          for (const delay of again)
            sim.putItem(tableArn, item, record.id, at + delay, learn, { onlyIfLastWrittenBy: record.id });
        }
        break;
      }
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
