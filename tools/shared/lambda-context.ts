/**
 * The Lambda context object as the Node.js runtime passes it to a handler, for everything that invokes the
 * handlers outside AWS: tests, the local simulator and the benchmark. Powertools reads `functionName`,
 * `awsRequestId` and `getRemainingTimeInMillis()` (it bounds an in-progress idempotency record by the latter).
 */
import type { Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';

export interface LambdaContextOptions {
  /** @default 'local-function' */
  readonly functionName?: string;
  /** @default an ARN in us-east-1, account 123456789012, for `functionName` */
  readonly functionArn?: string;
  /** @default 256 */
  readonly memorySizeMb?: number;
  /** @default a random UUID */
  readonly requestId?: string;
  /** The invocation's timeout: `getRemainingTimeInMillis()` counts down from it. @default 30000 */
  readonly timeoutMs?: number;
  /** When the invocation started (epoch ms; the simulator passes its virtual clock). @default Date.now() */
  readonly startEpochMs?: number;
  /** The instance part of the log stream name (`<day>/[$LATEST]<suffix>`). @default '0123456789abcdef' */
  readonly logStreamSuffix?: string;
}

export function createLambdaContext(options: LambdaContextOptions = {}): Context {
  const functionName = options.functionName ?? 'local-function';
  const startEpochMs = options.startEpochMs ?? Date.now();
  const deadline = startEpochMs + (options.timeoutMs ?? 30_000);
  const day = new Date(startEpochMs).toISOString().slice(0, 10).replace(/-/g, '/');
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn:
      options.functionArn ?? `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: String(options.memorySizeMb ?? 256),
    awsRequestId: options.requestId ?? randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `${day}/[$LATEST]${options.logStreamSuffix ?? '0123456789abcdef'}`,
    // Date.now() is the simulator's virtual wall clock while a bundle runs there.
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
