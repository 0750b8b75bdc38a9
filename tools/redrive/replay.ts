/**
 * The stream paths' redrive is `npm run replay` (tools/replay-stream-failure.ts, tools/stream-replay/): given a
 * failure record, it fetches the records the record names from the stream and puts them back. `npm run redrive`
 * calls it through its command line, in this process (`runCli` with the arguments and streams `npm run replay`
 * gets), one failure record at a time on its standard input, and goes by its exit status: 0 all records
 * re-driven (or, without `--execute`, shown), anything else a record left: 1 bad input or an AWS error, 2 records
 * missing from the stream, 3 the invoked consumer reported records failed.
 */
import { Readable, Writable } from 'node:stream';
import { runCli } from '../stream-replay/cli';

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

/**
 * The replay's arguments for one failure record on its standard input. The Kinesis path puts the records back
 * into its stream (`--redrive <StreamName>`); a DynamoDB stream cannot be written to, so the table-stream path's
 * records are given to its consumer, invoked with them as the mapping would (`--invoke <ConsumerFunctionName>`).
 * Either is a dry run unless `execute`. `extra` adds options such as `--endpoint`.
 */
export function replayArguments(
  path: 'stream' | 'table-stream',
  outputs: Readonly<Record<string, string>>,
  execute: boolean,
  extra: readonly string[] = [],
): string[] {
  const target =
    path === 'stream' ? ['--redrive', outputs.StreamName] : ['--invoke', outputs.ConsumerFunctionName];
  return ['-', ...target, ...(execute ? ['--execute'] : []), ...extra];
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
