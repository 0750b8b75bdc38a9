/**
 * Entry point of the SQS FIFO consumer function (the `handler` export). Wiring only: dependencies are built from
 * the environment once per execution environment (cold start) and reused by every invocation. The logic lives in
 * `handler.ts`, the business in `domain.ts`.
 */
import {
  createIdempotencyDependencies,
  createLogger,
  readIdempotencyEnvironment,
} from '../shared/powertools';
import { createFifoConsumerHandler } from './handler';

export const handler = createFifoConsumerHandler({
  ...createIdempotencyDependencies(readIdempotencyEnvironment()),
  logger: createLogger(),
});
