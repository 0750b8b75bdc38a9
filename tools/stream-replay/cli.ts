/**
 * The command line of tools/replay-stream-failure.ts, as a function of its arguments and streams (tested
 * in-process against kinesalite, and against an in-process DynamoDB Streams API and Lambda Invoke API).
 */
import { parseArgs } from 'node:util';
import { readFile } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { type DynamoDbFetchOptions, fetchFailedChanges } from './dynamodb-fetch';
import {
  batchProblems,
  DEFAULT_EVENT_NAMES,
  describeRecord,
  type EventName,
  parseEventNames,
  selectBatch,
  toLambdaRecord,
} from './dynamodb-records';
import {
  type DynamoDbFailureRecord,
  type FailureRecord,
  FailureRecordError,
  parseDynamoDbStreamArn,
  parseFailureRecords,
  parseStreamArn,
} from './failure-record';
import { fetchFailedRecords, FetchError, toJsonLine } from './fetch';
import {
  functionNameOf,
  type InvokeTarget,
  InvokeError,
  invokeWithRecords,
  parseInvokeTarget,
} from './invoke';
import { parseRedriveTarget, RedriveError, redriveRecords } from './redrive';

export const USAGE = `Usage: npm run replay -- [options] [file]
       (npm run -s replay -- ... when piping the output: npm prints its own header lines on stdout)

Reads the on-failure record(s) Lambda wrote for a Kinesis or a DynamoDB Streams event source mapping (SNS/SQS
destination, or the object of an S3 destination, downloaded), fetches the records they name from the stream, and
prints them, one JSON line each, in sequence order. Each record tells its source (KinesisBatchInfo or
DDBStreamBatchInfo); one input may hold both kinds.

  file                  the failure record: raw JSON, an SNS notification, an SQS message, the output of
                        'aws sqs receive-message', or a JSON array of these. '-' or nothing: standard input.

Both sources:
  --region <region>     AWS region (default: the region in the failure record's streamArn).
  --endpoint <url>      the stream API's endpoint, Kinesis or DynamoDB Streams (e.g. a local emulator).
  --max-pages <n>       GetRecords calls per failure record before giving up (default 1000).
  --execute             with --redrive or --invoke: really do it; without it, a dry run says what it would do.
  -h, --help            this text.

Kinesis (KinesisBatchInfo): each line is a record, its data decoded.
  --redrive <stream>    put the records into <stream> (name or ARN): same data and partition key, one at a time,
                        in order.

DynamoDB Streams (DDBStreamBatchInfo): each line is a record as Lambda's event holds it, which is what the
consumer's handler takes. A DynamoDB stream keeps a record 24 hours and cannot be written to: the records are
replayed by invoking the consumer with them.
  --event-names <list>  the event names the mapping's filter lets through: INSERT, MODIFY, REMOVE, comma-separated,
                        or 'all' (default INSERT,MODIFY, the TableStreamConsumer's default filter). Records of the
                        range with other names were never delivered and are left out; the rest must count
                        batchSize, or nothing is invoked.
  --as-event            print one {"Records":[...]} line per failure record instead, for
                        'aws lambda invoke --function-name <function> --payload fileb://event.json out.json'.
  --invoke <function>   invoke <function> (name or ARN; the failure record's requestContext.functionArn is the
                        consumer) with the records, synchronously, as the mapping does. The records it applied
                        before are answered from its idempotency records, so running it again is safe.

Exit status: 0 all records printed (or re-driven, or invoked with none failing); 1 bad input or an AWS error;
2 some records are missing (trimmed by the stream's retention, 24 hours for DynamoDB Streams, or the shard ended)
or, for DynamoDB Streams, the records do not match the batch's count; 3 the invoked function reported records
failed (the replay stops there).`;

export interface CliIo {
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** @default a KinesisClient over HTTP/1.1 for the region and endpoint */
  readonly createClient?: (options: { region: string; endpoint?: string }) => KinesisClient;
  /** @default a DynamoDBStreamsClient over HTTP/1.1 for the region and endpoint */
  readonly createDynamoDbStreamsClient?: (options: {
    region: string;
    endpoint?: string;
  }) => DynamoDBStreamsClient;
  /** @default a LambdaClient for the region */
  readonly createLambdaClient?: (options: { region: string }) => LambdaClient;
  /** Pause after an empty GetRecords page. @default 200 */
  readonly emptyPageDelayMs?: number;
}

