/**
 * The records `npm run redrive` reads from the object path's failure stores: which can be re-driven, with what,
 * and the reason for each that cannot (pure functions, no AWS).
 */
import { parseSnsEvent } from '../../../lambda/object-consumer/object';
import {
  functionNameOfArn,
  parseInvocationRecord,
  parseSubscriptionDeadLetter,
  summarizeStreamFailure,
} from '../../../tools/redrive/records';
import {
  FUNCTION_NAME,
  SUBSCRIPTION_ARN,
  TOPIC_ARN,
  invocationRecord,
  snsEvent,
  subscriptionDeadLetter,
} from './samples';

describe('parseInvocationRecord (asynchronous on-failure destination)', () => {
  it('takes the original event from requestPayload, unchanged, and summarises why it failed', () => {
    const event = snsEvent('photos/a.jpg');
    const verdict = parseInvocationRecord(JSON.stringify(invocationRecord(event)), FUNCTION_NAME);
    expect(verdict).toMatchObject({ ok: true, value: { payload: event } });
    expect(verdict.summary).toContain('RetriesExhausted');
    expect(verdict.summary).toContain('3 attempt(s)');
    expect(verdict.summary).toContain('Error: DynamoDB unavailable');
    expect(verdict.summary).toContain('s3://reliable-lambda-test-bucket/photos/a.jpg');
  });

  it('also reads a record wrapped in an SNS notification (a topic destination delivered to a queue)', () => {
    const event = snsEvent('a.txt');
    const envelope = {
      Type: 'Notification',
      MessageId: 'm-1',
      Message: JSON.stringify(invocationRecord(event)),
    };
    expect(parseInvocationRecord(JSON.stringify(envelope), FUNCTION_NAME)).toMatchObject({
      ok: true,
      value: { payload: event },
    });
  });

  it('leaves a record whose requestPayload Lambda dropped (a record too large for the destination)', () => {
    const verdict = parseInvocationRecord(
      JSON.stringify(invocationRecord(undefined, { omitPayload: true })),
      FUNCTION_NAME,
    );
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) expect(verdict.reason).toMatch(/requestPayload is missing.*too large/);
  });

  it.each([
    ['null', null],
    ['a string (truncated, or not the JSON event)', '{"Records":[{"EventSource":"aws:s'],
    ['a list', [1, 2]],
  ])('leaves a record whose requestPayload is %s', (_name, payload) => {
    const verdict = parseInvocationRecord(JSON.stringify(invocationRecord(payload)), FUNCTION_NAME);
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) expect(verdict.reason).toMatch(/requestPayload/);
  });

  it('leaves the record of another function: it is not re-driven into this one', () => {
    const verdict = parseInvocationRecord(
      JSON.stringify(invocationRecord(snsEvent('a'), { functionName: 'someone-else' })),
      FUNCTION_NAME,
    );
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) expect(verdict.reason).toContain('someone-else');
  });

  it.each([
    ['not JSON', 'hello'],
    ['no requestContext', JSON.stringify({ requestPayload: {} })],
    ['a stream failure record', JSON.stringify({ requestContext: {}, KinesisBatchInfo: {} })],
  ])('leaves a body that is not an invocation record: %s', (_name, body) => {
    expect(parseInvocationRecord(body, FUNCTION_NAME).ok).toBe(false);
  });
});

describe('parseSubscriptionDeadLetter (SNS subscription DLQ)', () => {
  it("rebuilds the SNS event Lambda would have been invoked with, with the notification's own message id", () => {
    const verdict = parseSubscriptionDeadLetter(JSON.stringify(subscriptionDeadLetter('b.txt')), TOPIC_ARN);
    expect(verdict.ok).toBe(true);
    if (!verdict.ok) return;
    const event = verdict.value.event;
    // What the object consumer accepts (its own schema), and the same record an SNS delivery would have made.
    expect(() => parseSnsEvent(event)).not.toThrow();
    expect(event).toEqual(snsEventWithSubscription('b.txt'));
    expect(verdict.value.messageId).toBe('sns-b.txt');
    expect(verdict.summary).toContain('s3://reliable-lambda-test-bucket/b.txt');
  });

  it('leaves a notification of another topic', () => {
    const body = subscriptionDeadLetter('c', { topicArn: `${TOPIC_ARN}-other` });
    const verdict = parseSubscriptionDeadLetter(JSON.stringify(body), TOPIC_ARN);
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) expect(verdict.reason).toContain('-other');
  });

  it.each([
    ['not JSON', 'hello'],
    ['the bare S3 notification (no SNS envelope)', JSON.stringify({ Records: [{ eventSource: 'aws:s3' }] })],
    [
      'an envelope without UnsubscribeURL',
      JSON.stringify(subscriptionDeadLetter('d', { unsubscribeUrl: null })),
    ],
    ['an envelope without Message', JSON.stringify({ ...subscriptionDeadLetter('e'), Message: undefined })],
  ])('leaves %s', (_name, body) => {
    const verdict = parseSubscriptionDeadLetter(body, TOPIC_ARN);
    expect(verdict.ok).toBe(false);
  });
});

describe('summarizeStreamFailure', () => {
  it('names the shard, the range and the condition of a Kinesis or DynamoDB Streams failure record', () => {
    const info = {
      shardId: 'shardId-000000000001',
      startSequenceNumber: '100',
      endSequenceNumber: '200',
      batchSize: 3,
      streamArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/s',
    };
    const record = { requestContext: { condition: 'RecordAgeExceeded' }, KinesisBatchInfo: info };
    expect(summarizeStreamFailure(JSON.stringify(record))).toBe(
      '3 record(s) of shardId-000000000001, 100..200, RecordAgeExceeded',
    );
    const wrapped = { Type: 'Notification', Message: JSON.stringify({ DDBStreamBatchInfo: info }) };
    expect(summarizeStreamFailure(JSON.stringify(wrapped))).toBe(
      '3 record(s) of shardId-000000000001, 100..200, condition unknown',
    );
    expect(summarizeStreamFailure('nonsense')).toBe('not a stream failure record');
  });
});

it('functionNameOfArn takes the name out of a (qualified) function ARN', () => {
  expect(functionNameOfArn('arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST')).toBe('f');
  expect(functionNameOfArn('arn:aws:lambda:us-east-1:123456789012:function:f')).toBe('f');
  expect(functionNameOfArn('f')).toBe('f');
});

function snsEventWithSubscription(key: string) {
  const event = snsEvent(key);
  const record = event.Records[0] as { EventSubscriptionArn: string; Sns: Record<string, unknown> };
  record.EventSubscriptionArn = SUBSCRIPTION_ARN;
  record.Sns.UnsubscribeUrl = `https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${SUBSCRIPTION_ARN}`;
  record.Sns.MessageAttributes = {};
  return event;
}
