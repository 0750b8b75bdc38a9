/**
 * `npm run smoke -- --stage <stage>`: checks a deployed stage, after `cdk deploy` to a sandbox or against the
 * emulator (`npm run deploy:local` runs it with `--emulator`).
 *
 * For each stack `<appName>-<stage>-<path>` that is deployed: its status and outputs, then the wiring of its
 * resources through the AWS APIs against its deployed template (tools/smoke/inspect.ts); with `--records` (the
 * default except on the emulator, where no function runs), one healthy and one poison record through each path
 * (tools/smoke/records.ts). One line per check; the exit code is 0 only when nothing failed.
 */
import { paginateDescribeStacks } from '@aws-sdk/client-cloudformation';
import { readFileSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { CONTEXT_KEYS, INGESTION_PATHS, type IngestionPathName } from '../../lib/config';
import { parseCommandLine, UsageError } from '../shared/command-line';
import { type Clients, createClients, type DeployedStack, destroyClients, readStack } from './aws';
import type { CheckResult } from './checks';
import { checkStack } from './inspect';
import { sendRecords } from './records';

const HELP = `Usage: npm run smoke -- [--stage <stage>] [options]

Checks the deployed stacks <appName>-<stage>-<path> (appName from cdk.json) with the AWS credentials and region
of the environment (AWS_PROFILE, AWS_REGION): stack status and outputs, then the wiring against the deployed
template (queues' redrive and visibility timeout, event source mappings, event invoke configs and destinations,
subscription DLQs, table TTL, alarms and their actions, bucket notifications, functions, log retention).

Options:
  --stage <stage>     the stage (default: cdk.json's context "stage", else sandbox)
  --app-name <name>   the app name (default: cdk.json's context "appName")
  --region <region>   the region (default: the SDK's, AWS_REGION)
  --records           also send one healthy and one poison record through each path and wait for their
                      effect and dead-letter queue or destination, then clean up (default on AWS)
  --no-records        only the wiring checks (default with --emulator)
  --timeout <s>       how long to wait for the records, per path (default: derived from the template:
                      receives x visibility timeout for SQS, the async retries for S3, the retries for Kinesis)
  --emulator          the endpoint is an emulator (AWS_ENDPOINT_URL): settings it drops are reported as not
                      checked, and no record is sent by default
  -h, --help          this help

Exit code: 0 when every check passed (or was not checked on the emulator), 1 when one failed, 2 on bad usage.`;

export interface SmokeOptions {
  readonly projectDir: string;
  readonly stage?: string;
  readonly appName?: string;
  readonly region?: string;
  readonly records?: boolean;
  readonly timeoutSeconds?: number;
  readonly emulator: boolean;
  /** Where each line goes (stdout). */
  readonly print: (line: string) => void;
}

export { UsageError };

export function parseArguments(argv: readonly string[], projectDir: string): SmokeOptions | 'help' {
  const { values } = parseCommandLine(argv, {
    help: { type: 'boolean', short: 'h' },
    stage: { type: 'string' },
    'app-name': { type: 'string' },
    region: { type: 'string' },
    records: { type: 'boolean' },
    'no-records': { type: 'boolean' },
    timeout: { type: 'string' },
    emulator: { type: 'boolean' },
  });
  if (values.help) return 'help';
  if (values.records && values['no-records'])
    throw new UsageError('Give --records or --no-records, not both');
  const timeoutSeconds = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeoutSeconds !== undefined && !(timeoutSeconds > 0))
    throw new UsageError('--timeout takes a number of seconds above 0');
  const records = values.records ? true : values['no-records'] ? false : undefined;
  return {
    emulator: values.emulator ?? false,
    ...(values.stage !== undefined && { stage: values.stage }),
    ...(values['app-name'] !== undefined && { appName: values['app-name'] }),
    ...(values.region !== undefined && { region: values.region }),
    ...(records !== undefined && { records }),
    ...(timeoutSeconds !== undefined && { timeoutSeconds }),
    projectDir,
    print: (line) => console.log(line),
  };
}

