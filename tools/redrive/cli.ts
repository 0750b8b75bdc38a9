/**
 * `npm run redrive -- <path> [--dry-run] [--max N] [--rate R]`: puts what a path's failure stores hold back
 * through the path, once the cause is fixed. The stack is found as the smoke test finds it (`<appName>-<stage>-
 * <path>`, tools/smoke/), its stores by the stack's outputs; what each store does is in tools/redrive/run.ts.
 */
import { resolve as resolvePath } from 'node:path';
import { INGESTION_PATHS, type IngestionPathName, stackNameOf } from '../../lib/config';
import { createClients, destroyClients, readStack } from '../smoke/aws';
import { appContext } from '../smoke/cli';
import { parseCommandLine, UsageError } from '../shared/command-line';
import { defaultJournalFile, Journal } from './journal';
import { exitCodeOf, summaryLine } from './report';
import { redrivePath } from './run';
import { REDRIVABLE_PATHS, STORES_OF_PATH, type StoreName } from './stores';

export const HELP = `Usage: npm run redrive -- <path> [options]

Re-drives what the failure stores of one path of a deployed stage hold, after the cause is fixed:
  sqs, fifo      the source queue's dead-letter queue: a message move task (StartMessageMoveTask) moves every
                 message back to its source queue; one task per queue at a time (refused while one runs).
  object         the on-failure destination: each invocation record's original event (requestPayload) is given
                 to the function again (Invoke, asynchronous); the SNS subscription DLQ: each notification is
                 delivered to the function again as the SNS event it would have had.
  stream         the failure queue: each failure record is replayed by npm run replay: the records it names are
                 fetched from the stream and put back into it;
  table-stream   the failure queue: each failure record's range is fetched from the DynamoDB stream (kept 24 hours)
                 and the consumer is invoked with it (npm run replay --invoke); a stream cannot be written to.
  http           the source queue's dead-letter queue, as sqs.
  fifo           before a redrive, fix or remove a poison message: it would block its group again.
A record is deleted from its store only after it was re-driven. Every record that cannot be re-driven is reported
and left where it was. Re-driving twice applies nothing twice: the handlers answer records they applied before
from their idempotency records, and a local journal keeps this command from re-driving a record whose delete was
lost (it deletes it instead).

Options:
  --dry-run           show what would be re-driven (counts, each record or a sample) and change nothing
  --max <n>           at most n records per store (a dead-letter queue: the move task is cancelled once about n
                      messages were moved)
  --rate <r>          at most r records a second (a dead-letter queue: the task's MaxNumberOfMessagesPerSecond,
                      a whole number up to 500)
  --store <store>     only this store of the path: dead-letter-queue (sqs, fifo), on-failure or
                      subscription-dlq (object), failure-queue (stream, table-stream)
  --stage <stage>     the stage (default: cdk.json's context "stage", else sandbox)
  --app-name <name>   the app name (default: cdk.json's context "appName")
  --stack <name>      the stack, instead of <appName>-<stage>-<path>
  --region <region>   the region (default: the SDK's, AWS_REGION)
  --journal <file>    the journal of re-driven records (default: ${defaultJournalFile().replace(/^.*\/\.local\//, '~/.local/')})
  --emulator          the endpoint is an emulator (AWS_ENDPOINT_URL)
  -h, --help          this help

Exit code: 0 when nothing that was taken on was left, 1 when a record was left (not re-driven, or not deleted
after it was) or AWS refused, 2 on bad usage or when the stack is not deployed.`;

// The tools' shared usage error, re-exported for this command's callers.
export { UsageError };

export interface CliOptions {
  readonly path: IngestionPathName;
  readonly stores?: readonly StoreName[];
  readonly dryRun: boolean;
  readonly max?: number;
  readonly rate?: number;
  readonly stage?: string;
  readonly appName?: string;
  readonly stackName?: string;
  readonly region?: string;
  readonly journalFile?: string;
  readonly emulator: boolean;
}

const isPath = (value: string): value is IngestionPathName =>
  (INGESTION_PATHS as readonly string[]).includes(value);

