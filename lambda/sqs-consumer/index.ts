/**
 * Entry point of the SQS consumer function (the `handler` export). Wiring only (lambda/shared/powertools.ts);
 * the logic lives in `handler.ts`, the business in `domain.ts`.
 */
import { consumerEntryPoint } from '../shared/powertools';
import { createSqsConsumerHandler } from './handler';

export const handler = consumerEntryPoint(createSqsConsumerHandler);
