/**
 * Re-drives a failure store that is an SQS queue of records (the asynchronous on-failure destination, the SNS
 * subscription DLQ, a stream path's failure queue), one record at a time:
 *
 * 1. receive up to 10 records (at most what `--max` still allows), hidden for the visibility timeout;
 * 2. a record the journal knows (re-driven before, its delete lost) is deleted and not re-driven again;
 * 3. a record the store's `prepare` refuses is reported and kept, untouched;
 * 4. otherwise it is re-driven (after the pause `--rate` asks for, its visibility renewed first), and only when
 *    that succeeded is it written to the journal and deleted;
 * 5. until a receive finds nothing new, or `--max` records were taken.
 *
 * Every record kept (refused, failed, or not deleted) and every record of a dry run is made visible again at the
 * end, so it is where it was, ready for the next run or a person. Nothing is ever deleted that was not re-driven.
 */
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { type Journal, journalKey } from './journal';
import type { Verdict } from './records';
import { addOutcome, emptyCounts, type OutcomeStatus, type StoreReport } from './report';
import type { StoreName } from './stores';

export type ActionResult =
  { readonly ok: true; readonly detail: string } | { readonly ok: false; readonly reason: string };

/** Re-drives a record (`execute`), or says what re-driving it would do (a dry run). */
export type RecordAction = (execute: boolean) => Promise<ActionResult>;

