#!/usr/bin/env -S npx tsx
/**
 * Replays a batch a stream path gave up on. Lambda's on-failure record (SNS topic / SQS queue destination) names
 * the records but does not hold them; this fetches them from the stream and prints them, then re-drives them into
 * a Kinesis stream, or invokes the DynamoDB Streams consumer with them (a DynamoDB stream cannot be written to).
 * The source is told by the failure record. See `--help`, docs/stream-path.md and docs/table-stream-path.md.
 *
 *   aws sqs receive-message --queue-url "$FAILURE_QUEUE_URL" --max-number-of-messages 10 \
 *     | npm run -s replay --
 *   npm run replay -- failure.json --redrive readings-stream            # Kinesis: dry run
 *   npm run replay -- failure.json --redrive readings-stream --execute
 *   npm run replay -- failure.json --invoke table-stream-consumer --execute   # DynamoDB Streams
 */
import { runCli } from './stream-replay/cli';

runCli(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }).then(
  (status) => {
    process.exitCode = status;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
