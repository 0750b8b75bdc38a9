/**
 * `npm run local [-- <scenario.json>] [options]`: runs a scenario through the simulated Lambda service with the
 * handler bundles of cdk.out (synthesized first if missing, stale or unbundled) and prints the report. See --help and
 * docs/local-simulator.md.
 */
import { createWriteStream, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { prepareAssembly } from './assembly';
import { AssemblyError, loadCloudAssembly } from './cloudformation';
import { renderReport } from './report';
import { runScenario } from './run';
import { readSetFlags, renderSettings, SettingsError, type PathSettings } from './overrides';
import { PATHS, readScenarioFile, ScenarioError, type Scenario } from './scenario';
import { scenarioTimelineRun, timelineHtml } from './timeline-html';
import { walkthroughCommand } from './walkthrough-cli';

const PROJECT_DIR = resolve(__dirname, '..', '..');
// The functions run on Lambda's Node.js 24 runtime; the SDK's note about this machine's Node.js is not theirs.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const DEMO_SCENARIO = join(__dirname, 'scenarios', 'demo.json');

const HELP = `Usage: npm run local -- [scenario.json] [options]
       npm run local -- walkthrough [options]   (the seeds' stream walk-through: see walkthrough --help)

Simulates the Lambda service (SQS standard and FIFO, Kinesis and DynamoDB Streams event source mappings,
asynchronous invocation from S3 via SNS, synchronous invocation from API Gateway with clients that retry) on a virtual clock, with faults, and runs the real handler bundles from cdk.out against an in-process
DynamoDB (dynalite). Without a scenario file it runs the demonstration scenario
(tools/local/scenarios/demo.json). Prints a report per path; progress goes to stderr.

Options:
  --json <file>      also write the report as JSON: every record, every invocation (records, outcome), every
                     dead-letter queue and destination message
  --logs <file>      write every line the functions logged (JSON Lines, with the invocation number)
  --model            use the in-engine model of the handlers instead of the bundles (fast; see the docs)
  --seed <value>     override the scenario's seed
  --set <path>.<setting>=<value>
                     override a setting of the template for this run, e.g. --set stream.bisect=off
                     --set sqs.visibilityTimeoutSeconds=60 (repeatable; over the scenario's "settings"):
                     batchSize, batchingWindowSeconds, partialBatchResponses, failureMode, bisect,
                     retryAttempts, maxRecordAgeSeconds, parallelizationFactor, visibilityTimeoutSeconds,
                     maxReceiveCount, maximumConcurrency, maxEventAgeSeconds; on the http path
                     throttleRateLimit, throttleBurstLimit, reservedConcurrency (docs/local-simulator.md)
  --html <file>      also write the timeline as a self-contained HTML page (lanes, invocations, where
                     failed records went)
  --cdk-out <dir>    the cloud assembly to read (default: cdk.out)
  --synth            synthesize even if the assembly looks up to date
  --no-synth         never synthesize (fail if the assembly is missing or was written without bundling)
  --quiet            no progress output
  -h, --help         this help

Exit status: 0 when every invariant holds, 2 when one does not, 1 on an error (bad scenario, synth failure).
Scenario format: docs/local-simulator.md.`;

interface CliOptions {
  scenarioFile?: string;
  json?: string;
  logs?: string;
  model: boolean;
  seed?: string;
  /** `--set` flags, as given. */
  set: string[];
  html?: string;
  cdkOut: string;
  synth: 'auto' | 'always' | 'never';
  quiet: boolean;
}

class UsageError extends Error {}

function parseArguments(argv: readonly string[]): CliOptions | 'help' {
  const options: CliOptions = {
    model: false,
    set: [],
    cdkOut: join(PROJECT_DIR, 'cdk.out'),
    synth: 'auto',
    quiet: false,
  };
  const value = (i: number, flag: string) => {
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) throw new UsageError(`${flag} needs a value.`);
    return next;
  };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    switch (arg) {
      case '-h':
      case '--help':
        return 'help';
      case '--json':
        options.json = value(i++, arg);
        break;
      case '--logs':
        options.logs = value(i++, arg);
        break;
      case '--model':
        options.model = true;
        break;
      case '--seed':
        options.seed = value(i++, arg);
        break;
      case '--set':
        options.set.push(value(i++, arg));
        break;
      case '--html':
        options.html = value(i++, arg);
        break;
      case '--cdk-out':
        options.cdkOut = resolve(value(i++, arg));
        break;
      case '--synth':
        options.synth = 'always';
        break;
      case '--no-synth':
        options.synth = 'never';
        break;
      case '--quiet':
        options.quiet = true;
        break;
      default:
        if (arg.startsWith('-')) throw new UsageError(`Unknown option ${arg}.`);
        if (options.scenarioFile)
          throw new UsageError(`One scenario file at a time (got ${options.scenarioFile} and ${arg}).`);
        options.scenarioFile = arg;
    }
  }
  return options;
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv[0] === 'walkthrough') return walkthroughCommand(argv.slice(1));
  let options: CliOptions | 'help';
  try {
    options = parseArguments(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`${error.message}\n\n${HELP}`);
      return 1;
    }
    throw error;
  }
  if (options === 'help') {
    console.log(HELP);
    return 0;
  }
  const opts = options as CliOptions;
  const progress = (line: string) => {
    if (!opts.quiet) process.stderr.write(`${line}\n`);
  };

  // Bad --set flags and a bad scenario file are named together.
  let flagSettings: PathSettings = {};
  let flagProblems: SettingsError | undefined;
  try {
    flagSettings = readSetFlags(opts.set, [...PATHS, 'http']);
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error;
    flagProblems = error;
  }
  let scenario: Scenario;
  try {
    scenario = readScenarioFile(opts.scenarioFile ?? DEMO_SCENARIO);
  } catch (error) {
    if (flagProblems && error instanceof ScenarioError)
      throw new ScenarioError(`${error.message}\n${flagProblems.message}`);
    throw error;
  }
  if (flagProblems) throw flagProblems;
  if (opts.seed !== undefined)
    scenario = { ...scenario, seed: /^\d+$/.test(opts.seed) ? Number(opts.seed) : opts.seed };
  const functions = opts.model ? 'model' : scenario.functions;

  prepareAssembly({
    projectDir: PROJECT_DIR,
    assemblyDir: opts.cdkOut,
    synth: opts.synth,
    needsBundles: functions === 'bundles',
    progress,
  });
  const assembly = loadCloudAssembly(opts.cdkOut);
  for (const warning of assembly.warnings) progress(`Note: ${warning}`);
  progress(
    `Simulating ${Object.keys(scenario.paths).join(', ')} from ${assembly.stacks.join(', ')} with ${functions === 'bundles' ? 'the handler bundles and dynalite' : 'the model functions'} (seed ${scenario.seed})…`,
  );

  const logStream = opts.logs ? createWriteStream(opts.logs) : undefined;
  const result = await runScenario({
    scenario,
    config: assembly.config,
    functions,
    settings: flagSettings,
    onProgress: progress,
    ...(logStream && {
      onLog: (line, seq) => logStream.write(`${JSON.stringify({ invocation: seq, line })}\n`),
    }),
  });
  logStream?.end();

  console.log(`${renderSettings(result.settings)}\n`);
  console.log(renderReport(result.report, result.realMs));
  if (result.unattributedClaims > 0) {
    console.log(
      `\nNote: ${result.unattributedClaims} idempotency claims could not be tied to a record; per-record transient faults did not apply to them (see docs/local-simulator.md, "Faults").`,
    );
  }
  if (opts.json) {
    writeFileSync(
      opts.json,
      `${JSON.stringify({ ...(result.json() as object), settings: result.settings }, null, 2)}\n`,
    );
    progress(`JSON report written to ${opts.json}`);
  }
  if (opts.html) {
    const name = scenario.name ?? 'unnamed';
    writeFileSync(
      opts.html,
      timelineHtml({
        title: `Scenario ${name} (seed ${scenario.seed})`,
        runs: [
          scenarioTimelineRun(
            name,
            renderSettings(result.settings)
              .split('\n')
              .slice(1)
              .map((line) => line.trim()),
            result,
          ),
        ],
      }),
    );
    progress(`Timeline written to ${opts.html}`);
  }
  const invariants = [
    ...result.report.paths.flatMap((p) => p.invariants),
    ...(result.report.http?.invariants ?? []),
  ];
  return invariants.every((i) => i.holds) ? 0 : 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ScenarioError || error instanceof AssemblyError || error instanceof SettingsError) {
      console.error(error.message);
    } else {
      console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    }
    process.exitCode = 1;
  },
);
