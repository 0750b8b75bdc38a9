import {
  batchInfoOf,
  FailureRecordError,
  parseDynamoDbStreamArn,
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
    expect(record.source).toBe('kinesis');
    expect(batchInfoOf(record).batchSize).toBe(3);
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
    expect(parseFailureRecords(json(output)).map((r) => batchInfoOf(r).batchSize)).toEqual([1, 2]);
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
    [
      'an unrelated object',
      json({ hello: 'world' }),
      /not an on-failure record of a Kinesis or DynamoDB Streams event source mapping \(no KinesisBatchInfo or DDBStreamBatchInfo\)/,
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

const TABLE_STREAM_ARN =
  'arn:aws:dynamodb:eu-west-1:123456789012:table/source/stream/2026-01-01T00:00:00.000';

/** A DynamoDB Streams mapping's on-failure record, shaped as the Lambda developer guide shows it. */
function ddbFailureRecord(batchInfo: Record<string, unknown> = {}) {
  return {
    requestContext: {
      requestId: '12a8a0fa-f8d2-4d42-a6e3-72bae7d1e2f9',
      functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:table-stream-consumer',
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: 4,
    },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    version: '1.0',
    timestamp: '2026-01-01T00:10:00.000Z',
    DDBStreamBatchInfo: {
      shardId: 'shardId-00000001767225600000-0a1b2c3d',
      startSequenceNumber: '400000000012345678901',
      endSequenceNumber: '400000000012345678905',
      approximateArrivalOfFirstRecord: '2026-01-01T00:05:59Z',
      approximateArrivalOfLastRecord: '2026-01-01T00:06:19Z',
      batchSize: 4,
      streamArn: TABLE_STREAM_ARN,
      ...batchInfo,
    },
  };
}

describe('parseFailureRecords: DynamoDB Streams', () => {
  it('tells a DynamoDB Streams failure record by its DDBStreamBatchInfo', () => {
    const [record] = parseFailureRecords(json(ddbFailureRecord()));
    expect(record.source).toBe('dynamodb');
    if (record.source !== 'dynamodb') throw new Error('unreachable');
    expect(record.DDBStreamBatchInfo).toEqual(ddbFailureRecord().DDBStreamBatchInfo);
    expect(record.requestContext?.condition).toBe('RetryAttemptsExhausted');
  });

  it.each([
    ['an SNS notification envelope', snsEnvelope(ddbFailureRecord())],
    [
      'an SQS message (raw delivery)',
      { MessageId: 'm-1', ReceiptHandle: 'r', Body: json(ddbFailureRecord()) },
    ],
    [
      'an SQS message holding an SNS envelope',
      { MessageId: 'm-1', Body: json(snsEnvelope(ddbFailureRecord())) },
    ],
    [
      '`aws sqs receive-message` output',
      { Messages: [{ MessageId: 'm-1', Body: json(ddbFailureRecord()) }] },
    ],
    ['a Lambda SQS event record', { Records: [{ eventSource: 'aws:sqs', body: json(ddbFailureRecord()) }] }],
    [
      'a Lambda SNS event record',
      { Records: [{ EventSource: 'aws:sns', Sns: snsEnvelope(ddbFailureRecord()) }] },
    ],
    [
      "an S3 destination's object (the same record with the batch added)",
      { ...ddbFailureRecord(), payload: json({ Records: [{ eventID: 'e-1' }] }) },
    ],
  ])('unwraps %s as the Kinesis side does', (_name, wrapped) => {
    expect(parseFailureRecords(json(wrapped))).toEqual(parseFailureRecords(json(ddbFailureRecord())));
  });

  it('reads Kinesis and DynamoDB Streams records side by side, in order, each with its source', () => {
    const output = {
      Messages: [
        { Body: json(ddbFailureRecord({ batchSize: 1 })) },
        { Body: json(failureRecord({ batchSize: 2 })) },
        { Body: json(snsEnvelope(ddbFailureRecord({ batchSize: 3 }))) },
      ],
    };
    expect(parseFailureRecords(json(output)).map((r) => [r.source, batchInfoOf(r).batchSize])).toEqual([
      ['dynamodb', 1],
      ['kinesis', 2],
      ['dynamodb', 3],
    ]);
  });

  it.each<[string, unknown, RegExp]>([
    [
      'a shard id of the Kinesis kind',
      ddbFailureRecord({ shardId: 'shardId-000000000000' }),
      /DDBStreamBatchInfo\.shardId: must be a DynamoDB Streams shard id such as shardId-00000001712385967261-abcdef12/,
    ],
    [
      'a sequence number that is too short',
      ddbFailureRecord({ startSequenceNumber: '111' }),
      /DDBStreamBatchInfo\.startSequenceNumber: must be a DynamoDB Streams sequence number \(21 to 40 digits\)/,
    ],
    [
      'a sequence number that is not digits',
      ddbFailureRecord({ endSequenceNumber: 'x'.repeat(21) }),
      /DDBStreamBatchInfo\.endSequenceNumber: must be a DynamoDB Streams sequence number/,
    ],
    [
      'a range that ends before it starts',
      ddbFailureRecord({
        startSequenceNumber: '400000000012345678905',
        endSequenceNumber: '400000000012345678901',
      }),
      /DDBStreamBatchInfo\.endSequenceNumber: startSequenceNumber must not be greater than endSequenceNumber/,
    ],
    ['a batch size of 0', ddbFailureRecord({ batchSize: 0 }), /DDBStreamBatchInfo\.batchSize/],
    ['a batch size above 10,000', ddbFailureRecord({ batchSize: 10_001 }), /DDBStreamBatchInfo\.batchSize/],
    [
      'a Kinesis stream ARN',
      ddbFailureRecord({ streamArn: STREAM_ARN }),
      /DDBStreamBatchInfo\.streamArn: must be a DynamoDB stream ARN/,
    ],
    [
      'a table ARN without its stream',
      ddbFailureRecord({ streamArn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/source' }),
      /DDBStreamBatchInfo\.streamArn: must be a DynamoDB stream ARN/,
    ],
    [
      'both kinds of batch at once',
      { ...ddbFailureRecord(), KinesisBatchInfo: failureRecord().KinesisBatchInfo },
      /holds both KinesisBatchInfo and DDBStreamBatchInfo/,
    ],
    [
      'the failure record of another kind of mapping',
      { requestContext: {}, OtherSourceBatchInfo: { shardId: 's' } },
      /another kind of event source mapping \(OtherSourceBatchInfo\); this tool replays Kinesis \(KinesisBatchInfo\) and DynamoDB Streams \(DDBStreamBatchInfo\)/,
    ],
    [
      'the record of an asynchronous invocation',
      { requestContext: { condition: 'RetriesExhausted' }, requestPayload: { Records: [] } },
      /the record of an asynchronous invocation \(requestPayload\), not of a stream batch/,
    ],
    [
      "the S3 event notification of an S3 destination's object",
      { Records: [{ eventSource: 'aws:s3', s3: { bucket: { name: 'b' }, object: { key: 'k' } } }] },
      /an S3 event notification names the object .* download the object \(aws s3 cp/,
    ],
  ])('rejects %s with a clear message', (_name, value, message) => {
    expect(() => parseFailureRecords(json(value))).toThrow(FailureRecordError);
    expect(() => parseFailureRecords(json(value))).toThrow(message);
  });
});

describe('parseDynamoDbStreamArn', () => {
  it("splits a stream ARN: the source table's name and the stream label", () => {
    expect(parseDynamoDbStreamArn(TABLE_STREAM_ARN)).toEqual({
      partition: 'aws',
      region: 'eu-west-1',
      accountId: '123456789012',
      tableName: 'source',
      streamLabel: '2026-01-01T00:00:00.000',
    });
  });

  it('rejects anything else', () => {
    expect(() => parseDynamoDbStreamArn(STREAM_ARN)).toThrow(/is not a DynamoDB stream ARN/);
  });
});
