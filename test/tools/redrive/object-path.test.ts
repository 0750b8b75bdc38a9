/**
 * `npm run redrive -- object` against the in-process SQS and Lambda stand-in (test/tools/redrive/fake-aws.ts):
 * the asynchronous on-failure destination (re-invoke with `requestPayload`) and the SNS subscription DLQ
 * (re-deliver the notification as Lambda's SNS event). A record is deleted only after its invocation was
 * accepted; whatever cannot be re-driven is reported and left, visible again; a second run applies nothing twice.
 */
import { Journal } from '../../../tools/redrive/journal';
import { exitCodeOf } from '../../../tools/redrive/report';
import { type RedriveRequest, redrivePath } from '../../../tools/redrive/run';
import { type FakeAws, type FakeQueue, startFakeAws, THROTTLED, SERVER_ERROR } from './fake-aws';
import { FUNCTION_NAME, TOPIC_ARN, invocationRecord, snsEvent, subscriptionDeadLetter } from './samples';

let aws: FakeAws;
let onFailure: FakeQueue;
let subscriptionDlq: FakeQueue;
let lines: string[];

beforeEach(async () => {
  aws = await startFakeAws();
  onFailure = aws.createQueue('object-OnFailureQueue');
  subscriptionDlq = aws.createQueue('object-SubscriptionDeadLetterQueue');
  aws.addFunction(FUNCTION_NAME);
  lines = [];
});
afterEach(() => aws.stop());

function outputs(): Record<string, string> {
  return {
    OnFailureQueueUrl: onFailure.url,
    SubscriptionDeadLetterQueueUrl: subscriptionDlq.url,
    ConsumerFunctionName: FUNCTION_NAME,
    ObjectCreatedTopicArn: TOPIC_ARN,
    BucketName: 'reliable-lambda-test-bucket',
  };
}

function run(request: Partial<RedriveRequest> = {}, journal = new Journal()) {
  return redrivePath(
    aws.clients(),
    { stackName: 'reliable-lambda-test-object', outputs: outputs() },
    {
      path: 'object',
      print: (line) => lines.push(line),
      journal,
      timing: { waitSeconds: 0, sleep: async () => undefined },
      ...request,
    },
  );
}

const visibleBodies = (queue: FakeQueue) =>
  queue.messages.filter((m) => m.visibleAt <= Date.now()).map((m) => m.body);

