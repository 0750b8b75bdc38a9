/**
 * DynamoDB Streams events as Lambda's event source mapping delivers them, built from the domain's item changes
 * (images marshalled to DynamoDB JSON by tools/shared/aws-events.ts); one shard, increasing sequence numbers.
 */
import type { Context, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { ItemChange } from '../../../lambda/shared/domain';
import { dynamoDbStreamRecord } from '../../../tools/shared/aws-events';
import { createLambdaContext } from '../../../tools/shared/lambda-context';

export const STREAM_ARN =
  'arn:aws:dynamodb:eu-west-1:123456789012:table/source/stream/2026-01-01T00:00:00.000';

/** The n-th sequence number of the shard (increasing with n). */
export function sequenceNumber(n: number): string {
  return String(100_000_000_000_000_000_000n + BigInt(n));
}

/** The item's key attributes back from a change's `itemKey` (`name=value&…`). */
function keysOf(itemKey: string): Record<string, string> {
  return Object.fromEntries(itemKey.split('&').map((pair) => pair.split('=') as [string, string]));
}

/** The stream record of `change` at position `n`; `images` replaces its images (e.g. with an invalid one). */
export function streamRecord(
  change: ItemChange<unknown>,
  n: number,
  options: { images?: { newImage?: Record<string, unknown> }; byTimeToLive?: boolean } = {},
): DynamoDBRecord {
  return dynamoDbStreamRecord({
    eventId: change.eventId,
    eventName: change.eventName,
    keys: keysOf(change.itemKey),
    newImage: (options.images?.newImage ?? change.newItem) as Record<string, unknown> | undefined,
    oldImage: change.oldItem as Record<string, unknown> | undefined,
    sequenceNumber: sequenceNumber(n),
    streamArn: STREAM_ARN,
    approximateCreationDateTime: 1_767_225_600 + n,
    byTimeToLive: options.byTimeToLive,
  }) as DynamoDBRecord;
}

export function streamEvent(...records: DynamoDBRecord[]): DynamoDBStreamEvent {
  return { Records: records };
}

export function lambdaContext(): Context {
  return createLambdaContext({ functionName: 'table-stream-consumer' });
}
