/**
 * `npm run send -- <order.json> [--count N]`: submits orders to the http path's API with the retrying client
 * (tools/http-client/), signed with SigV4 for its IAM authorization, and prints each attempt.
 *
 *   npm run -s example -- sqs > order.json
 *   npm run send -- order.json                       # the API of stack <appName>-sandbox-http (its OrdersUrl output)
 *   npm run send -- order.json --count 20 --stage dev
 *   npm run send -- order.json --url https://abc123.execute-api.eu-west-1.amazonaws.com/orders
 *
 * With `--count N`, N records are sent, one after the other: the file's with `-1` … `-N` appended to its key
 * (the domain's idempotency key, lambda/sqs-consumer/domain.ts), each with its own Idempotency-Key. Exit code: 0 when every order was accepted, 1 otherwise, 2 for a
 * usage error.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AttemptReport, submit } from './http-client/client';
import { DEFAULT_RETRY_POLICY } from './http-client/retry-policy';
import { sigV4Signer } from './http-client/sigv4';
import { parseCommandLine, UsageError } from './shared/command-line';
import { domain } from '../lambda/sqs-consumer/domain';
import * as z from 'zod/mini';

const USAGE = `Usage: npm run send -- <order.json> [options]

  --count N          send N copies, the record's key suffixed -1..-N, one after the other (default 1)
  --url URL          the POST /orders URL (default: the OrdersUrl output of <appName>-<stage>-http)
  --stage NAME       the stage whose stack to read (default: sandbox)
  --region NAME      the API's region (default: from the URL, else AWS_REGION)
  --key KEY          the Idempotency-Key (default: a fresh UUID per order; with --count, KEY-1..KEY-N)
  --deadline S       seconds all attempts of one order may take (default ${DEFAULT_RETRY_POLICY.deadlineMs / 1000})
  --timeout S        seconds one attempt waits for its answer (default ${DEFAULT_RETRY_POLICY.attemptTimeoutMs / 1000})
  --attempts N       attempts per order at most (default ${DEFAULT_RETRY_POLICY.maxAttempts})
  --no-sign          send unsigned (a local API; AWS answers 403)
  --help`;

export interface SendArguments {
  readonly file: string;
  readonly count: number;
  readonly url?: string;
  readonly stage: string;
  readonly region?: string;
  readonly key?: string;
  readonly deadlineMs: number;
  readonly attemptTimeoutMs: number;
  readonly maxAttempts: number;
  readonly sign: boolean;
}

export { UsageError };

export function parseSendArguments(argv: readonly string[]): SendArguments | 'help' {
  const { values, positionals } = parseCommandLine(argv, {
    count: { type: 'string' },
    url: { type: 'string' },
    stage: { type: 'string' },
    region: { type: 'string' },
    key: { type: 'string' },
    deadline: { type: 'string' },
    timeout: { type: 'string' },
    attempts: { type: 'string' },
    'no-sign': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return 'help';
  if (positionals.length !== 1)
    throw new UsageError(`give one ${domain.recordName} file (a JSON ${domain.recordName})`);
  const positive = (name: string, text: string | undefined, fallback: number) => {
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!Number.isFinite(value) || value <= 0)
      throw new UsageError(`--${name} must be a positive number, got "${text}"`);
    return value;
  };
  const count = positive('count', values.count, 1);
  if (!Number.isInteger(count)) throw new UsageError(`--count must be a whole number, got "${values.count}"`);
  return {
    file: positionals[0],
    count,
    ...(values.url && { url: values.url }),
    stage: values.stage ?? 'sandbox',
    ...((values.region ?? process.env.AWS_REGION) && { region: values.region ?? process.env.AWS_REGION }),
    ...(values.key && { key: values.key }),
    deadlineMs: positive('deadline', values.deadline, DEFAULT_RETRY_POLICY.deadlineMs / 1000) * 1000,
    attemptTimeoutMs:
      positive('timeout', values.timeout, DEFAULT_RETRY_POLICY.attemptTimeoutMs / 1000) * 1000,
    maxAttempts: Math.floor(positive('attempts', values.attempts, DEFAULT_RETRY_POLICY.maxAttempts)),
    sign: !values['no-sign'],
  };
}

/** One line per attempt: `order o-1 attempt 2 +0.41s 429 (120 ms) Too Many Requests; retrying in 380 ms`. */
export function formatAttempt(id: string, report: AttemptReport): string {
  const what = report.status !== undefined ? String(report.status) : (report.error ?? 'no answer');
  return (
    `${domain.recordName} ${id} attempt ${report.attempt} +${(report.startedAtMs / 1000).toFixed(2)}s ${what} ` +
    `(${report.durationMs} ms)${report.replayed ? ' replayed' : ''}: ${report.reason}`
  );
}

