/**
 * The on-failure record Lambda writes for a Kinesis or DynamoDB Streams event source mapping when it gives up on a
 * batch (retries or record age exhausted), as it lands on an SNS topic or SQS queue destination: metadata only —
 * which shard, which sequence-number range, how many records — never the records themselves. The source is told by
 * the record: `KinesisBatchInfo` (a Kinesis data stream) or `DDBStreamBatchInfo` (a DynamoDB stream).
 *
 * Operators get it in several wrappings; {@link parseFailureRecords} unwraps all of them:
 * - the record itself (raw SNS -> SQS delivery, a file saved from the console, or the object an S3 destination
 *   wrote, downloaded: the same record with the batch itself added);
 * - an SNS notification envelope (`{"Type":"Notification","Message":"<record>"}`);
 * - an SQS message (`{"Body":"<record>"}`, or `body` in a Lambda SQS event record);
 * - the output of `aws sqs receive-message` (`{"Messages":[...]}`), a Lambda SQS/SNS event (`{"Records":[...]}`),
 *   or a JSON array of any of these.
 */
import { z } from 'zod';

/** A failure record that is not what this tool can replay; the message says what is wrong. */
export class FailureRecordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FailureRecordError';
  }
}

const SEQUENCE_NUMBER = z.string().regex(/^\d{1,129}$/, 'must be a Kinesis sequence number (digits)');
export const STREAM_ARN_PATTERN =
  /^arn:(aws[a-z-]*):kinesis:([a-z0-9-]+):(\d{12}):stream\/([a-zA-Z0-9_.-]{1,128})$/;

export const KinesisBatchInfoSchema = z
  .object({
    shardId: z.string().regex(/^[a-zA-Z0-9_.-]{1,128}$/, 'must be a shard id such as shardId-000000000000'),
    startSequenceNumber: SEQUENCE_NUMBER,
    endSequenceNumber: SEQUENCE_NUMBER,
    approximateArrivalOfFirstRecord: z.string().optional(),
    approximateArrivalOfLastRecord: z.string().optional(),
    batchSize: z.number().int().positive().max(10_000),
    streamArn: z.string().regex(STREAM_ARN_PATTERN, 'must be a Kinesis stream ARN'),
  })
  .refine((info) => !bothDigits(info) || BigInt(info.startSequenceNumber) <= BigInt(info.endSequenceNumber), {
    message: 'startSequenceNumber must not be greater than endSequenceNumber',
    path: ['endSequenceNumber'],
  });

/** A DynamoDB Streams sequence number: 21 to 40 digits (DynamoDB Streams API reference, `SequenceNumber`). */
const DYNAMODB_SEQUENCE_NUMBER = z
  .string()
  .regex(/^\d{21,40}$/, 'must be a DynamoDB Streams sequence number (21 to 40 digits)');
/**
 * A DynamoDB stream's ARN: `arn:aws:dynamodb:<region>:<account>:table/<table>/stream/<label>`, the label a
 * timestamp such as `2025-01-01T00:00:00.000` (table names: 3-255 of a-z A-Z 0-9 _ . -).
 */
export const DYNAMODB_STREAM_ARN_PATTERN =
  /^arn:(aws[a-z-]*):dynamodb:([a-z0-9-]+):(\d{12}):table\/([a-zA-Z0-9_.-]{3,255})\/stream\/([0-9A-Za-z:._-]{1,64})$/;

export const DDBStreamBatchInfoSchema = z
  .object({
    // DynamoDB Streams API reference, `ShardId`: 28 to 65 characters (shardId-00000001712385967261-abcdef12).
    shardId: z
      .string()
      .regex(
        /^[a-zA-Z0-9_.-]{28,65}$/,
        'must be a DynamoDB Streams shard id such as shardId-00000001712385967261-abcdef12',
      ),
    startSequenceNumber: DYNAMODB_SEQUENCE_NUMBER,
    endSequenceNumber: DYNAMODB_SEQUENCE_NUMBER,
    approximateArrivalOfFirstRecord: z.string().optional(),
    approximateArrivalOfLastRecord: z.string().optional(),
    batchSize: z.number().int().positive().max(10_000),
    streamArn: z.string().regex(DYNAMODB_STREAM_ARN_PATTERN, 'must be a DynamoDB stream ARN'),
  })
  .refine((info) => !bothDigits(info) || BigInt(info.startSequenceNumber) <= BigInt(info.endSequenceNumber), {
    message: 'startSequenceNumber must not be greater than endSequenceNumber',
    path: ['endSequenceNumber'],
  });

