/**
 * The SQS event source mapping, checked against statements of the AWS documentation and the seeds. Each test
 * quotes the statement it checks.
 */
import { scriptedFunction, type ScriptedHandler } from '../../../tools/local/engine/functions';
import type { SqsEventSourceMappingConfig, SqsQueueConfig } from '../../../tools/local/engine/config';
import { Simulation } from '../../../tools/local/engine/simulation';
import { FaultPlan } from '../../../tools/local/faults';
import { DLQ_ARN, QUEUE_ARN, sqsConfig } from './config-fixtures';

const VISIBILITY_MS = 180_000;

async function run(
  handler: ScriptedHandler,
  options: {
    messages?: number;
    mapping?: Partial<SqsEventSourceMappingConfig>;
    queue?: Partial<SqsQueueConfig>;
    faults?: FaultPlan;
    spacingMs?: number;
  } = {},
) {
  const sim = new Simulation(sqsConfig(options.mapping, options.queue), {
    seed: 'sqs',
    ...(options.faults && { faults: options.faults }),
  });
  const fn = scriptedFunction(handler);
  sim.setFunctionCode('sqs-consumer', fn);
  for (let i = 1; i <= (options.messages ?? 3); i += 1) {
    sim.sendMessage(QUEUE_ARN, JSON.stringify({ n: i }), `m${i}`, (i - 1) * (options.spacingMs ?? 0));
  }
  await sim.run({ untilMs: 24 * 3_600_000 });
  return { sim, fn };
}

const ok: ScriptedHandler = (i) => ({ returns: { batchItemFailures: [] }, sideEffects: i.recordIds });
const failing =
  (bad: string): ScriptedHandler =>
  (i) => {
    const ids = i.event as { Records: { messageId: string }[] };
    const index = i.recordIds.indexOf(bad);
    return index < 0
      ? ok(i)
      : {
          returns: { batchItemFailures: [{ itemIdentifier: ids.Records[index].messageId }] },
          sideEffects: i.recordIds.filter((r) => r !== bad),
        };
  };

