/**
 * An Amazon SQS FIFO queue: what differs from a standard queue (engine/sqs.ts), which it extends. Each statement is
 * from the AWS documentation, and test/tools/local/sqs-fifo.test.ts checks each one:
 *
 * - **Message groups, in order.** Every message has a `MessageGroupId` (a send without one fails); "messages with the
 *   same message group ID are sent and received in strict order" ("FIFO queue delivery logic").
 * - **A batch may mix groups, in order.** A receive "attempts to return as many messages with the same message group
 *   ID as possible"; with fewer than it asks for in that group, it "may include messages from other message group
 *   IDs in the same batch, but each group retains FIFO order" (same page). Here a receive takes the groups in the
 *   order of their oldest message, each group's messages in order, until it has `max`.
 * - **A group with messages in flight delivers none of its later messages** "unless the currently received messages
 *   are deleted, or they become visible again (for example, after the visibility timeout expires)" (same page;
 *   Knowledge Center "sqs-fifo-messages-not-returned": "Inflight messages block delivery of available messages
 *   within the same message group"). So a failed group's returned messages, at the head of their group, are
 *   received again before any later message of the group: Lambda "attempts all retries on the affected messages
 *   before Lambda receives additional messages from the same group" ("Configuring scaling behavior for SQS event
 *   source mappings").
 * - **Concurrency** follows: each batch in flight holds its groups, so concurrent batches are at most the active
 *   message groups, and at most `MaximumConcurrency` (the mapping): "concurrent invocations are capped at the number
 *   of message group IDs or the maximum concurrency setting, whichever is lower" (same page).
 * - **Deduplication.** A send whose deduplication id (the `MessageDeduplicationId`, or with
 *   `ContentBasedDeduplication` the SHA-256 of the body; a send with neither fails) matches one accepted within the
 *   last 5 minutes "is accepted successfully but isn't delivered" (SendMessage); SQS keeps tracking the id after the
 *   message is received and deleted ("FIFO queue key terms"). With `DeduplicationScope: messageGroup` (high
 *   throughput) only messages of the same group are compared.
 * - **Dead-letter queue.** As on a standard queue, once a message was received `maxReceiveCount` times the next
 *   receive moves it to the dead-letter queue (a FIFO queue), where "the original message's deduplication ID will be
 *   replaced with the original message's ID" ("Learn how to configure a dead-letter queue redrive"); its group's
 *   later messages are then received. Every receive counts, so a group's later messages received with a failing
 *   one (and returned unprocessed with it) count the same receives.
 * - `SequenceNumber`: "large, non-consecutive", increasing within a message group; here increasing per queue.
 */
import { createHash } from 'node:crypto';
import { SqsQueue, type SendOptions, type SqsMessage } from './sqs';

/** "The deduplication interval is 5 minutes" (SendMessage, MessageDeduplicationId). */
export const DEDUPLICATION_INTERVAL_MS = 5 * 60_000;

/** Where SequenceNumbers start: 20 digits, like SQS's. */
const SEQUENCE_BASE = 18_849_496_460_467_696_128n;

interface MessageGroup {
  readonly id: string;
  /** The group's messages in the order SQS accepted them; those before `head` have left the queue. */
  readonly messages: SqsMessage[];
  head: number;
  /** Messages received and not yet deleted or visible again: while above 0, the group delivers nothing. */
  inFlight: number;
}

export class FifoSendError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FifoSendError';
  }
}

export class SqsFifoQueue extends SqsQueue {
  private readonly groups = new Map<string, MessageGroup>();
  /** Deduplication ids (per scope) → end of their interval. */
  private readonly deduplication = new Map<string, number>();
  private sequence = 0n;
  private readonly groupOf = new Map<SqsMessage, MessageGroup>();

  override send(body: string, recordId: string, options: SendOptions = {}): SqsMessage | undefined {
    const now = this.scheduler.now;
    const groupId = options.messageGroupId;
    if (groupId === undefined || groupId === '') {
      throw new FifoSendError(
        `SendMessage to ${this.config.queueName}: "The request must contain the parameter MessageGroupId."`,
      );
    }
    const deduplicationId =
      options.messageDeduplicationId ??
      (this.config.contentBasedDeduplication
        ? createHash('sha256').update(body, 'utf8').digest('hex')
        : undefined);
    if (deduplicationId === undefined) {
      throw new FifoSendError(
        `SendMessage to ${this.config.queueName}: the queue has no content-based deduplication, so the message needs a MessageDeduplicationId.`,
      );
    }
    const scopeKey =
      this.config.deduplicationScope === 'messageGroup'
        ? `${groupId}\u0000${deduplicationId}`
        : deduplicationId;
    const until = this.deduplication.get(scopeKey);
    if (until !== undefined && now < until) {
      this.trace.event({
        at: now,
        path: this.path,
        kind: 'deduplicated',
        sourceId: this.config.id,
        recordIds: [recordId],
        detail: `send to group ${groupId} accepted and not delivered: deduplication id ${deduplicationId.slice(0, 16)}… was accepted ${((now - (until - DEDUPLICATION_INTERVAL_MS)) / 1000).toFixed(1)} s ago (interval 5 min${this.config.deduplicationScope === 'messageGroup' ? ', per message group' : ''})`,
      });
      return undefined;
    }
    this.deduplication.set(scopeKey, now + DEDUPLICATION_INTERVAL_MS);
    this.sequence += 1n;
    const message = this.newMessage(body, recordId, options, {
      messageGroupId: groupId,
      messageDeduplicationId: deduplicationId,
      sequenceNumber: (SEQUENCE_BASE + this.sequence * 1024n).toString(),
    });
    this.messages.push(message);
    let group = this.groups.get(groupId);
    if (!group) {
      group = { id: groupId, messages: [], head: 0, inFlight: 0 };
      this.groups.set(groupId, group);
    }
    group.messages.push(message);
    this.groupOf.set(message, group);
    if (group.inFlight === 0) this.notify();
    return message;
  }