/** cdk.json's context: the app name and the default stage. */
export function appContext(projectDir: string): { appName?: string; stage?: string } {
  const cdkJson = JSON.parse(readFileSync(join(projectDir, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  const context = cdkJson.context ?? {};
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return { appName: text(context[CONTEXT_KEYS.appName]), stage: text(context[CONTEXT_KEYS.stage]) };
}

const MARKS: Record<CheckResult['status'], string> = {
  pass: 'PASS',
  fail: 'FAIL',
  'not-checked': 'NOT CHECKED',
};

export function formatResult(result: CheckResult): string {
  return `${MARKS[result.status].padEnd(11)} ${result.stack}  ${result.subject}: ${result.detail}`;
}

export interface SmokeSummary {
  readonly results: readonly CheckResult[];
  readonly stacks: readonly string[];
  readonly passed: number;
  readonly failed: number;
  readonly notChecked: number;
}

/** Runs the smoke test; prints each line as it is known and returns the tally. */
export async function runSmoke(options: SmokeOptions, clients?: Clients): Promise<SmokeSummary> {
  const context = appContext(options.projectDir);
  const appName = options.appName ?? context.appName;
  const stage = options.stage ?? context.stage ?? 'sandbox';
  if (!appName) throw new UsageError('cdk.json has no context "appName": give --app-name');
  const records = options.records ?? !options.emulator;
  const own = clients === undefined;
  const aws = clients ?? createClients({ region: options.region, emulator: options.emulator });
  const results: CheckResult[] = [];
  const report = (found: readonly CheckResult[]) => {
    for (const result of found) {
      results.push(result);
      options.print(formatResult(result));
    }
  };
  const stacks: { path: IngestionPathName; stack: DeployedStack }[] = [];
  const others: DeployedStack[] = [];
  try {
    const names = INGESTION_PATHS.map((path) => ({ path, name: `${appName}-${stage}-${path}` }));
    const found = await Promise.all(
      names.map(async ({ path, name }) => ({ path, name, stack: await readStack(aws, name) })),
    );
    for (const { path, name, stack } of found) {
      if (stack) stacks.push({ path, stack });
      else options.print(`${'-'.padEnd(11)} ${name}  not deployed (skipped)`);
    }
    // The stage's other stacks (`<appName>-<stage>-monitoring`): their wiring is checked too; no record is sent.
    if (stacks.length > 0) {
      for (const name of await otherStackNames(aws, appName, stage)) {
        const stack = await readStack(aws, name);
        if (stack) others.push(stack);
      }
    }
    if (stacks.length === 0) {
      report([
        {
          stack: `${appName}-${stage}`,
          subject: 'stacks',
          status: 'fail',
          detail: `no stack of stage "${stage}" is deployed (looked for ${names.map(({ name }) => name).join(', ')})`,
        },
      ]);
    }
    const wiring = await Promise.all(
      [...stacks.map(({ stack }) => stack), ...others].map((stack) =>
        checkStack(aws, stack, { emulator: options.emulator }),
      ),
    );
    for (const lines of wiring) report(lines);
    if (records && stacks.length > 0) {
      if (options.emulator) {
        options.print(
          'Note: --records on the emulator: no function runs there, so no healthy record can have its effect.',
        );
      }
      const sent = await Promise.all(
        stacks.map(({ path, stack }) =>
          sendRecords(aws, { path, stack, timeoutSeconds: options.timeoutSeconds, print: options.print }),
        ),
      );
      for (const lines of sent) report(lines);
    } else if (!records && stacks.length > 0) {
      options.print(
        `${'NOT CHECKED'.padEnd(11)} records: ${options.emulator ? 'no function runs on the emulator' : '--no-records'}: no record sent`,
      );
    }
  } finally {
    if (own) destroyClients(aws);
  }
  const count = (status: CheckResult['status']) =>
    results.filter((result) => result.status === status).length;
  return {
    results,
    stacks: [...stacks, ...others.map((stack) => ({ stack }))].map(({ stack }) => stack.stackName),
    passed: count('pass'),
    failed: count('fail'),
    notChecked: count('not-checked'),
  };
}

/**
 * Whether a stack name is one of the stage's stacks that is not a path's: `<appName>-<stage>-<name>` where the name
 * is no path and does not end with one (`app-dev-team-sqs` is stage `dev-team`'s, not stage `dev`'s).
 */
export function isOtherStackOfStage(stackName: string, appName: string, stage: string): boolean {
  const prefix = `${appName}-${stage}-`;
  if (!stackName.startsWith(prefix)) return false;
  const rest = stackName.slice(prefix.length);
  return rest !== '' && !INGESTION_PATHS.some((path) => rest === path || rest.endsWith(`-${path}`));
}

async function otherStackNames(clients: Clients, appName: string, stage: string): Promise<string[]> {
  const names: string[] = [];
  for await (const page of paginateDescribeStacks({ client: clients.cloudformation }, {})) {
    for (const stack of page.Stacks ?? []) {
      if (
        stack.StackName &&
        stack.StackStatus !== 'DELETE_COMPLETE' &&
        isOtherStackOfStage(stack.StackName, appName, stage)
      ) {
        names.push(stack.StackName);
      }
    }
  }
  return names.sort();
}

export function summaryLine(summary: SmokeSummary): string {
  return (
    `smoke: ${summary.passed} passed, ${summary.failed} failed` +
    (summary.notChecked ? ` (${summary.notChecked} not checked)` : '')
  );
}

async function main(): Promise<void> {
  const projectDir = resolvePath(__dirname, '..', '..');
  let options;
  try {
    options = parseArguments(process.argv.slice(2), projectDir);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${HELP}`);
    process.exitCode = 2;
    return;
  }
  if (options === 'help') {
    console.log(HELP);
    return;
  }
  try {
    const summary = await runSmoke(options);
    console.log(summaryLine(summary));
    process.exitCode = summary.failed > 0 ? 1 : 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`${error.message}\n\n${HELP}`);
      process.exitCode = 2;
      return;
    }
    console.error(`smoke: ${(error as Error).name}: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}

if (require.main === module) void main();