describe('SQS event source mapping', () => {
  it('"Lambda reads messages in batches and invokes your function once per batch" and deletes a successful batch', async () => {
    const { sim } = await run(ok, { messages: 10 });
    expect(sim.trace.invocations).toHaveLength(1);
    expect(sim.trace.invocations[0].recordIds).toEqual([
      'm1',
      'm2',
      'm3',
      'm4',
      'm5',
      'm6',
      'm7',
      'm8',
      'm9',
      'm10',
    ]);
    // "When your Lambda function successfully processes a batch, the Lambda service deletes that batch of
    // messages from the queue" (seeds): nothing comes back, even a day later.
    expect([...sim.queues.get(QUEUE_ARN)!.messages].every((m) => m.deleted)).toBe(true);
  });

  it('"If your function returns an error, the entire batch is reprocessed" (no ReportBatchItemFailures)', async () => {
    let calls = 0;
    const { sim } = await run(
      (i) => (++calls === 1 ? { throws: new Error('boom') } : { returns: null, sideEffects: i.recordIds }),
      { mapping: { reportBatchItemFailures: false } },
    );
    const [first, second] = sim.trace.invocations;
    expect(first.outcome).toBe('function-error');
    expect(second.recordIds).toEqual(first.recordIds);
    // "the messages in that batch become visible again" after "the queue's visibility timeout" (seeds)
    expect(second.startedAt).toBe(first.startedAt + VISIBILITY_MS);
    expect(second.reason).toBe('redelivery');
    const event = sim.trace.invocations[1];
    expect(event.attempt).toBe(2);
  });

  it('"If your function ... doesn\'t respond, the messages in that batch become visible again" (a timeout)', async () => {
    const faults = new FaultPlan().addHang('m2', 1);
    const { sim } = await run(ok, { faults });
    const [first, second] = sim.trace.invocations;
    expect(first.outcome).toBe('timeout');
    expect(first.endedAt - first.startedAt).toBe(30_000);
    expect(second.recordIds).toEqual(['m1', 'm2', 'm3']);
    expect(second.startedAt).toBe(first.startedAt + VISIBILITY_MS);
  });

  it('with ReportBatchItemFailures, only the failed message "become[s] visible" again, its receive count raised', async () => {
    let first = true;
    const { sim, fn } = await run((i) => {
      const result = first ? failing('m2')(i) : ok(i);
      first = false;
      return result;
    });
    expect(sim.trace.invocations.map((i) => i.recordIds)).toEqual([['m1', 'm2', 'm3'], ['m2']]);
    expect(sim.trace.invocations[0].outcome).toBe('partial-failure');
    const redelivered = (fn.calls[1].event as { Records: { attributes: Record<string, string> }[] })
      .Records[0];
    expect(redelivered.attributes.ApproximateReceiveCount).toBe('2');
  });

  it.each([
    [
      'an itemIdentifier that is not in the batch',
      { batchItemFailures: [{ itemIdentifier: 'not-a-message-id' }] },
    ],
    ['an empty itemIdentifier', { batchItemFailures: [{ itemIdentifier: '' }] }],
    ['a null itemIdentifier', { batchItemFailures: [{ itemIdentifier: null }] }],
    ['a wrong key name', { batchItemFailures: [{ itemId: 'x' }] }],
    ['batchItemFailures that is not a list', { batchItemFailures: 'm1' }],
    ['a response that is not an object', 'OK'],
  ])(
    'a malformed response (%s) "is considered a complete failure": the whole batch returns',
    async (_, response) => {
      let first = true;
      const { sim } = await run((i) => {
        if (first) {
          first = false;
          return { returns: response, sideEffects: [] };
        }
        return ok(i);
      });
      expect(sim.trace.invocations[0].outcome).toBe('invalid-response');
      expect(sim.trace.invocations[1].recordIds).toEqual(['m1', 'm2', 'm3']);
    },
  );

  it.each([
    ['an empty batchItemFailures list', { batchItemFailures: [] }],
    ['a null batchItemFailures list', { batchItemFailures: null }],
    ['an empty response', {}],
    ['a null response', null],
  ])('"Lambda treats a batch as a complete success" for %s', async (_, response) => {
    const { sim } = await run(() => ({ returns: response }));
    expect(sim.trace.invocations).toHaveLength(1);
    expect(sim.trace.invocations[0].outcome).toBe('success');
  });

  it('"these responses will not be processed by Lambda unless the ReportBatchItemFailures feature is explicitly turned on"', async () => {
    const { sim } = await run(failing('m2'), { mapping: { reportBatchItemFailures: false } });
    // The failure is ignored: the message is deleted and never retried (lost, in this handler's terms).
    expect(sim.trace.invocations).toHaveLength(1);
    expect(sim.trace.invocations[0].outcome).toBe('success');
    expect(sim.trace.sinks).toHaveLength(0);
  });

  it('"When the ReceiveCount for a message exceeds the maxReceiveCount ... Amazon SQS moves the message to the dead-letter queue"', async () => {
    const { sim } = await run(failing('m2'), {
      queue: { redrivePolicy: { deadLetterTargetArn: DLQ_ARN, maxReceiveCount: 3 } },
    });
    const handedM2 = sim.trace.invocations.filter((i) => i.recordIds.includes('m2'));
    expect(handedM2).toHaveLength(3);
    expect(handedM2.map((i) => i.startedAt - handedM2[0].startedAt)).toEqual([
      0,
      VISIBILITY_MS,
      2 * VISIBILITY_MS,
    ]);
    expect(sim.trace.sinks).toHaveLength(1);
    const [sink] = sim.trace.sinks;
    expect(sink).toMatchObject({ kind: 'queue-dead-letter-queue', targetArn: DLQ_ARN, recordIds: ['m2'] });
    // A standard queue moves the message itself: same id, same body.
    const message = sink.message as { messageId: string; body: string };
    expect(message.body).toBe(JSON.stringify({ n: 2 }));
    expect(message.messageId).toBe(sim.queues.get(QUEUE_ARN)!.messages[1].messageId);
  });

  it('throttling raises receive counts: "a throttled message can reach the DLQ without ever failing" (DESIGN.md)', async () => {
    // "If the invocation fails due to throttling ... Lambda continues to retry the message until the message's
    // timestamp exceeds your queue's visibility timeout" (AWS), and each new receive counts.
    const faults = new FaultPlan().addThrottle({
      functionId: 'sqs-consumer',
      fromMs: 0,
      toMs: 3_600_000,
      concurrency: 0,
    });
    const { sim } = await run(ok, {
      faults,
      queue: { redrivePolicy: { deadLetterTargetArn: DLQ_ARN, maxReceiveCount: 3 } },
    });
    expect(sim.trace.invocations).toHaveLength(0);
    expect(sim.trace.events.filter((e) => e.kind === 'throttled').length).toBeGreaterThan(3);
    expect(sim.trace.sinks.map((s) => s.recordIds[0]).sort()).toEqual(['m1', 'm2', 'm3']);
    for (const sink of sim.trace.sinks) {
      expect(
        (sink.message as { attributes: Record<string, string> }).attributes.ApproximateReceiveCount,
      ).toBe('3');
    }
  });

  it('"ScalingConfig.MaximumConcurrency" caps the concurrent invocations of the mapping', async () => {
    const { sim } = await run(ok, { messages: 400, mapping: { maximumConcurrency: 2, batchSize: 1 } });
    const edges = sim.trace.invocations.flatMap((i) => [
      { t: i.startedAt, d: +1 },
      { t: i.endedAt, d: -1 },
    ]);
    edges.sort((a, b) => a.t - b.t || a.d - b.d);
    let running = 0;
    let peak = 0;
    for (const edge of edges) peak = Math.max(peak, (running += edge.d));
    expect(peak).toBe(2);
    expect(sim.trace.invocations).toHaveLength(400);
  });

  it('a batching window gathers up to the batch size: "maxBatchingWindow is a maximum, not a fixed wait"', async () => {
    // 25 messages 100 ms apart, batch size 20, window 5 s: the first batch fills up (20) before the window ends,
    // the second leaves when the window ends with what has come.
    const { sim } = await run(ok, {
      messages: 25,
      spacingMs: 100,
      mapping: { batchSize: 20, maximumBatchingWindowSeconds: 5 },
    });
    expect(sim.trace.invocations.map((i) => i.recordIds.length)).toEqual([20, 5]);
    expect(sim.trace.invocations[0].startedAt).toBe(1900);
    expect(sim.trace.invocations[1].startedAt).toBe(2000 + 5000);
  });

  it('drops messages older than the retention period ("queue retention drops it", DESIGN.md)', async () => {
    const { sim } = await run(() => ({ throws: new Error('always') }), {
      queue: { messageRetentionSeconds: 400, redrivePolicy: undefined },
      mapping: { reportBatchItemFailures: false },
    });
    // Received at 0 and 180 s, visible again at 360 s, expired at 400 s before the receive at 540 s.
    expect(sim.trace.invocations).toHaveLength(3);
    expect(sim.trace.events.filter((e) => e.kind === 'expired').map((e) => e.recordIds[0])).toEqual([
      'm1',
      'm2',
      'm3',
    ]);
  });
});
