/**
 * Entry point of the object consumer (S3 → SNS → Lambda, asynchronous invocation). Wiring only: the
 * dependencies are built once per execution environment, at cold start; the logic is in `handler.ts` and
 * `object.ts`.
 */
import {
  createIdempotencyDependencies,
  createLogger,
  readIdempotencyEnvironment,
} from '../shared/powertools';
import { createObjectConsumerHandler } from './handler';

export const handler = createObjectConsumerHandler({
  logger: createLogger(),
  ...createIdempotencyDependencies(readIdempotencyEnvironment()),
});