// Zod runs the refinement even when a field failed its own check: compare only sequence numbers that parse.
function bothDigits(info: { startSequenceNumber: unknown; endSequenceNumber: unknown }): boolean {
  return [info.startSequenceNumber, info.endSequenceNumber].every(
    (n) => typeof n === 'string' && /^\d+$/.test(n),
  );
}

/** What both kinds of failure record hold besides the batch. */
const InvocationContext = {
  requestContext: z
    .object({
      requestId: z.string(),
      functionArn: z.string(),
      /** e.g. RetryAttemptsExhausted, RecordAgeExceeded */
      condition: z.string(),
      approximateInvokeCount: z.number(),
    })
    .partial()
    .optional(),
  responseContext: z.record(z.string(), z.unknown()).optional(),
  version: z.string().optional(),
  timestamp: z.string().optional(),
};

export const FailureRecordSchema = z.object({
  ...InvocationContext,
  KinesisBatchInfo: KinesisBatchInfoSchema,
});
export const DynamoDbFailureRecordSchema = z.object({
  ...InvocationContext,
  DDBStreamBatchInfo: DDBStreamBatchInfoSchema,
});

/** The failure record of a Kinesis mapping. */
export type KinesisFailureRecord = z.output<typeof FailureRecordSchema> & { readonly source: 'kinesis' };
/** The failure record of a DynamoDB Streams mapping. */
export type DynamoDbFailureRecord = z.output<typeof DynamoDbFailureRecordSchema> & {
  readonly source: 'dynamodb';
};
/** Either kind, told apart by `source`. */
export type FailureRecord = KinesisFailureRecord | DynamoDbFailureRecord;
export type KinesisBatchInfo = z.output<typeof KinesisBatchInfoSchema>;
export type DDBStreamBatchInfo = z.output<typeof DDBStreamBatchInfoSchema>;

/** How a source is named in messages. */
export const SOURCE_NAMES: Record<FailureRecord['source'], string> = {
  kinesis: 'Kinesis',
  dynamodb: 'DynamoDB Streams',
};

/** The batch a failure record names, whatever its source. */
export function batchInfoOf(record: FailureRecord): KinesisBatchInfo | DDBStreamBatchInfo {
  return record.source === 'kinesis' ? record.KinesisBatchInfo : record.DDBStreamBatchInfo;
}

export interface StreamArnParts {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
  readonly streamName: string;
}

export function parseStreamArn(arn: string): StreamArnParts {
  const match = STREAM_ARN_PATTERN.exec(arn);
  if (!match)
    throw new FailureRecordError(
      `"${arn}" is not a Kinesis stream ARN (arn:aws:kinesis:<region>:<account>:stream/<name>).`,
    );
  return { partition: match[1], region: match[2], accountId: match[3], streamName: match[4] };
}

export interface DynamoDbStreamArnParts {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
  /** The source table's name. */
  readonly tableName: string;
  readonly streamLabel: string;
}

export function parseDynamoDbStreamArn(arn: string): DynamoDbStreamArnParts {
  const match = DYNAMODB_STREAM_ARN_PATTERN.exec(arn);
  if (!match)
    throw new FailureRecordError(
      `"${arn}" is not a DynamoDB stream ARN (arn:aws:dynamodb:<region>:<account>:table/<table>/stream/<label>).`,
    );
  return {
    partition: match[1],
    region: match[2],
    accountId: match[3],
    tableName: match[4],
    streamLabel: match[5],
  };
}

const MAX_DEPTH = 6;

/** Parses the text an operator has (see the module comment) into the failure records it holds, in order. */
export function parseFailureRecords(text: string): FailureRecord[] {
  if (!text.trim()) throw new FailureRecordError('no input: expected an on-failure record (JSON).');
  const records = unwrap(parseJson(text, 'the input'), 'input', 0);
  if (records.length === 0)
    throw new FailureRecordError('the input holds no failure record (an empty list).');
  return records;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new FailureRecordError(`${what} is not JSON: ${(error as Error).message}`);
  }
}

