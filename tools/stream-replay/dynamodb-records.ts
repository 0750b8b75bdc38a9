/**
 * DynamoDB Streams records as the consumer takes them, and which of a failed range were the batch.
 *
 * `GetRecords` and Lambda's event hold the same record but for two things: Lambda's event adds `eventSourceARN`
 * (the stream's ARN) to each record, and the SDK hands `ApproximateCreationDateTime` over as a `Date` and binary
 * attribute values as bytes, where the event (JSON) has epoch seconds and base64. {@link toLambdaRecord} gives back
 * the event's record, which is what the consumer's handler (lambda/table-stream-consumer/handler.ts) reads, so the
 * output can be handed to the function as `{"Records":[…]}`.
 */
import type { _Record as StreamsRecord, AttributeValue } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';
import { parseDynamoDbStreamArn, type DDBStreamBatchInfo } from './failure-record';
import { DYNAMODB_STREAM_RETENTION_HOURS, type DynamoDbFetchResult } from './dynamodb-fetch';

export const EVENT_NAMES = ['INSERT', 'MODIFY', 'REMOVE'] as const;
export type EventName = (typeof EVENT_NAMES)[number];

/**
 * The event names the TableStreamConsumer's mapping lets through unless its `filters` say otherwise
 * (lib/constructs/table-stream-consumer.ts, `DEFAULT_TABLE_STREAM_EVENT_NAMES`; a test keeps the two equal).
 */
export const DEFAULT_EVENT_NAMES: readonly EventName[] = ['INSERT', 'MODIFY'];

/** Lambda's JSON form of an attribute value: binary as base64, the rest as the API has it. */
type LambdaAttributeValue = Record<string, unknown>;

function toLambdaAttributeValue(value: AttributeValue): LambdaAttributeValue {
  const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
  if (value.B !== undefined) return { B: base64(value.B) };
  if (value.BS !== undefined) return { BS: value.BS.map(base64) };
  if (value.M !== undefined) return { M: toLambdaImage(value.M) };
  if (value.L !== undefined) return { L: value.L.map(toLambdaAttributeValue) };
  return { ...value };
}

function toLambdaImage(image: Record<string, AttributeValue>): Record<string, LambdaAttributeValue> {
  return Object.fromEntries(
    Object.entries(image).map(([name, value]) => [name, toLambdaAttributeValue(value)]),
  );
}

/** A record as `GetRecords` returned it (through the SDK), as Lambda's event holds it. */
export function toLambdaRecord(record: StreamsRecord, streamArn: string): DynamoDBRecord {
  const change = record.dynamodb ?? {};
  const created = change.ApproximateCreationDateTime;
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion,
    eventSource: record.eventSource,
    awsRegion: record.awsRegion,
    dynamodb: {
      ...(created !== undefined && { ApproximateCreationDateTime: created.getTime() / 1000 }),
      ...(change.Keys !== undefined && { Keys: toLambdaImage(change.Keys) }),
      ...(change.NewImage !== undefined && { NewImage: toLambdaImage(change.NewImage) }),
      ...(change.OldImage !== undefined && { OldImage: toLambdaImage(change.OldImage) }),
      SequenceNumber: change.SequenceNumber,
      SizeBytes: change.SizeBytes,
      StreamViewType: change.StreamViewType,
    },
    ...(record.userIdentity !== undefined && {
      userIdentity: { type: record.userIdentity.Type, principalId: record.userIdentity.PrincipalId },
    }),
    eventSourceARN: streamArn,
  } as DynamoDBRecord;
}

/** `--event-names`: a comma-separated list of INSERT, MODIFY and REMOVE, or `all`. */
export function parseEventNames(text: string): readonly EventName[] {
  if (text.trim().toLowerCase() === 'all') return EVENT_NAMES;
  const names = text
    .split(',')
    .map((name) => name.trim().toUpperCase())
    .filter(Boolean);
  const wrong = names.filter((name) => !(EVENT_NAMES as readonly string[]).includes(name));
  if (names.length === 0 || wrong.length > 0) {
    throw new Error(
      `--event-names takes INSERT, MODIFY and REMOVE, comma-separated, or "all"; got "${text}".`,
    );
  }
  return [...new Set(names)] as EventName[];
}

export interface BatchSelection {
  /** The records the mapping's filter (as `--event-names` says it) lets through: the batch. */
  readonly batch: DynamoDBRecord[];
  /** The records of the range it drops: never delivered to the function. */
  readonly dropped: DynamoDBRecord[];
}

export function selectBatch(
  records: readonly DynamoDBRecord[],
  eventNames: readonly EventName[],
): BatchSelection {
  const batch: DynamoDBRecord[] = [];
  const dropped: DynamoDBRecord[] = [];
  for (const record of records) {
    (eventNames.includes(record.eventName as EventName) ? batch : dropped).push(record);
  }
  return { batch, dropped };
}

