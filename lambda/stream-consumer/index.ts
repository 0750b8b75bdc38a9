/**
 * Lambda entry point of the stream path (wiring only): builds the dependencies once per execution environment
 * from the environment `ConsumerFunction` sets, and exports the handler. The logic is in handler.ts.
 */
import {
  createIdempotencyDependencies,
  createLogger,
  readIdempotencyEnvironment,
} from '../shared/powertools';
import { createStreamConsumerHandler, STREAM_IDEMPOTENCY_KEY_PATH } from './handler';

const logger = createLogger();

export const handler = createStreamConsumerHandler({
  logger,
  ...createIdempotencyDependencies({
    ...readIdempotencyEnvironment(),
    eventKeyJmesPath: STREAM_IDEMPOTENCY_KEY_PATH,
  }),
});