  /** Messages of the groups with nothing in flight. */
  override get receivableCount(): number {
    let count = 0;
    for (const group of this.groups.values()) {
      if (group.inFlight === 0) count += this.liveCount(group);
    }
    return count;
  }

  override get visibleCount(): number {
    let count = 0;
    for (const group of this.groups.values()) {
      for (let i = group.head; i < group.messages.length; i += 1) {
        const message = group.messages[i];
        if (!message.deleted && message.invisibleUntil === undefined) count += 1;
      }
    }
    return count;
  }

  /** Groups with a message in the queue (in flight or not): the active message groups. */
  get activeGroups(): number {
    let count = 0;
    for (const group of this.groups.values()) if (this.liveCount(group) > 0) count += 1;
    return count;
  }

  /**
   * ReceiveMessage on a FIFO queue: the groups with nothing in flight, oldest first message first; as many messages
   * of a group as possible, in order, then the next group's.
   */
  override receive(max: number): SqsMessage[] {
    const received: SqsMessage[] = [];
    const candidates = [...this.groups.values()]
      .filter((group) => group.inFlight === 0 && this.advance(group))
      .sort((a, b) => compareSequence(a.messages[a.head], b.messages[b.head]));
    for (const group of candidates) {
      for (let i = group.head; i < group.messages.length && received.length < max; i += 1) {
        const message = group.messages[i];
        if (message.deleted || this.leavesOnReceive(message)) continue;
        this.hide(message);
        group.inFlight += 1;
        received.push(message);
      }
      this.advance(group);
      if (received.length >= max) break;
    }
    return received;
  }

  override delete(message: SqsMessage, receiptHandle: string): boolean {
    const inFlight = message.invisibleUntil !== undefined;
    if (!super.delete(message, receiptHandle)) return false;
    const group = this.groupOf.get(message)!;
    if (inFlight) this.release(group);
    this.advance(group);
    return true;
  }

  /** A moved message keeps its id and body; its deduplication id becomes its message id (AWS docs, above). */
  protected override deadLetterMessage(message: SqsMessage): unknown {
    return {
      messageId: message.messageId,
      body: message.body,
      attributes: {
        ApproximateReceiveCount: String(message.receiveCount),
        SentTimestamp: String(this.epochMs + message.sentAt),
        MessageGroupId: message.messageGroupId,
        MessageDeduplicationId: message.messageId,
        DeadLetterQueueSourceArn: this.config.queueArn,
      },
    };
  }

  protected override makeVisible(message: SqsMessage): void {
    message.invisibleUntil = undefined;
    const group = this.groupOf.get(message);
    // A message sent is made visible by send() itself; this is a received message whose visibility timeout ended.
    if (group) this.release(group);
  }

  private release(group: MessageGroup): void {
    group.inFlight -= 1;
    if (group.inFlight === 0 && this.advance(group)) this.notify();
  }

  /** Moves the group's head past the messages that left; true if a message is left. */
  private advance(group: MessageGroup): boolean {
    while (group.head < group.messages.length && group.messages[group.head].deleted) {
      this.groupOf.delete(group.messages[group.head]);
      group.head += 1;
    }
    if (group.head > 256 && group.head * 2 > group.messages.length) {
      group.messages.splice(0, group.head);
      group.head = 0;
    }
    return group.head < group.messages.length;
  }

  private liveCount(group: MessageGroup): number {
    let count = 0;
    for (let i = group.head; i < group.messages.length; i += 1) if (!group.messages[i].deleted) count += 1;
    return count;
  }
}

function compareSequence(a: SqsMessage, b: SqsMessage): number {
  const x = BigInt(a.sequenceNumber!);
  const y = BigInt(b.sequenceNumber!);
  return x < y ? -1 : x > y ? 1 : 0;
}
