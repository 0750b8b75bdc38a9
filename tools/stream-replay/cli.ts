/**
 * The command line of tools/replay-stream-failure.ts, as a function of its arguments and streams (tested
 * in-process against kinesalite).
 */
import { parseArgs } from 'node:util';
import { readFile } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { FailureRecordError, parseFailureRecords, parseStreamArn } from './failure-record';
import { fetchFailedRecords, FetchError, toJsonLine } from './fetch';
import { parseRedriveTarget, RedriveError, redriveRecords } from './redrive';

export const USAGE = `Usage: npm run replay -- [options] [file]
       (npm run -s replay -- ... when piping the output: npm prints its own header lines on stdout)

Reads the on-failure record(s) Lambda wrote for a Kinesis event source mapping (SNS/SQS destination), fetches
the records they name from the stream, and prints them, one JSON line each (data decoded), in sequence order.

  file                  the failure record: raw JSON, an SNS notification, an SQS message, the output of
                        'aws sqs receive-message', or a JSON array of these. '-' or nothing: standard input.
  --redrive <stream>    put the records into <stream> (name or ARN): same data and partition key, one at a time,
                        in order. A dry run (prints what it would put) unless --execute is given too.
  --execute             with --redrive: really put the records.
  --region <region>     AWS region (default: the region in the failure record's streamArn).
  --endpoint <url>      Kinesis endpoint (e.g. a local emulator).
  --max-pages <n>       GetRecords calls per failure record before giving up (default 1000).
  -h, --help            this text.

Exit status: 0 all records printed (or re-driven); 1 bad input or an AWS error; 2 some records are missing
(trimmed by the stream's retention, or the shard ended).`;

export interface CliIo {
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** @default a KinesisClient over HTTP/1.1 for the region and endpoint */
  readonly createClient?: (options: { region: string; endpoint?: string }) => KinesisClient;
  /** Pause after an empty GetRecords page. @default 200 */
  readonly emptyPageDelayMs?: number;
}

export const EXIT = { ok: 0, error: 1, missing: 2 } as const;

export function createKinesisClient(options: { region: string; endpoint?: string }): KinesisClient {
  // HTTP/1.1: GetRecords and PutRecord do not need HTTP/2 (only SubscribeToShard does), and local emulators
  // such as kinesalite only speak HTTP/1.1.
  return new KinesisClient({ ...options, requestHandler: new NodeHttpHandler() });
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const say = (line: string) => io.stderr.write(`${line}\n`);
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        redrive: { type: 'string' },
        execute: { type: 'boolean', default: false },
        region: { type: 'string' },
        endpoint: { type: 'string' },
        'max-pages': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    say(`${(error as Error).message}\n\n${USAGE}`);
    return EXIT.error;
  }
  const { values, positionals } = args;
  if (values.help) {
    io.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  if (positionals.length > 1) {
    say(`Expected at most one file, got ${positionals.length}.\n\n${USAGE}`);
    return EXIT.error;
  }
  if (values.execute && !values.redrive) {
    say('--execute only applies with --redrive <stream>.');
    return EXIT.error;
  }
  const maxPages = values['max-pages'] === undefined ? undefined : Number(values['max-pages']);
  if (maxPages !== undefined && (!Number.isInteger(maxPages) || maxPages < 1)) {
    say(`--max-pages must be a positive whole number, got "${values['max-pages']}".`);
    return EXIT.error;
  }

  const createClient = io.createClient ?? createKinesisClient;
  const clients = new Map<string, KinesisClient>();
  const clientFor = (region: string) => {
    let client = clients.get(region);
    if (!client) {
      client = createClient({ region, endpoint: values.endpoint });
      clients.set(region, client);
    }
    return client;
  };

  try {
    const file = positionals[0];
    if ((!file || file === '-') && (io.stdin as { isTTY?: boolean }).isTTY) {
      say(`No input: pass a file, or pipe the failure record in.\n\n${USAGE}`);
      return EXIT.error;
    }
    const text = file && file !== '-' ? await readFile(file, 'utf8') : await readAll(io.stdin);
    const failureRecords = parseFailureRecords(text);
    const target = values.redrive ? parseRedriveTarget(values.redrive) : undefined;
    let status: number = EXIT.ok;

    const ddb = failureRecords.findIndex((failure) => failure.source === 'dynamodb');
    if (ddb >= 0) {
      say(
        `error: failure record ${ddb + 1} is of a DynamoDB Streams mapping (DDBStreamBatchInfo); not replayed yet.`,
      );
      return EXIT.error;
    }
    for (const [index, failure] of failureRecords.entries()) {
      if (failure.source !== 'kinesis') continue;
      const info = failure.KinesisBatchInfo;
      const region = values.region ?? parseStreamArn(info.streamArn).region;
      say(
        `failure record ${index + 1}/${failureRecords.length}: ${info.batchSize} record(s) of ${info.shardId}, ` +
          `${info.startSequenceNumber}..${info.endSequenceNumber} (${failure.requestContext?.condition ?? 'condition unknown'})`,
      );
      const result = await fetchFailedRecords(clientFor(region), info, {
        maxPages,
        emptyPageDelayMs: io.emptyPageDelayMs,
      });
      if (result.missing) {
        say(`warning: ${result.records.length} of ${result.expected} record(s) found: ${result.missing}.`);
        status = EXIT.missing;
      }
      for (const record of result.records) io.stdout.write(`${toJsonLine(record)}\n`);

      if (target) {
        if (!values.execute) {
          say(
            `dry run: would put ${result.records.length} record(s) into "${target.streamName}" in the order above, ` +
              'keeping their partition keys; add --execute to do it.',
          );
          continue;
        }
        const redriven = await redriveRecords(clientFor(target.region ?? region), result.records, target);
        for (const record of redriven) say(`re-driven: ${JSON.stringify(record)}`);
        say(`re-drove ${redriven.length} record(s) into "${target.streamName}".`);
      }
    }
    return status;
  } catch (error) {
    if (error instanceof FailureRecordError || error instanceof FetchError || error instanceof RedriveError) {
      say(`error: ${error.message}`);
    } else if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      say(`error: cannot read ${(error as NodeJS.ErrnoException).path}: no such file.`);
    } else {
      say(`error: ${(error as Error).name}: ${(error as Error).message}`);
    }
    return EXIT.error;
  } finally {
    for (const client of clients.values()) client.destroy();
  }
}

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}
