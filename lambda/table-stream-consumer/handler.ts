/**
 * The DynamoDB Streams consumer: each change of an item of the source table is applied exactly once per stream
 * record (lambda/shared/apply-record.ts), in the order of its item.
 *
 * DynamoDB Streams keeps the changes of one item in order, in one shard, and Lambda hands a shard's records over in
 * order; with `ReportBatchItemFailures` it resumes from the lowest failed sequence number. The handler therefore
 * keeps per-item order inside a batch exactly as the Kinesis handler keeps per-partition-key order
 * (lambda/shared/key-ordered.ts): one item's changes one after the other, other items concurrently, an item held
 * back after a failure that may pass, an invalid image failing alone.
 *
 * - The images are unmarshalled (DynamoDB JSON to plain values) and validated against the domain's item schema; an
 *   image that does not match fails its record as invalid, which reaches the on-failure destination after the
 *   retries.
 * - The idempotency key is the stream record's `eventID`: the same on every delivery of a change (a retry, a split
 *   batch), different for every change, even two that write the same values.
 * - A deletion by DynamoDB's time to live (a REMOVE whose `userIdentity` is the DynamoDB service) is an item that
 *   expired, not a business removal: it is recognised and logged, and applies nothing. (The mapping's default filter
 *   lets only INSERT and MODIFY through, so it only arrives when the filter lets REMOVE in.)
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { createRecordApplier, logRecordFailure } from '../shared/apply-record';
import type { ItemChange, MessageOf, ResponseOf } from '../shared/domain';
import type { Plan } from '../shared/exactly-once';
import { inDeliveryOrder, type KeyedPosition, keyOrderedRunner } from '../shared/key-ordered';
import { assertEventOf, InvalidPayloadError, validatePayload } from '../shared/parsing';
import type { IdempotencyDependencies } from '../shared/powertools';
import { domain } from './domain';

type Change = MessageOf<typeof domain>;
type Item = Change extends ItemChange<infer I> ? I : never;
type Response = ResponseOf<typeof domain>;

export interface TableStreamConsumerDependencies extends IdempotencyDependencies {
  readonly logger: Logger;
  /** What applying a change does. Throwing fails the record (and holds back its item). @default domain.plan */
  readonly plan?: (change: Change) => Plan<Response> | Promise<Plan<Response>>;
}

export type TableStreamConsumerHandler = (
  event: DynamoDBStreamEvent,
  context: Context,
) => Promise<DynamoDBBatchResponse>;

/** The principal DynamoDB deletes expired items as (time to live). */
const TTL_PRINCIPAL = 'dynamodb.amazonaws.com';

/** Whether a record is a deletion by DynamoDB's time to live. */
export function isTtlDeletion(record: DynamoDBRecord): boolean {
  return (
    record.eventName === 'REMOVE' &&
    record.userIdentity?.type === 'Service' &&
    record.userIdentity?.principalId === TTL_PRINCIPAL
  );
}

/** An item's key as one string: its key attributes, `name=value`, sorted by name, joined by `&`. */
export function itemKeyOf(keys: Record<string, AttributeValue> | undefined): string {
  const plain = unmarshall(keys ?? {}) as Record<string, unknown>;
  return Object.keys(plain)
    .sort()
    .map((name) => `${name}=${String(plain[name])}`)
    .join('&');
}

/** The change a stream record describes, with its images validated. Throws {@link InvalidPayloadError}. */
export function changeOf(record: DynamoDBRecord): Change {
  const image = (which: 'NewImage' | 'OldImage'): Item | undefined => {
    const raw = record.dynamodb?.[which];
    if (raw === undefined) return undefined;
    let plain: unknown;
    try {
      plain = unmarshall(raw as Record<string, AttributeValue>);
    } catch (error) {
      throw new InvalidPayloadError(`${which} is not DynamoDB JSON: ${(error as Error).message}`);
    }
    return validatePayload(plain, domain.itemSchema) as Item;
  };
  const eventName = record.eventName;
  if (eventName !== 'INSERT' && eventName !== 'MODIFY' && eventName !== 'REMOVE') {
    throw new InvalidPayloadError(`eventName ${JSON.stringify(eventName)} is not INSERT, MODIFY or REMOVE`);
  }
  const newItem = image('NewImage');
  const oldItem = image('OldImage');
  if (eventName !== 'REMOVE' && newItem === undefined) {
    throw new InvalidPayloadError(
      `a ${eventName} record without NewImage: the stream's view type must include new images (NEW_AND_OLD_IMAGES)`,
    );
  }
  return {
    eventId: record.eventID!,
    eventName,
    itemKey: itemKeyOf(record.dynamodb?.Keys as Record<string, AttributeValue> | undefined),
    ...(newItem !== undefined && { newItem }),
    ...(oldItem !== undefined && { oldItem }),
  } as Change;
}

function positionOf(record: DynamoDBRecord): KeyedPosition {
  return {
    eventId: record.eventID ?? '',
    sequenceNumber: record.dynamodb?.SequenceNumber ?? '',
    partitionKey: itemKeyOf(record.dynamodb?.Keys as Record<string, AttributeValue> | undefined),
  };
}

export function createTableStreamConsumerHandler(
  deps: TableStreamConsumerDependencies,
): TableStreamConsumerHandler {
  const { logger, idempotencyConfig } = deps;
  const applyChange = createRecordApplier({
    ...deps,
    path: 'table-stream',
    keyPrefix: domain.keyPrefix,
    plan: deps.plan ?? domain.plan,
  });

  return async (event, context) => {
    idempotencyConfig.registerLambdaContext(context);
    logger.addContext(context);
    // The fields read before a record can fail on its own (its id, its position); without them nothing can be
    // reported per record.
    try {
      assertEventOf(event, 'aws:dynamodb', ['eventID', 'eventName', 'dynamodb.SequenceNumber']);
    } catch (error) {
      logRecordFailure(logger, {}, error);
      throw error;
    }
    const processor = new BatchProcessor(EventType.DynamoDBStreams);
    const handleRecord = keyOrderedRunner<DynamoDBRecord>({
      logger,
      positionOf,
      run: async (record, position) => {
        if (isTtlDeletion(record)) {
          logger.info('expired by time to live: nothing applied', { ...position });
          return;
        }
        let change: Change;
        try {
          change = changeOf(record);
        } catch (error) {
          // Only what reading the images refuses is logged here: the applier logs its own failures.
          logRecordFailure(logger, { ...position }, error, deps.metrics);
          throw error;
        }
        await applyChange(
          { idempotencyKey: domain.idempotencyKey(change), input: change, logKeys: { ...position } },
          () => context.getRemainingTimeInMillis(),
        );
      },
    });
    const response = (await processPartialResponse(event, handleRecord, processor, {
      context,
      processInParallel: true,
    })) as DynamoDBBatchResponse;
    return inDeliveryOrder(
      response,
      event.Records.map((record) => record.dynamodb?.SequenceNumber ?? ''),
    );
  };
}
