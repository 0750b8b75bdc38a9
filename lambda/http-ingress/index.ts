/**
 * Entry point of the http path's ingress function (the `handler` export). Wiring only: dependencies are built from
 * the environment once per execution environment (cold start). The logic lives in `handler.ts`; the business is
 * the SQS path's domain (lambda/sqs-consumer/domain.ts).
 */
import {
  createIdempotencyDependencies,
  createLogger,
  readIdempotencyEnvironment,
} from '../shared/powertools';
import { readDynamoDbCallBudget } from '../shared/deadlines';
import { createHttpIngressHandler } from './handler';
import { createEnqueue, createSqsClient } from './queue';

const queueUrl = process.env.QUEUE_URL;
if (!queueUrl) {
  throw new Error('QUEUE_URL is not set: the function has no queue to send accepted orders to.');
}

export const handler = createHttpIngressHandler({
  ...createIdempotencyDependencies(readIdempotencyEnvironment(process.env, ['claim-then-complete'], 'none')),
  logger: createLogger(),
  enqueue: createEnqueue(createSqsClient(readDynamoDbCallBudget()), queueUrl),
});
