/**
 * Amazon SQS (standard queue; the FIFO queue is engine/sqs-fifo.ts) and Lambda's SQS event source mapping, which
 * serves both.
 *
 * Queue: a received message is hidden for the visibility timeout and comes back unless it is deleted with its
 * latest receipt handle; every receive raises `ApproximateReceiveCount`; once a message has been received
 * `maxReceiveCount` times, the next receive moves it to the dead-letter queue instead (redrive policy); a message
 * older than the retention period is dropped.
 *
 * Mapping: pollers receive up to 10 messages per call and build batches of up to `BatchSize`, waiting at most
 * `MaximumBatchingWindowInSeconds`; at most `MaximumConcurrency` batches are in flight (5 to start with when it is
 * unset, "Lambda reads up to five batches at a time", growing by 300 per minute). A successful batch is deleted;
 * with `ReportBatchItemFailures` only the messages not named in `batchItemFailures` are; an error, a timeout or
 * an unusable response leaves the whole batch to reappear after the visibility timeout. A throttled invoke is
 * retried with backoff while the messages are still invisible; then they return to the queue with their receive
 * count raised. On a FIFO queue the mapping works the same: what differs is what a receive returns (sqs-fifo.ts),
 * the event's attributes (`MessageGroupId`, `SequenceNumber`, `MessageDeduplicationId`), and no batching window.
 */
import { readBatchResponse } from './batch-response';
import {
  AWS_DEFAULTS,
  type IngestionPath,
  type SqsEventSourceMappingConfig,
  type SqsQueueConfig,
} from './config';
import type { LambdaService, TimedOutcome } from './lambda';
import { md5Hex } from './md5';
import { MAPPING_THROTTLE_BACKOFF_MAX_MS, throttleBackoffMs } from './backoff';
import type { Random } from './random';
import type { Scheduler } from './scheduler';
import type { Sinks } from './sinks';
import type { InvocationReason, InvocationRecord, Trace } from './trace';

/** Messages one ReceiveMessage call returns at most. */
const RECEIVE_MAX = 10;
/** How fast pollers are added when `MaximumConcurrency` is unset (per minute). */
const SCALE_UP_PER_MINUTE = 300;
const MAX_POLLER_CONCURRENCY = 1250;

export interface SqsMessage {
  readonly messageId: string;
  readonly body: string;
  readonly md5OfBody: string;
  readonly sentAt: number;
  readonly recordId: string;
  /** FIFO: `MessageGroupId`. */
  readonly messageGroupId?: string;
  /** FIFO: `MessageDeduplicationId` (sent, or the SHA-256 of the body with content-based deduplication). */
  readonly messageDeduplicationId?: string;
  /** FIFO: `SequenceNumber`, increasing in the order SQS accepted the messages. */
  readonly sequenceNumber?: string;
  receiveCount: number;
  firstReceiveAt?: number;
  receiptHandle?: string;
  invisibleUntil?: number;
  deleted: boolean;
}

/** What a producer sends besides the body (FIFO queues only). */
export interface SendOptions {
  readonly messageGroupId?: string;
  readonly messageDeduplicationId?: string;
  readonly messageId?: string;
}

/**
 * A standard queue, and what a FIFO queue (engine/sqs-fifo.ts) shares with it: receive counts, the visibility
 * timeout, receipt handles, retention and the redrive policy.
 */
export class SqsQueue {
  /** Visible messages, oldest first (a head index instead of shift() keeps receives O(1)). */
  private visible: SqsMessage[] = [];
  private head = 0;
  private readonly listeners: (() => void)[] = [];
  /** Every message ever sent (deleted ones flagged). */
  readonly messages: SqsMessage[] = [];

  constructor(
    readonly config: SqsQueueConfig,
    protected readonly scheduler: Scheduler,
    protected readonly random: Random,
    protected readonly trace: Trace,
    protected readonly sinks: Sinks,
    protected readonly epochMs: number,
    /** The ingestion path its events belong to. */
    readonly path: IngestionPath = 'sqs',
  ) {}

  /**
   * SendMessage. Returns the message, or undefined when SQS accepted the send but will not deliver it (a FIFO
   * queue's duplicate within the deduplication interval).
   */
  send(body: string, recordId: string, options: SendOptions = {}): SqsMessage | undefined {
    const message = this.newMessage(body, recordId, options);
    this.messages.push(message);
    this.makeVisible(message);
    return message;
  }

