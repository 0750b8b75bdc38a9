/**
 * What a path's domain module (`lambda/<path>-consumer/domain.ts`) provides: the one file a fork replaces to
 * change what a path does. The handler takes the schema, the idempotency key and the action from it; the tests,
 * the simulator's workloads, `npm run invoke`'s sample events, the bench events and the cost model take their
 * records from its examples. Nothing else in the project names a field of the payload.
 *
 * Everything here is pure (no AWS, no I/O, no clock, no randomness): the same arguments give the same result, so
 * a scenario's seed reproduces its records and a test's expectation is computed from the same functions.
 */
import type { Plan } from './exactly-once';
import type * as z from 'zod/mini';

/** The business of one path: how a record is read, identified and applied. */
export interface Domain<Message, Response> {
  /** What one record is called in logs, reports and docs (`order`, `reading`). */
  readonly recordName: string;
  /**
   * The idempotency key: the same for every delivery of one business record (a re-delivery, a producer's retry
   * with a new message id, an operator's redrive or replay), different for different records. Must not be
   * empty; the handler rejects a record whose key is (a record it cannot tell apart from others).
   */
  readonly idempotencyKey: (message: Message) => string;
  /**
   * Prefix of the stored idempotency keys. Fixed, never the generated function name, which changes when
   * CloudFormation replaces the function: records stay valid across that replacement.
   */
  readonly keyPrefix: string;
  /** What applying a record does: its response (stored, so JSON) and its effect (counters), as data. */
  readonly plan: (message: Message) => Plan<Response>;
}

/** The domain of a path whose producers send the payload themselves (a message body, a stream record's data). */
export interface MessageDomain<Message, Response> extends Domain<Message, Response> {
  /**
   * The payload's schema (zod or zod/mini): a record that does not match fails as invalid and ends with a person
   * (dead-letter queue, on-failure destination). The object path has none here: its payload is S3's event
   * notification, whose schema the path owns (object.ts).
   */
  readonly schema: z.core.$ZodType<Message>;
}

/** The domain of a stream path: its records are ordered per partition key. */
export interface StreamDomain<Message, Response> extends MessageDomain<Message, Response> {
  /**
   * The partition key a producer writes the record under: the records whose order matters (one sensor's readings)
   * share it, so Kinesis keeps them on one shard in order, and the handler applies them in that order. A record
   * that arrives under another key is applied, with a WARN line: its order is then kept per that key only.
   */
  readonly partitionKey: (message: Message) => string;
}

/** The domain of an SQS FIFO path: its messages are ordered per message group. */
export interface FifoDomain<Message, Response> extends MessageDomain<Message, Response> {
  /**
   * The message group a producer sends the message with (`MessageGroupId`): the messages whose order matters (one
   * account's entries) share it, so SQS delivers them in order, one batch of a group at a time, and the handler
   * applies them in that order. A message sent with another group is applied, with a WARN line: its order is then
   * kept per that group only.
   */
  readonly messageGroupId: (message: Message) => string;
}

/** One change of a table item, as a DynamoDB stream record describes it (images unmarshalled and validated). */
export interface ItemChange<Item> {
  /** The stream record's `eventID`: unique per change, the same on every delivery of it. */
  readonly eventId: string;
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  /** The item's key (its key attributes, `name=value` joined by `&`): the records whose order matters share it. */
  readonly itemKey: string;
  /** The item after the change (INSERT, MODIFY). */
  readonly newItem?: Item;
  /** The item before the change (MODIFY, REMOVE). */
  readonly oldItem?: Item;
}

/**
 * The domain of a DynamoDB Streams path: what a change of an item of the source table does. The handler builds
 * the {@link ItemChange} from the stream record, validating each image against `itemSchema`; the idempotency key
 * is per stream record (`eventId`), and order is kept per item key.
 */
export interface TableStreamDomain<Item, Response> extends Domain<ItemChange<Item>, Response> {
  /** The source table's items (an image that does not match fails its record as invalid). */
  readonly itemSchema: z.core.$ZodType<Item>;
}

/** How an example record is varied; every field is optional and deterministic. */
export interface ExampleOptions {
  /**
   * Records of one group share their effect item (a customer's totals, a sensor's totals) and their ordering key
   * (a stream's partition key, a FIFO queue's message group): their order matters. @default a group derived from
   * the id
   */
  readonly group?: number;
  /** Varies the fields that do not identify the record (amounts, values). @default 0 */
  readonly variant?: number;
}

/** One typical bad payload, as a producer would send it. */
export interface InvalidExample {
  /** What is wrong, in a few words (`currency is not an ISO code`). */
  readonly reason: string;
  /** The payload as sent on the wire (a JSON text, or not JSON at all). */
  readonly body: string;
}

/**
 * Example records of a domain, for everything that needs records: tests, the simulator, `npm run invoke`,
 * `npm run bench`, the cost model. Valid examples must match the schema; invalid ones must not.
 */
export interface DomainExamples<Message> {
  /**
   * A valid record whose idempotency key contains `id` (so the simulator can tell which record a log line is
   * about): different ids give different keys. The key depends on the id and the group only, the effect on the
   * group and the variant only (the tests compute their expectations from that; test/lambda/shared/domain.test.ts
   * checks it for every domain).
   */
  valid(id: string, options?: ExampleOptions): Message;
  /** A record with the same idempotency key as `message` and other content (a conflicting duplicate). */
  withOtherContent(message: Message): Message;
  /** Typical bad payloads for the record `id` (at least one): each fails validation on every delivery. */
  invalid(id: string): readonly InvalidExample[];
}

/**
 * A group for an example id when none is given: 1..`groups`, spread by a small deterministic hash (FNV-1a) of the
 * id, so examples vary without randomness and a seed reproduces them.
 */
export function groupOfId(id: string, groups: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i += 1) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193) >>> 0;
  return 1 + (hash % groups);
}

/** The message type of a domain (`MessageOf<typeof domain>`), so handlers and tests name no domain type. */
export type MessageOf<D> = D extends Domain<infer M, infer _R> ? M : never;

/** The response type of a domain's plan. */
export type ResponseOf<D> = D extends Domain<infer _M, infer R> ? R : never;
