/**
 * What happened, as the simulator saw it: every invocation with the records it carried and its outcome, every
 * message that reached a dead-letter queue or a destination, every side effect, and notable service events
 * (splits, retries, redrives, expiries). Reports and invariant checks are computed from this alone.
 */
import type { IngestionPath } from './config';

export type InvocationOutcome =
  /** Returned, and the source treats the whole batch as done. */
  | 'success'
  /** Returned a valid partial batch response naming failed items. */
  | 'partial-failure'
  /** Returned a partial batch response the source cannot use: the whole batch failed (AWS docs). */
  | 'invalid-response'
  /** Threw (an unhandled function error). */
  | 'function-error'
  /** Ran past its timeout. */
  | 'timeout';

export interface InvocationRecord {
  /** 1, 2, 3... in the order invocations started. */
  readonly seq: number;
  readonly requestId: string;
  readonly path: IngestionPath;
  readonly functionId: string;
  /** The event source mapping or SNS subscription that invoked it. */
  readonly sourceId: string;
  readonly startedAt: number;
  endedAt: number;
  /** Logical record ids, in event order (a duplicate delivery repeats its record's id). */
  readonly recordIds: readonly string[];
  /** The source's ids of what was delivered: SQS messageIds, Kinesis sequence numbers, SNS MessageIds. */
  readonly itemIds: readonly string[];
  /** Why this invocation happened. */
  readonly reason: InvocationReason;
  /** Attempt number for this batch or event (1 = first). */
  readonly attempt: number;
  /** Kinesis: the shard and the parallelization lane. */
  readonly shardId?: string;
  readonly lane?: number;
  outcome: InvocationOutcome;
  /** Item ids the function reported in `batchItemFailures` (partial failures). */
  failedItemIds: readonly string[];
  error?: { readonly errorType: string; readonly errorMessage: string };
  /** Records whose side effect happened in this invocation. */
  sideEffects: readonly string[];
}

export type InvocationReason =
  'new' | 'redelivery' | 'retry' | 'split' | 'after-partial-failure' | 'throttle-retry';

export type SinkKind =
  /** SQS: the source queue's dead-letter queue (redrive policy). */
  | 'queue-dead-letter-queue'
  /** SNS: the subscription's dead-letter queue (delivery failures). */
  | 'subscription-dead-letter-queue'
  /** Asynchronous invocation: the function's dead-letter queue. */
  | 'function-dead-letter-queue'
  | 'on-failure-destination'
  | 'on-success-destination';

export interface SinkRecord {
  readonly at: number;
  readonly path: IngestionPath;
  readonly kind: SinkKind;
  /** ARN of the queue or topic it went to. */
  readonly targetArn: string;
  /** The logical records this message stands for (for Kinesis metadata: every record of the range). */
  readonly recordIds: readonly string[];
  /** The message as AWS writes it (an SQS message body, a destination invocation record...). */
  readonly message: unknown;
  /** Destination condition (`RetriesExhausted`, `EventAgeExceeded`, `RetryAttemptsExhausted`...). */
  readonly condition?: string;
}

export type ServiceEventKind =
  | 'throttled'
  | 'split'
  | 'retry-scheduled'
  | 'redrive'
  | 'expired'
  | 'discarded'
  | 'delivery-failed'
  | 'stale-receipt-handle'
  | 'checkpoint'
  /** A FIFO queue accepted a send and will not deliver it (deduplication interval). */
  | 'deduplicated'
  /** An event source mapping's filter criteria dropped a record: it never invokes the function. */
  | 'filtered'
  /** A table write that wrote no stream record (it changed nothing, or its condition failed). */
  | 'no-stream-record';

export interface ServiceEvent {
  readonly at: number;
  readonly path: IngestionPath;
  readonly kind: ServiceEventKind;
  readonly sourceId: string;
  readonly recordIds: readonly string[];
  readonly detail: string;
}

export interface SideEffectRecord {
  readonly at: number;
  readonly invocationSeq: number;
  readonly recordId: string;
}

export class Trace {
  readonly invocations: InvocationRecord[] = [];
  readonly sinks: SinkRecord[] = [];
  readonly events: ServiceEvent[] = [];
  readonly sideEffects: SideEffectRecord[] = [];
  /** Side effects the simulator could not tie to a produced record (their `recordKey`s). */
  readonly unattributedSideEffects: { readonly invocationSeq: number; readonly recordKey: string }[] = [];

  invocation(record: InvocationRecord): InvocationRecord {
    this.invocations.push(record);
    return record;
  }

  sink(record: SinkRecord): void {
    this.sinks.push(record);
  }

  event(event: ServiceEvent): void {
    this.events.push(event);
  }

  sideEffect(record: SideEffectRecord): void {
    this.sideEffects.push(record);
  }
}
