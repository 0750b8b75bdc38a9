/**
 * Entry point of the object consumer (S3 → SNS → Lambda, asynchronous invocation). Wiring only: the
 * dependencies are built once per execution environment, at cold start; the logic is in `handler.ts` and
 * `object.ts`.
 */
import {
  createIdempotencyDependencies,
  createLogger,
  createRecordMetrics,
  flushMetricsAfter,
  readIdempotencyEnvironment,
} from '../shared/powertools';
import { createObjectConsumerHandler } from './handler';

// The business metrics (applied, duplicates, invalid), written once at the end of every invocation.
const metrics = createRecordMetrics();

export const handler = flushMetricsAfter(
  createObjectConsumerHandler({
    logger: createLogger(),
    ...createIdempotencyDependencies(readIdempotencyEnvironment()),
    metrics,
  }),
  metrics,
);