function unwrap(value: unknown, where: string, depth: number): FailureRecord[] {
  if (depth > MAX_DEPTH) throw new FailureRecordError(`${where}: wrapped too deeply to be a failure record.`);
  if (Array.isArray(value)) return value.flatMap((item, i) => unwrap(item, `${where}[${i}]`, depth + 1));
  if (!value || typeof value !== 'object') {
    throw new FailureRecordError(`${where}: expected a JSON object, got ${JSON.stringify(value)}.`);
  }
  const object = value as Record<string, unknown>;
  if ('KinesisBatchInfo' in object && 'DDBStreamBatchInfo' in object) {
    throw new FailureRecordError(
      `${where}: holds both KinesisBatchInfo and DDBStreamBatchInfo; Lambda writes one or the other.`,
    );
  }
  if ('KinesisBatchInfo' in object)
    return [{ ...validate(FailureRecordSchema, object, where), source: 'kinesis' }];
  if ('DDBStreamBatchInfo' in object) {
    return [{ ...validate(DynamoDbFailureRecordSchema, object, where), source: 'dynamodb' }];
  }
  const otherBatchInfo = Object.keys(object).find((key) => key.endsWith('BatchInfo'));
  if (otherBatchInfo) {
    throw new FailureRecordError(
      `${where}: the failure record of another kind of event source mapping (${otherBatchInfo}); this tool replays ` +
        'Kinesis (KinesisBatchInfo) and DynamoDB Streams (DDBStreamBatchInfo) batches.',
    );
  }
  if ('requestPayload' in object && 'requestContext' in object) {
    throw new FailureRecordError(
      `${where}: the record of an asynchronous invocation (requestPayload), not of a stream batch: its event is in ` +
        'requestPayload; invoke the function with it again if it should run.',
    );
  }
  if (object.Type === 'Notification' && typeof object.Message === 'string') {
    return unwrap(
      parseJson(object.Message, `${where}.Message (SNS notification)`),
      `${where}.Message`,
      depth + 1,
    );
  }
  if (Array.isArray(object.Messages)) return unwrap(object.Messages, `${where}.Messages`, depth + 1);
  if (Array.isArray(object.Records)) {
    return object.Records.flatMap((record, i) => {
      const r = record as Record<string, unknown>;
      const sns = r.Sns as Record<string, unknown> | undefined;
      const inner =
        typeof r.body === 'string' ? r.body : typeof sns?.Message === 'string' ? sns.Message : undefined;
      if (inner === undefined && r?.eventSource === 'aws:s3') {
        throw new FailureRecordError(
          `${where}.Records[${i}]: an S3 event notification names the object an S3 destination wrote, not the ` +
            'failure: download the object (aws s3 cp s3://<bucket>/<key> failure.json) and pass that file.',
        );
      }
      if (inner === undefined) {
        throw new FailureRecordError(
          `${where}.Records[${i}]: neither an SQS record (body) nor an SNS record (Sns.Message).`,
        );
      }
      return unwrap(parseJson(inner, `${where}.Records[${i}] body`), `${where}.Records[${i}]`, depth + 1);
    });
  }
  for (const key of ['Body', 'body', 'Message']) {
    if (typeof object[key] === 'string') {
      return unwrap(parseJson(object[key], `${where}.${key}`), `${where}.${key}`, depth + 1);
    }
  }
  throw new FailureRecordError(
    `${where}: not an on-failure record of a Kinesis or DynamoDB Streams event source mapping (no ` +
      'KinesisBatchInfo or DDBStreamBatchInfo), nor an SNS notification or SQS message wrapping one.',
  );
}

function validate<S extends z.ZodType>(
  schema: S,
  object: Record<string, unknown>,
  where: string,
): z.output<S> {
  const result = schema.safeParse(object);
  if (!result.success) {
    const issues = result.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new FailureRecordError(`${where}: invalid on-failure record: ${issues.join('; ')}`);
  }
  return result.data;
}
