/**
 * Entry point of the DynamoDB Streams consumer function (the `handler` export). Wiring only: dependencies are
 * built from the environment once per execution environment (cold start) and reused by every invocation. The logic
 * lives in `handler.ts`, the business in `domain.ts`.
 */
import {
  createIdempotencyDependencies,
  createLogger,
  createRecordMetrics,
  flushMetricsAfter,
  readIdempotencyEnvironment,
} from '../shared/powertools';
import { IDEMPOTENCY_SCHEMES } from '../shared/serial-key-persistence';
import { createTableStreamConsumerHandler } from './handler';

// The business metrics (applied, duplicates, invalid), written once at the end of every invocation.
const metrics = createRecordMetrics();

export const handler = flushMetricsAfter(
  createTableStreamConsumerHandler({
    // Both schemes are sound here: Lambda never runs two records of one item at once.
    ...createIdempotencyDependencies(readIdempotencyEnvironment(process.env, IDEMPOTENCY_SCHEMES)),
    logger: createLogger(),
    metrics,
  }),
  metrics,
);
