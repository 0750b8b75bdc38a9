/**
 * Entry point of the object consumer (S3 → SNS → Lambda, asynchronous invocation). Wiring only
 * (lambda/shared/powertools.ts); the logic is in `handler.ts` and `object.ts`, the business in `domain.ts`.
 */
import { consumerEntryPoint } from '../shared/powertools';
import { createObjectConsumerHandler } from './handler';

export const handler = consumerEntryPoint(createObjectConsumerHandler);
