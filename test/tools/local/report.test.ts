/**
 * The report's "every healthy record is applied" invariant (tools/local/report.ts): a record with no fault that
 * can make it fail must end applied. Built from hand-made records and traces, so each excuse is tested alone.
 */
import type { Simulation } from '../../../tools/local/engine/simulation';
import type { InvocationRecord, SinkRecord } from '../../../tools/local/engine/trace';
import { FaultPlan } from '../../../tools/local/faults';
import { healthyRecordsAppliedInvariant, type RecordReport } from '../../../tools/local/report';

const DESTINATION: RecordReport['sinks'][number] = {
  kind: 'on-failure-destination',
  target: 'arn:aws:sns:us-east-1:123456789012:on-failure',
};

function record(id: string, overrides: Partial<RecordReport> = {}): RecordReport {
  return {
    id,
    path: 'stream',
    poison: false,
    faults: [],
    handed: 3,
    sideEffects: 0,
    sinks: [DESTINATION],
    fate: 'in-sink',
    ...overrides,
  };
}

/** A simulation whose trace holds these invocations (id, start) and one on-failure message of `sunk`. */
function simWith(invocations: readonly [string, number][], sunk: readonly string[]): Simulation {
  const trace = {
    invocations: invocations.map(
      ([id, startedAt]) =>
        ({ recordIds: [id], startedAt, endedAt: startedAt + 50 }) as unknown as InvocationRecord,
    ),
    sinks: [{ kind: 'on-failure-destination', recordIds: sunk } as unknown as SinkRecord],
  };
  return { trace } as unknown as Simulation;
}

const keys: Record<string, string> = { 'stream-1': 'a', 'stream-2': 'a', 'stream-3': 'b' };
const context = (faults = new FaultPlan()) => ({ faults, partitionKeyOf: (id: string) => keys[id] });

describe('every healthy record is applied', () => {
  it('breaks when a healthy record ends in a sink with no fault to account for it (a fork whose records all fail)', () => {
    const result = healthyRecordsAppliedInvariant(
      simWith([['stream-1', 1_000]], ['stream-1']),
      [record('stream-1')],
      context(),
    );
    expect(result).toMatchObject({ holds: false, examples: ['stream-1 (in-sink → on-failure-destination)'] });
  });

  it('breaks for a healthy record held back behind a poison record: an invalid record holds nothing back', () => {
    const records = [record('stream-1', { poison: true, faults: ['poison'] }), record('stream-2')];
    const result = healthyRecordsAppliedInvariant(
      simWith(
        [
          ['stream-1', 1_000],
          ['stream-2', 1_000],
        ],
        ['stream-1', 'stream-2'],
      ),
      records,
      context(),
    );
    expect(result.holds).toBe(false);
    expect(result.examples).toEqual(['stream-2 (in-sink → on-failure-destination)']);
  });

  it('holds for a record held back behind an earlier record of its key whose fault may pass (order first)', () => {
    const records = [record('stream-1', { faults: ['timeout'] }), record('stream-2')];
    const sim = simWith(
      [
        ['stream-1', 1_000],
        ['stream-2', 1_000],
      ],
      ['stream-1', 'stream-2'],
    );
    expect(healthyRecordsAppliedInvariant(sim, records, context()).holds).toBe(true);
    // Not behind a record of another key.
    const otherKey = [record('stream-1', { faults: ['timeout'] }), record('stream-3')];
    const sim2 = simWith(
      [
        ['stream-1', 1_000],
        ['stream-3', 1_000],
      ],
      ['stream-1', 'stream-3'],
    );
    expect(healthyRecordsAppliedInvariant(sim2, otherKey, context()).holds).toBe(false);
  });

  it('holds for a record an invocation carried during a DynamoDB outage, however briefly they overlap', () => {
    const faults = new FaultPlan().addDynamoDbOutage({ fromMs: 500, toMs: 2_000 });
    const sim = simWith([['stream-1', 1_000]], ['stream-1']);
    expect(healthyRecordsAppliedInvariant(sim, [record('stream-1')], context(faults)).holds).toBe(true);
    // Started before the outage, still running when it began (each invocation here lasts 50 ms).
    expect(
      healthyRecordsAppliedInvariant(
        simWith([['stream-1', 460]], ['stream-1']),
        [record('stream-1')],
        context(faults),
      ).holds,
    ).toBe(true);
    // Ended before it.
    expect(
      healthyRecordsAppliedInvariant(
        simWith([['stream-1', 400]], ['stream-1']),
        [record('stream-1')],
        context(faults),
      ).holds,
    ).toBe(false);
  });

  it('holds for a record SNS could not deliver (only that sends it to the subscription dead-letter queue)', () => {
    const undelivered = record('stream-1', {
      path: 'object',
      handed: 0,
      sinks: [{ kind: 'subscription-dead-letter-queue', target: 'arn:aws:sqs:us-east-1:123456789012:dlq' }],
    });
    expect(healthyRecordsAppliedInvariant(simWith([], []), [undelivered], context()).holds).toBe(true);
  });

  it("holds for a FIFO message that went to the dead-letter queue with an earlier failing message of its group (it counted that message's receives), and only then", () => {
    const dlq = 'arn:aws:sqs:us-east-1:123456789012:dlq.fifo';
    const inDlq: RecordReport['sinks'][number] = { kind: 'queue-dead-letter-queue', target: dlq };
    const groups: Record<string, string> = { 'fifo-1': 'a', 'fifo-2': 'a', 'fifo-3': 'b' };
    const fifoSim = (moves: readonly [string, number][]) =>
      ({
        trace: {
          invocations: [],
          sinks: moves.map(([id, at]) => ({
            path: 'fifo',
            kind: 'queue-dead-letter-queue',
            targetArn: dlq,
            at,
            recordIds: [id],
          })),
        },
      }) as unknown as Simulation;
    const fifoContext = { ...context(), messageGroupOf: (id: string) => groups[id] };
    const poisonFirst = record('fifo-1', { path: 'fifo', poison: true, faults: ['poison'], sinks: [inDlq] });
    const behind = record('fifo-2', { path: 'fifo', sinks: [inDlq] });
    const held = fifoSim([
      ['fifo-1', 540_000],
      ['fifo-2', 540_000],
    ]);
    expect(healthyRecordsAppliedInvariant(held, [poisonFirst, behind], fifoContext).holds).toBe(true);
    // Another group's message is not held back by it.
    const otherGroup = record('fifo-3', { path: 'fifo', sinks: [inDlq] });
    const otherHeld = fifoSim([
      ['fifo-1', 540_000],
      ['fifo-3', 540_000],
    ]);
    expect(healthyRecordsAppliedInvariant(otherHeld, [poisonFirst, otherGroup], fifoContext).holds).toBe(
      false,
    );
    // Nor by a failing message that reached the dead-letter queue after it.
    const later = fifoSim([
      ['fifo-2', 540_000],
      ['fifo-1', 720_000],
    ]);
    expect(healthyRecordsAppliedInvariant(later, [poisonFirst, behind], fifoContext).holds).toBe(false);
  });

  it('ignores applied records, records with faults of their own, and records still pending', () => {
    const records = [
      record('stream-1', { sideEffects: 1, fate: 'done-and-in-sink' }),
      record('stream-2', { faults: ['transient'] }),
      record('stream-3', { fate: 'pending', sinks: [] }),
    ];
    expect(healthyRecordsAppliedInvariant(simWith([], []), records, context()).holds).toBe(true);
  });
});
