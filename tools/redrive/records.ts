/**
 * What `npm run redrive` reads from a failure store, as pure functions: each message body becomes either what to
 * re-drive it with, or the reason it must stay where it is. No AWS calls here.
 *
 * - The object path's asynchronous **on-failure destination** holds Lambda's invocation records
 *   (`requestContext`, `requestPayload`, `responseContext`, `responsePayload`): the original event is
 *   `requestPayload`. Lambda drops the payloads of a record that would be too large for the destination, so a
 *   record can hold no event at all.
 * - The object path's **SNS subscription DLQ** holds the notifications SNS could not hand to Lambda, as SNS
 *   delivers them to a queue: the JSON envelope (`Type`, `MessageId`, `TopicArn`, `Message`, `Timestamp`,
 *   `SignatureVersion`, `Signature`, `SigningCertURL`, `UnsubscribeURL`). Lambda's SNS event carries the same
 *   fields, with `SigningCertUrl` and `UnsubscribeUrl` spelled so, inside `{ Records: [{ EventSource: 'aws:sns',
 *   EventVersion, EventSubscriptionArn, Sns }] }`.
 * - The stream paths' **failure queues** hold batch metadata, which `npm run replay` reads itself; only a summary is
 *   made here.
 */

/** What to do with one message: re-drive it with `value`, or leave it for `reason`. */
export type Verdict<T> =
  | { readonly ok: true; readonly value: T; readonly summary: string }
  | { readonly ok: false; readonly reason: string; readonly summary: string };

type JsonObject = Record<string, unknown>;

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function parseObject(text: string): JsonObject | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** An SNS notification envelope's message, parsed; the value itself when it is not an envelope. */
function unwrapNotification(value: JsonObject): JsonObject {
  if (value.Type === 'Notification' && typeof value.Message === 'string') {
    return parseObject(value.Message) ?? value;
  }
  return value;
}

/** `arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]` → `<name>` (a bare name stays as it is). */
export function functionNameOfArn(arn: string): string {
  const marker = ':function:';
  const at = arn.indexOf(marker);
  return at < 0 ? arn : arn.slice(at + marker.length).split(':')[0];
}

/** The S3 objects an SNS event (or an S3 event notification) names, as `s3://bucket/key (version)`. */
export function objectsOf(event: unknown): string[] {
  const objects: string[] = [];
  const visit = (value: unknown, depth: number): void => {
    if (depth > 3) return;
    if (typeof value === 'string') {
      const parsed = parseObject(value);
      if (parsed) visit(parsed, depth + 1);
      return;
    }
    if (!isObject(value)) return;
    for (const record of Array.isArray(value.Records) ? value.Records : []) {
      if (!isObject(record)) continue;
      const s3 = record.s3;
      if (isObject(s3) && isObject(s3.bucket) && isObject(s3.object)) {
        const version = s3.object.versionId ?? s3.object.sequencer;
        objects.push(
          `s3://${String(s3.bucket.name)}/${String(s3.object.key)}${version ? ` (version ${String(version)})` : ''}`,
        );
      } else if (isObject(record.Sns)) {
        visit(record.Sns.Message, depth + 1);
      }
    }
    if (value.Type === 'Notification') visit(value.Message, depth + 1);
  };
  visit(event, 0);
  return objects;
}

const objectsText = (event: unknown) => {
  const objects = objectsOf(event);
  return objects.length > 0 ? objects.join(', ') : 'no S3 object named';
};

export interface InvocationToRedrive {
  /** The original event: what the function is invoked with again. */
  readonly payload: JsonObject;
  readonly requestId?: string;
}

/**
 * A message of the asynchronous on-failure destination: the invocation record (or an SNS notification wrapping
 * one, for a topic destination delivered to a queue), for the function `functionName`.
 */
export function parseInvocationRecord(body: string, functionName: string): Verdict<InvocationToRedrive> {
  const parsed = parseObject(body);
  if (!parsed) return { ok: false, reason: 'not JSON: not an invocation record', summary: preview(body) };
  const record = unwrapNotification(parsed);
  const context = record.requestContext;
  if (!isObject(context) || !('requestPayload' in record || 'responseContext' in record)) {
    return {
      ok: false,
      reason: 'not an invocation record of an asynchronous invocation (no requestContext and requestPayload)',
      summary: preview(body),
    };
  }
  const response = isObject(record.responsePayload) ? record.responsePayload : undefined;
  const error = response
    ? `${String(response.errorType ?? 'error')}: ${String(response.errorMessage ?? '')}`.trim()
    : 'no error payload';
  const attempts = typeof context.approximateInvokeCount === 'number' ? context.approximateInvokeCount : '?';
  const requestId = typeof context.requestId === 'string' ? context.requestId : undefined;
  const head =
    `request ${requestId ?? '?'}, ${String(context.condition ?? 'condition unknown')} after ${attempts} ` +
    `attempt(s)${typeof record.timestamp === 'string' ? ` at ${record.timestamp}` : ''}, ${error}`;
  const recordFunction =
    typeof context.functionArn === 'string' ? functionNameOfArn(context.functionArn) : undefined;
  if (recordFunction !== undefined && recordFunction !== functionName) {
    return {
      ok: false,
      reason: `the record of function "${recordFunction}", not of this stack's "${functionName}": not re-driven into it`,
      summary: head,
    };
  }
  const payload = record.requestPayload;
  if (payload === undefined) {
    return {
      ok: false,
      reason:
        'requestPayload is missing: Lambda drops the payloads of a record too large for the destination, so the ' +
        `event is not here; find it by the request id (${requestId ?? '?'}) in the function's logs`,
      summary: head,
    };
  }
  if (!isObject(payload)) {
    return {
      ok: false,
      reason:
        `requestPayload is ${payload === null ? 'null' : Array.isArray(payload) ? 'a list' : `a ${typeof payload}`}, ` +
        'not the event object the function was invoked with (truncated, or not JSON): not re-driven',
      summary: head,
    };
  }
  return { ok: true, value: { payload, requestId }, summary: `${head}; ${objectsText(payload)}` };
}

