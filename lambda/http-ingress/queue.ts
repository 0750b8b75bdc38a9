/**
 * The enqueue: one `SendMessage` of an accepted order to the queue the SQS consumer reads (`QUEUE_URL`). This is
 * the http path's external effect: it cannot join the DynamoDB transaction that completes the idempotency record,
 * so it is at least once (see handler.ts), and the consumer applies each order once by its `orderId`.
 */
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { boundedClientConfig, type DynamoDbCallBudget } from '../shared/deadlines';

/** The message attribute that carries the request's `Idempotency-Key` downstream (for tracing a message back). */
export const IDEMPOTENCY_KEY_ATTRIBUTE = 'IdempotencyKey';
/** The message attribute that names where the message came from. */
export const SOURCE_ATTRIBUTE = 'Source';
export const HTTP_SOURCE = 'http-ingress';

/**
 * The SQS client: the same bounded attempts and per-attempt timeout as the function's DynamoDB client
 * (`DYNAMODB_REQUEST_TIMEOUT_MS`, `DYNAMODB_MAX_ATTEMPTS`, sized from the function timeout), so a hung
 * `SendMessage` ends in a 503 well before the function's timeout, never in API Gateway's 504.
 */
export function createSqsClient(budget: DynamoDbCallBudget): SQSClient {
  return new SQSClient(boundedClientConfig(budget));
}

export interface Enqueue {
  /** Sends `body` with the request's idempotency key as an attribute; resolves to SQS's message id. */
  (body: string, idempotencyKey: string): Promise<string>;
}

/** The enqueue to `queueUrl` through `client`. */
export function createEnqueue(client: SQSClient, queueUrl: string): Enqueue {
  return async (body, idempotencyKey) => {
    const sent = await client.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: body,
        MessageAttributes: {
          [IDEMPOTENCY_KEY_ATTRIBUTE]: { DataType: 'String', StringValue: idempotencyKey },
          [SOURCE_ATTRIBUTE]: { DataType: 'String', StringValue: HTTP_SOURCE },
        },
      }),
    );
    if (!sent.MessageId) throw new Error('SQS accepted the message but returned no MessageId');
    return sent.MessageId;
  };
}
