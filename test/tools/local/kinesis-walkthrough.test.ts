/**
 * The seeds' Kinesis walk-through (shared/seeds/001, "Error handling for stream-based events"), reproduced
 * step by step: "BisectBatchOnFunctionError = True, MaximumRetryAttempts = 2, and DestinationConfig includes an
 * OnFailure Destination that points to an SNS topic. Assume you have a batch of 10 records, and the third record
 * in this batch of 10 returns a function error."
 */
import { scriptedFunction } from '../../../tools/local/engine/functions';
import { Simulation } from '../../../tools/local/engine/simulation';
import { kinesisConfig, STREAM_ARN, STREAM_DESTINATION_ARN } from './config-fixtures';

async function runWalkthrough() {
  const sim = new Simulation(
    kinesisConfig({ batchSize: 10, bisectBatchOnFunctionError: true, maximumRetryAttempts: 2 }),
    { seed: 'seeds-walkthrough' },
  );
  // The function fails whenever the batch holds the third record, and does nothing else.
  const fn = scriptedFunction((invocation) =>
    invocation.recordIds.includes('r3')
      ? { throws: new Error('record r3 cannot be processed') }
      : { returns: undefined, sideEffects: invocation.recordIds },
  );
  sim.setFunctionCode('stream-consumer', fn);
  for (let i = 1; i <= 10; i += 1)
    sim.putRecord(STREAM_ARN, 'sensor-1', JSON.stringify({ n: i }), `r${i}`, 0);
  await sim.run();
  return { sim, fn };
}

describe("the seeds' bisect walk-through", () => {
  it('sends the batches 10 → 5 → 2 (ok) → 3 → 1 (fails 1 + 2 times) → 2 → 5, always in record order', async () => {
    const { sim } = await runWalkthrough();
    const batches = sim.trace.invocations.map((i) => ({
      records: i.recordIds.join(','),
      outcome: i.outcome,
    }));
    expect(batches).toEqual([
      // "the third record in this batch of 10 returns a function error"
      { records: 'r1,r2,r3,r4,r5,r6,r7,r8,r9,r10', outcome: 'function-error' },
      // "Now you've got two batches of five. Lambda sends the first batch of five and it fails."
      { records: 'r1,r2,r3,r4,r5', outcome: 'function-error' },
      // "splits that failing batch yielding a batch of two and a batch of three records ... the batch of two
      // records processes successfully"
      { records: 'r1,r2', outcome: 'success' },
      // "So Lambda sends the batch of three to the function. That batch fails."
      { records: 'r3,r4,r5', outcome: 'function-error' },
      // "Lambda sends the batch with a bad record and it fails ... the function retries the record twice"
      { records: 'r3', outcome: 'function-error' },
      { records: 'r3', outcome: 'function-error' },
      { records: 'r3', outcome: 'function-error' },
      // "Lambda is going to process the unprocessed batch of two, then the unprocessed batch of five."
      { records: 'r4,r5', outcome: 'success' },
      { records: 'r6,r7,r8,r9,r10', outcome: 'success' },
    ]);
  });

  it('splits without counting a retry: the single bad record gets 1 + MaximumRetryAttempts invocations', async () => {
    const { sim } = await runWalkthrough();
    const splits = sim.trace.events.filter((e) => e.kind === 'split').map((e) => e.detail);
    expect(splits).toEqual([
      'shardId-000000000000: batch of 10 split into 5 + 5',
      'shardId-000000000000: batch of 5 split into 2 + 3',
      'shardId-000000000000: batch of 3 split into 1 + 2',
    ]);
    const alone = sim.trace.invocations.filter((i) => i.recordIds.length === 1);
    expect(alone.map((i) => [i.reason, i.attempt])).toEqual([
      ['split', 1],
      ['retry', 2],
      ['retry', 3],
    ]);
  });

  it('"sends it to the SNS topic configured for the on-failure destination": only the third record, as metadata', async () => {
    const { sim } = await runWalkthrough();
    expect(sim.trace.sinks).toHaveLength(1);
    const [sink] = sim.trace.sinks;
    expect(sink).toMatchObject({
      targetArn: STREAM_DESTINATION_ARN,
      kind: 'on-failure-destination',
      recordIds: ['r3'],
      condition: 'RetryAttemptsExhausted',
    });
    const r3 = sim.streams.get(STREAM_ARN)!.shards[0].records[2];
    expect(sink.message).toMatchObject({
      requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 3 },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      KinesisBatchInfo: {
        shardId: 'shardId-000000000000',
        startSequenceNumber: r3.sequenceNumber,
        endSequenceNumber: r3.sequenceNumber,
        batchSize: 1,
        streamArn: STREAM_ARN,
      },
    });
    // "The on-failure record carries only metadata ... not the records themselves" (FIELD-NOTES).
    expect(JSON.stringify(sink.message)).not.toContain(r3.data);
  });

  it('hands "the first two records" to the function three times, and every record at least twice', async () => {
    const { fn } = await runWalkthrough();
    const handed = new Map<string, number>();
    for (const call of fn.calls) for (const id of call.recordIds) handed.set(id, (handed.get(id) ?? 0) + 1);
    expect(Object.fromEntries(handed)).toEqual({
      // "the first two records are processed before the function returns an error ... processed a second time
      // in the smaller batch of five records ... and then they are processed a third time in their own batch"
      r1: 3,
      r2: 3,
      // 10, 5, 3, then alone 1 + 2 times
      r3: 6,
      // 10, 5, 3, then the batch of two
      r4: 4,
      r5: 4,
      // 10, then the second batch of five
      r6: 2,
      r7: 2,
      r8: 2,
      r9: 2,
      r10: 2,
    });
  });

  it('"moves the pointer on the stream" only after the last piece: nothing is handed over twice afterwards', async () => {
    const { sim } = await runWalkthrough();
    const last = sim.trace.invocations.at(-1)!;
    expect(last.recordIds).toEqual(['r6', 'r7', 'r8', 'r9', 'r10']);
    expect(sim.trace.sideEffects.map((s) => s.recordId).sort()).toEqual(
      ['r1', 'r2', 'r4', 'r5', 'r6', 'r7', 'r8', 'r9', 'r10'].sort(),
    );
  });
});
