/**
 * `npm run local -- walkthrough [options]`: the seeds' Kinesis walk-through (walkthrough.ts), its flags parsed and
 * checked (every bad value named at once), its output printed, and with `--html` its timeline written.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { prepareAssembly } from './assembly';
import { loadCloudAssembly } from './cloudformation';
import { entryPointsOf } from './engine/simulation';
import { timelineHtml } from './timeline-html';
import {
  renderWalkthrough,
  runWalkthrough,
  SEED_WALKTHROUGH,
  type WalkthroughOptions,
  type WalkthroughRun,
} from './walkthrough';

const PROJECT_DIR = resolve(__dirname, '..', '..');

export const WALKTHROUGH_HELP = `Usage: npm run local -- walkthrough [options]

Runs the seeds' stream walk-through ("Error handling for stream-based events"): a batch of 10 records on one
shard, the third record fails, bisect on, 2 retries, an on-failure destination, partial batch responses off (the
function throws). Prints the invocations in order (batch size and outcome), where each failed record went, and
how many times each record was delivered. Runs the in-engine model function: no synth, no bundles.

Options:
  --records <n>        records in the stream (1–1000; default 10)
  --poison <list>      1-based positions of the records that always fail, comma-separated (default 3)
  --retries <n>        MaximumRetryAttempts (0–10000; default 2)
  --bisect on|off      BisectBatchOnFunctionError (default on)
  --partial on|off     partial batch responses: the function reports failed records and the mapping reads them
                       (default off: the function throws). With on, the same records also run through this
                       template's own stream mapping (from cdk.out, synthesized when needed), side by side
  --html <file>        also write the timeline as a self-contained HTML page
  --cdk-out <dir>      the cloud assembly for --partial on (default: cdk.out)
  --no-synth           never synthesize (with --partial on)
  -h, --help           this help`;

export interface WalkthroughCliOptions {
  readonly walkthrough: WalkthroughOptions;
  readonly html?: string;
  readonly cdkOut: string;
  readonly synth: 'auto' | 'never';
}

export class WalkthroughUsageError extends Error {}

const MAX_RECORDS = 1000;
const MAX_RETRIES = 10_000;

/** Parses the flags; throws a {@link WalkthroughUsageError} naming every bad value at once. */
export function parseWalkthroughArguments(argv: readonly string[]): WalkthroughCliOptions | 'help' {
  const problems: string[] = [];
  const raw: Record<string, string> = {};
  let html: string | undefined;
  let cdkOut = join(PROJECT_DIR, 'cdk.out');
  let synth: 'auto' | 'never' = 'auto';
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const next = argv[i + 1];
    const takesValue = ['--records', '--poison', '--retries', '--bisect', '--partial', '--html', '--cdk-out'];
    if (arg === '-h' || arg === '--help') return 'help';
    if (arg === '--no-synth') {
      synth = 'never';
      continue;
    }
    if (!takesValue.includes(arg)) {
      problems.push(`${arg}: not an option of walkthrough`);
      continue;
    }
    if (next === undefined || next.startsWith('--')) {
      problems.push(`${arg}: needs a value`);
      continue;
    }
    i += 1;
    if (arg === '--html') html = next;
    else if (arg === '--cdk-out') cdkOut = resolve(next);
    else raw[arg] = next;
  }

  const whole = (flag: string, min: number, max: number, fallback: number): number => {
    const text = raw[flag];
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!/^-?\d+$/.test(text) || value < min || value > max) {
      problems.push(`${flag} ${text}: must be a whole number from ${min} to ${max}`);
      return fallback;
    }
    return value;
  };
  const onOff = (flag: string, fallback: boolean): boolean => {
    const text = raw[flag];
    if (text === undefined) return fallback;
    if (text !== 'on' && text !== 'off') {
      problems.push(`${flag} ${text}: must be on or off`);
      return fallback;
    }
    return text === 'on';
  };
  const records = whole('--records', 1, MAX_RECORDS, SEED_WALKTHROUGH.records);
  let poison = [...SEED_WALKTHROUGH.poison];
  if (raw['--poison'] !== undefined) {
    const items = raw['--poison'].split(',').map((s) => s.trim());
    const bad = items.filter((s) => !/^\d+$/.test(s) || Number(s) < 1 || Number(s) > records);
    if (bad.length > 0) {
      problems.push(
        `--poison ${raw['--poison']}: positions are whole numbers from 1 to ${records} (the records), got ${bad.map((b) => b || '(empty)').join(', ')}`,
      );
    } else {
      poison = [...new Set(items.map(Number))].sort((a, b) => a - b);
    }
  } else if (poison.some((p) => p > records)) {
    // The seed's third record does not exist in a shorter stream: say so rather than run with no failure.
    problems.push(`--records ${records}: the default poison record is #3; name one with --poison`);
  }
  const retries = whole('--retries', 0, MAX_RETRIES, SEED_WALKTHROUGH.retries);
  const bisect = onOff('--bisect', SEED_WALKTHROUGH.bisect);
  const partial = onOff('--partial', SEED_WALKTHROUGH.partial);
  if (problems.length > 0) throw new WalkthroughUsageError(problems.join('\n'));
  return {
    walkthrough: { records, poison, retries, bisect, partial },
    ...(html !== undefined && { html }),
    cdkOut,
    synth,
  };
}

/** Runs the command; returns the exit status. */
export async function walkthroughCommand(argv: readonly string[]): Promise<number> {
  let options: WalkthroughCliOptions | 'help';
  try {
    options = parseWalkthroughArguments(argv);
  } catch (error) {
    if (!(error instanceof WalkthroughUsageError)) throw error;
    console.error(`${error.message}\n\n${WALKTHROUGH_HELP}`);
    return 1;
  }
  if (options === 'help') {
    console.log(WALKTHROUGH_HELP);
    return 0;
  }
  const runs: WalkthroughRun[] = [await runWalkthrough(options.walkthrough)];
  if (options.walkthrough.partial) {
    // What this template's own stream mapping does with the same records (its batch size, bisect, retries, age).
    prepareAssembly({
      projectDir: PROJECT_DIR,
      assemblyDir: options.cdkOut,
      synth: options.synth,
      needsBundles: false,
      progress: (line) => process.stderr.write(`${line}\n`),
    });
    const { config } = loadCloudAssembly(options.cdkOut);
    // A fork may deploy no Kinesis path: then there is nothing of its own to set beside the seed's run.
    if (entryPointsOf(config).stream)
      runs.push(await runWalkthrough(options.walkthrough, config, "this template's stream path"));
    else
      process.stderr.write(
        "Note: this template deploys no Kinesis stream path; only the seed's run is shown.\n",
      );
  }
  console.log(renderWalkthrough(options.walkthrough, runs));
  if (runs.length > 1) {
    // The flags describe the seed's example; the template's column is what this template deploys.
    console.log(
      "\nThe template's column runs the same records with the template's own mapping settings: --records, --poison " +
        "and --partial apply to both columns, --bisect and --retries to the seed's column only.",
    );
  }
  if (options.html) {
    writeFileSync(
      options.html,
      timelineHtml({
        title: 'Stream walk-through',
        runs: runs.map((run) => ({ title: run.title, settings: run.settings, sim: run.sim })),
      }),
    );
    process.stderr.write(`Timeline written to ${options.html}\n`);
  }
  return 0;
}
