/**
 * `npm run example -- <path> [options]`: an example record of a path, from its domain module's examples
 * (lambda/<path>-consumer/domain.ts), for the README's smoke test of a deployed stack: what to send, under which
 * partition key, and which effect-table item it lands on. A fork's own domain prints its own records.
 */
import * as fifoDomain from '../lambda/fifo-consumer/domain';
import * as objectDomain from '../lambda/object-consumer/domain';
import * as sqsDomain from '../lambda/sqs-consumer/domain';
import * as streamDomain from '../lambda/stream-consumer/domain';
import * as tableStreamDomain from '../lambda/table-stream-consumer/domain';
import { marshall } from '@aws-sdk/util-dynamodb';

const HELP = `Usage: npm run -s example -- <sqs|fifo|object|stream|table-stream> [options]

Prints an example record of the path (its domain module's examples, lambda/<path>-consumer/domain.ts):
  sqs           the message body to send to the queue
  fifo          the message body to send to the FIFO queue
  object        the object key to upload
  stream        the data to put on the stream
  table-stream  the item to put in the source table, in DynamoDB JSON (aws dynamodb put-item --item)

Options:
  --id <id>          the record's id, part of its idempotency key (default: example-1)
  --invalid          a typical invalid record instead (it fails validation and ends in the DLQ or destination)
  --partition-key    stream: the partition key to put the record under
  --group            fifo: the message group id to send the message with
  --key              table-stream: the item's key, in DynamoDB JSON (aws dynamodb get-item/delete-item --key)
  --plain            table-stream: the item as plain JSON instead of DynamoDB JSON
  --effect-key       the effect table item (pk) the record adds to
  --bucket <name>    object: the bucket (its name is part of the effect key; default: example-bucket)
  -h, --help         this help`;

export function exampleOutput(argv: readonly string[]): string {
  const [path] = argv;
  const option = (name: string) => {
    const index = argv.indexOf(name);
    return index >= 0 ? argv[index + 1] : undefined;
  };
  const id = option('--id') ?? 'example-1';
  const wants = (flag: string) => argv.includes(flag);
  switch (path) {
    case 'sqs': {
      if (wants('--invalid'))
        return sqsDomain.examples.invalid(id)[1]?.body ?? sqsDomain.examples.invalid(id)[0].body;
      const message = sqsDomain.examples.valid(id);
      if (wants('--effect-key')) return sqsDomain.domain.plan(message).effect[0].key;
      return JSON.stringify(message);
    }
    case 'fifo': {
      if (wants('--invalid')) return fifoDomain.examples.invalid(id)[0].body;
      const message = fifoDomain.examples.valid(id);
      if (wants('--group')) return fifoDomain.domain.messageGroupId(message);
      if (wants('--effect-key')) return fifoDomain.domain.plan(message).effect[0].key;
      return JSON.stringify(message);
    }
    case 'stream': {
      if (wants('--invalid')) return streamDomain.examples.invalid(id)[0].body;
      const message = streamDomain.examples.valid(id);
      if (wants('--partition-key')) return streamDomain.domain.partitionKey(message);
      if (wants('--effect-key')) return streamDomain.domain.plan(message).effect[0].key;
      return JSON.stringify(message);
    }
    case 'table-stream': {
      // The change an item's first write makes (an INSERT); its key is the item's key attributes.
      const change = tableStreamDomain.examples.valid(id, { variant: 0 });
      const item = change.newItem!;
      const keys = Object.fromEntries(
        change.itemKey
          .split('&')
          .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
      );
      const json = (value: Record<string, unknown>) =>
        JSON.stringify(wants('--plain') ? value : marshall(value, { removeUndefinedValues: true }));
      if (wants('--key')) return json(keys);
      if (wants('--effect-key')) return tableStreamDomain.domain.plan(change).effect[0].key;
      if (wants('--invalid')) {
        const invalid = JSON.parse(tableStreamDomain.examples.invalid(id)[0].body) as Record<string, unknown>;
        return json({ ...invalid, ...keys });
      }
      return json(item);
    }
    case 'object': {
      if (wants('--invalid')) return objectDomain.examples.invalid(id)[0].body;
      const example = objectDomain.examples.valid(id);
      const object = { ...example, bucket: option('--bucket') ?? example.bucket };
      if (wants('--effect-key')) return objectDomain.domain.plan(object).effect[0].key;
      return object.key;
    }
    default:
      throw new Error(
        `Give a path: sqs, fifo, object, stream or table-stream (got ${path === undefined ? 'none' : `"${path}"`}).`,
      );
  }
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  if (argv.includes('-h') || argv.includes('--help')) {
    console.log(HELP);
  } else {
    try {
      console.log(exampleOutput(argv));
    } catch (error) {
      console.error(`${(error as Error).message}\n\n${HELP}`);
      process.exitCode = 1;
    }
  }
}