/**
 * The records to send: the file's, or N copies of it, each with `-1` … `-N` appended to its key. The key is the
 * domain's idempotency key (the record the http path accepts is the sqs path's, lambda/http-ingress/handler.ts);
 * the copies change each top-level field that holds it, and must then have the new key.
 */
export function recordsToSend(record: Record<string, unknown>, count: number): Record<string, unknown>[] {
  if (count === 1) return [record];
  const parsed = z.safeParse(domain.schema, record);
  if (!parsed.success)
    throw new UsageError(`--count copies a valid ${domain.recordName}, and the file's is not one`);
  const key = domain.idempotencyKey(parsed.data);
  const keyFields = Object.keys(record).filter((field) => record[field] === key);
  return Array.from({ length: count }, (_, index) => {
    const copyKey = `${key}-${index + 1}`;
    const copy = { ...record, ...Object.fromEntries(keyFields.map((field) => [field, copyKey])) };
    const copied = z.safeParse(domain.schema, copy);
    if (!copied.success || domain.idempotencyKey(copied.data) !== copyKey) {
      throw new UsageError(
        `--count cannot give copies of the ${domain.recordName} their own key (no top-level field holds its key ` +
          `"${key}"): send one file per ${domain.recordName}`,
      );
    }
    return copy;
  });
}

/** The key a record is printed under: its idempotency key, or its position when it is not a valid record. */
function keyToPrint(record: Record<string, unknown>, position: number): string {
  const parsed = z.safeParse(domain.schema, record);
  return parsed.success ? domain.idempotencyKey(parsed.data) : `#${position}`;
}

async function urlOfStack(stage: string): Promise<string> {
  const { context } = JSON.parse(readFileSync(join(__dirname, '..', 'cdk.json'), 'utf8')) as {
    context: { appName: string };
  };
  const stackName = `${context.appName}-${stage}-http`;
  const client = new CloudFormationClient({});
  try {
    const { Stacks = [] } = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    const url = Stacks[0]?.Outputs?.find((output) => output.OutputKey === 'OrdersUrl')?.OutputValue;
    if (!url) throw new Error(`stack ${stackName} has no OrdersUrl output`);
    return url;
  } catch (error) {
    throw new UsageError(
      `cannot read the API's URL from stack ${stackName} (${(error as Error).message}): deploy it, or pass --url`,
    );
  } finally {
    client.destroy();
  }
}

export async function main(argv: readonly string[], out = console.log, err = console.error): Promise<number> {
  let args: SendArguments | 'help';
  try {
    args = parseSendArguments(argv);
  } catch (error) {
    err(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (args === 'help') {
    out(USAGE);
    return 0;
  }
  let order: Record<string, unknown>;
  try {
    order = JSON.parse(readFileSync(args.file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    err(`cannot read the ${domain.recordName} file ${args.file}: ${(error as Error).message}`);
    return 2;
  }
  let url: string;
  try {
    url = args.url ?? (await urlOfStack(args.stage));
  } catch (error) {
    err((error as Error).message);
    return 2;
  }
  const sign = args.sign ? sigV4Signer(args.region ? { region: args.region } : {}) : undefined;
  let accepted = 0;
  let orders: Record<string, unknown>[];
  try {
    orders = recordsToSend(order, args.count);
  } catch (error) {
    err((error as Error).message);
    return 2;
  }
  for (const [index, body] of orders.entries()) {
    const id = keyToPrint(body, index + 1);
    const result = await submit(body, {
      url,
      ...(args.key && { idempotencyKey: args.count === 1 ? args.key : `${args.key}-${index + 1}` }),
      ...(sign && { sign }),
      policy: {
        deadlineMs: args.deadlineMs,
        attemptTimeoutMs: args.attemptTimeoutMs,
        maxAttempts: args.maxAttempts,
      },
      onAttempt: (report) => out(formatAttempt(id, report)),
    });
    if (result.ok) accepted += 1;
    out(
      `${domain.recordName} ${id}: ${result.ok ? 'ACCEPTED' : 'NOT ACCEPTED'} after ${result.attempts.length} attempt(s), ` +
        `Idempotency-Key ${result.idempotencyKey}: ${JSON.stringify(result.body)}`,
    );
  }
  out(`${accepted} of ${orders.length} ${domain.recordName}(s) accepted`);
  return accepted === orders.length ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