  protected newMessage(
    body: string,
    recordId: string,
    options: SendOptions,
    fifo?: Pick<SqsMessage, 'messageGroupId' | 'messageDeduplicationId' | 'sequenceNumber'>,
  ): SqsMessage {
    return {
      messageId: options.messageId ?? this.random.uuid(),
      body,
      md5OfBody: md5Hex(body),
      sentAt: this.scheduler.now,
      recordId,
      ...fifo,
      receiveCount: 0,
      deleted: false,
    };
  }

  /** Calls `listener` whenever messages become receivable. */
  onVisible(listener: () => void): void {
    this.listeners.push(listener);
  }

  protected notify(): void {
    for (const listener of this.listeners) listener();
  }

  get visibleCount(): number {
    return this.visible.length - this.head;
  }

  /** Messages a receive could return now (on a FIFO queue: those of message groups with nothing in flight). */
  get receivableCount(): number {
    return this.visibleCount;
  }

  /** ReceiveMessage: up to `max` visible messages, hidden for the visibility timeout from now. */
  receive(max: number): SqsMessage[] {
    const received: SqsMessage[] = [];
    while (received.length < max && this.head < this.visible.length) {
      const message = this.visible[this.head++];
      if (message.deleted || this.leavesOnReceive(message)) continue;
      this.hide(message);
      received.push(message);
    }
    this.compact();
    return received;
  }

  /**
   * What happens to a message about to be received that cannot be: past the retention period it is dropped; once
   * received `maxReceiveCount` times it moves to the dead-letter queue (redrive policy). True if it left.
   */
  protected leavesOnReceive(message: SqsMessage): boolean {
    const now = this.scheduler.now;
    const redrive = this.config.redrivePolicy;
    if (now - message.sentAt >= this.config.messageRetentionSeconds * 1000) {
      this.remove(message);
      this.trace.event({
        at: now,
        path: this.path,
        kind: 'expired',
        sourceId: this.config.id,
        recordIds: [message.recordId],
        detail: `message ${message.messageId} dropped: older than the retention period (${this.config.messageRetentionSeconds} s)`,
      });
      return true;
    }
    if (redrive && message.receiveCount >= redrive.maxReceiveCount) {
      this.remove(message);
      this.trace.event({
        at: now,
        path: this.path,
        kind: 'redrive',
        sourceId: this.config.id,
        recordIds: [message.recordId],
        detail: `message ${message.messageId}${message.messageGroupId !== undefined ? ` (group ${message.messageGroupId})` : ''} moved to the dead-letter queue after ${message.receiveCount} receives (maxReceiveCount ${redrive.maxReceiveCount})`,
      });
      this.sinks.send(redrive.deadLetterTargetArn, {
        path: this.path,
        kind: 'queue-dead-letter-queue',
        recordIds: [message.recordId],
        message: this.deadLetterMessage(message),
      });
      return true;
    }
    return false;
  }

  /** A standard queue keeps the message id, body and original SentTimestamp when it moves a message. */
  protected deadLetterMessage(message: SqsMessage): unknown {
    return {
      messageId: message.messageId,
      body: message.body,
      attributes: {
        ApproximateReceiveCount: String(message.receiveCount),
        SentTimestamp: String(this.epochMs + message.sentAt),
        DeadLetterQueueSourceArn: this.config.queueArn,
      },
    };
  }

  /** Received: its count raised, a new receipt handle, hidden for the visibility timeout. */
  protected hide(message: SqsMessage): void {
    const now = this.scheduler.now;
    message.receiveCount += 1;
    message.firstReceiveAt ??= now;
    const handle = `${this.random.hex(16)}-${message.messageId}`;
    message.receiptHandle = handle;
    message.invisibleUntil = now + this.config.visibilityTimeoutSeconds * 1000;
    this.scheduler.at(message.invisibleUntil, () => {
      // Visible again unless deleted or received again meanwhile (a newer handle).
      if (!message.deleted && message.receiptHandle === handle) this.makeVisible(message);
    });
  }

  /** DeleteMessage with a receipt handle: only the latest handle of a message deletes it. */
  delete(message: SqsMessage, receiptHandle: string): boolean {
    if (message.deleted || message.receiptHandle !== receiptHandle) return false;
    this.remove(message);
    return true;
  }

