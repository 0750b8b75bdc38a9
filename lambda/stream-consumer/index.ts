/**
 * Lambda entry point of the stream path (wiring only): builds the dependencies once per execution environment
 * from the environment `ConsumerFunction` sets, and exports the handler. The logic is in handler.ts.
 */
import {
  createIdempotencyDependencies,
  createLogger,
  createRecordMetrics,
  flushMetricsAfter,
  readIdempotencyEnvironment,
} from '../shared/powertools';
import { IDEMPOTENCY_SCHEMES } from '../shared/serial-key-persistence';
import { createStreamConsumerHandler } from './handler';

const logger = createLogger();

// The business metrics (applied, duplicates, invalid), written once at the end of every invocation.
const metrics = createRecordMetrics();

export const handler = flushMetricsAfter(
  createStreamConsumerHandler({
    logger,
    // Both schemes are sound here: Lambda never runs two records of one partition key at once.
    ...createIdempotencyDependencies(readIdempotencyEnvironment(process.env, IDEMPOTENCY_SCHEMES)),
    metrics,
  }),
  metrics,
);
