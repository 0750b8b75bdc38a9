/**
 * The asynchronous invocation model, as the object path uses it: S3 publishes an event notification to an SNS
 * topic, SNS delivers it to the Lambda subscription, Lambda puts the event in the function's internal queue and
 * invokes the function from there.
 *
 * - Function errors and timeouts are retried `MaximumRetryAttempts` times (0–2, default 2), one minute after
 *   the first attempt and two minutes after the second (AWS documentation: "with a one-minute wait between the
 *   first two attempts, and two minutes between the second and third attempts").
 * - Throttles are not function errors: the event goes back to the queue and is retried with a backoff from one
 *   second up to five minutes, until the maximum event age.
 * - An event that runs out of retries (`RetriesExhausted`) or of age (`EventAgeExceeded`) goes to the on-failure
 *   destination as an invocation record, and to the function's dead-letter queue if it has one; a success goes
 *   to the on-success destination.
 * - SNS delivery failures (Lambda rejecting the delivery) are SNS's to retry: client errors go straight to the
 *   subscription's dead-letter queue; server errors are retried with SNS's delivery policy for Lambda endpoints
 *   (3 immediate, 2 one second apart, 10 backing off from 1 to 20 s, then every 20 s) before they do.
 */
import { encodeS3ObjectKey, s3ObjectCreatedRecord } from '../../shared/aws-events';
import type {
  EventInvokeConfig,
  S3BucketConfig,
  SnsLambdaSubscriptionConfig,
  SnsTopicConfig,
} from './config';
import type { LambdaService, TimedOutcome } from './lambda';
import { md5Hex } from './md5';
import { ASYNC_THROTTLE_BACKOFF_MAX_MS, throttleBackoffMs } from './backoff';
import type { Random } from './random';
import type { Scheduler } from './scheduler';
import type { Sinks } from './sinks';
import type { InvocationRecord, Trace } from './trace';

const RETRY_DELAYS_MS = [60_000, 120_000];
/** Latency of S3 → SNS and SNS → Lambda hand-offs (the simulator's constants, not AWS figures). */
const S3_NOTIFICATION_DELAY_MS = 50;
const SNS_DELIVERY_DELAY_MS = 20;

export type DeliveryFailure = 'client-error' | 'server-error';

/** Faults SNS can meet when it delivers to Lambda. */
export interface DeliveryFaults {
  snsDeliveryFailure(subscriptionId: string, at: number): DeliveryFailure | undefined;
}

/** SNS's delay before delivery retry `n` (1-based) to a Lambda endpoint, or undefined once it gives up. */
export function snsRetryDelayMs(n: number): number | undefined {
  if (n <= 3) return 0;
  if (n <= 5) return 1000;
  if (n <= 15) return Math.round(1000 * 20 ** ((n - 6) / 9));
  if (n <= 100_015) return 20_000;
  return undefined;
}

interface AsyncEvent {
  readonly requestId: string;
  readonly payload: { readonly Records: readonly unknown[] };
  readonly recordId: string;
  readonly itemId: string;
  readonly acceptedAt: number;
  invocations: number;
  throttles: number;
  last?: { readonly record: InvocationRecord; readonly outcome: TimedOutcome };
  settled: boolean;
}

/** The function's asynchronous event queue and its retry logic. */
export class AsyncInvocationQueue {
  constructor(
    private readonly functionId: string,
    private readonly invokeConfig: EventInvokeConfig,
    private readonly sourceId: string,
    private readonly scheduler: Scheduler,
    private readonly random: Random,
    private readonly lambda: LambdaService,
    private readonly trace: Trace,
    private readonly sinks: Sinks,
    private readonly epochMs: number,
  ) {}

  /** Invoke with InvocationType=Event: accepted (202) at once, run from the queue. */
  accept(payload: AsyncEvent['payload'], recordId: string, itemId: string): string {
    const event: AsyncEvent = {
      requestId: this.random.uuid(),
      payload,
      recordId,
      itemId,
      acceptedAt: this.scheduler.now,
      invocations: 0,
      throttles: 0,
      settled: false,
    };
    this.scheduler.after(0, () => this.attempt(event));
    return event.requestId;
  }