describe('the asynchronous on-failure destination', () => {
  it('re-invokes the function asynchronously with each original event, then deletes the record', async () => {
    const events = [snsEvent('a.txt'), snsEvent('b.txt')];
    for (const event of events) aws.put(onFailure, JSON.stringify(invocationRecord(event)));

    const reports = await run({ stores: ['on-failure'] });

    expect(aws.invocations).toEqual(
      events.map((payload) => ({ functionName: FUNCTION_NAME, invocationType: 'Event', payload })),
    );
    expect(onFailure.messages).toHaveLength(0);
    expect(reports[0].counts).toMatchObject({ redriven: 2, left: 0 });
    expect(exitCodeOf(reports)).toBe(0);
    expect(lines.join('\n')).toMatch(/redriven .* re-invoked .*accepted \(202\)\n.*a\.txt/);
  });

  it('deletes a record only after its invocation was accepted, and leaves it when the invocation failed', async () => {
    aws.put(onFailure, JSON.stringify(invocationRecord(snsEvent('throttled.txt'))));
    aws.put(onFailure, JSON.stringify(invocationRecord(snsEvent('fine.txt'))));
    aws.failNext('Invoke', THROTTLED);

    const reports = await run({ stores: ['on-failure'] });

    // Every DeleteMessage comes right after an accepted Invoke of the same record.
    const sequence = aws.calls
      .filter((call) => ['Invoke', 'DeleteMessage'].includes(call.action))
      .map((c) => c.action);
    expect(sequence).toEqual(['Invoke', 'Invoke', 'DeleteMessage']);
    expect(aws.invocations.map((i) => JSON.stringify(i.payload))).toEqual([
      JSON.stringify(snsEvent('fine.txt')),
    ]);
    // The record whose invocation failed is where it was, and visible again for the next run.
    expect(visibleBodies(onFailure)).toEqual([JSON.stringify(invocationRecord(snsEvent('throttled.txt')))]);
    expect(reports[0].counts).toMatchObject({ redriven: 1, left: 1 });
    expect(exitCodeOf(reports)).toBe(1);
    expect(lines.join('\n')).toMatch(/left .*TooManyRequestsException/);
  });

  it('reports and leaves records it cannot re-drive: payload dropped, another function, not a record', async () => {
    aws.put(onFailure, JSON.stringify(invocationRecord(undefined, { omitPayload: true })));
    aws.put(onFailure, JSON.stringify(invocationRecord(snsEvent('x'), { functionName: 'other-function' })));
    aws.put(onFailure, 'not json');
    aws.put(onFailure, JSON.stringify(invocationRecord(snsEvent('ok.txt'))));

    const reports = await run({ stores: ['on-failure'] });

    expect(aws.invocations).toHaveLength(1);
    expect(onFailure.messages).toHaveLength(3);
    expect(visibleBodies(onFailure)).toHaveLength(3);
    expect(aws.actions('sqs')).not.toContain('PurgeQueue');
    expect(reports[0].counts).toMatchObject({ redriven: 1, left: 3 });
    const text = lines.join('\n');
    expect(text).toMatch(/requestPayload is missing/);
    expect(text).toMatch(/other-function/);
    expect(text).toMatch(/not JSON/);
    expect(exitCodeOf(reports)).toBe(1);
  });

  it('a dry run invokes and deletes nothing, shows every record, and leaves them all visible', async () => {
    for (const key of ['a', 'b', 'c']) aws.put(onFailure, JSON.stringify(invocationRecord(snsEvent(key))));
    aws.put(onFailure, JSON.stringify(invocationRecord(undefined, { omitPayload: true })));

    const reports = await run({ stores: ['on-failure'], dryRun: true });

    expect(aws.invocations).toHaveLength(0);
    expect(aws.actions()).not.toContain('DeleteMessage');
    expect(visibleBodies(onFailure)).toHaveLength(4);
    expect(reports[0].counts).toMatchObject({ wouldRedrive: 3, wouldLeave: 1, redriven: 0, left: 0 });
    expect(exitCodeOf(reports)).toBe(0);
    expect(lines.join('\n')).toMatch(/would re-invoke/);
  });

  it('--max N takes at most N records; the others are not received at all', async () => {
    for (const key of ['a', 'b', 'c', 'd', 'e']) {
      aws.put(onFailure, JSON.stringify(invocationRecord(snsEvent(key))));
    }
    const reports = await run({ stores: ['on-failure'], max: 2 });
    expect(aws.invocations).toHaveLength(2);
    expect(onFailure.messages).toHaveLength(3);
    expect(onFailure.messages.every((m) => m.receiveCount === 0)).toBe(true);
    expect(reports[0].counts.redriven).toBe(2);
    expect(exitCodeOf(reports)).toBe(0);
  });

  it('--rate R spaces the invocations 1/R seconds apart', async () => {
    for (const key of ['a', 'b', 'c']) aws.put(onFailure, JSON.stringify(invocationRecord(snsEvent(key))));
    const waits: number[] = [];
    let clock = 1_000_000;
    await run({
      stores: ['on-failure'],
      rate: 2,
      timing: {
        waitSeconds: 0,
        now: () => clock,
        sleep: async (ms) => {
          waits.push(ms);
          clock += ms;
        },
      },
    });
    expect(aws.invocations).toHaveLength(3);
    expect(waits).toEqual([500, 500]);
  });

  it('re-driving twice applies nothing twice: a second run finds only what was left', async () => {
    aws.put(onFailure, JSON.stringify(invocationRecord(snsEvent('a'))));
    aws.put(onFailure, JSON.stringify(invocationRecord(undefined, { omitPayload: true })));
    const journal = new Journal();
    await run({ stores: ['on-failure'] }, journal);
    const second = await run({ stores: ['on-failure'] }, journal);
    expect(aws.invocations).toHaveLength(1);
    expect(second[0].counts).toMatchObject({ redriven: 0, left: 1 });
  });

  it('a record whose delete failed after an accepted invocation is never invoked again: the next run only deletes it', async () => {
    aws.put(onFailure, JSON.stringify(invocationRecord(snsEvent('a'))));
    aws.failNext('DeleteMessage', SERVER_ERROR);
    const journal = new Journal();

    const first = await run({ stores: ['on-failure'] }, journal);
    expect(aws.invocations).toHaveLength(1);
    expect(onFailure.messages).toHaveLength(1);
    expect(first[0].counts).toMatchObject({ redriven: 1, left: 1 });
    expect(lines.join('\n')).toMatch(/could not be deleted/);
    expect(exitCodeOf(first)).toBe(1);

    const second = await run({ stores: ['on-failure'] }, journal);
    expect(aws.invocations).toHaveLength(1);
    expect(onFailure.messages).toHaveLength(0);
    expect(second[0].counts).toMatchObject({ alreadyRedriven: 1, redriven: 0, left: 0 });
    expect(exitCodeOf(second)).toBe(0);
  });

  it('the journal survives the process: a new Journal on the same file knows what was re-driven', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const file = join(mkdtempSync(join(tmpdir(), 'redrive-journal-')), 'sub', 'journal.jsonl');
    aws.put(onFailure, JSON.stringify(invocationRecord(snsEvent('a'))));
    aws.failNext('DeleteMessage', SERVER_ERROR);
    await run({ stores: ['on-failure'] }, new Journal(file));
    await run({ stores: ['on-failure'] }, new Journal(file));
    expect(aws.invocations).toHaveLength(1);
    expect(onFailure.messages).toHaveLength(0);
  });
});

