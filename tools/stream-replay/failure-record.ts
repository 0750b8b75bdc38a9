/**
 * The on-failure record Lambda writes for a Kinesis event source mapping when it gives up on a batch
 * (retries or record age exhausted), as it lands on an SNS topic or SQS queue destination: metadata only —
 * which shard, which sequence-number range, how many records — never the records themselves.
 *
 * Operators get it in several wrappings; {@link parseFailureRecords} unwraps all of them:
 * - the record itself (raw SNS -> SQS delivery, or a file saved from the console);
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

// Zod runs the refinement even when a field failed its own check: compare only sequence numbers that parse.
function bothDigits(info: { startSequenceNumber: unknown; endSequenceNumber: unknown }): boolean {
  return [info.startSequenceNumber, info.endSequenceNumber].every(
    (n) => typeof n === 'string' && /^\d+$/.test(n),
  );
}

export const FailureRecordSchema = z.object({
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
  KinesisBatchInfo: KinesisBatchInfoSchema,
});

export type FailureRecord = z.output<typeof FailureRecordSchema>;
export type KinesisBatchInfo = z.output<typeof KinesisBatchInfoSchema>;

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
  if ('KinesisBatchInfo' in object) return [validate(object, where)];
  if ('DDBStreamBatchInfo' in object) {
    throw new FailureRecordError(
      `${where}: this is the failure record of a DynamoDB Streams mapping (DDBStreamBatchInfo); this tool replays Kinesis batches.`,
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
    `${where}: not an on-failure record of a Kinesis event source mapping (no KinesisBatchInfo), nor an SNS ` +
      'notification or SQS message wrapping one.',
  );
}

function validate(object: Record<string, unknown>, where: string): FailureRecord {
  const result = FailureRecordSchema.safeParse(object);
  if (!result.success) {
    const issues = result.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new FailureRecordError(`${where}: invalid on-failure record: ${issues.join('; ')}`);
  }
  return result.data;
}
