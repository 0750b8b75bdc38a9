/**
 * `npm run local -- walkthrough`: the seeds' stream walk-through as a command. The expected sequences come from a
 * small reference model of the seed's rules written here (not from the engine): a failing batch of two or more
 * records is split in two, first half first ("splits the batch into two ... still maintaining record order"),
 * splitting resets the retries; a batch of one (or any batch, bisect off) is retried MaximumRetryAttempts times,
 * then goes to the on-failure destination; batches are read BatchSize records at a time.
 */
import { parseWalkthroughArguments, WalkthroughUsageError } from '../../../tools/local/walkthrough-cli';
import {
  deliveries,
  failedRecordLines,
  invocationSequence,
  runWalkthrough,
  SEED_WALKTHROUGH,
  type WalkthroughOptions,
} from '../../../tools/local/walkthrough';

interface ReferenceResult {
  readonly sequence: string;
  /** The 1-based positions of each batch that went to the destination. */
  readonly destination: number[][];
  /** Invocations per record, by position. */
  readonly deliveries: number[];
}

/** The seed's rules on positions 1..records, batch size 10, the function throwing on any poison record. */
function reference(options: WalkthroughOptions, batchSize = 10): ReferenceResult {
  const sequence: string[] = [];
  const destination: number[][] = [];
  const delivered = Array.from({ length: options.records }, () => 0);
  const process = (batch: number[]): void => {
    let retries = 0;
    for (;;) {
      const fails = batch.some((p) => options.poison.includes(p));
      sequence.push(`${batch.length}${fails ? '✗' : '✓'}`);
      for (const p of batch) delivered[p - 1] += 1;
      if (!fails) return;
      if (options.bisect && batch.length > 1) {
        const half = Math.floor(batch.length / 2);
        process(batch.slice(0, half));
        process(batch.slice(half));
        return;
      }
      retries += 1;
      if (retries > options.retries) {
        destination.push(batch);
        return;
      }
    }
  };
  const positions = Array.from({ length: options.records }, (_, i) => i + 1);
  for (let start = 0; start < positions.length; start += batchSize)
    (options.partial ? processReportingFailures : process)(positions.slice(start, start + batchSize));
  return { sequence: sequence.join(' '), destination, deliveries: delivered };

  /**
   * With partial batch responses, the function reports its failed records and the mapping checkpoints before the
   * lowest ("Lambda uses the record with the lowest sequence number as the checkpoint. Lambda then retries all
   * records starting from that checkpoint"). With bisect on, "the batch is bisected at the returned sequence
   * number and Lambda retries only the remaining records": the rest is a new batch, its retries reset, unless the
   * failed record is already the first, where nothing can be split off and the same batch is retried.
   */
  function processReportingFailures(batch: number[]): void {
    let retries = 0;
    let current = batch;
    for (;;) {
      const failed = current.findIndex((p) => options.poison.includes(p));
      sequence.push(`${current.length}${failed === -1 ? '✓' : '◐'}`);
      for (const p of current) delivered[p - 1] += 1;
      if (failed === -1) return;
      const rest = current.slice(failed);
      if (options.bisect && failed > 0) {
        current = rest;
        retries = 0;
        continue;
      }
      current = rest;
      retries += 1;
      if (retries > options.retries) {
        destination.push(current);
        return;
      }
    }
  }
}

async function run(options: WalkthroughOptions) {
  const result = await runWalkthrough(options);
  const positionOf = (id: string) => result.recordIds.indexOf(id) + 1;
  return {
    result,
    sequence: invocationSequence(result.sim),
    destination: result.sim.trace.sinks.map((s) => s.recordIds.map(positionOf)),
    deliveries: [...deliveries(result).values()],
  };
}

