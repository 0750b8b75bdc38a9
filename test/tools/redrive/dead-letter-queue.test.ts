/**
 * `npm run redrive -- sqs|fifo`: a dead-letter queue moved back to its source with a message move task, against
 * the in-process SQS stand-in (moto 5.2 has no StartMessageMoveTask). One task per queue at a time; the task
 * polled until it ends; --max cancels it once enough were moved; a dry run moves and deletes nothing.
 */
import { domain as sqsDomain } from '../../../lambda/sqs-consumer/domain';
import { Journal } from '../../../tools/redrive/journal';
import { exitCodeOf } from '../../../tools/redrive/report';
import { type RedriveRequest, redrivePath } from '../../../tools/redrive/run';
import { type FakeAws, type FakeQueue, startFakeAws } from './fake-aws';

let aws: FakeAws;
let source: FakeQueue;
let dlq: FakeQueue;
let lines: string[];

beforeEach(async () => {
  aws = await startFakeAws();
  source = aws.createQueue('sqs-Queue');
  dlq = aws.createQueue('sqs-DeadLetterQueue');
  lines = [];
});
afterEach(() => aws.stop());

function run(path: 'sqs' | 'fifo' = 'sqs', request: Partial<RedriveRequest> = {}) {
  return redrivePath(
    aws.clients(),
    {
      stackName: `reliable-lambda-test-${path}`,
      outputs: { QueueUrl: source.url, DeadLetterQueueUrl: dlq.url, DeadLetterQueueArn: dlq.arn },
    },
    {
      path,
      print: (line) => lines.push(line),
      journal: new Journal(),
      timing: { pollMs: 0, waitSeconds: 0, sleep: async () => undefined },
      ...request,
    },
  );
}

function deadLetter(count: number, prefix = 'order'): string[] {
  const bodies = Array.from({ length: count }, (_, i) => JSON.stringify({ orderId: `${prefix}-${i}` }));
  for (const body of bodies) aws.put(dlq, body, { origin: source });
  return bodies;
}

it('moves every message back to its source queue with StartMessageMoveTask and polls the task until it is done', async () => {
  const bodies = deadLetter(5);
  const before = new Set(dlq.messages.map((m) => m.messageId));
  aws.moveStep = 2;

  const reports = await run('sqs', { rate: 50 });

  const start = aws.calls.find((call) => call.action === 'StartMessageMoveTask');
  // Back to the source: no DestinationArn; the rate is the task's.
  expect(start?.params).toEqual({ SourceArn: dlq.arn, MaxNumberOfMessagesPerSecond: 50 });
  expect(aws.actions().filter((a) => a === 'ListMessageMoveTasks').length).toBeGreaterThanOrEqual(3);
  expect(dlq.messages).toHaveLength(0);
  expect(source.messages.map((m) => m.body)).toEqual(bodies);
  expect(source.messages.some((m) => before.has(m.messageId))).toBe(false);
  expect(reports[0].counts).toMatchObject({ redriven: 5, left: 0 });
  expect(exitCodeOf(reports)).toBe(0);
  const text = lines.join('\n');
  expect(text).toMatch(/COMPLETED/);
  expect(text).toMatch(/new message ids/);
  expect(text).toMatch(/new retention period/);
  // The note names the path's own records and key prefix (its domain module's).
  expect(text).toMatch(
    new RegExp(
      `an? ${sqsDomain.recordName} applied before.*${sqsDomain.keyPrefix.replace(/\./g, '\\.')}#`,
      'is',
    ),
  );
  // The tool itself never receives, deletes or sends a message of a dead-letter queue it moves.
  expect(aws.actions()).not.toContain('DeleteMessage');
  expect(aws.actions()).not.toContain('SendMessage');
});

