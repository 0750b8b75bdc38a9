/**
 * Re-drives the dead-letter queue of an SQS (or SQS FIFO) source queue with SQS's own message move task:
 * `StartMessageMoveTask` with the DLQ as the source and no destination, which moves each message back to the
 * queue it came from, at `--rate` messages a second (`MaxNumberOfMessagesPerSecond`, at most 500) or SQS's own
 * pace; then `ListMessageMoveTasks` until the task has ended. SQS runs one task per queue at a time: while one
 * runs (started by a person, the console or an earlier run), this refuses rather than start a second.
 *
 * The messages never pass through this process: nothing is received, sent or deleted here, so the tool cannot
 * lose or copy one. `--max N` cancels the task once it reports N moved (`CancelMessageMoveTask`); the count is
 * SQS's approximation, read every poll, so at up to `rate` × the poll interval more may move before the cancel
 * lands: use a low `--rate` for an exact canary. A dry run reads the queue's depth and receives a sample with a
 * visibility timeout of 0: nothing is hidden, moved or deleted.
 */
import {
  CancelMessageMoveTaskCommand,
  ListMessageMoveTasksCommand,
  type ListMessageMoveTasksResultEntry,
  ReceiveMessageCommand,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { depthLine, describeError, queueDepth, type Timing } from './drain';
import { preview } from './records';
import { emptyCounts, type StoreReport } from './report';

export interface DeadLetterQueueTarget {
  readonly label: string;
  readonly queueUrl: string;
  readonly queueArn: string;
  /** What a record is called (`order`) and the prefix of its idempotency keys, for the note. */
  readonly recordName: string;
  readonly keyPrefix: string;
  readonly fifo: boolean;
}

export interface DeadLetterQueueOptions {
  readonly dryRun: boolean;
  readonly max?: number;
  readonly rate?: number;
  readonly print: (line: string) => void;
  readonly timing?: Timing;
}

/** What a person should know about messages moved back (printed before a move, and by a dry run). */
export function redriveNote(target: DeadLetterQueueTarget): string[] {
  return [
    '  note: moved messages are new messages: new message ids, a receive count of 0, and a new retention period',
    '        counted from the move. They go back to the queue each came from, behind what is already there.',
    `        ${/^[aeiou]/i.test(target.recordName) ? 'An' : 'A'} ${target.recordName} applied before is a no-op: the handler finds its idempotency record (key`,
    `        ${target.keyPrefix}#<hash of its business key>) for as long as the idempotency expiry keeps it.`,
    ...(target.fifo
      ? [
          '        FIFO: a moved message keeps its message group and joins the end of it, behind newer messages of',
          '        its group; SQS deduplication does not see it (new id, and past the 5-minute window).',
        ]
      : []),
  ];
}

const TERMINAL = new Set(['COMPLETED', 'CANCELLED', 'FAILED']);

function taskLine(task: ListMessageMoveTasksResultEntry): string {
  return (
    `  task ${task.Status}: ${task.ApproximateNumberOfMessagesMoved ?? 0} of ` +
    `${task.ApproximateNumberOfMessagesToMove ?? '?'} moved` +
    (task.FailureReason ? `: ${task.FailureReason}` : '')
  );
}

export async function redriveDeadLetterQueue(
  sqs: SQSClient,
  target: DeadLetterQueueTarget,
  options: DeadLetterQueueOptions,
): Promise<StoreReport> {
  const { dryRun, max, rate, print } = options;
  const sleep =
    options.timing?.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const pollMs = options.timing?.pollMs ?? 5000;
  const report: StoreReport = {
    store: 'dead-letter-queue',
    label: target.label,
    queueUrl: target.queueUrl,
    outcomes: [],
    counts: emptyCounts(),
  };
  const depth = await queueDepth(sqs, target.queueUrl);
  print(depthLine(target.label, target.queueUrl, depth));

  let running: ListMessageMoveTasksResultEntry | undefined;
  try {
    const { Results = [] } = await sqs.send(
      new ListMessageMoveTasksCommand({ SourceArn: target.queueArn, MaxResults: 10 }),
    );
    running = Results.find((task) => task.Status === 'RUNNING');
  } catch (error) {
    if (!dryRun) {
      report.counts.left = depth.visible;
      print(
        `  left: cannot list the queue's message move tasks, so none is started: ${describeError(error)}`,
      );
      return report;
    }
    print(`  note: cannot list the queue's message move tasks: ${describeError(error)}`);
  }
  if (running) {
    const message =
      `  a message move task is already running on this queue (started ${new Date(running.StartedTimestamp ?? 0).toISOString()}, ` +
      `${running.ApproximateNumberOfMessagesMoved ?? 0} of ${running.ApproximateNumberOfMessagesToMove ?? '?'} moved): ` +
      'SQS runs one at a time. Wait for it (aws sqs list-message-move-tasks --source-arn ' +
      `${target.queueArn}), or cancel it: aws sqs cancel-message-move-task --task-handle ${running.TaskHandle ?? '<handle>'}`;
    print(message);
    if (!dryRun) report.counts.left = depth.visible;
    return report;
  }
  if (depth.visible === 0) {
    print('  nothing to redrive');
    return report;
  }

  if (dryRun) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: target.queueUrl,
        MaxNumberOfMessages: Math.min(10, max ?? 10),
        // 0: the sample stays visible; nothing this run looks at is hidden from the move or from anyone.
        VisibilityTimeout: 0,
        WaitTimeSeconds: options.timing?.waitSeconds ?? 2,
        MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp', 'MessageGroupId'],
      }),
    );
    const count = max === undefined ? depth.visible : Math.min(max, depth.visible);
    report.counts.wouldRedrive = count;
    print(
      `  would move about ${count} message(s) back to their source queue with a message move task` +
        (rate ? ` at ${rate} a second` : " at SQS's pace") +
        (max !== undefined && max < depth.visible ? `, cancelled once ${max} are moved (--max)` : '') +
        `; a sample of ${Messages.length}:`,
    );
    for (const message of Messages) {
      const attributes = message.Attributes ?? {};
      const sent = attributes.SentTimestamp ? new Date(Number(attributes.SentTimestamp)).toISOString() : '?';
      print(
        `    ${message.MessageId}  sent ${sent}, ${attributes.ApproximateReceiveCount ?? '?'} receive(s)` +
          (attributes.MessageGroupId ? `, group ${attributes.MessageGroupId}` : '') +
          `: ${preview(message.Body ?? '')}`,
      );
    }
    for (const line of redriveNote(target)) print(line);
    return report;
  }

  for (const line of redriveNote(target)) print(line);
  let handle: string | undefined;
  try {
    ({ TaskHandle: handle } = await sqs.send(
      new StartMessageMoveTaskCommand({
        SourceArn: target.queueArn,
        ...(rate !== undefined ? { MaxNumberOfMessagesPerSecond: rate } : {}),
      }),
    ));
  } catch (error) {
    report.counts.left = depth.visible;
    print(`  left: the message move task did not start: ${describeError(error)}`);
    return report;
  }
  print(
    `  started a message move task back to the source queue${rate ? ` at ${rate} a second` : ''}; ` +
      'it goes on if this command is interrupted' +
      (handle ? ` (cancel: aws sqs cancel-message-move-task --task-handle ${handle})` : ''),
  );

  let cancelled = false;
  let lastLine = '';
  let task: ListMessageMoveTasksResultEntry | undefined;
  for (;;) {
    await sleep(pollMs);
    let Results: ListMessageMoveTasksResultEntry[];
    try {
      ({ Results = [] } = await sqs.send(
        new ListMessageMoveTasksCommand({ SourceArn: target.queueArn, MaxResults: 10 }),
      ));
    } catch (error) {
      // The task goes on without us; what it will have moved is SQS's to say.
      report.counts.redriven = task?.ApproximateNumberOfMessagesMoved ?? 0;
      report.counts.left = Math.max(0, depth.visible - report.counts.redriven);
      print(
        `  lost track of the task (${describeError(error)}); it goes on: aws sqs list-message-move-tasks ` +
          `--source-arn ${target.queueArn}`,
      );
      return report;
    }
    // The newest task of the queue is ours: a running one carries its handle; once it ended, SQS drops the handle.
    task = Results.find((entry) => entry.TaskHandle === handle) ?? Results[0];
    if (!task) {
      print('  the message move task is no longer listed; its outcome is unknown');
      report.counts.left = depth.visible;
      return report;
    }
    const line = taskLine(task);
    if (line !== lastLine) print((lastLine = line));
    if (TERMINAL.has(task.Status ?? '')) break;
    const moved = task.ApproximateNumberOfMessagesMoved ?? 0;
    if (max !== undefined && moved >= max && !cancelled && handle) {
      await sqs.send(new CancelMessageMoveTaskCommand({ TaskHandle: handle }));
      cancelled = true;
      print(`  cancelled the task: ${moved} moved, --max ${max} reached`);
    }
  }

  const moved = task.ApproximateNumberOfMessagesMoved ?? 0;
  const toMove = task.ApproximateNumberOfMessagesToMove ?? depth.visible;
  report.counts.redriven = moved;
  const rest = Math.max(0, toMove - moved);
  if (task.Status === 'COMPLETED') {
    print(`  moved ${moved} message(s) back to their source queue`);
  } else if (task.Status === 'CANCELLED' && cancelled) {
    print(`  moved ${moved} message(s); ${rest} not taken (--max ${max}): still in the dead-letter queue`);
  } else {
    report.counts.left = rest;
    print(
      `  left: ${rest} message(s) still in the dead-letter queue: the task ended ${task.Status}` +
        (task.FailureReason ? ` (${task.FailureReason})` : ''),
    );
  }
  return report;
}