export interface NotificationToRedrive {
  /** Lambda's SNS event for the notification: what the subscription would have invoked the function with. */
  readonly event: { Records: JsonObject[] };
  readonly messageId: string;
}

const REQUIRED_ENVELOPE_FIELDS = ['MessageId', 'TopicArn', 'Message', 'Timestamp', 'UnsubscribeURL'] as const;

/** A message of the SNS subscription DLQ of the topic `topicArn`. */
export function parseSubscriptionDeadLetter(body: string, topicArn: string): Verdict<NotificationToRedrive> {
  const envelope = parseObject(body);
  if (!envelope) return { ok: false, reason: 'not JSON: not an SNS notification', summary: preview(body) };
  if (envelope.Type !== 'Notification') {
    return {
      ok: false,
      reason:
        'not an SNS notification envelope (Type "Notification"): without its message id and topic it cannot be ' +
        'delivered as SNS would have; publish it to the topic again by hand if it should run',
      summary: preview(body),
    };
  }
  const missing = REQUIRED_ENVELOPE_FIELDS.filter((field) => typeof envelope[field] !== 'string');
  const summary = `SNS message ${String(envelope.MessageId ?? '?')}; ${objectsText(envelope)}`;
  if (missing.length > 0) {
    return { ok: false, reason: `the notification has no ${missing.join(', ')}`, summary };
  }
  if (envelope.TopicArn !== topicArn) {
    return {
      ok: false,
      reason: `a notification of topic ${String(envelope.TopicArn)}, not of this stack's ${topicArn}`,
      summary,
    };
  }
  const unsubscribeUrl = envelope.UnsubscribeURL as string;
  let subscriptionArn: string | null;
  try {
    subscriptionArn = new URL(unsubscribeUrl).searchParams.get('SubscriptionArn');
  } catch {
    subscriptionArn = null;
  }
  if (!subscriptionArn) {
    return { ok: false, reason: `UnsubscribeURL names no subscription: ${unsubscribeUrl}`, summary };
  }
  const sns: JsonObject = {
    Type: 'Notification',
    MessageId: envelope.MessageId,
    TopicArn: envelope.TopicArn,
    Subject: envelope.Subject ?? null,
    Message: envelope.Message,
    Timestamp: envelope.Timestamp,
    SignatureVersion: envelope.SignatureVersion,
    Signature: envelope.Signature,
    SigningCertUrl: envelope.SigningCertURL,
    UnsubscribeUrl: unsubscribeUrl,
    MessageAttributes: isObject(envelope.MessageAttributes) ? envelope.MessageAttributes : {},
  };
  for (const key of Object.keys(sns)) if (sns[key] === undefined) delete sns[key];
  return {
    ok: true,
    value: {
      messageId: envelope.MessageId as string,
      event: {
        Records: [
          { EventSource: 'aws:sns', EventVersion: '1.0', EventSubscriptionArn: subscriptionArn, Sns: sns },
        ],
      },
    },
    summary,
  };
}

/** One line about a stream failure record (Kinesis or DynamoDB Streams), raw or in an SNS envelope. */
export function summarizeStreamFailure(body: string): string {
  const parsed = parseObject(body);
  if (!parsed) return 'not a stream failure record';
  const record = unwrapNotification(parsed);
  const info = record.KinesisBatchInfo ?? record.DDBStreamBatchInfo;
  if (!isObject(info)) return 'not a stream failure record';
  const context = isObject(record.requestContext) ? record.requestContext : {};
  return (
    `${String(info.batchSize ?? '?')} record(s) of ${String(info.shardId ?? '?')}, ` +
    `${String(info.startSequenceNumber ?? '?')}..${String(info.endSequenceNumber ?? '?')}, ` +
    `${String(context.condition ?? 'condition unknown')}`
  );
}

/** The start of a body, on one line, for a report. */
export function preview(body: string, length = 120): string {
  const line = body.replace(/\s+/g, ' ').trim();
  return line.length > length ? `${line.slice(0, length - 1)}…` : line;
}