it('refuses while a move task is already running on the queue, and says how to see or cancel it', async () => {
  deadLetter(3);
  const { sqs } = aws.clients();
  const { StartMessageMoveTaskCommand } = await import('@aws-sdk/client-sqs');
  await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlq.arn }));
  aws.moveStep = 0;
  const startsBefore = aws.actions().filter((a) => a === 'StartMessageMoveTask').length;

  const reports = await run();

  expect(aws.actions().filter((a) => a === 'StartMessageMoveTask').length).toBe(startsBefore);
  expect(dlq.messages).toHaveLength(3);
  expect(reports[0].counts.left).toBe(3);
  expect(exitCodeOf(reports)).toBe(1);
  expect(lines.join('\n')).toMatch(/already running.*cancel-message-move-task --task-handle/s);
});

it('a dry run shows the count and a sample without moving, deleting or hiding anything', async () => {
  deadLetter(12);
  const reports = await run('sqs', { dryRun: true });
  expect(aws.actions()).not.toContain('StartMessageMoveTask');
  expect(aws.actions()).not.toContain('DeleteMessage');
  expect(dlq.messages).toHaveLength(12);
  expect(dlq.messages.every((m) => m.visibleAt <= Date.now())).toBe(true);
  const receive = aws.calls.find((call) => call.action === 'ReceiveMessage');
  expect(receive?.params).toMatchObject({ VisibilityTimeout: 0, MaxNumberOfMessages: 10 });
  expect(reports[0].counts).toMatchObject({ wouldRedrive: 12, redriven: 0, left: 0 });
  expect(exitCodeOf(reports)).toBe(0);
  const text = lines.join('\n');
  expect(text).toMatch(/about 12 message/);
  expect(text).toMatch(/order-0/);
});

it('--max N cancels the task once N messages were moved; the rest stay in the dead-letter queue', async () => {
  deadLetter(6);
  aws.moveStep = 1;
  const reports = await run('sqs', { max: 2 });
  expect(aws.actions()).toContain('CancelMessageMoveTask');
  expect(source.messages).toHaveLength(2);
  expect(dlq.messages).toHaveLength(4);
  expect(reports[0].counts).toMatchObject({ redriven: 2, left: 0 });
  expect(exitCodeOf(reports)).toBe(0);
  expect(lines.join('\n')).toMatch(/4 .*not taken.*--max/);
});

it('a task that fails part way reports its reason and what it left; the exit code says so', async () => {
  deadLetter(4);
  aws.moveStep = 1;
  aws.failNextMoveTask(1, 'AWS.SimpleQueueService.NonExistentQueue: the source queue was deleted');
  const reports = await run();
  expect(reports[0].counts).toMatchObject({ redriven: 1, left: 3 });
  expect(exitCodeOf(reports)).toBe(1);
  expect(lines.join('\n')).toMatch(/FAILED.*source queue was deleted/);
});

it('an empty dead-letter queue: nothing to move, no task started', async () => {
  const reports = await run();
  expect(aws.actions()).not.toContain('StartMessageMoveTask');
  expect(exitCodeOf(reports)).toBe(0);
  expect(lines.join('\n')).toMatch(/nothing to redrive/);
});

it('an error starting the task leaves every message where it was', async () => {
  deadLetter(2);
  aws.failNext('StartMessageMoveTask', { status: 400, code: 'AccessDenied', message: 'not allowed' });
  const reports = await run();
  expect(dlq.messages).toHaveLength(2);
  expect(reports[0].counts.left).toBe(2);
  expect(exitCodeOf(reports)).toBe(1);
  expect(lines.join('\n')).toMatch(/AccessDenied/);
});

it('the FIFO dead-letter queue goes the same way, and the note says where redriven messages land in their group', async () => {
  source = aws.createQueue('fifo-Queue.fifo');
  dlq = aws.createQueue('fifo-DeadLetterQueue.fifo');
  aws.put(dlq, JSON.stringify({ entryId: 'e-1' }), { origin: source, groupId: 'acct-1' });
  const reports = await run('fifo');
  expect(source.messages.map((m) => m.groupId)).toEqual(['acct-1']);
  expect(reports[0].counts.redriven).toBe(1);
  const text = lines.join('\n');
  expect(text).toMatch(/an entry applied before.*fifo-consumer\.bookEntry#/is);
  expect(text).toMatch(/message group/);
});