export function parseArguments(argv: readonly string[]): CliOptions | 'help' {
  const { values, positionals } = parseCommandLine(argv, {
    help: { type: 'boolean', short: 'h' },
    'dry-run': { type: 'boolean' },
    max: { type: 'string' },
    rate: { type: 'string' },
    store: { type: 'string' },
    stage: { type: 'string' },
    'app-name': { type: 'string' },
    stack: { type: 'string' },
    region: { type: 'string' },
    journal: { type: 'string' },
    emulator: { type: 'boolean' },
  });
  if (values.help) return 'help';
  const max = values.max === undefined ? undefined : Number(values.max);
  if (max !== undefined && (!Number.isInteger(max) || max < 1))
    throw new UsageError('--max takes a whole number of records above 0');
  const rate = values.rate === undefined ? undefined : Number(values.rate);
  if (rate !== undefined && (!(rate > 0) || rate > 500))
    throw new UsageError('--rate takes records a second, above 0 and at most 500');
  const options = {
    dryRun: values['dry-run'] ?? false,
    emulator: values.emulator ?? false,
    ...(values.store !== undefined && { stores: [values.store as StoreName] }),
    ...(max !== undefined && { max }),
    ...(rate !== undefined && { rate }),
    ...(values.stage !== undefined && { stage: values.stage }),
    ...(values['app-name'] !== undefined && { appName: values['app-name'] }),
    ...(values.stack !== undefined && { stackName: values.stack }),
    ...(values.region !== undefined && { region: values.region }),
    ...(values.journal !== undefined && { journalFile: values.journal }),
  };
  if (positionals.length === 0)
    throw new UsageError(`Name the path to re-drive: one of ${REDRIVABLE_PATHS.join(', ')}`);
  if (positionals.length > 1) throw new UsageError(`Name one path at a time, got ${positionals.join(' ')}`);
  const [path] = positionals;
  if (!isPath(path)) throw new UsageError(`Unknown path "${path}": one of ${REDRIVABLE_PATHS.join(', ')}`);
  const stores = STORES_OF_PATH[path];
  if (!stores) {
    throw new UsageError(
      `The ${path} path has no failure store to re-drive (its caller gets the failure); one of ${REDRIVABLE_PATHS.join(', ')}`,
    );
  }
  if (options.stores && !stores.includes(options.stores[0])) {
    throw new UsageError(`The ${path} path's stores are ${stores.join(', ')}, not "${options.stores[0]}"`);
  }
  if (options.rate !== undefined && stores.includes('dead-letter-queue') && !Number.isInteger(options.rate)) {
    throw new UsageError(
      `--rate for a dead-letter queue is a message move task's MaxNumberOfMessagesPerSecond: a whole number from 1 to 500`,
    );
  }
  if (options.stackName && (options.stage || options.appName)) {
    throw new UsageError('Give --stage or --stack (with --app-name), not both');
  }
  return { ...options, path };
}

/** The stack to read: `--stack`, else `<appName>-<stage>-<path>`, as the app names its stacks. */
export function stackToRead(options: {
  appName: string;
  stage: string;
  path: IngestionPathName;
  stackName?: string;
}): string {
  return (
    options.stackName ?? stackNameOf({ appName: options.appName, stageName: options.stage }, options.path)
  );
}

/** Runs the command; returns its exit code. */
export async function runRedrive(
  options: CliOptions,
  projectDir: string,
  print: (line: string) => void = (line) => console.log(line),
): Promise<number> {
  const context = appContext(projectDir);
  const appName = options.appName ?? context.appName;
  if (!appName && !options.stackName)
    throw new UsageError('cdk.json has no context "appName": give --app-name or --stack');
  const stackName = stackToRead({
    appName: appName ?? '',
    stage: options.stage ?? context.stage ?? 'sandbox',
    path: options.path,
    stackName: options.stackName,
  });
  const clients = createClients({ region: options.region, emulator: options.emulator });
  try {
    const stack = await readStack(clients, stackName);
    if (!stack) {
      print(`redrive: stack ${stackName} is not deployed (in the account and region of your credentials)`);
      return 2;
    }
    const journal = new Journal(options.journalFile ?? defaultJournalFile());
    print(
      `redrive ${options.path}: stack ${stackName}${options.dryRun ? ' (dry run: nothing is changed)' : ''}; ` +
        `journal ${journal.file}`,
    );
    const endpoint = options.emulator ? process.env.AWS_ENDPOINT_URL : undefined;
    const reports = await redrivePath(
      { sqs: clients.sqs, lambda: clients.lambda },
      { stackName, outputs: stack.outputs },
      {
        path: options.path,
        stores: options.stores,
        dryRun: options.dryRun,
        max: options.max,
        rate: options.rate,
        print,
        journal,
        replayArgs: [
          ...(endpoint ? ['--endpoint', endpoint] : []),
          ...(options.region ? ['--region', options.region] : []),
        ],
      },
    );
    print(summaryLine(reports, options.dryRun));
    return exitCodeOf(reports);
  } finally {
    destroyClients(clients);
  }
}

async function main(): Promise<void> {
  const projectDir = resolvePath(__dirname, '..', '..');
  try {
    const options = parseArguments(process.argv.slice(2));
    if (options === 'help') {
      console.log(HELP);
      return;
    }
    process.exitCode = await runRedrive(options, projectDir);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`${error.message}\n\n${HELP}`);
      process.exitCode = 2;
      return;
    }
    console.error(`redrive: ${(error as Error).name}: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}

if (require.main === module) void main();
