/**
 * Entry point of the stream path's consumer (the `handler` export). Wiring only (lambda/shared/powertools.ts);
 * the logic is in `handler.ts`, the business in `domain.ts`.
 */
import { consumerEntryPoint, readIdempotencyEnvironment } from '../shared/powertools';
import { IDEMPOTENCY_SCHEMES } from '../shared/serial-key-persistence';
import { createStreamConsumerHandler } from './handler';

export const handler = consumerEntryPoint(
  createStreamConsumerHandler,
  // Both idempotency schemes are sound here: Lambda never runs two records of one partition key at once.
  readIdempotencyEnvironment(process.env, IDEMPOTENCY_SCHEMES),
);
