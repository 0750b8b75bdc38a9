/**
 * The benchmark (`npm run bench`): cold start and warm throughput of each handler as shipped, each as a ratio to
 * a hand-written floor (bench/floor-handler.ts) measured in the same run; synth time of the whole app against a
 * `cdk init` one-queue app; the test suite's time and what dominates it. Prints tables, writes
 * bench-results.json. See docs/performance.md for what each figure means and the latest results.
 *
 *   npm run bench                       everything (≈10 minutes on 2 cores)
 *   npm run bench -- --quick            fewer rounds, no bundling variants
 *   npm run bench -- --only cold,warm   some sections: cold, variants, warm, synth, jest
 *   npm run bench -- --baseline-rev <git rev>   also cold-start the handlers as they were at that revision
 *   npm run bench -- --markdown         tables as Markdown (for docs/performance.md)
 *
 * Every figure is a median over interleaved rounds with its interquartile range; ratios are paired by round.
 * Nothing here asserts a time: the tests never depend on how fast this machine is.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CONSUMER_BUNDLING,
  CONSUMER_NODE_OPTIONS,
  type ConsumerBundling,
} from '../lib/constructs/consumer-function';
import { type BuiltBundle, compareWithAsset, PROJECT_ROOT } from './lib/bundle';
import { type ColdSummary, type ColdVariant, measureColdStarts } from './lib/cold';
import { startBenchDynamoDb } from './lib/dynalite';
import { bundleAll, handlerSpecs } from './lib/handlers';
import { BENCH_DIR, buildChildRuntime, functionEnvironment, prepareBenchDir } from './lib/harness';
import { measureInitParts } from './lib/init-parts';
import { type JestProbe, type JestRun, type JestVariant, probeJest, runJest } from './lib/jest-suite';
import { formatMs, formatRatio, type Summary } from './lib/stats';
import {
  functionAssets,
  measureSynth,
  prepareInitApp,
  type SynthSummary,
  type SynthVariant,
} from './lib/synth';
import { type Cell, kb, renderMarkdownTable, renderTable } from './lib/table';
import { measureWarmThroughput, type WarmSummary } from './lib/warm';
import { context as cdkJsonContext } from '../cdk.json';

const SECTIONS = ['cold', 'init', 'variants', 'warm', 'synth', 'jest'] as const;
/** The handler variant measured to explain a figure, left out of the goals (bench/lib/handlers.ts). */
const DIAGNOSTIC = 'sqs-no-info-log';
type Section = (typeof SECTIONS)[number];

interface Options {
  readonly sections: ReadonlySet<Section>;
  readonly coldRounds: number;
  readonly warmRounds: number;
  readonly synthRounds: number;
  readonly batchSizes: readonly number[];
  readonly baselineRev?: string;
  readonly synthVariants: boolean;
  readonly jestVariants: boolean;
  readonly markdown: boolean;
  readonly out: string;
  readonly keep: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  const value = (flag: string): string | undefined => {
    const index = argv.indexOf(flag);
    return index === -1 ? undefined : argv[index + 1];
  };
  const has = (flag: string): boolean => argv.includes(flag);
  const quick = has('--quick');
  const only =
    value('--only')?.split(',') ?? SECTIONS.filter((section) => !(quick && section === 'variants'));
  for (const section of only) {
    if (!(SECTIONS as readonly string[]).includes(section)) throw new Error(`unknown section "${section}"`);
  }
  return {
    sections: new Set(only as Section[]),
    coldRounds: Number(value('--rounds') ?? (quick ? 5 : 15)),
    warmRounds: Number(value('--warm-rounds') ?? (quick ? 3 : 7)),
    synthRounds: Number(value('--synth-rounds') ?? (quick ? 1 : 3)),
    batchSizes: (value('--batch-sizes') ?? '1,10,100,1000').split(',').map(Number),
    ...(value('--baseline-rev') && { baselineRev: value('--baseline-rev') }),
    synthVariants: has('--synth-variants'),
    jestVariants: has('--jest-variants'),
    markdown: has('--markdown'),
    out: path.resolve(value('--out') ?? path.join(PROJECT_ROOT, 'bench-results.json')),
    keep: has('--keep'),
  };
}

const log = (message: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
};

