#!/usr/bin/env -S npx tsx
/**
 * Replays a batch the stream path gave up on. Lambda's on-failure record (SNS topic / SQS queue destination)
 * names the records but does not hold them; this fetches them from the stream and prints them, or re-drives
 * them into a stream. See `--help` and docs/stream-path.md.
 *
 *   aws sqs receive-message --queue-url "$FAILURE_QUEUE_URL" --max-number-of-messages 10 \
 *     | npm run -s replay --
 *   npm run replay -- failure.json --redrive readings-stream            # dry run
 *   npm run replay -- failure.json --redrive readings-stream --execute
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
