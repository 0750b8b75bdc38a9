/**
 * `npm run invoke`: what it prints, with the real bundles of the shared cloud assembly (bundling on, as
 * `cdk synth` writes it) against dynalite, each command in a process of its own. Cold start on the first
 * invocation only; the record errors of Powertools' FullBatchFailureError; a summary per invocation of what the
 * idempotency store answered; and `--no-synth` on an assembly `cdk ls` left without bundles.
 */
import { FullBatchFailureError } from '@aws-lambda-powertools/batch';
import { App } from 'aws-cdk-lib';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { context as cdkJsonContext } from '../../../cdk.json';
import { buildApp } from '../../../lib/app';
import { idempotencySummary, recordErrorsOf } from '../../../tools/local/invoke';
import { type EventKind, sampleEvent } from '../../../tools/shared/sample-events';
import type { CapturedLine } from '../../../tools/local/runtime/bundle-function';
import { bundledCloudAssembly } from '../../helpers/cloud-assembly';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..', '..');

interface Invoked {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `npm run invoke -- <args>` (tsx, as the npm script), its exit status and output. */
async function invoke(args: readonly string[]): Promise<Invoked> {
  try {
    const { stdout, stderr } = await run(
      join(ROOT, 'node_modules', '.bin', 'tsx'),
      ['tools/local/invoke.ts', ...args],
      {
        cwd: ROOT,
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

/**
 * The logger's JSON lines of each invocation (between its START and END lines); the business metrics' EMF line
 * (`_aws`: CloudWatch's embedded metric format, not a log line of the logger) is left out.
 */
function logsPerInvocation(stderr: string): Record<string, unknown>[][] {
  const invocations: Record<string, unknown>[][] = [];
  for (const line of stderr.split('\n')) {
    if (line.startsWith('START RequestId:')) invocations.push([]);
    else if (line.startsWith('{') && invocations.length > 0) {
      const json = JSON.parse(line) as Record<string, unknown>;
      if (!('_aws' in json)) invocations.at(-1)!.push(json);
    }
  }
  return invocations;
}

/** The aliases of the paths added with issue 14, and their paths. */
const ALIASES: readonly (readonly [string, EventKind])[] = [
  ['fifo-consumer', 'fifo'],
  ['table-stream-consumer', 'table-stream'],
];

/** The item identifier of the last (invalid) record of a path's sample event. */
function lastItemOf(path: EventKind): string {
  const last = (sampleEvent(path) as { Records: Record<string, unknown>[] }).Records.at(-1)!;
  return String(
    (last as { messageId?: string }).messageId ??
      (last as { dynamodb?: { SequenceNumber?: string } }).dynamodb?.SequenceNumber,
  );
}

describe('npm run invoke with the bundles', () => {
  let assembly: string;
  let scratch: string;
  let twice: Promise<Invoked>;
  let allInvalid: Promise<Invoked>;
  let unbundled: Promise<Invoked>;
  let printed: Promise<Invoked>;
  /** The new paths' aliases: the function behind each path's source, with its sample event. */
  let aliases: Promise<Record<string, Invoked>>;

  beforeAll(async () => {
    assembly = await bundledCloudAssembly();
    scratch = mkdtempSync(join(tmpdir(), 'invoke-test-'));
    // Every record of the sample event made unreadable: the handler fails each, Powertools throws.
    const event = sampleEvent('sqs') as { Records: Record<string, unknown>[] };
    const invalidEvent = join(scratch, 'all-invalid.json');
    writeFileSync(
      invalidEvent,
      JSON.stringify({ Records: event.Records.map((r) => ({ ...r, body: 'not json' })) }),
    );
    const cdkLs = join(scratch, 'cdk-ls.out');
    synthesizeWithoutBundling(cdkLs);

    const common = ['--cdk-out', assembly, '--no-synth'];
    // No event file: the path's sample event, from its domain module's examples.
    twice = invoke(['sqs-consumer', '--times', '2', ...common]);
    allInvalid = invoke(['sqs-consumer', invalidEvent, ...common]);
    unbundled = invoke(['sqs-consumer', '--cdk-out', cdkLs, '--no-synth']);
    printed = invoke(['stream-consumer', '--print-event']);
    aliases = Promise.all(
      ALIASES.map(async ([alias]) => [alias, await invoke([alias, ...common])] as const),
    ).then(Object.fromEntries);
    await Promise.allSettled([twice, allInvalid, unbundled, printed, aliases]);
  }, 180_000);

  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it.each(ALIASES)(
    '%s runs the function of the %s path with its sample event: the invalid last record is the item failure',
    async (alias, path) => {
      const { code, stdout, stderr } = (await aliases)[alias];
      expect(code).toBe(0);
      expect(stderr).toContain(
        `(the ${path} path's sample event: npm run invoke -- ${alias} --print-event shows it)`,
      );
      expect(stderr).toContain(`-${path}-`);
      expect(JSON.parse(stdout)).toEqual({ batchItemFailures: [{ itemIdentifier: lastItemOf(path) }] });
    },
  );

  it("prints a path's sample event without an assembly: the domain module's examples, the last one invalid", async () => {
    const { code, stdout } = await printed;
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual(sampleEvent('stream'));
  });

  it('invokes with the sample event when no event file is given: the invalid record is the item failure', async () => {
    const { stdout, stderr } = await twice;
    const records = (sampleEvent('sqs') as { Records: { messageId: string }[] }).Records;
    const [firstResponse] = stdout.trim().split(/\n(?=\{)/);
    expect(JSON.parse(firstResponse)).toEqual({
      batchItemFailures: [{ itemIdentifier: records.at(-1)!.messageId }],
    });
    expect(stderr).toContain(
      "(the sqs path's sample event: npm run invoke -- sqs-consumer --print-event shows it)",
    );
  });

  it('logs cold_start: true in the first invocation of the bundle only, as Lambda does', async () => {
    const { code, stderr } = await twice;
    expect(code).toBe(0);
    const [first, second] = logsPerInvocation(stderr);
    expect(first.length).toBeGreaterThan(0);
    expect(second.length).toBeGreaterThan(0);
    expect(first.map((line) => line.cold_start)).toEqual(first.map(() => true));
    expect(second.map((line) => line.cold_start)).toEqual(second.map(() => false));
  });

  it('says per invocation which records were answered from the idempotency store instead of applied again', async () => {
    const { stderr } = await twice;
    const [first] = logsPerInvocation(stderr);
    const applied = first
      .filter((line) => line.message === 'side effect done')
      .map((line) => String(line.recordKey))
      .sort();
    expect(applied.length).toBeGreaterThan(0);
    const records = `${applied.length} record${applied.length === 1 ? '' : 's'}`;
    expect(stderr).toContain(
      `invocation 1: 0 records answered from the idempotency store, ${applied.length} applied (`,
    );
    expect(stderr).toContain(
      `invocation 2: ${records} answered from the idempotency store (${applied.join(', ')}), 0 applied\n`,
    );
  });

  it("prints the record errors of Powertools' FullBatchFailureError with the error", async () => {
    const { code, stdout, stderr } = await allInvalid;
    expect(code).toBe(1);
    const error = JSON.parse(stdout);
    const records = (sampleEvent('sqs') as { Records: unknown[] }).Records;
    expect(error).toEqual({
      errorType: 'FullBatchFailureError',
      errorMessage: 'All records failed processing. See individual errors below.',
      recordErrors: records.map(() => ({
        errorType: 'InvalidPayloadError',
        errorMessage: expect.stringContaining('not valid JSON'),
      })),
    });
    expect(stderr).toContain(`FullBatchFailureError: its ${records.length} record errors below`);
  });

  it('with --no-synth, refuses an assembly written without bundling and says what to run', async () => {
    const { code, stdout, stderr } = await unbundled;
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain(
      'cdk-ls.out was written without bundling (by `cdk ls`?): run `npx cdk synth --quiet --output',
    );
    expect(stderr).not.toContain('ENOENT');
  });
});

/**
 * The app synthesized into `outdir` as `cdk ls` does it: CDK skips bundling for the stacks a command does not
 * select (`aws:cdk:bundling-stacks` empty), so each function's code asset is the repository root.
 */
function synthesizeWithoutBundling(outdir: string): void {
  const app = new App({ outdir, context: { ...cdkJsonContext, 'aws:cdk:bundling-stacks': [] } });
  buildApp(app, { nag: false });
  app.synth();
}

describe('recordErrorsOf', () => {
  it('lists the errors a FullBatchFailureError carries, and nothing for other errors', () => {
    const invalid = new Error('payload is not valid JSON');
    invalid.name = 'InvalidPayloadError';
    expect(recordErrorsOf(new FullBatchFailureError([invalid, new TypeError('x is undefined')]))).toEqual([
      { errorType: 'InvalidPayloadError', errorMessage: 'payload is not valid JSON' },
      { errorType: 'TypeError', errorMessage: 'x is undefined' },
    ]);
    expect(recordErrorsOf(new Error('All records failed processing.'))).toBeUndefined();
    expect(recordErrorsOf(undefined)).toBeUndefined();
  });
});

describe('idempotencySummary', () => {
  const line = (message: string, recordKey: string): CapturedLine => ({
    text: '',
    json: { level: 'INFO', message, recordKey },
  });
  const applied = (key: string) => line('side effect done', key);
  const answered = (key: string) =>
    line('duplicate: answered from the idempotency record, nothing applied', key);

  it('counts the records answered from the store and applied, per invocation', () => {
    const logs = [
      [applied('o-1'), applied('o-2'), applied('o-3')],
      [answered('o-1'), answered('o-2'), answered('o-3')],
    ];
    expect(idempotencySummary(1, logs.slice(0, 1))).toBe(
      'invocation 1: 0 records answered from the idempotency store, 3 applied (o-1, o-2, o-3)',
    );
    expect(idempotencySummary(2, logs)).toBe(
      'invocation 2: 3 records answered from the idempotency store (o-1, o-2, o-3), 0 applied',
    );
  });

  it('calls out a record applied twice, and one applied before that is neither answered nor applied now', () => {
    const logs = [
      [applied('o-1'), applied('o-2')],
      [applied('o-1'), applied('o-4')],
    ];
    expect(idempotencySummary(2, logs)).toBe(
      'invocation 2: 0 records answered from the idempotency store, 1 applied (o-4), 1 applied again (o-1): a second side effect!, 1 applied before and neither answered nor applied now (o-2)',
    );
  });
});