describe('the SNS subscription dead-letter queue', () => {
  it('re-delivers each notification to the function as the SNS event it would have had, then deletes it', async () => {
    aws.put(subscriptionDlq, JSON.stringify(subscriptionDeadLetter('a.txt')));
    aws.put(subscriptionDlq, JSON.stringify(subscriptionDeadLetter('b.txt', { topicArn: `${TOPIC_ARN}x` })));

    const reports = await run({ stores: ['subscription-dlq'] });

    expect(aws.invocations).toHaveLength(1);
    const payload = aws.invocations[0].payload as {
      Records: { Sns: { MessageId: string; Message: string } }[];
    };
    expect(aws.invocations[0].invocationType).toBe('Event');
    expect(payload.Records[0].Sns.MessageId).toBe('sns-a.txt');
    expect(payload.Records[0].Sns.Message).toBe(subscriptionDeadLetter('a.txt').Message);
    expect(subscriptionDlq.messages).toHaveLength(1);
    expect(reports[0].counts).toMatchObject({ redriven: 1, left: 1 });
  });

  it('leaves the notification when the function cannot be invoked (it is what SNS could not do either)', async () => {
    aws.put(subscriptionDlq, JSON.stringify(subscriptionDeadLetter('a.txt')));
    const reports = await run({ stores: ['subscription-dlq'] }, new Journal());
    expect(reports[0].counts.redriven).toBe(1);
    aws.put(subscriptionDlq, JSON.stringify(subscriptionDeadLetter('b.txt')));
    aws.failNext('Invoke', { status: 404, code: 'ResourceNotFoundException', message: 'Function not found' });
    const again = await run({ stores: ['subscription-dlq'] }, new Journal());
    expect(again[0].counts).toMatchObject({ redriven: 0, left: 1 });
    expect(subscriptionDlq.messages).toHaveLength(1);
  });
});

it('without --store, the object path re-drives both of its stores', async () => {
  aws.put(onFailure, JSON.stringify(invocationRecord(snsEvent('a'))));
  aws.put(subscriptionDlq, JSON.stringify(subscriptionDeadLetter('b')));
  const reports = await run();
  expect(reports.map((r) => r.store)).toEqual(['on-failure', 'subscription-dlq']);
  expect(aws.invocations).toHaveLength(2);
});

it('an AWS error in one store (its queue gone) is reported, and the other store is still re-driven', async () => {
  aws.put(subscriptionDlq, JSON.stringify(subscriptionDeadLetter('b')));
  const reports = await redrivePath(
    aws.clients(),
    {
      stackName: 'reliable-lambda-test-object',
      outputs: { ...outputs(), OnFailureQueueUrl: `${onFailure.url}-gone` },
    },
    { path: 'object', print: (line) => lines.push(line), journal: new Journal(), timing: { waitSeconds: 0 } },
  );
  expect(reports.map((r) => [r.store, r.counts.left, r.counts.redriven])).toEqual([
    ['on-failure', 1, 0],
    ['subscription-dlq', 0, 1],
  ]);
  expect(exitCodeOf(reports)).toBe(1);
  expect(lines.join('\n')).toMatch(/on-failure destination.*QueueDoesNotExist.*nothing more was done/);
});
