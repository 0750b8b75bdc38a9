/**
 * Entry point of the SQS FIFO consumer function (the `handler` export). Wiring only: dependencies are built from
 * the environment once per execution environment (cold start) and reused by every invocation. The logic lives in
 * `handler.ts`, the business in `domain.ts`.
 */
import {
  createIdempotencyDependencies,
  createLogger,
  createRecordMetrics,
  flushMetricsAfter,
  readIdempotencyEnvironment,
} from '../shared/powertools';
import { createFifoConsumerHandler } from './handler';

// The business metrics (applied, duplicates, invalid), written once at the end of every invocation.
const metrics = createRecordMetrics();

export const handler = flushMetricsAfter(
  createFifoConsumerHandler({
    ...createIdempotencyDependencies(readIdempotencyEnvironment()),
    logger: createLogger(),
    metrics,
  }),
  metrics,
);