export const EXIT = { ok: 0, error: 1, missing: 2, failed: 3 } as const;

export function createKinesisClient(options: { region: string; endpoint?: string }): KinesisClient {
  // HTTP/1.1: GetRecords and PutRecord do not need HTTP/2 (only SubscribeToShard does), and local emulators
  // such as kinesalite only speak HTTP/1.1.
  return new KinesisClient({ ...options, requestHandler: new NodeHttpHandler() });
}

export function createDynamoDbStreamsClient(options: {
  region: string;
  endpoint?: string;
}): DynamoDBStreamsClient {
  return new DynamoDBStreamsClient({ ...options, requestHandler: new NodeHttpHandler() });
}

/** A client per region (and endpoint), made on first use, destroyed at the end. */
class Clients<C extends { destroy(): void }> {
  private readonly byRegion = new Map<string, C>();
  constructor(private readonly create: (region: string) => C) {}
  for(region: string): C {
    let client = this.byRegion.get(region);
    if (!client) {
      client = this.create(region);
      this.byRegion.set(region, client);
    }
    return client;
  }
  destroy(): void {
    for (const client of this.byRegion.values()) client.destroy();
  }
}

/** Options that only apply to one source, and what to use for the other one instead. */
const KINESIS_ONLY = { redrive: '--redrive <stream>' } as const;
const DYNAMODB_ONLY = {
  invoke: '--invoke <function>',
  'as-event': '--as-event',
  'event-names': '--event-names <list>',
} as const;

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const say = (line: string) => io.stderr.write(`${line}\n`);
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        redrive: { type: 'string' },
        invoke: { type: 'string' },
        'as-event': { type: 'boolean', default: false },
        'event-names': { type: 'string' },
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
  if (values.execute && !values.redrive && !values.invoke) {
    say(
      '--execute only applies with --redrive <stream> (Kinesis) or --invoke <function> (DynamoDB Streams).',
    );
    return EXIT.error;
  }
  if (values.redrive && values.invoke) {
    say(
      '--redrive (Kinesis) and --invoke (DynamoDB Streams) do not go together: one input, one kind of replay.',
    );
    return EXIT.error;
  }
  const maxPages = values['max-pages'] === undefined ? undefined : Number(values['max-pages']);
  if (maxPages !== undefined && (!Number.isInteger(maxPages) || maxPages < 1)) {
    say(`--max-pages must be a positive whole number, got "${values['max-pages']}".`);
    return EXIT.error;
  }
  let eventNames: readonly EventName[] = DEFAULT_EVENT_NAMES;
  if (values['event-names'] !== undefined) {
    try {
      eventNames = parseEventNames(values['event-names']);
    } catch (error) {
      say((error as Error).message);
      return EXIT.error;
    }
  }

  const createKinesis = io.createClient ?? createKinesisClient;
  const kinesisClients = new Clients((region) => createKinesis({ region, endpoint: values.endpoint }));
  const createStreams = io.createDynamoDbStreamsClient ?? createDynamoDbStreamsClient;
  const streamsClients = new Clients((region) => createStreams({ region, endpoint: values.endpoint }));
  const createLambda = io.createLambdaClient ?? ((options: { region: string }) => new LambdaClient(options));
  const lambdaClients = new Clients((region) => createLambda({ region }));

  try {
    const file = positionals[0];
    if ((!file || file === '-') && (io.stdin as { isTTY?: boolean }).isTTY) {
      say(`No input: pass a file, or pipe the failure record in.\n\n${USAGE}`);
      return EXIT.error;
    }
    const text = file && file !== '-' ? await readFile(file, 'utf8') : await readAll(io.stdin);
    const failureRecords = parseFailureRecords(text);
    const mismatch = wrongSourceOption(failureRecords, values);
    if (mismatch) {
      say(`error: ${mismatch}`);
      return EXIT.error;
    }
    const redriveTarget = values.redrive ? parseRedriveTarget(values.redrive) : undefined;
    const invokeTarget = values.invoke ? parseInvokeTarget(values.invoke) : undefined;
    let status: number = EXIT.ok;

    for (const [index, failure] of failureRecords.entries()) {
      const label = `failure record ${index + 1}/${failureRecords.length}`;
      const condition = failure.requestContext?.condition ?? 'condition unknown';
      if (failure.source === 'dynamodb') {
        const outcome = await replayDynamoDbFailure(failure, {
          label,
          condition,
          say,
          write: (line) => io.stdout.write(`${line}\n`),
          streamsClient: streamsClients.for(
            values.region ?? parseDynamoDbStreamArn(failure.DDBStreamBatchInfo.streamArn).region,
          ),
          lambdaClients,
          region: values.region,
          eventNames,
          asEvent: values['as-event'],
          invokeTarget,
          execute: values.execute,
          fetchOptions: { maxPages, emptyPageDelayMs: io.emptyPageDelayMs },
        });
        if (outcome === EXIT.failed) {
          const left = failureRecords.length - index - 1;
          if (left > 0) say(`the replay stops here: ${left} later failure record(s) were not replayed.`);
          return EXIT.failed;
        }
        if (outcome !== EXIT.ok) status = outcome;
        continue;
      }
      const info = failure.KinesisBatchInfo;
      const region = values.region ?? parseStreamArn(info.streamArn).region;
      say(
        `${label}: ${info.batchSize} record(s) of ${info.shardId}, ` +
          `${info.startSequenceNumber}..${info.endSequenceNumber} (${condition})`,
      );
      const result = await fetchFailedRecords(kinesisClients.for(region), info, {
        maxPages,
        emptyPageDelayMs: io.emptyPageDelayMs,
      });
      if (result.missing) {
        say(`warning: ${result.records.length} of ${result.expected} record(s) found: ${result.missing}.`);
        status = EXIT.missing;
      }
      for (const record of result.records) io.stdout.write(`${toJsonLine(record)}\n`);

      if (redriveTarget) {
        if (!values.execute) {
          say(
            `dry run: would put ${result.records.length} record(s) into "${redriveTarget.streamName}" in the order above, ` +
              'keeping their partition keys; add --execute to do it.',
          );
          continue;
        }
        const redriven = await redriveRecords(
          kinesisClients.for(redriveTarget.region ?? region),
          result.records,
          redriveTarget,
        );
        for (const record of redriven) say(`re-driven: ${JSON.stringify(record)}`);
        say(`re-drove ${redriven.length} record(s) into "${redriveTarget.streamName}".`);
      }
    }
    return status;
  } catch (error) {
    if (
      error instanceof FailureRecordError ||
      error instanceof FetchError ||
      error instanceof RedriveError ||
      error instanceof InvokeError
    ) {
      say(`error: ${error.message}`);
    } else if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      say(`error: cannot read ${(error as NodeJS.ErrnoException).path}: no such file.`);
    } else {
      say(`error: ${(error as Error).name}: ${(error as Error).message}`);
    }
    return EXIT.error;
  } finally {
    kinesisClients.destroy();
    streamsClients.destroy();
    lambdaClients.destroy();
  }
}

