/**
 * The SQS FIFO queue and its event source mapping (tools/local/engine/sqs-fifo.ts), checked against statements of
 * the AWS documentation: "FIFO queue delivery logic in Amazon SQS", "Amazon SQS FIFO queue key terms", the
 * SendMessage reference, "Configuring scaling behavior for SQS event source mappings", "Learn how to configure a
 * dead-letter queue redrive", and the Knowledge Center's "sqs-fifo-messages-not-returned". Each test quotes the
 * statement it checks.
 */
import type { SqsEventSourceMappingConfig, SqsQueueConfig } from '../../../tools/local/engine/config';
import { scriptedFunction, type ScriptedHandler } from '../../../tools/local/engine/functions';
import type { FunctionInvocation } from '../../../tools/local/engine/lambda';
import { Simulation } from '../../../tools/local/engine/simulation';
import { FifoSendError } from '../../../tools/local/engine/sqs-fifo';
import { FIFO_DLQ_ARN, FIFO_QUEUE_ARN, fifoConfig } from './config-fixtures';

const VISIBILITY_MS = 180_000;

interface Send {
  readonly id: string;
  readonly group: string;
  readonly at?: number;
  readonly body?: string;
  readonly deduplicationId?: string;
}

interface FifoRecord {
  readonly messageId: string;
  readonly attributes: Record<string, string>;
}
const recordsOf = (i: FunctionInvocation) => (i.event as { Records: FifoRecord[] }).Records;

/**
 * Powertools' `SqsFifoPartialProcessorAsync` with `skipGroupOnError`, as the FIFO handler runs it: records in order;
 * after a failure, the later records of its group are returned unprocessed, other groups go on.
 */
const fifoHandler =
  (fails: (recordId: string, invocation: FunctionInvocation) => boolean = () => false): ScriptedHandler =>
  (i) => {
    const failedGroups = new Set<string>();
    const failures: { itemIdentifier: string }[] = [];
    const done: string[] = [];
    recordsOf(i).forEach((record, index) => {
      const group = record.attributes.MessageGroupId;
      if (failedGroups.has(group) || fails(i.recordIds[index], i)) {
        failedGroups.add(group);
        failures.push({ itemIdentifier: record.messageId });
      } else {
        done.push(i.recordIds[index]);
      }
    });
    return failures.length > 0 && failures.length === recordsOf(i).length
      ? { throws: new Error('all failed'), sideEffects: done }
      : { returns: { batchItemFailures: failures }, sideEffects: done };
  };

async function run(
  sends: readonly Send[],
  handler: ScriptedHandler = fifoHandler(),
  options: {
    mapping?: Partial<SqsEventSourceMappingConfig>;
    queue?: Partial<SqsQueueConfig>;
    invocationMs?: number;
  } = {},
) {
  const sim = new Simulation(fifoConfig(options.mapping, options.queue), {
    seed: 'fifo',
    duration: { baseMs: options.invocationMs ?? 100, perRecordMs: 0, jitter: 0 },
  });
  const fn = scriptedFunction(handler);
  sim.setFunctionCode('fifo-consumer', fn);
  for (const send of sends) {
    sim.sendMessage(
      FIFO_QUEUE_ARN,
      send.body ?? JSON.stringify({ id: send.id }),
      send.id,
      send.at ?? 0,
      undefined,
      {
        messageGroupId: send.group,
        ...(send.deduplicationId !== undefined && { messageDeduplicationId: send.deduplicationId }),
      },
    );
  }
  await sim.run({ untilMs: 24 * 3_600_000 });
  const handed = sim.trace.invocations.map((i) => i.recordIds);
  const applied = sim.trace.sideEffects.map((e) => e.recordId);
  return { sim, fn, handed, applied };
}

const group = (name: string, n: number, at = 0): Send[] =>
  Array.from({ length: n }, (_, k) => ({ id: `${name}${k + 1}`, group: name, at }));