function git(...args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return 'unknown';
  }
}

function machine(): Record<string, unknown> {
  return {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    loadAverage: os.loadavg().map((load) => Number(load.toFixed(2))),
    gitRevision: git('rev-parse', '--short', 'HEAD'),
    gitDirty: git('status', '--porcelain').length > 0,
  };
}

/** Builds the handlers of an older revision (for a before/after figure): `git archive <rev> lambda bench`. */
function checkoutRevision(rev: string): string {
  const dir = path.join(BENCH_DIR, `rev-${rev.replace(/[^\w.-]+/g, '_')}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const archive = execFileSync('git', ['archive', rev, 'lambda'], { cwd: PROJECT_ROOT, maxBuffer: 1 << 28 });
  execFileSync('tar', ['-x', '-C', dir], { input: archive });
  return dir;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const print = (title: string, headers: readonly string[], rows: readonly (readonly Cell[])[]): void => {
    const render = options.markdown ? renderMarkdownTable : renderTable;
    process.stdout.write(`\n${options.markdown ? '### ' : '== '}${title}\n\n${render(headers, rows)}\n`);
  };
  prepareBenchDir();
  const results: Record<string, unknown> = {
    machine: machine(),
    options: { ...options, sections: [...options.sections] },
  };
  log(`machine: ${JSON.stringify(results.machine)}`);

  const specs = handlerSpecs();
  const bundles = await bundleAll(specs, CONSUMER_BUNDLING, 'shipped');
  results.bundling = { settings: CONSUMER_BUNDLING, nodeOptions: CONSUMER_NODE_OPTIONS };
  results.bundles = Object.fromEntries(
    [...bundles].map(([name, bundle]) => [
      name,
      { ...bundle, file: path.relative(PROJECT_ROOT, bundle.file) },
    ]),
  );
  print(
    'Bundles as shipped (CONSUMER_BUNDLING)',
    ['handler', 'bundle', 'source map', 'largest parts'],
    specs
      .filter((spec) => spec.name !== 'floor-in-order' && !spec.diagnostic)
      .map((spec) => {
        const bundle = bundles.get(spec.name) as BuiltBundle;
        const parts = Object.entries(bundle.bytesByPackage)
          .slice(0, 4)
          .map(([name, bytes]) => `${name} ${kb(bytes)}`)
          .join(', ');
        return [spec.name, kb(bundle.bytes), kb(bundle.mapBytes), parts];
      }),
  );

  const childRuntime = await buildChildRuntime();
  const needsDynamo = ['cold', 'init', 'variants', 'warm'].some((section) =>
    options.sections.has(section as Section),
  );
  const dynamo = needsDynamo ? await startBenchDynamoDb() : undefined;
  try {
    if (dynamo) {
      const tableName = 'bench-idempotency';
      await dynamo.createTable(tableName);
      const withTable = handlerSpecs(tableName);

      if (options.sections.has('cold')) {
        log(`cold starts: ${options.coldRounds} rounds of ${withTable.length} variants`);
        const variants: ColdVariant[] = withTable.map((spec) => ({
          name: spec.name,
          bundle: (bundles.get(spec.name) as BuiltBundle).file,
          kind: spec.kind,
          environment: spec.environment,
          references: spec.floor ? [...new Set(['floor', spec.floor])] : [],
        }));
        if (options.baselineRev) {
          const root = checkoutRevision(options.baselineRev);
          const before = await bundleAll(
            withTable.filter((spec) => spec.floor),
            CONSUMER_BUNDLING,
            `rev-${options.baselineRev}`,
            path.relative(PROJECT_ROOT, root),
          );
          for (const spec of withTable.filter((item) => item.floor)) {
            const bundle = before.get(spec.name) as BuiltBundle;
            variants.push({
              name: `${spec.name}@${options.baselineRev}`,
              bundle: bundle.file,
              kind: spec.kind,
              environment: spec.environment,
              references: ['floor', spec.name],
            });
            results[`bundle@${options.baselineRev}:${spec.name}`] = bundle.bytes;
          }
        }
        const cold = await measureColdStarts({
          childRuntime,
          dynamo,
          variants,
          rounds: options.coldRounds,
          records: 10,
          label: 'cold',
          onProgress: log,
        });
        results.cold = cold;
        printCold(print, cold);
      }

      if (options.sections.has('variants')) {
        const variantResults = await measureBundlingVariants(childRuntime, dynamo, withTable, options, log);
        results.bundlingVariants = variantResults;
        print(
          'Bundling variants of the SQS handler: cold start (process start + init + first 10 records)',
          ['variant', 'bundle', 'map', 'wall', 'vs shipped (wall)', 'CPU', 'vs shipped (CPU)'],
          variantResults.map((variant) => [
            variant.name,
            kb(variant.bytes),
            kb(variant.mapBytes),
            formatMs(variant.summary.wallMs),
            formatRatio(variant.summary.ratios.shipped?.wall ?? nan()),
            formatMs(variant.summary.processCpuMs),
            formatRatio(variant.summary.ratios.shipped?.cpu ?? nan()),
          ]),
        );
      }

      if (options.sections.has('init')) {
        log('init parts');
        const sqs = withTable.find((spec) => spec.name === 'sqs');
        const parts = await measureInitParts({
          bundling: CONSUMER_BUNDLING,
          environment: functionEnvironment({
            functionName: 'bench-init-parts',
            own: sqs?.environment ?? {},
            dynamoDbEndpoint: dynamo.endpoint,
          }),
          rounds: options.coldRounds,
        });
        results.initParts = parts;
        print(
          'Where init time goes: each library alone, require()d in a fresh process (net of an empty module)',
          ['part', 'bundle', 'require', 'net'],
          parts.map((part) => [
            part.description,
            kb(part.bytes),
            formatMs(part.requireMs, 1),
            formatMs(part.netMs, 1),
          ]),
        );
      }

      if (options.sections.has('warm')) {
        log(`warm throughput: batches of ${options.batchSizes.join(', ')}`);
        const warm = await measureWarmThroughput({
          childRuntime,
          dynamo,
          specs: withTable,
          bundles,
          batchSizes: options.batchSizes,
          // Small batches are quick and noisy: more rounds; batches of 1,000 take seconds: fewer.
          rounds: (batchSize) =>
            batchSize >= 1000
              ? Math.max(3, Math.ceil(options.warmRounds * 0.7))
              : batchSize <= 10
                ? options.warmRounds * 2
                : options.warmRounds,
          onProgress: log,
        });
        results.warm = warm;
        printWarm(print, warm);
      }
    }
  } finally {
    await dynamo?.stop();
  }

  if (options.sections.has('synth')) {
    const synth = await benchSynth(options, bundles, log);
    results.synth = synth;
    print(
      'Synth: npx cdk synth --quiet (fresh output directory each time)',
      ['app', 'wall', 'vs cdk init app (wall)', 'CPU (process tree)', 'vs cdk init app (CPU)'],
      synth.summaries.map((summary) => [
        summary.description,
        formatMs(summary.wallMs),
        summary.wallRatio ? formatRatio(summary.wallRatio) : '',
        summary.cpuMs ? formatMs(summary.cpuMs) : 'n/a',
        summary.cpuRatio ? formatRatio(summary.cpuRatio) : '',
      ]),
    );
    print(
      "Drift check: the bench's bundles against the assets cdk synth staged",
      ['handler', 'asset'],
      Object.entries(synth.drift).map(([name, verdict]) => [name, verdict]),
    );
  }

  if (options.sections.has('jest')) {
    const jest = await benchJest(options, log);
    results.jest = jest;
    for (const run of jest.runs) {
      print(
        `Test suite: ${run.description}: ${(run.wallMs / 1000).toFixed(1)} s wall, ${run.numTests} tests${run.success ? '' : ` (${run.numFailedTests} FAILED)`}, files sum to ${run.sumOfFilesSeconds.toFixed(1)} s`,
        ['test file', 'seconds', 'tests'],
        run.files.slice(0, 12).map((file) => [file.file, file.seconds.toFixed(1), file.tests]),
      );
    }
    const probe = jest.probe;
    print(
      'Fixed costs of a template test file, measured inside jest (probe test)',
      ['what', 'ms'],
      [
        [
          'load aws-cdk-lib (+ the modules lib/ uses, cdk-nag) in jest',
          probe.awsCdkLibLoadInJestMs.toFixed(0),
        ],
        ['the same in plain node', probe.awsCdkLibLoadInNodeMs.toFixed(0)],
        [
          'first synth of a one-queue stack, built-in CFN validation on',
          probe.firstSynthWithValidationMs.toFixed(0),
        ],
        [
          'first synth of a one-queue stack, validation off (as the tests run)',
          probe.firstSynthWithoutValidationMs.toFixed(0),
        ],
        ['SQS stack with its function bundled (esbuild in process)', probe.sqsStackWithBundlingMs.toFixed(0)],
        [
          'SQS stack, bundling skipped (as the template tests run)',
          probe.sqsStackWithoutBundlingMs.toFixed(0),
        ],
      ],
    );
  }

  (results.machine as Record<string, unknown>).loadAverageAtEnd = os
    .loadavg()
    .map((load) => Number(load.toFixed(2)));
  printGoals(print, results);
  writeFileSync(options.out, `${JSON.stringify(results, null, 2)}\n`);
  log(`results written to ${path.relative(PROJECT_ROOT, options.out)}`);
}

function nan(): Summary {
  return { median: Number.NaN, p25: Number.NaN, p75: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0 };
}

type Print = (title: string, headers: readonly string[], rows: readonly (readonly Cell[])[]) => void;

function printCold(print: Print, cold: readonly ColdSummary[]): void {
  print(
    'Cold start: process start + init + first batch of 10 records (DynamoDB: dynalite in the parent)',
    [
      'handler',
      'wall',
      'init',
      'first batch',
      'CPU',
      'vs floor (wall)',
      'vs floor (CPU)',
      'vs same-processing floor (wall)',
      'max RSS',
      'log B/record',
    ],
    cold.map((summary) => {
      const sameProcessing = Object.keys(summary.ratios).find((name) => name !== 'floor');
      return [
        summary.name,
        formatMs(summary.wallMs),
        formatMs(summary.initMs),
        formatMs(summary.firstBatchMs),
        formatMs(summary.processCpuMs),
        summary.ratios.floor ? formatRatio(summary.ratios.floor.wall) : '',
        summary.ratios.floor ? formatRatio(summary.ratios.floor.cpu) : '',
        sameProcessing ? `${formatRatio(summary.ratios[sameProcessing].wall)} vs ${sameProcessing}` : '',
        `${summary.maxRssMb.median.toFixed(0)} MB`,
        summary.logBytesPerRecord.toFixed(0),
      ];
    }),
  );
}

function printWarm(print: Print, warm: readonly WarmSummary[]): void {
  print(
    'Warm throughput (records per second; ratio > 1 is faster than the floor)',
    [
      'handler',
      'processing',
      'batch',
      'batch time',
      'records/s',
      'vs floor',
      'CPU ms/record',
      'new connections',
      'max RSS',
    ],
    warm.map((summary) => [
      summary.name,
      summary.processing,
      summary.batchSize,
      formatMs(summary.batchMs, 1),
      summary.recordsPerSecond.median.toFixed(0),
      summary.throughputRatio ? `${formatRatio(summary.throughputRatio)} vs ${summary.reference}` : '',
      summary.cpuMsPerRecord.median.toFixed(3),
      summary.newConnections,
      `${summary.maxRssMb.toFixed(0)} MB`,
    ]),
  );
}

interface VariantResult {
  readonly name: string;
  readonly description: string;
  readonly bytes: number;
  readonly mapBytes: number;
  readonly summary: ColdSummary;
}

/** The SQS handler bundled other ways, each cold-started next to the shipped bundle. */
async function measureBundlingVariants(
  childRuntime: string,
  dynamo: Awaited<ReturnType<typeof startBenchDynamoDb>>,
  specs: ReturnType<typeof handlerSpecs>,
  options: Options,
  progress: (message: string) => void,
): Promise<VariantResult[]> {
  // The SQS handler whether or not the app deploys the SQS path (see handlerSpecs).
  const sqs =
    specs.find((spec) => spec.name === 'sqs') ??
    handlerSpecs(undefined, ['sqs']).find((spec) => spec.name === 'sqs');
  if (!sqs) throw new Error('no sqs handler spec');
  const requireBanner =
    "import { createRequire as __benchCreateRequire } from 'node:module'; const require = __benchCreateRequire(import.meta.url);";
  const definitions: {
    name: string;
    description: string;
    bundling: ConsumerBundling;
    nodeOptions?: string;
  }[] = [
    { name: 'shipped', description: 'as shipped', bundling: CONSUMER_BUNDLING },
    {
      name: 'map-with-sources',
      description: 'source map with sourcesContent (the earlier setting)',
      bundling: { ...CONSUMER_BUNDLING, sourceMap: true, sourcesContent: true },
    },
    {
      name: 'map-not-enabled',
      description: 'source map shipped, no --enable-source-maps',
      bundling: { ...CONSUMER_BUNDLING, sourceMap: true },
      nodeOptions: '',
    },
    {
      name: 'no-map',
      description: 'no source map, no --enable-source-maps',
      bundling: { ...CONSUMER_BUNDLING, sourceMap: false },
      nodeOptions: '',
    },
    {
      name: 'esm',
      description: 'ESM output (index.mjs) with the require banner',
      bundling: {
        ...CONSUMER_BUNDLING,
        format: 'esm' as ConsumerBundling['format'],
        banner: requireBanner,
        mainFields: ['module', 'main'],
      },
    },
    {
      name: 'sdk-bundled',
      description: 'AWS SDK bundled (no externals)',
      bundling: { ...CONSUMER_BUNDLING, externalModules: [] },
    },
    { name: 'not-minified', description: 'not minified', bundling: { ...CONSUMER_BUNDLING, minify: false } },
  ];
  const built = new Map<string, BuiltBundle>();
  for (const definition of definitions) {
    const bundles = await bundleAll([sqs], definition.bundling, `variant-${definition.name}`);
    built.set(definition.name, bundles.get('sqs') as BuiltBundle);
  }
  progress(`bundling variants: ${options.coldRounds} rounds of ${definitions.length}`);
  const summaries = await measureColdStarts({
    childRuntime,
    dynamo,
    variants: definitions.map((definition) => ({
      name: definition.name,
      bundle: (built.get(definition.name) as BuiltBundle).file,
      kind: 'sqs',
      environment: {
        ...sqs.environment,
        ...(definition.nodeOptions !== undefined && { NODE_OPTIONS: definition.nodeOptions }),
      },
      references: definition.name === 'shipped' ? [] : ['shipped'],
    })),
    rounds: options.coldRounds,
    records: 10,
    label: 'variants',
    onProgress: progress,
  });
  return definitions.map((definition, index) => ({
    name: definition.name,
    description: definition.description,
    bytes: (built.get(definition.name) as BuiltBundle).bytes,
    mapBytes: (built.get(definition.name) as BuiltBundle).mapBytes,
    summary: summaries[index],
  }));
}

async function benchSynth(
  options: Options,
  bundles: ReadonlyMap<string, BuiltBundle>,
  progress: (message: string) => void,
): Promise<{ summaries: SynthSummary[]; drift: Record<string, string> }> {
  progress('synth: generating the cdk init app');
  const initApp = await prepareInitApp();
  // What `cdk synth` builds: a stack and a bundle per path of cdk.json, and the stage's monitoring stack.
  const appPaths = (cdkJsonContext.paths as readonly string[] | undefined) ?? [];
  const variants: SynthVariant[] = [
    {
      name: 'app',
      cwd: PROJECT_ROOT,
      reference: 'init',
      description: `this app (${appPaths.length + 1} stacks, ${appPaths.length} bundles, cdk-nag)`,
    },
    { name: 'init', cwd: initApp, description: 'cdk init app + one queue (npx tsc && npx tsx)' },
  ];
  if (options.synthVariants) {
    variants.push(
      {
        name: 'app-node-import-tsx',
        cwd: PROJECT_ROOT,
        args: ['--app', 'node --import tsx bin/app.ts'],
        reference: 'init',
        description: 'this app, "app": "node --import tsx bin/app.ts"',
      },
      {
        name: 'app-no-cfn-validation',
        cwd: PROJECT_ROOT,
        env: { CDK_VALIDATION: 'false' },
        reference: 'init',
        description: "this app without CDK's built-in CloudFormation validation",
      },
      {
        name: 'init-no-tsc',
        cwd: initApp,
        args: ['--app', 'npx tsx bin/queue-app.ts'],
        reference: 'init',
        description: 'cdk init app without its `npx tsc` type-check',
      },
    );
  }
  const { summaries, lastOutdirs } = await measureSynth({
    variants,
    rounds: options.synthRounds,
    onProgress: progress,
  });
  const assets = functionAssets(lastOutdirs.app);
  const drift: Record<string, string> = {};
  for (const [service, name] of [
    ['sqs-consumer', 'sqs'],
    ['object-consumer', 'object'],
    ['stream-consumer', 'stream'],
    ['fifo-consumer', 'fifo'],
    ['table-stream-consumer', 'table-stream'],
  ] as const) {
    const bundle = bundles.get(name);
    drift[name] = bundle && assets[service] ? compareWithAsset(bundle.file, assets[service]) : 'missing';
  }
  return { summaries, drift };
}

async function benchJest(
  options: Options,
  progress: (message: string) => void,
): Promise<{ runs: JestRun[]; probe: JestProbe }> {
  const variants: JestVariant[] = [{ name: 'as-configured', description: 'npx jest (as configured)' }];
  if (options.jestVariants) {
    variants.push(
      {
        name: 'cfn-validation-on',
        description: "npx jest with CDK's built-in CloudFormation validation in every test file",
        env: { CDK_VALIDATION: 'true' },
      },
      {
        name: 'one-worker',
        description: "npx jest --maxWorkers=1 (jest's default on 2 cores)",
        args: ['--maxWorkers=1'],
      },
    );
  }
  const runs: JestRun[] = [];
  for (const variant of variants) {
    progress(`jest: ${variant.description}`);
    runs.push(await runJest(variant));
  }
  progress('jest: probe');
  return { runs, probe: await probeJest() };
}

function printGoals(print: Print, results: Record<string, unknown>): void {
  const rows: Cell[][] = [];
  const cold = results.cold as ColdSummary[] | undefined;
  for (const summary of cold ?? []) {
    if (!summary.ratios.floor || summary.name.includes('@') || summary.name === DIAGNOSTIC) continue;
    const ratio = summary.ratios.floor.wall.median;
    rows.push([
      `cold start ${summary.name}`,
      '≤ 1.05× floor',
      formatRatio(summary.ratios.floor.wall),
      ratio <= 1.05 ? 'met' : 'not met',
    ]);
  }
  const warm = results.warm as WarmSummary[] | undefined;
  for (const summary of warm ?? []) {
    // The goals name batches of 10, 100 and 1,000 (batches of 1 are measured for the cost model).
    if (!summary.throughputRatio || summary.name === DIAGNOSTIC || summary.batchSize < 10) continue;
    const ratio = summary.throughputRatio.median;
    rows.push([
      `warm ${summary.name} ×${summary.batchSize} (${summary.processing})`,
      `≥ 0.95× ${summary.reference}`,
      formatRatio(summary.throughputRatio),
      ratio >= 0.95 ? 'met' : 'not met',
    ]);
  }
  const synth = results.synth as { summaries: SynthSummary[] } | undefined;
  const app = synth?.summaries.find((summary) => summary.name === 'app');
  if (app?.wallRatio) {
    rows.push([
      'synth (wall)',
      '≤ 1.0× cdk init app',
      formatRatio(app.wallRatio),
      app.wallRatio.median <= 1 ? 'met' : 'not met',
    ]);
  }
  const jest = results.jest as { runs: JestRun[] } | undefined;
  const suite = jest?.runs[0];
  if (suite) {
    rows.push([
      'test suite (wall)',
      '< 30 s',
      `${(suite.wallMs / 1000).toFixed(1)} s`,
      suite.wallMs < 30_000 ? 'met' : 'not met',
    ]);
  }
  if (rows.length) print('Goals', ['figure', 'goal', 'measured (median, IQR)', 'verdict'], rows);
}

main()
  .catch((error: Error) => {
    process.stderr.write(`${error.stack ?? error.message}\n`);
    process.exitCode = 1;
  })
  .finally(() => {
    if (!process.argv.includes('--keep')) rmSync(BENCH_DIR, { recursive: true, force: true });
  });