describe('npm run local -- walkthrough', () => {
  it("prints the seed's sequence for the seed's example (10 records, the third fails, bisect, 2 retries)", async () => {
    const { sequence, destination, deliveries: counts } = await run(SEED_WALKTHROUGH);
    // The seed, step by step: 10 fails, 5 fails, 2 succeeds, 3 fails, the bad record alone fails and is retried
    // twice, then the unprocessed 2 and the unprocessed 5 succeed.
    expect(sequence).toBe('10✗ 5✗ 2✓ 3✗ 1✗ 1✗ 1✗ 2✓ 5✓');
    expect(reference(SEED_WALKTHROUGH).sequence).toBe(sequence);
    expect(destination).toEqual([[3]]);
    // "the first two records ... processed a second time in the smaller batch of five ... a third time in their
    // own batch"
    expect(counts.slice(0, 2)).toEqual([3, 3]);
    expect(counts).toEqual(reference(SEED_WALKTHROUGH).deliveries);
  });

  it.each<[string, Partial<WalkthroughOptions>]>([
    ['--records 16 --poison 6,12 --retries 1', { records: 16, poison: [6, 12], retries: 1 }],
    ['--bisect off', { bisect: false }],
    ['--bisect off --retries 0 --poison 1,10', { bisect: false, retries: 0, poison: [1, 10] }],
    ['--records 25 --poison 2,3,17 --retries 3', { records: 25, poison: [2, 3, 17], retries: 3 }],
    // With partial batch responses: the checkpoint rules of the reference model.
    ['--partial on', { partial: true }],
    ['--partial on --bisect off', { partial: true, bisect: false }],
    [
      '--partial on --records 16 --poison 6,12 --retries 1',
      { partial: true, records: 16, poison: [6, 12], retries: 1 },
    ],
    ['--partial on --poison 1,10 --retries 0', { partial: true, poison: [1, 10], retries: 0 }],
  ])('%s follows the seed’s rules', async (_flags, change) => {
    const options = { ...SEED_WALKTHROUGH, ...change };
    const expected = reference(options);
    const { sequence, destination, deliveries: counts } = await run(options);
    expect(sequence).toBe(expected.sequence);
    expect(destination).toEqual(expected.destination);
    expect(counts).toEqual(expected.deliveries);
  });

  it('names where the failed record went: the on-failure destination, after 1 + retries invocations alone', async () => {
    const { result } = await run(SEED_WALKTHROUGH);
    const [line, ...rest] = failedRecordLines(result);
    expect(rest).toEqual([]);
    expect(line).toMatch(
      /^#3 \(\S+\) → on-failure destination \S+: RetryAttemptsExhausted after 3 invocations/,
    );
  });

  it('--partial on: the function reports the failed record and the mapping checkpoints before it', async () => {
    const { result, sequence } = await run({ ...SEED_WALKTHROUGH, partial: true });
    // Records 1 and 2 are done in the first invocation and never handed over again.
    const counts = deliveries(result);
    expect([...counts.values()].slice(0, 2)).toEqual([1, 1]);
    expect(sequence.split(' ')[0]).toBe('10◐');
    // What is retried after the checkpoint starts at the failed record, so it cannot be split off: the destination
    // names the rest of the batch, and says that the records after it were processed all the same.
    const [line] = failedRecordLines(result);
    expect(line).toMatch(
      /^#3–#10 .*; #4, #5, #6, #7, #8, #9, #10 of that range were processed all the same$/,
    );
    expect(result.mapping.reportBatchItemFailures).toBe(true);
  });
});

describe('walkthrough flags', () => {
  it('reads the seed example by default and each flag', () => {
    expect(parseWalkthroughArguments([])).toMatchObject({ walkthrough: SEED_WALKTHROUGH });
    expect(
      parseWalkthroughArguments(
        '--records 16 --poison 12,6 --retries 1 --bisect off --partial on --html t.html'.split(' '),
      ),
    ).toMatchObject({
      walkthrough: { records: 16, poison: [6, 12], retries: 1, bisect: false, partial: true },
      html: 't.html',
    });
  });

  it('names every bad value at once', () => {
    const parse = () =>
      parseWalkthroughArguments('--records 5 --poison 0,7 --retries x --bisect maybe --nope'.split(' '));
    expect(parse).toThrow(WalkthroughUsageError);
    const lines = (() => {
      try {
        parse();
      } catch (error) {
        return (error as Error).message.split('\n');
      }
      return [];
    })();
    expect(lines).toEqual([
      '--nope: not an option of walkthrough',
      '--poison 0,7: positions are whole numbers from 1 to 5 (the records), got 0, 7',
      '--retries x: must be a whole number from 0 to 10000',
      '--bisect maybe: must be on or off',
    ]);
  });
});
