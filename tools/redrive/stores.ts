/**
 * The failure stores of each path, and the stack outputs `npm run redrive` finds each by. The outputs are the
 * ones each ingestion stack declares (lib/stacks/); a test reads them from the synthesized templates.
 */
import type { IngestionPathName } from '../../lib/config';
import { domain as fifoDomain } from '../../lambda/fifo-consumer/domain';
import type { Domain } from '../../lambda/shared/domain';
import { domain as sqsDomain } from '../../lambda/sqs-consumer/domain';

/**
 * - `dead-letter-queue`: the SQS (or FIFO) source queue's DLQ; moved back with a message move task.
 * - `on-failure`: the asynchronous invocation's on-failure destination queue; each record's event re-invoked.
 * - `subscription-dlq`: the SNS subscription's DLQ; each notification delivered to the function again.
 * - `failure-queue`: a stream mapping's on-failure records; each replayed by `npm run replay` (Kinesis: put back
 *   into the stream; DynamoDB Streams: the consumer invoked with the records).
 */
export type StoreName = 'dead-letter-queue' | 'on-failure' | 'subscription-dlq' | 'failure-queue';

/** A path not listed here has no failure store this command knows (a synchronous path answers its caller). */
export const STORES_OF_PATH: Readonly<Partial<Record<IngestionPathName, readonly StoreName[]>>> = {
  sqs: ['dead-letter-queue'],
  fifo: ['dead-letter-queue'],
  object: ['on-failure', 'subscription-dlq'],
  stream: ['failure-queue'],
  'table-stream': ['failure-queue'],
  // The http path's stack has an SQS path of its own behind the API: its dead-letter queue.
  http: ['dead-letter-queue'],
};

export const STORE_LABELS: Readonly<Record<StoreName, string>> = {
  'dead-letter-queue': 'dead-letter queue',
  'on-failure': 'on-failure destination (asynchronous invocation records)',
  'subscription-dlq': 'SNS subscription dead-letter queue',
  'failure-queue': 'failure queue (stream batches given up on)',
};

/** The paths with a failure store. */
export const REDRIVABLE_PATHS = (Object.keys(STORES_OF_PATH) as IngestionPathName[]).filter(
  (path) => STORES_OF_PATH[path]?.length,
);

/** The outputs a store is found by, per path. */
export function requiredOutputs(path: IngestionPathName, store: StoreName): readonly string[] {
  switch (store) {
    case 'dead-letter-queue':
      return ['DeadLetterQueueUrl', 'DeadLetterQueueArn'];
    case 'on-failure':
      return ['OnFailureQueueUrl', 'ConsumerFunctionName'];
    case 'subscription-dlq':
      return ['SubscriptionDeadLetterQueueUrl', 'ConsumerFunctionName', 'ObjectCreatedTopicArn'];
    case 'failure-queue':
      // The replay puts a Kinesis batch back into its stream; a DynamoDB stream cannot be written to, so its batch
      // goes to the consumer, invoked with it. The stream itself is named by each failure record.
      return ['FailureQueueUrl', path === 'stream' ? 'StreamName' : 'ConsumerFunctionName'];
  }
}

/** The domain of a path with a dead-letter queue: what its records are called and where their keys are kept. */
export const DEAD_LETTER_DOMAINS: Readonly<
  Partial<Record<IngestionPathName, Pick<Domain<never, unknown>, 'recordName' | 'keyPrefix'>>>
> = {
  sqs: sqsDomain,
  fifo: fifoDomain,
  http: sqsDomain,
};

/** The outputs a store needs that the stack does not have (empty: the store can be re-driven). */
export function missingOutputs(
  path: IngestionPathName,
  store: StoreName,
  outputs: Readonly<Record<string, string>>,
): string[] {
  return requiredOutputs(path, store).filter((name) => !outputs[name]);
}