  private get maxAgeMs(): number {
    return this.invokeConfig.maximumEventAgeSeconds * 1000;
  }

  private async attempt(event: AsyncEvent): Promise<void> {
    if (this.scheduler.now - event.acceptedAt > this.maxAgeMs) return this.fail(event, 'EventAgeExceeded');
    const result = await this.lambda.invoke({
      functionId: this.functionId,
      path: 'object',
      sourceId: this.sourceId,
      event: event.payload,
      recordIds: [event.recordId],
      itemIds: [event.itemId],
      requestId: event.requestId,
      reason:
        event.throttles > 0 && event.invocations === 0
          ? 'throttle-retry'
          : event.invocations === 0
            ? 'new'
            : 'retry',
      attempt: event.invocations + 1,
    });
    if (result.status === 'throttled') {
      event.throttles += 1;
      const delay = throttleBackoffMs(event.throttles, ASYNC_THROTTLE_BACKOFF_MAX_MS);
      this.retryLater(event, delay, 'throttled');
      return;
    }
    this.scheduler.after(result.durationMs, () => this.complete(event, result.record, result.outcome));
  }

  private complete(event: AsyncEvent, record: InvocationRecord, outcome: TimedOutcome): void {
    event.invocations += 1;
    event.last = { record, outcome };
    if (outcome.kind === 'returned') {
      event.settled = true;
      if (this.invokeConfig.onSuccessDestinationArn) {
        this.sinks.send(this.invokeConfig.onSuccessDestinationArn, {
          path: 'object',
          kind: 'on-success-destination',
          recordIds: [event.recordId],
          condition: 'Success',
          message: this.invocationRecord(event, 'Success'),
        });
      }
      return;
    }
    if (event.invocations > this.invokeConfig.maximumRetryAttempts)
      return this.fail(event, 'RetriesExhausted');
    const delay = RETRY_DELAYS_MS[Math.min(event.invocations - 1, RETRY_DELAYS_MS.length - 1)];
    this.retryLater(event, delay, 'function error');
  }

  private retryLater(event: AsyncEvent, delayMs: number, why: string): void {
    const expiresAt = event.acceptedAt + this.maxAgeMs;
    if (this.scheduler.now + delayMs > expiresAt) {
      // The event leaves the queue when it reaches the maximum age, before its next attempt is due.
      this.scheduler.at(expiresAt, () => this.fail(event, 'EventAgeExceeded'));
      return;
    }
    this.trace.event({
      at: this.scheduler.now,
      path: 'object',
      kind: 'retry-scheduled',
      sourceId: this.sourceId,
      recordIds: [event.recordId],
      detail: `${why}: request ${event.requestId} retried in ${Math.round(delayMs / 1000)} s`,
    });
    this.scheduler.after(delayMs, () => this.attempt(event));
  }

  private fail(event: AsyncEvent, condition: 'RetriesExhausted' | 'EventAgeExceeded'): void {
    if (event.settled) return;
    event.settled = true;
    const { onFailureDestinationArn } = this.invokeConfig;
    const deadLetterTargetArn = this.lambda.functionConfig(this.functionId).deadLetterTargetArn;
    if (onFailureDestinationArn) {
      this.sinks.send(onFailureDestinationArn, {
        path: 'object',
        kind: 'on-failure-destination',
        recordIds: [event.recordId],
        condition,
        message: this.invocationRecord(event, condition),
      });
    }
    if (deadLetterTargetArn) {
      const error = event.last?.record.error;
      this.sinks.send(deadLetterTargetArn, {
        path: 'object',
        kind: 'function-dead-letter-queue',
        recordIds: [event.recordId],
        condition,
        // Lambda's dead-letter message: the event as body, the error in message attributes.
        message: {
          body: JSON.stringify(event.payload),
          messageAttributes: {
            RequestID: event.requestId,
            ErrorCode: '200',
            ErrorMessage: (error?.errorMessage ?? condition).slice(0, 1024),
          },
        },
      });
    }
    if (!onFailureDestinationArn && !deadLetterTargetArn) {
      this.trace.event({
        at: this.scheduler.now,
        path: 'object',
        kind: 'discarded',
        sourceId: this.sourceId,
        recordIds: [event.recordId],
        detail: `${condition}: request ${event.requestId} discarded (no on-failure destination or dead-letter queue)`,
      });
    }
  }

