/**
 * The cost model (`npm run cost`): USD per million events on each path at the synthesized settings, line by
 * line, and how batch size, memory, architecture and the idempotency scheme move it.
 *
 *   npm run cost                                   cdk.out (synthesized first if missing), prices and assumptions
 *   npm run cost -- --set dynamoDbLatencyMs=8      override any assumption (bench/cost-assumptions.json)
 *   npm run cost -- --set stream.batchSize=500     or any synthesized setting of a path
 *   npm run cost -- --from-bench                   per-path CPU, init and log size from bench-results.json
 *   npm run cost -- --assembly <dir> --markdown --json
 *
 * Prices: bench/prices.json (one region, one date). Model: bench/lib/cost-model.ts.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  type Assumptions,
  costPerMillionEvents,
  type IdempotencyScheme,
  type IngestionPath,
  type PathAssumptions,
  type PathCost,
  type PathSettings,
  type Prices,
  schemeOf,
} from './lib/cost-model';
import { domainSizes } from './lib/domain-sizes';
import { type Cell, renderMarkdownTable, renderTable } from './lib/table';
import { readPathSettings, type SynthesizedPath } from './lib/template-settings';

const ROOT = path.resolve(__dirname, '..');
const PATHS: readonly IngestionPath[] = ['sqs', 'object', 'stream', 'fifo', 'table-stream', 'http'];

interface Named<T> {
  readonly value: T;
  readonly unit?: string;
  readonly why?: string;
}

type AssumptionsFile = Record<string, unknown> & {
  paths: Record<IngestionPath, Record<string, Named<unknown>>>;
};

/** Where each assumption's value came from, for the output. */
type Sources = Record<string, string>;

function loadAssumptions(
  file: string,
  sources: Sources,
): { assumptions: Assumptions; whys: Record<string, string> } {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as AssumptionsFile;
  const whys: Record<string, string> = {};
  const flat: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(raw)) {
    if (key.startsWith('$') || key === 'paths') continue;
    flat[key] = (entry as Named<unknown>).value;
    whys[key] = (entry as Named<unknown>).why ?? '';
    sources[key] = path.relative(ROOT, file);
  }
  const paths = Object.fromEntries(
    PATHS.map((name) => [
      name,
      Object.fromEntries(
        Object.entries(raw.paths[name]).map(([key, entry]) => {
          whys[`${name}.${key}`] = entry.why ?? '';
          sources[`${name}.${key}`] = path.relative(ROOT, file);
          return [key, entry.value];
        }),
      ),
    ]),
  );
  return { assumptions: { ...flat, paths } as unknown as Assumptions, whys };
}

/** The sizes that depend on each path's business, measured on its domain module's examples. */
function withDomainSizes(assumptions: Assumptions, sources: Sources): Assumptions {
  const paths = { ...assumptions.paths } as Record<IngestionPath, PathAssumptions>;
  for (const name of PATHS) {
    if (!assumptions.paths[name]) continue;
    const sizes = domainSizes(name);
    paths[name] = { ...paths[name], ...sizes };
    for (const key of Object.keys(sizes)) {
      sources[`${name}.${key}`] =
        name === 'http'
          ? 'lambda/sqs-consumer/domain.ts (examples) and the 202 of lambda/http-ingress/handler.ts'
          : `lambda/${name}-consumer/domain.ts (examples)`;
    }
  }
  return { ...assumptions, paths };
}

/** Per-path CPU, init and log size measured by `npm run bench`. */
function fromBench(file: string, assumptions: Assumptions, sources: Sources): Assumptions {
  const results = JSON.parse(readFileSync(file, 'utf8')) as {
    machine?: { date?: string };
    cold?: { name: string; initMs: { median: number } }[];
    warm?: {
      name: string;
      batchSize: number;
      cpuMsPerRecord: { median: number };
      logBytesPerRecord: number;
    }[];
  };
  const label = `${path.relative(ROOT, file)} (${results.machine?.date?.slice(0, 10) ?? 'undated'})`;
  const paths = { ...assumptions.paths } as Record<IngestionPath, PathAssumptions>;
  for (const name of PATHS) {
    const warm = (results.warm ?? []).filter((summary) => summary.name === name);
    const cold = (results.cold ?? []).find((summary) => summary.name === name);
    let own: PathAssumptions = paths[name];
    if (warm.length) {
      const curve = Object.fromEntries(
        warm.map((summary) => [String(summary.batchSize), summary.cpuMsPerRecord.median]),
      );
      own = {
        ...own,
        cpuMsPerRecordAtBatchSize: curve,
        logBytesPerRecord: warm[warm.length - 1].logBytesPerRecord,
      };
      for (const key of ['cpuMsPerRecordAtBatchSize', 'logBytesPerRecord']) sources[`${name}.${key}`] = label;
    }
    if (cold) {
      own = { ...own, initMs: cold.initMs.median };
      sources[`${name}.initMs`] = label;
    }
    paths[name] = own;
  }
  return { ...assumptions, paths };
}

