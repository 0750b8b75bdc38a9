/**
 * Entry point of the DynamoDB Streams consumer function (the `handler` export). Wiring only: dependencies are
 * built from the environment once per execution environment (cold start) and reused by every invocation. The logic
 * lives in `handler.ts`, the business in `domain.ts`.
 */
import {
  createIdempotencyDependencies,
  createLogger,
  readIdempotencyEnvironment,
} from '../shared/powertools';
import { createTableStreamConsumerHandler } from './handler';

export const handler = createTableStreamConsumerHandler({
  ...createIdempotencyDependencies(readIdempotencyEnvironment()),
  logger: createLogger(),
});