export interface Timing {
  /** ReceiveMessage's long poll, in seconds. @default 2 */
  readonly waitSeconds?: number;
  /** Between two looks at a message move task, in ms. @default 5000 */
  readonly pollMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

export interface DrainTarget {
  readonly store: StoreName;
  readonly label: string;
  readonly queueUrl: string;
  /** The journal's name for this store: the stack and the store. */
  readonly scope: string;
  /** How long a received record stays hidden while this run works on it, in seconds. */
  readonly visibilitySeconds: number;
  /** What a record is, and how it is re-driven (or why it cannot be). Pure. */
  prepare(body: string): Verdict<RecordAction>;
}

export interface DrainOptions {
  readonly dryRun: boolean;
  readonly max?: number;
  /** Records re-driven per second, at most. */
  readonly rate?: number;
  readonly journal: Journal;
  readonly print: (line: string) => void;
  readonly timing?: Timing;
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function describeError(error: unknown): string {
  const { name, message } = error as { name?: string; message?: string };
  return `${name ?? 'Error'}: ${message ?? String(error)}`;
}

/** `ApproximateNumberOfMessages` and `…NotVisible` of a queue. */
export async function queueDepth(
  sqs: SQSClient,
  queueUrl: string,
): Promise<{ visible: number; inFlight: number }> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

export function depthLine(
  label: string,
  queueUrl: string,
  depth: { visible: number; inFlight: number },
): string {
  return (
    `${label} ${queueUrl}: about ${depth.visible} message(s)` +
    (depth.inFlight ? ` (and ${depth.inFlight} in flight: hidden by a receive, not seen by this run)` : '')
  );
}

export async function drainQueue(
  sqs: SQSClient,
  target: DrainTarget,
  options: DrainOptions,
): Promise<StoreReport> {
  const { dryRun, max, rate, journal, print } = options;
  const sleep = options.timing?.sleep ?? sleepFor;
  const now = options.timing?.now ?? Date.now;
  const waitSeconds = options.timing?.waitSeconds ?? 2;
  const report: StoreReport = {
    store: target.store,
    label: target.label,
    queueUrl: target.queueUrl,
    outcomes: [],
    counts: emptyCounts(),
  };
  print(depthLine(target.label, target.queueUrl, await queueDepth(sqs, target.queueUrl)));

  /** Records to make visible again at the end (kept, or looked at by a dry run): receipt handle by message id. */
  const kept = new Map<string, string>();
  const seen = new Set<string>();
  let taken = 0;
  let lastAction = Number.NEGATIVE_INFINITY;

  const outcome = (status: OutcomeStatus, message: Message, summary: string, detail: string) =>
    addOutcome(report, { status, id: message.MessageId ?? '?', summary, detail }, print);
  const keep = (message: Message) => kept.set(message.MessageId ?? '', message.ReceiptHandle ?? '');
  const remove = (message: Message) =>
    sqs.send(new DeleteMessageCommand({ QueueUrl: target.queueUrl, ReceiptHandle: message.ReceiptHandle }));

  async function handle(message: Message): Promise<void> {
    const body = message.Body ?? '';
    const key = journalKey(target.scope, body);
    const earlier = journal.find(key);
    const verdict = target.prepare(body);
    const summary = verdict.summary;
    if (earlier) {
      const when = `redriven at ${earlier.at} (journal ${journal.file ?? 'in memory'})`;
      if (dryRun) {
        keep(message);
        return outcome('would-redrive', message, summary, `would delete only: ${when}; not redriven again`);
      }
      try {
        await remove(message);
        return outcome('already-redriven', message, summary, `${when}; deleted now, not redriven again`);
      } catch (error) {
        keep(message);
        return outcome('left', message, summary, `${when}; still not deleted: ${describeError(error)}`);
      }
    }
    if (!verdict.ok) {
      keep(message);
      return outcome(dryRun ? 'would-leave' : 'left', message, summary, verdict.reason);
    }
    if (dryRun) {
      keep(message);
      const result = await verdict.value(false);
      return result.ok
        ? outcome('would-redrive', message, summary, result.detail)
        : outcome('would-leave', message, summary, result.reason);
    }
    if (rate) {
      const wait = lastAction + 1000 / rate - now();
      if (wait > 0) await sleep(wait);
      lastAction = now();
    }
    try {
      // A fresh visibility timeout for the re-drive, so the record cannot come back while it is worked on.
      await sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: target.queueUrl,
          ReceiptHandle: message.ReceiptHandle,
          VisibilityTimeout: target.visibilitySeconds,
        }),
      );
    } catch (error) {
      keep(message);
      return outcome(
        'left',
        message,
        summary,
        `not redriven: could not keep it hidden (${describeError(error)})`,
      );
    }
    let result: ActionResult;
    try {
      result = await verdict.value(true);
    } catch (error) {
      result = { ok: false, reason: describeError(error) };
    }
    if (!result.ok) {
      keep(message);
      return outcome('left', message, summary, result.reason);
    }
    journal.record({
      at: new Date(now()).toISOString(),
      key,
      store: target.scope,
      messageId: message.MessageId ?? '?',
      detail: result.detail,
    });
    outcome('redriven', message, summary, result.detail);
    try {
      await remove(message);
    } catch (error) {
      keep(message);
      outcome(
        'left',
        message,
        summary,
        `redriven, but could not be deleted (${describeError(error)}): the journal keeps the next run from ` +
          'redriving it again; that run only deletes it',
      );
    }
  }

  try {
    while (max === undefined || taken < max) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: target.queueUrl,
          MaxNumberOfMessages: Math.min(10, max === undefined ? 10 : max - taken),
          VisibilityTimeout: target.visibilitySeconds,
          WaitTimeSeconds: waitSeconds,
          MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
        }),
      );
      const fresh = Messages.filter((message) => !seen.has(message.MessageId ?? ''));
      for (const message of Messages) {
        // A record seen before is back because its visibility ran out: keep its newest receipt to release it.
        if (kept.has(message.MessageId ?? '')) keep(message);
      }
      if (fresh.length === 0) break;
      for (const message of fresh) {
        seen.add(message.MessageId ?? '');
        taken += 1;
        await handle(message);
      }
    }
  } finally {
    for (const [id, receiptHandle] of kept) {
      try {
        await sqs.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: target.queueUrl,
            ReceiptHandle: receiptHandle,
            VisibilityTimeout: 0,
          }),
        );
      } catch (error) {
        print(
          `  note: ${id} stays hidden until its visibility timeout (${target.visibilitySeconds} s) ends: ${describeError(error)}`,
        );
      }
    }
  }
  if (taken === 0) print('  nothing to redrive');
  return report;
}