function parseValue(text: string): unknown {
  if (/^-?\d+(\.\d+)?(e-?\d+)?$/i.test(text)) return Number(text);
  if (text === 'true' || text === 'false') return text === 'true';
  return text;
}

/** The value of `--set key=text`, of the kind the value it replaces is (a number stays a number). */
function valueLike(key: string, text: string, current: unknown): unknown {
  const value = parseValue(text);
  if (current !== undefined && typeof current !== 'object' && typeof value !== typeof current) {
    throw new Error(`--set ${key}=${text}: must be a ${typeof current}, as its value ${String(current)} is`);
  }
  return value;
}

function applyOverrides(
  overrides: readonly string[],
  assumptions: Assumptions,
  settings: Partial<Record<IngestionPath, SynthesizedPath>>,
  sources: Sources,
): { assumptions: Assumptions; settings: Partial<Record<IngestionPath, SynthesizedPath>> } {
  let nextAssumptions: Assumptions = assumptions;
  const nextSettings = { ...settings };
  const present = PATHS.filter((name) => nextSettings[name]);
  for (const override of overrides) {
    const [key, text] = override.split('=');
    if (text === undefined) throw new Error(`--set needs name=value, got "${override}"`);
    const [first, second] = key.split('.');
    if (second !== undefined && (PATHS as readonly string[]).includes(first)) {
      const name = first as IngestionPath;
      const own = nextSettings[name];
      if (!own) {
        throw new Error(
          `--set ${key}: the ${name} path is not in the assembly (deployed paths: ${present.join(', ')}; cdk.json context "paths")`,
        );
      }
      const ownAssumptions = nextAssumptions.paths[name] as unknown as Record<string, unknown>;
      if (second in own) {
        const value = valueLike(key, text, (own as unknown as Record<string, unknown>)[second]);
        nextSettings[name] = { ...own, [second]: value };
      } else if (second in ownAssumptions) {
        const value = valueLike(key, text, ownAssumptions[second]);
        nextAssumptions = {
          ...nextAssumptions,
          paths: { ...nextAssumptions.paths, [name]: { ...nextAssumptions.paths[name], [second]: value } },
        };
      } else {
        throw new Error(`unknown setting or assumption "${key}"`);
      }
    } else if (key in nextAssumptions && key !== 'paths') {
      const value = valueLike(key, text, (nextAssumptions as unknown as Record<string, unknown>)[key]);
      nextAssumptions = { ...nextAssumptions, [key]: value };
    } else if (present.every((name) => key in nextSettings[name]!)) {
      for (const name of present) {
        const own = nextSettings[name]!;
        const value = valueLike(key, text, (own as unknown as Record<string, unknown>)[key]);
        nextSettings[name] = { ...own, [key]: value };
      }
    } else {
      throw new Error(`unknown assumption "${key}" (see bench/cost-assumptions.json)`);
    }
    sources[key] = '--set';
  }
  return { assumptions: nextAssumptions, settings: nextSettings };
}