/** `REMOVE 300000000000000001000 {"pk":{"S":"sku-1"}}` */
export function describeRecord(record: DynamoDBRecord): string {
  const byTtl = record.userIdentity?.principalId === 'dynamodb.amazonaws.com' ? ' (time to live)' : '';
  return `${record.eventName}${byTtl} ${record.dynamodb?.SequenceNumber} ${JSON.stringify(record.dynamodb?.Keys)}`;
}

/** What is wrong with a fetched batch, for an operator; empty when it is whole. */
export interface BatchProblems {
  /** Records of the batch are gone from the stream (24 hours): what was lost, and where to look instead. */
  readonly trimmed?: string;
  /** The read ended before the end of the range. */
  readonly stoppedEarly?: string;
  /**
   * The records selected are not the batch's count without any record being gone: the filter given by
   * `--event-names` is not the mapping's. Invoking the function with them would be wrong.
   */
  readonly countMismatch?: string;
}

export function batchProblems(
  info: DDBStreamBatchInfo,
  fetched: DynamoDbFetchResult,
  selection: BatchSelection,
  eventNames: readonly EventName[],
  now: Date = new Date(),
): BatchProblems {
  const { tableName } = parseDynamoDbStreamArn(info.streamArn);
  const problems: { trimmed?: string; stoppedEarly?: string; countMismatch?: string } = {};
  if (fetched.trimmed) {
    const { lostAfter, firstLeft } = fetched.trimmed;
    const from =
      lostAfter === undefined ? `from startSequenceNumber ${info.startSequenceNumber}` : `after ${lostAfter}`;
    const to =
      firstLeft === undefined ? `to endSequenceNumber ${info.endSequenceNumber}` : `up to ${firstLeft}`;
    const arrived = info.approximateArrivalOfFirstRecord;
    const age = arrived ? ageOf(arrived, now) : undefined;
    const when = arrived ? restoreTimes(info) : '<a time just before the failure>';
    const lost =
      selection.batch.length === 0
        ? `all ${info.batchSize} records of the batch`
        : `${Math.max(info.batchSize - selection.batch.length, 1)} of the ${info.batchSize} records of the batch`;
    problems.trimmed =
      `${lost} can no longer be read: the stream's records ${from} ${to} were trimmed. DynamoDB Streams keeps a ` +
      `stream record ${DYNAMODB_STREAM_RETENTION_HOURS} hours, not longer (not configurable)` +
      `${arrived ? `; the batch's first record arrived ${arrived}${age ? `, ${age} ago` : ''}` : ''}. ` +
      `What is lost is the changes themselves (which item, old and new image); look instead at the source table ` +
      `"${tableName}": its items as they are now (aws dynamodb get-item / scan --table-name ${tableName}), and ` +
      `as they were around the failure through point-in-time recovery (aws dynamodb ` +
      `restore-table-to-point-in-time --source-table-name ${tableName} --target-table-name ${tableName}-restored ` +
      `--restore-date-time ${when}); the consumer's log lines for these sequence numbers (record failed, invalid ` +
      'payload) name the item keys (partitionKey). An S3 on-failure destination keeps the records themselves.';
  }
  if (fetched.stoppedEarly) problems.stoppedEarly = fetched.stoppedEarly;
  if (!fetched.trimmed && !fetched.stoppedEarly && selection.batch.length !== info.batchSize) {
    const filter = eventNames.length === EVENT_NAMES.length ? 'all' : eventNames.join(',');
    problems.countMismatch =
      `the range holds ${selection.batch.length} record(s) of the event names ${filter} (--event-names), but the ` +
      `batch had ${info.batchSize}: the mapping's filter criteria ` +
      (selection.batch.length > info.batchSize
        ? 'let fewer through (records it filters out are among these)'
        : 'let more through (records it delivered are left out)') +
      '. Pass the event names its filter lets through with --event-names (the TableStreamConsumer default is ' +
      `${DEFAULT_EVENT_NAMES.join(',')}; "all" for a mapping without filters)`;
  }
  return problems;
}

/** The --restore-date-time to suggest: just before the batch's first record. */
function restoreTimes(info: DDBStreamBatchInfo): string {
  const first = Date.parse(info.approximateArrivalOfFirstRecord ?? '');
  return Number.isNaN(first) ? '<a time just before the failure>' : new Date(first - 1000).toISOString();
}

function ageOf(iso: string, now: Date): string | undefined {
  const ms = now.getTime() - Date.parse(iso);
  if (Number.isNaN(ms) || ms < 0) return undefined;
  const hours = Math.floor(ms / 3600_000);
  return hours >= 1
    ? `${hours} h ${Math.floor((ms % 3600_000) / 60_000)} min`
    : `${Math.floor(ms / 60_000)} min`;
}