  /** The invocation record AWS sends to a destination. */
  private invocationRecord(event: AsyncEvent, condition: string): Record<string, unknown> {
    const functionArn = `${this.lambda.functionConfig(this.functionId).functionArn}:$LATEST`;
    const last = event.last;
    return {
      version: '1.0',
      timestamp: new Date(this.epochMs + this.scheduler.now).toISOString(),
      requestContext: {
        requestId: event.requestId,
        functionArn,
        condition,
        approximateInvokeCount: event.invocations,
      },
      requestPayload: event.payload,
      ...(last && {
        responseContext: {
          statusCode: 200,
          executedVersion: '$LATEST',
          ...(last.outcome.kind !== 'returned' && { functionError: 'Unhandled' }),
        },
        responsePayload: responsePayloadOf(last.outcome),
      }),
    };
  }
}

function responsePayloadOf(outcome: TimedOutcome): unknown {
  switch (outcome.kind) {
    case 'returned':
      return outcome.payload ?? null;
    case 'threw':
      return { errorType: outcome.errorType, errorMessage: outcome.errorMessage, trace: [] };
    case 'timed-out':
      return { errorMessage: outcome.errorMessage };
  }
}

/** An SNS notification as SNS builds it for one subscription. */
export interface SnsNotification {
  readonly messageId: string;
  readonly message: string;
  readonly subject?: string;
  readonly timestamp: string;
  readonly recordId: string;
}

export class SnsLambdaSubscription {
  constructor(
    readonly config: SnsLambdaSubscriptionConfig,
    private readonly topic: SnsTopicConfig,
    private readonly queue: AsyncInvocationQueue,
    private readonly scheduler: Scheduler,
    private readonly trace: Trace,
    private readonly sinks: Sinks,
    private readonly faults: DeliveryFaults,
    private readonly region: string,
  ) {}

  deliver(notification: SnsNotification, retry = 0): void {
    const failure = this.faults.snsDeliveryFailure(this.config.id, this.scheduler.now);
    if (!failure) {
      this.queue.accept(
        { Records: [this.snsRecord(notification)] },
        notification.recordId,
        notification.messageId,
      );
      return;
    }
    const nextDelay = failure === 'server-error' ? snsRetryDelayMs(retry + 1) : undefined;
    if (nextDelay !== undefined) {
      if (retry === 0) {
        this.deliveryFailed(
          notification,
          `SNS could not deliver message ${notification.messageId} (server error): retried with SNS's delivery policy`,
        );
      }
      this.scheduler.after(nextDelay, () => this.deliver(notification, retry + 1));
      return;
    }
    const reason =
      failure === 'client-error'
        ? 'client error (e.g. the function or its permission is gone): SNS does not retry'
        : `server error after ${retry} retries`;
    this.deliveryFailed(notification, `SNS gave up on message ${notification.messageId}: ${reason}`);
    if (this.config.deadLetterTargetArn) {
      this.sinks.send(this.config.deadLetterTargetArn, {
        path: 'object',
        kind: 'subscription-dead-letter-queue',
        recordIds: [notification.recordId],
        message: {
          body: JSON.stringify(this.envelope(notification)),
          messageAttributes: {
            ErrorCode: failure === 'client-error' ? 'AccessDenied' : 'ServiceUnavailable',
            ErrorMessage: reason,
            TopicArn: this.topic.topicArn,
          },
        },
      });
    } else {
      this.trace.event({
        at: this.scheduler.now,
        path: 'object',
        kind: 'discarded',
        sourceId: this.config.id,
        recordIds: [notification.recordId],
        detail: `message ${notification.messageId} lost: the subscription has no dead-letter queue`,
      });
    }
  }

  private deliveryFailed(notification: SnsNotification, detail: string): void {
    this.trace.event({
      at: this.scheduler.now,
      path: 'object',
      kind: 'delivery-failed',
      sourceId: this.config.id,
      recordIds: [notification.recordId],
      detail,
    });
  }