function ensureAssembly(dir: string, synth: boolean): void {
  const hasTemplates = existsSync(path.join(dir, 'manifest.json'));
  if (hasTemplates && !synth) return;
  process.stderr.write(`synthesizing the app into ${path.relative(ROOT, dir)} (npx cdk synth --quiet)...\n`);
  execFileSync('npx', ['cdk', 'synth', '--quiet', '--output', dir], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

const usd = (value: number): string =>
  value >= 0.01 || value === 0 ? `$${value.toFixed(2)}` : `$${value.toFixed(4)}`;
const quantity = (value: number): string =>
  value >= 100
    ? Math.round(value).toLocaleString('en-US')
    : value >= 1
      ? value.toFixed(2)
      : value.toPrecision(3);

/**
 * What one execution environment gets through: the records of an invocation over its duration. For the stream
 * path that is a shard's throughput at a parallelization factor of 1.
 */
function recordsPerSecond(cost: PathCost, settings: PathSettings): string {
  const records = settings.path === 'object' || settings.path === 'http' ? 1 : settings.batchSize;
  return Math.round((records / cost.billedDurationMs) * 1000).toLocaleString('en-US');
}

function describeValue(value: unknown): Cell {
  if (typeof value === 'number') return Number(value.toFixed(3));
  if (value && typeof value === 'object') {
    return Object.entries(value as Record<string, number>)
      .map(([key, entry]) => `${key}: ${Number(entry.toFixed(3))}`)
      .join(', ');
  }
  return String(value);
}

/**
 * Runs `npm run cost` with `argv` (the arguments after `--`), writing the report through `write`; throws an Error
 * whose message is for the user on bad arguments or a missing assembly. In-process, so tests need no child process.
 */
export function runCost(
  argv: readonly string[],
  write: (text: string) => void = (text) => process.stdout.write(text),
): void {
  const value = (flag: string): string | undefined => {
    const index = argv.indexOf(flag);
    return index === -1 ? undefined : argv[index + 1];
  };
  const markdown = argv.includes('--markdown');
  const render = markdown ? renderMarkdownTable : renderTable;
  const print = (title: string, headers: readonly string[], rows: readonly (readonly Cell[])[]): void => {
    write(`\n${markdown ? '### ' : '== '}${title}\n\n${render(headers, rows)}\n`);
  };

  const prices = JSON.parse(readFileSync(path.join(__dirname, 'prices.json'), 'utf8')) as Prices;
  const sources: Sources = {};
  const loaded = loadAssumptions(
    value('--assumptions') ?? path.join(__dirname, 'cost-assumptions.json'),
    sources,
  );
  let assumptions = withDomainSizes(loaded.assumptions, sources);
  if (argv.includes('--from-bench')) {
    // `--from-bench` alone reads bench-results.json; `--from-bench <file>` another results file.
    const next = argv[argv.indexOf('--from-bench') + 1];
    const file = path.resolve(next && !next.startsWith('--') ? next : path.join(ROOT, 'bench-results.json'));
    if (!existsSync(file)) throw new Error(`--from-bench: ${file} does not exist; run npm run bench first`);
    assumptions = fromBench(file, assumptions, sources);
  }
  const assembly = path.resolve(value('--assembly') ?? path.join(ROOT, 'cdk.out'));
  ensureAssembly(assembly, argv.includes('--synth'));
  const overrides = argv.flatMap((arg, index) => (arg === '--set' ? [argv[index + 1]] : []));
  const applied = applyOverrides(overrides, assumptions, readPathSettings(assembly), sources);
  assumptions = applied.assumptions;
  // The paths the app synthesized (its `paths` context): only these are priced.
  const present = PATHS.filter((name) => applied.settings[name]);
  const settings = applied.settings as Record<IngestionPath, SynthesizedPath>;

  const costs = Object.fromEntries(
    present.map((name) => [name, costPerMillionEvents(settings[name], assumptions, prices)]),
  ) as Record<IngestionPath, PathCost>;

  if (argv.includes('--json')) {
    write(
      `${JSON.stringify({ prices: { region: prices.region, asOf: prices.asOf }, settings, assumptions, costs }, null, 2)}\n`,
    );
    return;
  }

  write(
    `Prices: ${prices.region}, as of ${prices.asOf} (bench/prices.json). Assembly: ${path.relative(ROOT, assembly) || '.'}. USD per 1,000,000 events.\n`,
  );
  print(
    'Synthesized settings',
    [
      'path',
      'stack',
      'memory',
      'arch',
      'batch size',
      'window',
      'attempts per failing record',
      'tracing',
      'log retention',
      'stream',
    ],
    present.map((name) => {
      const own = settings[name];
      return [
        name,
        own.stack,
        `${own.memoryMb} MB`,
        own.architecture,
        own.batchSize,
        `${own.maxBatchingWindowSeconds} s`,
        Number.isFinite(own.maxAttempts) ? own.maxAttempts : 'until expiry',
        own.tracing ? 'active' : 'off',
        `${own.logRetentionDays} d`,
        own.streamMode ?? '',
      ];
    }),
  );
  const globalKeys = Object.keys(assumptions).filter((key) => key !== 'paths');
  print(
    'Assumptions',
    ['name', 'value', 'from'],
    [
      ...globalKeys.map((key): Cell[] => [
        key,
        String((assumptions as unknown as Record<string, unknown>)[key]),
        sources[key] ?? '',
      ]),
      ...present.flatMap((name) =>
        Object.entries(assumptions.paths[name]).map(([key, entry]): Cell[] => [
          `${name}.${key}`,
          describeValue(entry),
          sources[`${name}.${key}`] ?? sources[key] ?? '',
        ]),
      ),
    ],
  );
  for (const name of present) {
    const cost = costs[name];
    print(
      `${name}: ${usd(cost.total)} per million events (${cost.invocations.toLocaleString('en-US', { maximumFractionDigits: 0 })} invocations, ${cost.billedDurationMs} ms each)`,
      ['service', 'item', 'quantity', 'unit', 'USD'],
      [
        ...cost.items.map((line) => [
          line.service,
          line.item,
          quantity(line.quantity),
          line.unit,
          usd(line.cost),
        ]),
        ['', 'total', '', '', usd(cost.total)],
      ],
    );
  }

  // --- sensitivity -----------------------------------------------------------------------------------------
  const rows: Cell[][] = [];
  const variant = (
    name: IngestionPath,
    label: string,
    change: Partial<PathSettings>,
    scheme?: IdempotencyScheme,
  ): void => {
    const base = costs[name].total;
    const changed = costPerMillionEvents(
      { ...settings[name], ...change },
      scheme ? { ...assumptions, idempotencyScheme: scheme } : assumptions,
      prices,
    );
    const delta = changed.total / base - 1;
    const tooLong =
      changed.billedDurationMs > settings[name].timeoutSeconds * 1000 ? ' (over the timeout)' : '';
    rows.push([
      name,
      label,
      `${changed.billedDurationMs} ms${tooLong}`,
      recordsPerSecond(changed, { ...settings[name], ...change }),
      usd(changed.total),
      `${delta >= 0 ? '+' : ''}${(delta * 100).toFixed(1)} %`,
    ]);
  };
  for (const name of present) {
    const own = settings[name];
    rows.push([
      name,
      `as synthesized (${own.memoryMb} MB, ${own.architecture}, batch ${own.batchSize}, ${schemeOf(own, assumptions)})`,
      `${costs[name].billedDurationMs} ms`,
      recordsPerSecond(costs[name], own),
      usd(costs[name].total),
      '',
    ]);
    // One notification or one request per invocation: no batch size to vary.
    if (name !== 'object' && name !== 'http') {
      const batchSizes = name === 'sqs' ? [1, 100, 1000] : name === 'fifo' ? [1, 5] : [10, 500, 1000];
      for (const batchSize of batchSizes) {
        if (batchSize !== own.batchSize) variant(name, `batch size ${batchSize}`, { batchSize });
      }
    }
    for (const memoryMb of [128, 512, 1024, 1769]) {
      if (memoryMb !== own.memoryMb) variant(name, `memory ${memoryMb} MB`, { memoryMb });
    }
    variant(name, own.architecture === 'arm64' ? 'x86_64 instead of arm64' : 'arm64 instead of x86_64', {
      architecture: own.architecture === 'arm64' ? 'x86_64' : 'arm64',
    });
    // The http front door's scheme is its own (claim, send, complete with the answer): no what-if of it here.
    const schemes =
      name === 'http'
        ? ([] as const)
        : name === 'stream' || name === 'table-stream'
          ? (['read-then-complete', 'put-only', 'none'] as const)
          : (['put-only', 'none'] as const);
    for (const scheme of schemes) {
      if (scheme !== schemeOf(own, assumptions)) variant(name, `idempotency: ${scheme}`, {}, scheme);
    }
  }
  print(
    'Sensitivity: one change at a time',
    ['path', 'variant', 'duration', 'records/s per instance', 'USD per 1M', 'vs as synthesized'],
    rows,
  );
  write(
    "\nNot per event (monthly, whatever the traffic): the object topic's customer managed KMS key ($1), CloudWatch alarms ($0.10 each), " +
      "the http path's throttled-requests metric (a custom metric, $0.30), " +
      'DynamoDB storage and point-in-time recovery of the idempotency records (≈200 bytes each, kept idempotencyExpiry: 18 days ' +
      'on SQS, 22 days on FIFO, 14 days 6 hours on the object path, the stream retention on Kinesis, 24 hours on DynamoDB ' +
      "Streams, 24 hours for the http path's Idempotency-Keys; cents per million records) and of the effect items " +
      '(one per key, never expired), idle SQS long polls by the event ' +
      'source mapping (cents), S3 storage of the uploaded objects (depends on their size and lifecycle).\n',
  );
}

if (require.main === module) {
  try {
    runCost(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`npm run cost: ${(error as Error).message}\n`);
    process.exit(1);
  }
}
