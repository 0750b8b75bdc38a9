import {
  FailureRecordError,
  parseFailureRecords,
  parseStreamArn,
} from '../../../tools/stream-replay/failure-record';

const STREAM_ARN = 'arn:aws:kinesis:eu-west-1:123456789012:stream/readings';

function failureRecord(batchInfo: Record<string, unknown> = {}) {
  return {
    requestContext: {
      requestId: 'cf6fa2a6-48e2-49a6-bc23-7ed2b154b176',
      functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:stream-consumer',
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: 3,
    },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    version: '1.0',
    timestamp: '2025-01-01T00:10:00.000Z',
    KinesisBatchInfo: {
      shardId: 'shardId-000000000000',
      startSequenceNumber: '49647238774018758449143790847474952390342044683891376130',
      endSequenceNumber: '49647238774018758449143790941112301748593148785147772930',
      approximateArrivalOfFirstRecord: '2025-01-01T00:05:59.280Z',
      approximateArrivalOfLastRecord: '2025-01-01T00:06:19.196Z',
      batchSize: 3,
      streamArn: STREAM_ARN,
      ...batchInfo,
    },
  };
}

const json = (value: unknown) => JSON.stringify(value);
const snsEnvelope = (message: unknown) => ({
  Type: 'Notification',
  MessageId: 'd2b1d8a4-1111-4e4e-9d7a-0a0a0a0a0a0a',
  TopicArn: 'arn:aws:sns:eu-west-1:123456789012:on-failure',
  Message: json(message),
  Timestamp: '2025-01-01T00:10:01.000Z',
});

describe('parseFailureRecords', () => {
  it('reads the record as Lambda writes it', () => {
    const [record] = parseFailureRecords(json(failureRecord()));
    expect(record.KinesisBatchInfo.batchSize).toBe(3);
    expect(record.requestContext?.condition).toBe('RetryAttemptsExhausted');
  });

  it.each([
    ['an SNS notification envelope', snsEnvelope(failureRecord())],
    ['an SQS message (raw delivery)', { MessageId: 'm-1', ReceiptHandle: 'r', Body: json(failureRecord()) }],
    [
      'an SQS message holding an SNS envelope',
      { MessageId: 'm-1', Body: json(snsEnvelope(failureRecord())) },
    ],
    ['a Lambda SQS event record', { Records: [{ eventSource: 'aws:sqs', body: json(failureRecord()) }] }],
    [
      'a Lambda SNS event record',
      { Records: [{ EventSource: 'aws:sns', Sns: snsEnvelope(failureRecord()) }] },
    ],
  ])('unwraps %s', (_name, wrapped) => {
    expect(parseFailureRecords(json(wrapped))).toEqual([parseFailureRecords(json(failureRecord()))[0]]);
  });

  it('reads every message of `aws sqs receive-message` output, in order', () => {
    const output = {
      Messages: [
        { MessageId: 'm-1', Body: json(failureRecord({ batchSize: 1 })) },
        { MessageId: 'm-2', Body: json(failureRecord({ batchSize: 2 })) },
      ],
    };
    expect(parseFailureRecords(json(output)).map((r) => r.KinesisBatchInfo.batchSize)).toEqual([1, 2]);
  });

  it('reads a JSON array of records', () => {
    expect(parseFailureRecords(json([failureRecord(), snsEnvelope(failureRecord())]))).toHaveLength(2);
  });

  it.each<[string, string, RegExp]>([
    ['empty input', '  ', /no input/],
    ['text that is not JSON', 'KinesisBatchInfo?', /the input is not JSON/],
    [
      'an SNS envelope whose message is not JSON',
      json({ Type: 'Notification', Message: 'oops' }),
      /Message \(SNS notification\) is not JSON/,
    ],
    ['an empty list', '[]', /no failure record/],
    ['a number', '42', /expected a JSON object, got 42/],
    ['an unrelated object', json({ hello: 'world' }), /no KinesisBatchInfo/],
    [
      'a DynamoDB Streams failure record',
      json({ DDBStreamBatchInfo: { shardId: 's' } }),
      /DynamoDB Streams mapping \(DDBStreamBatchInfo\); this tool replays Kinesis/,
    ],
    ['a missing shard id', json(failureRecord({ shardId: undefined })), /KinesisBatchInfo\.shardId/],
    [
      'a sequence number that is not digits',
      json(failureRecord({ startSequenceNumber: 'abc' })),
      /KinesisBatchInfo\.startSequenceNumber: must be a Kinesis sequence number/,
    ],
    [
      'a range that ends before it starts',
      json(failureRecord({ startSequenceNumber: '20', endSequenceNumber: '10' })),
      /startSequenceNumber must not be greater than endSequenceNumber/,
    ],
    ['a batch size of 0', json(failureRecord({ batchSize: 0 })), /KinesisBatchInfo\.batchSize/],
    [
      'an ARN that is not a stream',
      json(failureRecord({ streamArn: 'arn:aws:sqs:eu-west-1:123456789012:queue' })),
      /KinesisBatchInfo\.streamArn: must be a Kinesis stream ARN/,
    ],
  ])('rejects %s with a clear message', (_name, text, message) => {
    expect(() => parseFailureRecords(text)).toThrow(FailureRecordError);
    expect(() => parseFailureRecords(text)).toThrow(message);
  });

  it('says where in a wrapping the problem is', () => {
    const output = { Messages: [{ Body: json(failureRecord()) }, { Body: json({ nope: true }) }] };
    expect(() => parseFailureRecords(json(output))).toThrow(
      /^input\.Messages\[1\]\.Body: not an on-failure record/,
    );
  });
});

describe('parseStreamArn', () => {
  it('splits a stream ARN', () => {
    expect(parseStreamArn(STREAM_ARN)).toEqual({
      partition: 'aws',
      region: 'eu-west-1',
      accountId: '123456789012',
      streamName: 'readings',
    });
    expect(parseStreamArn('arn:aws-cn:kinesis:cn-north-1:123456789012:stream/a.b_c-d').partition).toBe(
      'aws-cn',
    );
  });

  it('rejects anything else', () => {
    expect(() => parseStreamArn('readings')).toThrow(/is not a Kinesis stream ARN/);
  });
});
