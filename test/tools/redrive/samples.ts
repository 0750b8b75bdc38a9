/**
 * What the object path's failure stores hold, built in AWS's shapes: the record Lambda writes to an asynchronous
 * on-failure destination (an invocation record holding the original event in `requestPayload`), and the message
 * SNS writes to a subscription's dead-letter queue (the notification as SNS would have delivered it over HTTP:
 * `SigningCertURL`, `UnsubscribeURL`, where Lambda's event says `SigningCertUrl`, `UnsubscribeUrl`).
 */
import { s3ObjectCreatedRecord, snsEventRecord } from '../../../tools/shared/aws-events';
import { FAKE_ACCOUNT, FAKE_REGION } from './fake-aws';

export const FUNCTION_NAME = 'reliable-lambda-test-object-consumer';
export const TOPIC_ARN = `arn:aws:sns:${FAKE_REGION}:${FAKE_ACCOUNT}:reliable-lambda-test-ObjectCreatedTopic`;
export const SUBSCRIPTION_ARN = `${TOPIC_ARN}:0b2f6c1e-8f4a-4d61-9a55-3c2b1d0e9f77`;

/** The S3 event notification of one object version (what S3 publishes to the topic). */
export function s3Notification(key: string, versionId = `v-${key}`): string {
  return JSON.stringify({
    Records: [
      s3ObjectCreatedRecord({
        bucket: 'reliable-lambda-test-bucket',
        key,
        size: 42,
        versionId,
        sequencer: '0065A4F1C3E2D1B000',
        region: FAKE_REGION,
        eventTime: '2025-01-01T00:00:00.000Z',
      }),
    ],
  });
}

/** Lambda's SNS event for one object version: what the function was invoked with. */
export function snsEvent(key: string, messageId = `sns-${key}`): { Records: Record<string, unknown>[] } {
  return {
    Records: [
      snsEventRecord({
        topicArn: TOPIC_ARN,
        messageId,
        message: s3Notification(key),
        timestamp: '2025-01-01T00:00:01.000Z',
      }),
    ],
  };
}

/** The record Lambda writes to the on-failure destination after the retries of `payload`. */
export function invocationRecord(
  payload: unknown,
  overrides: { functionName?: string; requestId?: string; omitPayload?: boolean } = {},
): Record<string, unknown> {
  return {
    version: '1.0',
    timestamp: '2025-01-01T00:03:10.000Z',
    requestContext: {
      requestId: overrides.requestId ?? 'e4b4b7c2-0c5d-4d0f-8d5b-6f1f3c2a9b10',
      functionArn: `arn:aws:lambda:${FAKE_REGION}:${FAKE_ACCOUNT}:function:${overrides.functionName ?? FUNCTION_NAME}:$LATEST`,
      condition: 'RetriesExhausted',
      approximateInvokeCount: 3,
    },
    ...(overrides.omitPayload ? {} : { requestPayload: payload }),
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    responsePayload: { errorType: 'Error', errorMessage: 'DynamoDB unavailable' },
  };
}

/** The body SNS writes to the subscription's dead-letter queue for a notification it could not deliver. */
export function subscriptionDeadLetter(
  key: string,
  overrides: { messageId?: string; topicArn?: string; unsubscribeUrl?: string | null } = {},
): Record<string, unknown> {
  const topicArn = overrides.topicArn ?? TOPIC_ARN;
  return {
    Type: 'Notification',
    MessageId: overrides.messageId ?? `sns-${key}`,
    TopicArn: topicArn,
    Subject: 'Amazon S3 Notification',
    Message: s3Notification(key),
    Timestamp: '2025-01-01T00:00:01.000Z',
    SignatureVersion: '1',
    Signature: 'EXAMPLE',
    SigningCertURL: `https://sns.${FAKE_REGION}.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem`,
    ...(overrides.unsubscribeUrl === null
      ? {}
      : {
          UnsubscribeURL:
            overrides.unsubscribeUrl ??
            `https://sns.${FAKE_REGION}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${SUBSCRIPTION_ARN}`,
        }),
  };
}
