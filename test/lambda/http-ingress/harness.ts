/**
 * The http ingress handler as index.ts builds it, against dynalite (the stack's idempotency table, in-process) and
 * the local SQS (tools/shared/local-sqs.ts) over real sockets: Powertools' idempotency, the exactly-once
 * machinery and the SDK's SQS client run unmodified. Shared by the handler tests and the client's end-to-end
 * tests (test/tools/http-client/).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDbCallBudget } from '../../../lambda/shared/deadlines';
import { createIdempotencyDependencies } from '../../../lambda/shared/powertools';
import { createHttpIngressHandler, type HttpIngressHandler } from '../../../lambda/http-ingress/handler';
import { createEnqueue, type Enqueue } from '../../../lambda/http-ingress/queue';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../tools/shared/local-dynamodb';

/** Calls fail fast in tests: 500 ms per attempt at most, 2 attempts. */
export const TEST_BUDGET: DynamoDbCallBudget = { requestTimeoutMs: 500, maxAttempts: 2 };

/** An SQS client of the local SQS with the function's bounded attempts and timeouts. */
export function localSqsClient(endpoint: string, budget: DynamoDbCallBudget = TEST_BUDGET): SQSClient {
  return new SQSClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: budget.maxAttempts,
    requestHandler: {
      requestTimeout: budget.requestTimeoutMs,
      connectionTimeout: budget.requestTimeoutMs,
      throwOnRequestTimeout: true,
    },
  });
}

export interface IngressHarness {
  readonly handler: HttpIngressHandler;
  /** Every call of a logger level: [message, extra]. */
  readonly logs: { readonly info: unknown[][]; readonly warn: unknown[][]; readonly error: unknown[][] };
}

export function ingressHarness(options: {
  readonly tableName: string;
  readonly client: DynamoDBClient;
  readonly enqueue: Enqueue;
  readonly budget?: DynamoDbCallBudget;
  readonly expiresAfterSeconds?: number;
}): IngressHarness {
  const logger = new Logger({ serviceName: 'http-ingress-test', logLevel: 'SILENT' });
  const spies = {
    info: jest.spyOn(logger, 'info'),
    warn: jest.spyOn(logger, 'warn'),
    error: jest.spyOn(logger, 'error'),
  };
  const logs = {
    get info() {
      return spies.info.mock.calls as unknown[][];
    },
    get warn() {
      return spies.warn.mock.calls as unknown[][];
    },
    get error() {
      return spies.error.mock.calls as unknown[][];
    },
  };
  const handler = createHttpIngressHandler({
    ...createIdempotencyDependencies({
      tableName: options.tableName,
      effectTableName: '',
      expiresAfterSeconds: options.expiresAfterSeconds ?? 86_400,
      client: options.client,
      budget: options.budget ?? TEST_BUDGET,
    }),
    logger,
    enqueue: options.enqueue,
  });
  return { handler, logs };
}

export { createEnqueue };
