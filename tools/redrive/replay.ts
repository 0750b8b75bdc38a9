/**
 * The stream paths' redrive is `npm run replay` (tools/replay-stream-failure.ts, tools/stream-replay/): given a
 * failure record, it fetches the records the record names from the stream and puts them back. `npm run redrive`
 * calls it through its command line, in this process (`runCli` with the arguments and streams `npm run replay`
 * gets), one failure record at a time on its standard input, and goes by its exit status: 0 all records
 * re-driven (or, without `--execute`, shown), 1 bad input or an AWS error, 2 records missing from the stream.
 */
import { Readable, Writable } from 'node:stream';
import { runCli } from '../stream-replay/cli';
import type { IngestionPathName } from '../../lib/config';

export interface ReplayResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `npm run replay -- <argv>` with `input` on its standard input. */
export type ReplayRunner = (argv: readonly string[], input: string) => Promise<ReplayResult>;

function collector(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

/** `npm run replay`, in this process. */
export const replayInProcess: ReplayRunner = async (argv, input) => {
  const stdout = collector();
  const stderr = collector();
  const status = await runCli([...argv], {
    stdin: Readable.from([input]),
    stdout: stdout.stream,
    stderr: stderr.stream,
  });
  return { status, stdout: stdout.text(), stderr: stderr.text() };
};

/** How the replay is asked to re-drive one failure record of a path, given on its standard input. */
export interface ReplayPlan {
  /** The replay's arguments; `execute` false: its dry run. */
  readonly argv: (execute: boolean) => string[];
  /**
   * Whether the replay puts the records anywhere: without a target it only prints them, and its exit status 0
   * then says the records were found, not that they were re-driven.
   */
  readonly redrives: boolean;
}

/**
 * The Kinesis path puts the records back into its stream (`--redrive <StreamName>`, `--execute` unless it is a
 * dry run). A DynamoDB stream cannot be written to: the replay is given the failure record alone (it names its
 * stream) and prints the records, which are then left where they are. `extra` adds options such as `--endpoint`.
 */
export function replayPlan(
  path: IngestionPathName,
  outputs: Readonly<Record<string, string>>,
  extra: readonly string[] = [],
): ReplayPlan {
  if (path === 'stream') {
    return {
      argv: (execute) => ['-', '--redrive', outputs.StreamName, ...(execute ? ['--execute'] : []), ...extra],
      redrives: true,
    };
  }
  return { argv: () => ['-', ...extra], redrives: false };
}

/** The lines of the replay's report worth repeating: its errors and warnings, else its last line. */
export function replayMessage(result: ReplayResult): string {
  const lines = result.stderr
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const problems = lines.filter((line) => /^(error|warning):/i.test(line));
  return (problems.length > 0 ? problems : lines.slice(-1)).join(' ') || `exit status ${result.status}`;
}