  protected remove(message: SqsMessage): void {
    message.deleted = true;
  }

  protected makeVisible(message: SqsMessage): void {
    message.invisibleUntil = undefined;
    this.visible.push(message);
    this.notify();
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.visible.length) {
      this.visible = this.visible.slice(this.head);
      this.head = 0;
    }
  }
}

interface Batch {
  readonly messages: SqsMessage[];
  readonly handles: string[];
  readonly startedAt: number;
  throttles: number;
}

/** The event record Lambda builds for one SQS message. */
export function sqsEventRecord(
  message: SqsMessage,
  queue: SqsQueueConfig,
  region: string,
  epochMs: number,
): Record<string, unknown> {
  return {
    messageId: message.messageId,
    receiptHandle: message.receiptHandle,
    body: message.body,
    attributes: {
      ApproximateReceiveCount: String(message.receiveCount),
      SentTimestamp: String(epochMs + message.sentAt),
      // A FIFO queue's messages carry their position and group (Lambda's SQS FIFO event).
      ...(message.sequenceNumber !== undefined && { SequenceNumber: message.sequenceNumber }),
      ...(message.messageGroupId !== undefined && { MessageGroupId: message.messageGroupId }),
      SenderId: 'AIDAIENQZJOLO23YVJ4VO',
      ...(message.messageDeduplicationId !== undefined && {
        MessageDeduplicationId: message.messageDeduplicationId,
      }),
      ApproximateFirstReceiveTimestamp: String(epochMs + (message.firstReceiveAt ?? message.sentAt)),
    },
    messageAttributes: {},
    md5OfBody: message.md5OfBody,
    eventSource: 'aws:sqs',
    eventSourceARN: queue.queueArn,
    awsRegion: region,
  };
}

export class SqsEventSourcePoller {
  private active = 0;
  private gathering?: Batch;
  private pollScheduled = false;
  private backoffUntil = 0;
  private firstMessageAt?: number;

  constructor(
    readonly mapping: SqsEventSourceMappingConfig,
    private readonly queue: SqsQueue,
    private readonly scheduler: Scheduler,
    private readonly lambda: LambdaService,
    private readonly trace: Trace,
    private readonly region: string,
    /** Epoch of the virtual clock, for SentTimestamp-style attributes. */
    private readonly epochMs: number,
  ) {
    if (queue.config.fifo && mapping.maximumBatchingWindowSeconds > 0) {
      // "Batch window: not supported for FIFO queues" (Lambda's SQS event source parameters).
      throw new Error(
        `Event source mapping ${mapping.id}: a FIFO queue takes no batching window (MaximumBatchingWindowInSeconds ${mapping.maximumBatchingWindowSeconds}).`,
      );
    }
    queue.onVisible(() => this.wake());
  }

  /** Concurrent batches the mapping may have now. */
  concurrency(): number {
    if (this.mapping.maximumConcurrency !== undefined) return this.mapping.maximumConcurrency;
    const minutes = Math.floor((this.scheduler.now - (this.firstMessageAt ?? this.scheduler.now)) / 60_000);
    return Math.min(
      MAX_POLLER_CONCURRENCY,
      AWS_DEFAULTS.sqsInitialConcurrency + SCALE_UP_PER_MINUTE * minutes,
    );
  }

  private wake(): void {
    if (this.pollScheduled || !this.mapping.enabled) return;
    this.pollScheduled = true;
    this.scheduler.at(Math.max(this.scheduler.now, this.backoffUntil), () => {
      this.pollScheduled = false;
      return this.poll();
    });
  }

  private async poll(): Promise<void> {
    if (this.scheduler.now < this.backoffUntil) return this.wake();
    this.firstMessageAt ??= this.scheduler.now;
    const windowMs = this.mapping.maximumBatchingWindowSeconds * 1000;
    const batchSize = this.mapping.batchSize;
    if (windowMs === 0) {
      while (this.active < this.concurrency() && this.queue.receivableCount > 0) {
        const messages = this.queue.receive(Math.min(RECEIVE_MAX, batchSize));
        if (messages.length === 0) break;
        this.active += 1;
        await this.invoke(this.newBatch(messages), 'new');
      }
      return;
    }
    // With a batching window: one batch gathers at a time, topped up as messages arrive, sent when full or
    // when the window ends.
    if (!this.gathering) {
      if (this.active >= this.concurrency() || this.queue.receivableCount === 0) return;
      const messages = this.queue.receive(Math.min(RECEIVE_MAX, batchSize));
      if (messages.length === 0) return;
      this.active += 1;
      const batch = this.newBatch(messages);
      this.gathering = batch;
      this.scheduler.after(windowMs, () => (this.gathering === batch ? this.flush() : undefined));
    }
    const batch = this.gathering;
    while (batch.messages.length < batchSize && this.queue.receivableCount > 0) {
      const more = this.queue.receive(Math.min(RECEIVE_MAX, batchSize - batch.messages.length));
      if (more.length === 0) break;
      batch.messages.push(...more);
      batch.handles.push(...more.map((m) => m.receiptHandle!));
    }
    if (batch.messages.length >= batchSize) await this.flush();
  }