/** An option given for the other source's records, said before anything is fetched. */
function wrongSourceOption(
  records: readonly FailureRecord[],
  values: Partial<Record<keyof typeof KINESIS_ONLY | keyof typeof DYNAMODB_ONLY, unknown>>,
): string | undefined {
  const given = (options: Record<string, string>) =>
    Object.keys(options).filter(
      (option) =>
        values[option as keyof typeof values] !== undefined &&
        values[option as keyof typeof values] !== false,
    );
  const ddb = records.findIndex((record) => record.source === 'dynamodb');
  const kinesisOnly = given(KINESIS_ONLY);
  if (ddb >= 0 && kinesisOnly.length > 0) {
    return (
      `${KINESIS_ONLY.redrive} puts records into a Kinesis stream, but failure record ${ddb + 1} is of a DynamoDB ` +
      'Streams mapping, and a DynamoDB stream cannot be written to: replay it with --invoke <function> (the ' +
      'consumer, invoked with the records) or print it with --as-event.'
    );
  }
  const kinesis = records.findIndex((record) => record.source === 'kinesis');
  const ddbOnly = given(DYNAMODB_ONLY);
  if (kinesis >= 0 && ddbOnly.length > 0) {
    return (
      `${ddbOnly.map((option) => DYNAMODB_ONLY[option as keyof typeof DYNAMODB_ONLY]).join(', ')} only apply to ` +
      `DynamoDB Streams failure records, but failure record ${kinesis + 1} is of a Kinesis mapping: replay it with ` +
      '--redrive <stream>.'
    );
  }
  return undefined;
}