  private envelope(notification: SnsNotification): Record<string, unknown> {
    const host = `https://sns.${this.region}.amazonaws.com`;
    return {
      Type: 'Notification',
      MessageId: notification.messageId,
      TopicArn: this.topic.topicArn,
      ...(notification.subject !== undefined && { Subject: notification.subject }),
      Message: notification.message,
      Timestamp: notification.timestamp,
      SignatureVersion: '1',
      Signature: 'EXAMPLE',
      SigningCertUrl: `${host}/SimpleNotificationService-0000000000000000000000.pem`,
      UnsubscribeUrl: `${host}/?Action=Unsubscribe&SubscriptionArn=${this.config.subscriptionArn}`,
      MessageAttributes: {},
    };
  }

  private snsRecord(notification: SnsNotification): Record<string, unknown> {
    return {
      EventSource: 'aws:sns',
      EventVersion: '1.0',
      EventSubscriptionArn: this.config.subscriptionArn,
      Sns: this.envelope(notification),
    };
  }
}

export class SnsTopic {
  private readonly subscriptions: SnsLambdaSubscription[] = [];

  constructor(
    readonly config: SnsTopicConfig,
    private readonly scheduler: Scheduler,
    private readonly random: Random,
    private readonly epochMs: number,
  ) {}

  subscribe(subscription: SnsLambdaSubscription): void {
    this.subscriptions.push(subscription);
  }

  /** Publish: one message id, delivered to every subscription. */
  publish(message: string, recordId: string, subject?: string): string {
    const notification: SnsNotification = {
      messageId: this.random.uuid(),
      message,
      ...(subject !== undefined && { subject }),
      timestamp: new Date(this.epochMs + this.scheduler.now).toISOString(),
      recordId,
    };
    for (const subscription of this.subscriptions) {
      this.scheduler.after(SNS_DELIVERY_DELAY_MS, () => subscription.deliver(notification));
    }
    return notification.messageId;
  }
}

export interface PutObjectOptions {
  readonly recordId: string;
  readonly size: number;
}

export interface S3ObjectCreated {
  /** The S3 event notification (the SNS `Message`), to publish again for a duplicate notification. */
  readonly notification: string;
  readonly versionId?: string;
}

export class S3Bucket {
  private sequencer = 0;

  constructor(
    readonly config: S3BucketConfig,
    private readonly topics: ReadonlyMap<string, SnsTopic>,
    private readonly scheduler: Scheduler,
    private readonly random: Random,
    private readonly region: string,
    private readonly epochMs: number,
  ) {}

  /** PutObject: a new version, and an `ObjectCreated:Put` notification to every matching topic. */
  putObject(key: string, options: PutObjectOptions): S3ObjectCreated {
    const versionId = this.config.versioned ? this.random.hex(32) : undefined;
    this.sequencer += 1;
    const record = s3ObjectCreatedRecord({
      bucket: this.config.bucketName,
      bucketArn: this.config.bucketArn,
      key: encodeS3ObjectKey(key),
      size: options.size,
      eTag: md5Hex(`${key}:${versionId ?? ''}`),
      versionId,
      sequencer: this.sequencer.toString(16).toUpperCase().padStart(18, '0'),
      region: this.region,
      eventTime: new Date(this.epochMs + this.scheduler.now).toISOString(),
      requestId: this.random.hex(16).toUpperCase(),
      hostId: this.random.hex(48),
    });
    const notification = JSON.stringify({ Records: [record] });
    this.notify(notification, options.recordId);
    return { notification, ...(versionId !== undefined && { versionId }) };
  }

  /** S3 sends a notification again (S3 event notifications are delivered at least once). */
  notify(notification: string, recordId: string): void {
    for (const target of this.config.topicNotifications) {
      if (!target.events.some((pattern) => matchesEvent(pattern, 's3:ObjectCreated:Put'))) continue;
      const topic = this.topics.get(target.topicArn);
      if (!topic) continue;
      this.scheduler.after(S3_NOTIFICATION_DELAY_MS, () => {
        topic.publish(notification, recordId, 'Amazon S3 Notification');
      });
    }
  }
}

function matchesEvent(pattern: string, event: string): boolean {
  return pattern.endsWith('*') ? event.startsWith(pattern.slice(0, -1)) : pattern === event;
}
