/**
 * Re-invokes a DynamoDB Streams consumer with records fetched back from its stream: a DynamoDB stream cannot be
 * written to, so where the Kinesis side puts records back into a stream, this hands them to the function directly,
 * as Lambda's event source mapping would: `{"Records":[…]}`, synchronously (`RequestResponse`), in sequence order.
 *
 * - The consumer answers which records failed (`batchItemFailures`, ReportBatchItemFailures); the first
 *   invocation that reports any stops the replay: records after it are not sent, since the handler holds back an
 *   item's later changes after a failure within one invocation only, and a later invocation would apply them out
 *   of order.
 * - A synchronous invocation's request is at most 6 MB; a batch larger than that is sent in consecutive
 *   invocations, each a run of records in sequence order.
 * - Records the consumer already applied are answered from its idempotency records (same `eventID`, within the
 *   idempotency expiry, at least the stream's 24 hours), so running a replay again is safe.
 */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { DynamoDBRecord } from 'aws-lambda';

/** A synchronous invocation's request payload limit (Lambda quotas: 6 MB), less room for the envelope. */
export const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024 - 1024;

/** A function name, partial ARN or ARN, as `Invoke` takes it (Lambda API reference, `FunctionName`). */
const FUNCTION_NAME_PATTERN =
  /^(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_.]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?$/;

export class InvokeError extends Error {
  constructor(
    message: string,
    /** How many records were handed to the function before the failure. */
    readonly invoked: number,
  ) {
    super(message);
    this.name = 'InvokeError';
  }
}

export interface InvokeTarget {
  readonly functionName: string;
  /** From a full ARN; `undefined` otherwise (the stream's region is used). */
  readonly region?: string;
}

export function parseInvokeTarget(nameOrArn: string): InvokeTarget {
  if (!FUNCTION_NAME_PATTERN.test(nameOrArn) || nameOrArn.length > 170) {
    throw new InvokeError(`--invoke: "${nameOrArn}" is not a function name or ARN.`, 0);
  }
  const arn = /^arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):\d{12}:function:/.exec(nameOrArn);
  return { functionName: nameOrArn, ...(arn && { region: arn[1] }) };
}

/** The function's name in a name, `name:qualifier`, partial ARN or ARN. */
export function functionNameOf(nameOrArn: string): string | undefined {
  return /(?:^|function:)([a-zA-Z0-9_.-]+)(?::[a-zA-Z0-9_$-]+)?$/.exec(nameOrArn)?.[1];
}

export interface InvokeResult {
  /** The invocations made, each with the number of records it carried. */
  readonly invocations: number[];
  /** The sequence numbers the last invocation reported failed (empty when none did). */
  readonly failed: string[];
  /** Records not sent because an invocation reported failures. */
  readonly notSent: number;
}

/** Consecutive runs of records whose event stays under `maxBytes`. */
export function chunkByPayload(
  records: readonly DynamoDBRecord[],
  maxBytes: number = MAX_PAYLOAD_BYTES,
): DynamoDBRecord[][] {
  const chunks: DynamoDBRecord[][] = [];
  let current: DynamoDBRecord[] = [];
  let size = '{"Records":[]}'.length;
  for (const record of records) {
    const bytes = Buffer.byteLength(JSON.stringify(record)) + 1;
    if (current.length > 0 && size + bytes > maxBytes) {
      chunks.push(current);
      current = [];
      size = '{"Records":[]}'.length;
    }
    if (size + bytes > maxBytes) {
      throw new InvokeError(
        `record ${record.dynamodb?.SequenceNumber} alone is larger than an invocation can carry (${maxBytes} bytes).`,
        0,
      );
    }
    current.push(record);
    size += bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

export async function invokeWithRecords(
  client: LambdaClient,
  target: InvokeTarget,
  records: readonly DynamoDBRecord[],
  options: { maxPayloadBytes?: number } = {},
): Promise<InvokeResult> {
  const chunks = chunkByPayload(records, options.maxPayloadBytes);
  const invocations: number[] = [];
  let invoked = 0;
  for (const [index, chunk] of chunks.entries()) {
    const where = `invocation ${index + 1}/${chunks.length} of "${target.functionName}" (${chunk.length} record(s))`;
    const again =
      'Running the replay again is safe: the records the function already applied are answered from its ' +
      'idempotency records.';
    let response;
    try {
      response = await client.send(
        new InvokeCommand({
          FunctionName: target.functionName,
          InvocationType: 'RequestResponse',
          Payload: Buffer.from(JSON.stringify({ Records: chunk })),
        }),
      );
    } catch (error) {
      throw new InvokeError(
        `${where} failed after ${invoked} of ${records.length} record(s) were handed over: ` +
          `${(error as Error).name}: ${(error as Error).message}. ${again}`,
        invoked,
      );
    }
    invocations.push(chunk.length);
    const text = response.Payload ? Buffer.from(response.Payload).toString('utf8') : '';
    if (response.FunctionError) {
      let detail = text;
      try {
        const { errorType, errorMessage } = JSON.parse(text) as { errorType?: string; errorMessage?: string };
        if (errorType || errorMessage) detail = `${errorType ?? 'Error'}: ${errorMessage ?? ''}`;
      } catch {
        // not JSON: the text as it is
      }
      throw new InvokeError(
        `${where}: the function failed (${response.FunctionError}): ${detail}. Nothing of this invocation is ` +
          `known to be applied; ${records.length - invoked - chunk.length} later record(s) were not sent. ${again}`,
        invoked,
      );
    }
    invoked += chunk.length;
    const failed = batchItemFailuresOf(text, where, invoked);
    if (failed.length > 0) return { invocations, failed, notSent: records.length - invoked };
  }
  return { invocations, failed: [], notSent: 0 };
}

function batchItemFailuresOf(text: string, where: string, invoked: number): string[] {
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    answer = undefined;
  }
  const failures = (answer as { batchItemFailures?: unknown } | null | undefined)?.batchItemFailures;
  if (!Array.isArray(failures)) {
    throw new InvokeError(
      `${where}: the function did not answer with a batch response ({"batchItemFailures":[…]}) but ` +
        `${JSON.stringify(text.slice(0, 200))}: is it the consumer of this stream?`,
      invoked,
    );
  }
  return failures.map((failure) => String((failure as { itemIdentifier?: unknown }).itemIdentifier));
}