  private async flush(): Promise<void> {
    const batch = this.gathering;
    if (!batch) return;
    this.gathering = undefined;
    await this.invoke(batch, 'new');
    this.wake();
  }

  private newBatch(messages: SqsMessage[]): Batch {
    return {
      messages,
      handles: messages.map((m) => m.receiptHandle!),
      startedAt: this.scheduler.now,
      throttles: 0,
    };
  }

  private async invoke(batch: Batch, reason: InvocationReason): Promise<void> {
    const records = batch.messages.map((m) =>
      sqsEventRecord(m, this.queue.config, this.region, this.epochMs),
    );
    const result = await this.lambda.invoke({
      functionId: this.mapping.functionId,
      path: this.queue.path,
      sourceId: this.mapping.id,
      event: { Records: records },
      recordIds: batch.messages.map((m) => m.recordId),
      itemIds: batch.messages.map((m) => m.messageId),
      reason: reason === 'new' && batch.messages.some((m) => m.receiveCount > 1) ? 'redelivery' : reason,
      attempt: Math.max(...batch.messages.map((m) => m.receiveCount)),
    });
    if (result.status === 'throttled') {
      this.onThrottled(batch);
      return;
    }
    const { record, outcome, durationMs } = result;
    this.scheduler.after(durationMs, () => this.complete(batch, record, outcome));
  }

  private onThrottled(batch: Batch): void {
    batch.throttles += 1;
    const delay = throttleBackoffMs(batch.throttles, MAPPING_THROTTLE_BACKOFF_MAX_MS);
    // Fewer concurrent batches while throttled: the pollers back off too.
    this.backoffUntil = Math.max(this.backoffUntil, this.scheduler.now + delay);
    const hiddenUntil = Math.min(...batch.messages.map((m) => m.invisibleUntil ?? 0));
    if (this.scheduler.now + delay < hiddenUntil) {
      this.scheduler.after(delay, () => this.invoke(batch, 'throttle-retry'));
    } else {
      // Give up on this batch: its messages reappear when their visibility timeout ends.
      this.active -= 1;
      this.wake();
    }
  }

  private complete(batch: Batch, record: InvocationRecord, outcome: TimedOutcome): void {
    this.active -= 1;
    let succeeded: readonly SqsMessage[] = [];
    if (outcome.kind === 'returned') {
      if (!this.mapping.reportBatchItemFailures) {
        succeeded = batch.messages;
      } else {
        const response = readBatchResponse(outcome.payload, new Set(batch.messages.map((m) => m.messageId)));
        if (response.kind === 'success') {
          succeeded = batch.messages;
        } else if (response.kind === 'partial') {
          const failed = new Set(response.failedItemIds);
          succeeded = batch.messages.filter((m) => !failed.has(m.messageId));
          record.outcome = 'partial-failure';
          record.failedItemIds = response.failedItemIds;
        } else {
          record.outcome = 'invalid-response';
          record.error = { errorType: 'InvalidBatchResponse', errorMessage: response.reason };
        }
      }
    }
    const done = new Set(succeeded);
    batch.messages.forEach((message, index) => {
      if (!done.has(message)) return;
      if (!this.queue.delete(message, batch.handles[index])) {
        this.trace.event({
          at: this.scheduler.now,
          path: this.queue.path,
          kind: 'stale-receipt-handle',
          sourceId: this.mapping.id,
          recordIds: [message.recordId],
          detail: `message ${message.messageId} not deleted: it became visible again (and was received again) before the invocation ended`,
        });
      }
    });
    this.wake();
  }
}