interface DynamoDbReplay {
  readonly label: string;
  readonly condition: string;
  readonly say: (line: string) => void;
  readonly write: (line: string) => void;
  readonly streamsClient: DynamoDBStreamsClient;
  readonly lambdaClients: Clients<LambdaClient>;
  /** --region */
  readonly region?: string;
  readonly eventNames: readonly EventName[];
  readonly asEvent: boolean;
  readonly invokeTarget?: InvokeTarget;
  readonly execute: boolean;
  readonly fetchOptions: DynamoDbFetchOptions;
}

/** One DynamoDB Streams failure record: fetch, print, invoke. Returns the exit status it calls for. */
async function replayDynamoDbFailure(
  failure: DynamoDbFailureRecord,
  replay: DynamoDbReplay,
): Promise<number> {
  const { say } = replay;
  const info = failure.DDBStreamBatchInfo;
  const arn = parseDynamoDbStreamArn(info.streamArn);
  say(
    `${replay.label}: ${info.batchSize} record(s) of ${info.shardId} of the stream of table "${arn.tableName}", ` +
      `${info.startSequenceNumber}..${info.endSequenceNumber} (${replay.condition})`,
  );
  const fetched = await fetchFailedChanges(replay.streamsClient, info, replay.fetchOptions);
  const records = fetched.records.map((record) => toLambdaRecord(record, info.streamArn));
  const selection = selectBatch(records, replay.eventNames);
  if (selection.dropped.length > 0) {
    say(
      `left out ${selection.dropped.length} record(s) of the range that the mapping's filter never delivered ` +
        `(--event-names ${replay.eventNames.join(',')}): ${selection.dropped.map(describeRecord).join('; ')}`,
    );
  }
  const problems = batchProblems(info, fetched, selection, replay.eventNames);
  if (problems.trimmed) say(`warning: ${problems.trimmed}`);
  if (problems.stoppedEarly) {
    say(`warning: ${selection.batch.length} of ${info.batchSize} record(s) found: ${problems.stoppedEarly}.`);
  }
  if (problems.countMismatch) say(`warning: ${problems.countMismatch}.`);
  const status: number = Object.keys(problems).length > 0 ? EXIT.missing : EXIT.ok;

  if (replay.asEvent) {
    if (selection.batch.length > 0) replay.write(JSON.stringify({ Records: selection.batch }));
  } else {
    for (const record of selection.batch) replay.write(JSON.stringify(record));
  }

  const target = replay.invokeTarget;
  if (!target) return status;
  if (problems.countMismatch) {
    say(`not invoked: the records above are not the batch Lambda gave up on (see the warning).`);
    return status;
  }
  if (selection.batch.length === 0) {
    say('not invoked: no record of the batch is left to replay.');
    return status;
  }
  const intended = failure.requestContext?.functionArn && functionNameOf(failure.requestContext.functionArn);
  if (intended && intended !== functionNameOf(target.functionName)) {
    say(`note: the failure record is of function "${intended}"; invoking "${target.functionName}" as asked.`);
  }
  if (!replay.execute) {
    say(
      `dry run: would invoke "${target.functionName}" with the ${selection.batch.length} record(s) above, in ` +
        'sequence order, as {"Records":[...]}; add --execute to do it.',
    );
    return status;
  }
  const region = target.region ?? replay.region ?? arn.region;
  const result = await invokeWithRecords(replay.lambdaClients.for(region), target, selection.batch);
  const sent = result.invocations.reduce((sum, n) => sum + n, 0);
  if (result.failed.length > 0) {
    say(
      `error: "${target.functionName}" reported ${result.failed.length} of the ${sent} record(s) it was given ` +
        `failed or held back (after a failure, an item's later changes wait): ${result.failed.join(', ')}` +
        `${result.notSent > 0 ? `; ${result.notSent} later record(s) were not sent` : ''}. Its log group says why ` +
        '(record failed, invalid payload); fix the cause and run the replay again: the records it applied are ' +
        'answered from its idempotency records.',
    );
    return EXIT.failed;
  }
  say(
    `invoked "${target.functionName}" ${result.invocations.length === 1 ? 'once' : `${result.invocations.length} times`} ` +
      `with ${sent} record(s): none failed (those applied before were answered from its idempotency records).`,
  );
  return status;
}

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}