/** The most invocations running at once. */
function peakConcurrency(sim: Simulation): number {
  const edges = sim.trace.invocations.flatMap((i) => [
    { t: i.startedAt, d: +1 },
    { t: i.endedAt, d: -1 },
  ]);
  edges.sort((a, b) => a.t - b.t || a.d - b.d);
  let running = 0;
  let peak = 0;
  for (const edge of edges) peak = Math.max(peak, (running += edge.d));
  return peak;
}

describe('SQS FIFO queue and its event source mapping', () => {
  it('"If a message is sent without a message group ID, the action fails"', () => {
    const sim = new Simulation(fifoConfig(), { seed: 'fifo' });
    const queue = sim.queues.get(FIFO_QUEUE_ARN)!;
    expect(() => queue.send('{}', 'x')).toThrow(FifoSendError);
    expect(() => queue.send('{}', 'x')).toThrow(/MessageGroupId/);
  });

  it('"Within each message group ID, all messages are sent and received in strict order"', async () => {
    // Three groups interleaved, 30 messages each, a message every 50 ms; batches of 3.
    const sends = Array.from({ length: 90 }, (_, k) => ({
      id: `${'abc'[k % 3]}${Math.floor(k / 3) + 1}`,
      group: 'abc'[k % 3],
      at: k * 50,
    }));
    const { handed, applied } = await run(sends, fifoHandler(), { mapping: { batchSize: 3 } });
    for (const name of ['a', 'b', 'c']) {
      const expected = group(name, 30).map((s) => s.id);
      expect(handed.flat().filter((id) => id.startsWith(name))).toEqual(expected);
      expect(applied.filter((id) => id.startsWith(name))).toEqual(expected);
    }
  });

  it('"each batch may contain messages from more than one message group, but the order of the messages is maintained"; a receive takes "as many messages with the same message group ID as possible" first', async () => {
    // a1 a2 b1 b2 a3 c1, all waiting when the poller receives (one batch of up to 10).
    const sends: Send[] = [
      { id: 'a1', group: 'a' },
      { id: 'a2', group: 'a' },
      { id: 'b1', group: 'b' },
      { id: 'b2', group: 'b' },
      { id: 'a3', group: 'a' },
      { id: 'c1', group: 'c' },
    ];
    const { handed, fn } = await run(sends);
    expect(handed).toEqual([['a1', 'a2', 'a3', 'b1', 'b2', 'c1']]);
    // Lambda's FIFO event: each record names its group, its sequence number and its deduplication id.
    const [first, ...rest] = recordsOf(fn.calls[0]);
    expect(first.attributes).toEqual(
      expect.objectContaining({
        MessageGroupId: 'a',
        SequenceNumber: expect.stringMatching(/^\d{20}$/),
        MessageDeduplicationId: expect.stringMatching(/^[0-9a-f]{64}$/),
        ApproximateReceiveCount: '1',
      }),
    );
    const sequence = [first, ...rest].map((r) => BigInt(r.attributes.SequenceNumber));
    // SequenceNumber grows in the order SQS accepted the messages.
    expect(sequence[1] > sequence[0] && sequence[2] > sequence[1]).toBe(true);
  });

  it('"you cannot receive additional messages from the same message group ID unless the currently received messages are deleted, or they become visible again"; other groups go on', async () => {
    // Invocations take 1 s. a1 at 0 is in flight until 1 s; a2 (100 ms) waits for it, b1 (200 ms) does not.
    const { sim } = await run(
      [
        { id: 'a1', group: 'a', at: 0 },
        { id: 'a2', group: 'a', at: 100 },
        { id: 'b1', group: 'b', at: 200 },
      ],
      fifoHandler(),
      { invocationMs: 1000 },
    );
    const started = Object.fromEntries(
      sim.trace.invocations.map((i) => [i.recordIds.join(','), i.startedAt]),
    );
    expect(started).toEqual({ a1: 0, b1: 200, a2: 1000 });
  });

  it('"If your function returns an error, the function attempts all retries on the affected messages before Lambda receives additional messages from the same group"', async () => {
    // a1 fails twice; a2 and a3 are sent while it is retried. They are received only behind a1 (its group's head),
    // returned unprocessed while it fails (skipGroupOnError), and applied after it.
    let a1Failures = 0;
    const { handed, applied, sim } = await run(
      [
        { id: 'a1', group: 'a', at: 0 },
        { id: 'b1', group: 'b', at: 5_000 },
        { id: 'a2', group: 'a', at: 10_000 },
        { id: 'a3', group: 'a', at: 200_000 },
      ],
      fifoHandler((id) => id === 'a1' && ++a1Failures <= 2),
    );
    expect(handed).toEqual([['a1'], ['b1'], ['a1', 'a2'], ['a1', 'a2', 'a3']]);
    expect(applied).toEqual(['b1', 'a1', 'a2', 'a3']);
    // The retries come after the visibility timeout.
    expect(sim.trace.invocations.map((i) => i.startedAt)).toEqual([
      0,
      5_000,
      VISIBILITY_MS,
      2 * VISIBILITY_MS,
    ]);
  });

  it.each([
    [10, 6],
    [2, 2],
  ])(
    '"concurrent invocations are capped at the number of message group IDs or the maximum concurrency setting, whichever is lower" (maximum concurrency %i, 6 groups: %i)',
    async (maximumConcurrency, peak) => {
      const sends = ['a', 'b', 'c', 'd', 'e', 'f'].flatMap((name) => group(name, 20));
      const { sim, applied } = await run(sends, fifoHandler(), {
        mapping: { batchSize: 1, maximumConcurrency },
        invocationMs: 1000,
      });
      expect(peakConcurrency(sim)).toBe(peak);
      expect(applied).toHaveLength(120);
    },
  );

  it('"messages sent with the same MessageDeduplicationId are accepted successfully but aren\'t delivered during the 5-minute deduplication interval"; SQS "continues tracking the deduplication ID even after the message has been received and deleted"', async () => {
    // Content-based deduplication: the same body is the same deduplication id (the SHA-256 of the body).
    const body = JSON.stringify({ entryId: 'e-1', amount: 100 });
    const { handed, sim } = await run([
      { id: 'e1', group: 'a', at: 0, body },
      // Long after the first copy was received and deleted, but within 5 minutes of its send: dropped.
      { id: 'e1', group: 'a', at: 4 * 60_000, body },
      // Past the interval: a new message, delivered.
      { id: 'e1', group: 'a', at: 5 * 60_000 + 1, body },
    ]);
    expect(handed).toEqual([['e1'], ['e1']]);
    expect(sim.trace.invocations.map((i) => i.startedAt)).toEqual([0, 5 * 60_000 + 1]);
    const dropped = sim.trace.events.filter((e) => e.kind === 'deduplicated');
    expect(dropped.map((e) => e.at)).toEqual([4 * 60_000]);
  });

  it('"If the queue has ContentBasedDeduplication set, your MessageDeduplicationId overrides the generated one"; without either "the action fails with an error"', async () => {
    const body = JSON.stringify({ same: 'body' });
    const { handed } = await run([
      { id: 'x1', group: 'a', body, deduplicationId: 'one' },
      { id: 'x2', group: 'a', body, deduplicationId: 'two' },
    ]);
    expect(handed.flat()).toEqual(['x1', 'x2']);

    const sim = new Simulation(fifoConfig({}, { contentBasedDeduplication: false }), { seed: 'fifo' });
    const queue = sim.queues.get(FIFO_QUEUE_ARN)!;
    expect(() => queue.send(body, 'x', { messageGroupId: 'a' })).toThrow(/MessageDeduplicationId/);
    expect(queue.send(body, 'x', { messageGroupId: 'a', messageDeduplicationId: 'd' })).toBeDefined();
  });

  it.each([
    ['queue', [['x1']]],
    ['messageGroup', [['x1', 'x2']]],
  ] as const)(
    'deduplication scope %s: with high throughput ("messageGroup") only messages of the same group are compared',
    async (deduplicationScope, expected) => {
      const { handed } = await run(
        [
          { id: 'x1', group: 'a', deduplicationId: 'same' },
          { id: 'x2', group: 'b', deduplicationId: 'same' },
        ],
        fifoHandler(),
        { queue: { deduplicationScope } },
      );
      expect(handed).toEqual(expected);
    },
  );

  it("a message received maxReceiveCount times moves to the FIFO dead-letter queue, where \"the original message's deduplication ID will be replaced with the original message's ID\"; the group's later messages then run, other groups never wait", async () => {
    // a1 is poison; a2 arrives 10 s later, so it is first received with a1 on a1's second receive.
    const { sim, applied, handed } = await run(
      [{ id: 'a1', group: 'a', at: 0 }, { id: 'a2', group: 'a', at: 10_000 }, ...group('b', 3, 20_000)],
      fifoHandler((id) => id === 'a1'),
      { queue: { redrivePolicy: { deadLetterTargetArn: FIFO_DLQ_ARN, maxReceiveCount: 3 } } },
    );
    expect(sim.trace.sinks).toHaveLength(1);
    const [sink] = sim.trace.sinks;
    expect(sink).toMatchObject({
      kind: 'queue-dead-letter-queue',
      targetArn: FIFO_DLQ_ARN,
      recordIds: ['a1'],
    });
    const original = sim.queues.get(FIFO_QUEUE_ARN)!.messages.find((m) => m.recordId === 'a1')!;
    const moved = sink.message as { messageId: string; attributes: Record<string, string> };
    expect(moved.messageId).toBe(original.messageId);
    expect(moved.attributes).toMatchObject({
      MessageGroupId: 'a',
      MessageDeduplicationId: original.messageId,
      ApproximateReceiveCount: '3',
    });
    expect(original.messageDeduplicationId).not.toBe(original.messageId);
    // a1 received at 0, 180 s and 360 s, moved at 540 s; a2 (2 receives so far) runs then.
    expect(sink.at).toBe(3 * VISIBILITY_MS);
    expect(handed.filter((ids) => ids.includes('a1'))).toHaveLength(3);
    expect(applied).toEqual(['b1', 'b2', 'b3', 'a2']);
    const a2 = sim.trace.invocations.find((i) => i.sideEffects.includes('a2'))!;
    expect(a2.startedAt).toBe(3 * VISIBILITY_MS);
  });

  it("every receive counts: a group's later messages received with a failing one and returned with it reach maxReceiveCount with it, and move with it, in order", async () => {
    // a1 (poison) and a2 are both waiting at the first receive: they are received together every time.
    const { sim, applied } = await run(
      [
        { id: 'a1', group: 'a' },
        { id: 'a2', group: 'a' },
      ],
      fifoHandler((id) => id === 'a1'),
      { queue: { redrivePolicy: { deadLetterTargetArn: FIFO_DLQ_ARN, maxReceiveCount: 3 } } },
    );
    expect(applied).toEqual([]);
    expect(sim.trace.sinks.map((s) => s.recordIds[0])).toEqual(['a1', 'a2']);
    expect(
      sim.trace.sinks.map(
        (s) => (s.message as { attributes: Record<string, string> }).attributes.ApproximateReceiveCount,
      ),
    ).toEqual(['3', '3']);
  });

  it('"Batch window: not supported for FIFO queues": a mapping with one is refused', () => {
    expect(() => new Simulation(fifoConfig({ maximumBatchingWindowSeconds: 1 }), { seed: 'fifo' })).toThrow(
      /FIFO queue takes no batching window/,
    );
  });
});
