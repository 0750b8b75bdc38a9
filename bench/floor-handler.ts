/**
 * The benchmark's floor: the least an idempotent SQS consumer can do, written by hand with the AWS SDK only.
 * Per record it makes the same two DynamoDB writes Powertools idempotency makes (a conditional put that claims
 * the key, then an update that marks it done) and reports failures as a partial batch response. No logger, no
 * schema, no tracing: every handler the template ships is measured as a ratio to this.
 */
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';

const client = new DynamoDBClient({});
const tableName = process.env.IDEMPOTENCY_TABLE_NAME ?? '';
const ttlSeconds = Number(process.env.IDEMPOTENCY_EXPIRY_SECONDS ?? 3600);
/**
 * `FLOOR_IN_ORDER=true`: one record after the other, as a handler that keeps order must (the stream path, and
 * the object path's loop): the floor of in-order processing.
 */
const inOrder = process.env.FLOOR_IN_ORDER === 'true';

async function processRecord(body: string): Promise<void> {
  const { orderId } = JSON.parse(body) as { orderId: string };
  const now = Math.floor(Date.now() / 1000);
  try {
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          id: { S: `floor#${orderId}` },
          expiration: { N: String(now + ttlSeconds) },
          status: { S: 'INPROGRESS' },
        },
        ConditionExpression: 'attribute_not_exists(id) OR expiration < :now',
        ExpressionAttributeValues: { ':now': { N: String(now) } },
      }),
    );
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return; // already done: a duplicate
    throw error;
  }
  await client.send(
    new UpdateItemCommand({
      TableName: tableName,
      Key: { id: { S: `floor#${orderId}` } },
      UpdateExpression: 'SET #status = :completed',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':completed': { S: 'COMPLETED' } },
    }),
  );
}

async function inSequence(bodies: string[]): Promise<PromiseSettledResult<void>[]> {
  const results: PromiseSettledResult<void>[] = [];
  for (const body of bodies) {
    try {
      results.push({ status: 'fulfilled', value: await processRecord(body) });
    } catch (reason) {
      results.push({ status: 'rejected', reason });
    }
  }
  return results;
}

export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const bodies = event.Records.map((record) => record.body);
  const results = inOrder
    ? await inSequence(bodies)
    : await Promise.allSettled(bodies.map((body) => processRecord(body)));
  return {
    batchItemFailures: results.flatMap((result, index) =>
      result.status === 'rejected' ? [{ itemIdentifier: event.Records[index].messageId }] : [],
    ),
  };
}
