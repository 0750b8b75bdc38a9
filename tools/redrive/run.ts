/**
 * One redrive of a path's failure stores, given its deployed stack's outputs: which store is re-driven how.
 *
 * | store               | path(s)               | re-driven by                                                           |
 * | ------------------- | --------------------- | ---------------------------------------------------------------------- |
 * | `dead-letter-queue` | sqs, fifo             | a message move task back to the source queue (dead-letter-queue.ts)    |
 * | `on-failure`        | object                | `Invoke` (Event) with each invocation record's `requestPayload`        |
 * | `subscription-dlq`  | object                | `Invoke` (Event) with the SNS event rebuilt from each notification      |
 * | `failure-queue`     | stream, table-stream  | `npm run replay` of each failure record (replay.ts)                    |
 */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { IngestionPathName } from '../../lib/config';
import { redriveDeadLetterQueue } from './dead-letter-queue';
import {
  type ActionResult,
  describeError,
  drainQueue,
  type DrainTarget,
  type RecordAction,
  type Timing,
} from './drain';
import type { Journal } from './journal';
import {
  parseInvocationRecord,
  parseSubscriptionDeadLetter,
  summarizeStreamFailure,
  type Verdict,
} from './records';
import { replayArguments, replayInProcess, replayMessage, type ReplayRunner } from './replay';
import { emptyCounts, type StoreReport } from './report';
import { DEAD_LETTER_DOMAINS, missingOutputs, STORE_LABELS, type StoreName, STORES_OF_PATH } from './stores';

export interface RedriveClients {
  readonly sqs: SQSClient;
  readonly lambda: LambdaClient;
}

export interface DeployedOutputs {
  readonly stackName: string;
  readonly outputs: Readonly<Record<string, string>>;
}

export interface RedriveRequest {
  readonly path: IngestionPathName;
  /** @default every store of the path */
  readonly stores?: readonly StoreName[];
  readonly dryRun?: boolean;
  /** At most this many records per store. */
  readonly max?: number;
  /** Records (or, for a dead-letter queue, messages) re-driven per second, at most. */
  readonly rate?: number;
  readonly print: (line: string) => void;
  readonly journal: Journal;
  /** @default `npm run replay` in this process */
  readonly replay?: ReplayRunner;
  /** Added to every replay's arguments (`--endpoint`, `--region`). */
  readonly replayArgs?: readonly string[];
  readonly timing?: Timing;
}

/** Seconds a record stays hidden while it is re-driven: an invocation is quick, a replay puts records one by one. */
const VISIBILITY_SECONDS: Record<Exclude<StoreName, 'dead-letter-queue'>, number> = {
  'on-failure': 120,
  'subscription-dlq': 120,
  'failure-queue': 900,
};

/** `Invoke` with InvocationType Event: the event joins Lambda's asynchronous queue, with its retries and destination. */
function invokeAsync(lambda: LambdaClient, functionName: string, payload: unknown): RecordAction {
  return async (execute) => {
    if (!execute) return { ok: true, detail: `would re-invoke ${functionName} asynchronously with it` };
    try {
      const response = await lambda.send(
        new InvokeCommand({
          FunctionName: functionName,
          InvocationType: 'Event',
          Payload: Buffer.from(JSON.stringify(payload)),
        }),
      );
      if (response.StatusCode !== 202) {
        return { ok: false, reason: `invocation not accepted: status ${response.StatusCode ?? '?'}` };
      }
      return { ok: true, detail: `re-invoked ${functionName} asynchronously: accepted (202)` };
    } catch (error) {
      return { ok: false, reason: `invocation failed, nothing was re-driven: ${describeError(error)}` };
    }
  };
}

const withAction = <T>(verdict: Verdict<T>, action: (value: T) => RecordAction): Verdict<RecordAction> =>
  verdict.ok ? { ok: true, summary: verdict.summary, value: action(verdict.value) } : verdict;

function drainTarget(
  clients: RedriveClients,
  stack: DeployedOutputs,
  path: IngestionPathName,
  store: Exclude<StoreName, 'dead-letter-queue'>,
  request: RedriveRequest,
): DrainTarget {
  const { outputs } = stack;
  const base = {
    store,
    label: STORE_LABELS[store],
    scope: `${stack.stackName} ${store}`,
    visibilitySeconds: VISIBILITY_SECONDS[store],
  };
  switch (store) {
    case 'on-failure':
      return {
        ...base,
        queueUrl: outputs.OnFailureQueueUrl,
        prepare: (body) =>
          withAction(parseInvocationRecord(body, outputs.ConsumerFunctionName), ({ payload }) =>
            invokeAsync(clients.lambda, outputs.ConsumerFunctionName, payload),
          ),
      };
    case 'subscription-dlq':
      return {
        ...base,
        queueUrl: outputs.SubscriptionDeadLetterQueueUrl,
        prepare: (body) =>
          withAction(parseSubscriptionDeadLetter(body, outputs.ObjectCreatedTopicArn), ({ event }) =>
            invokeAsync(clients.lambda, outputs.ConsumerFunctionName, event),
          ),
      };
    case 'failure-queue': {
      if (path !== 'stream' && path !== 'table-stream') throw new Error(`${path} has no failure queue`);
      const replay = request.replay ?? replayInProcess;
      return {
        ...base,
        queueUrl: outputs.FailureQueueUrl,
        prepare: (body) => ({
          ok: true,
          summary: summarizeStreamFailure(body),
          value: async (execute): Promise<ActionResult> => {
            const result = await replay(replayArguments(path, outputs, execute, request.replayArgs), body);
            return result.status === 0
              ? { ok: true, detail: `npm run replay: ${replayMessage(result)}` }
              : { ok: false, reason: `npm run replay (exit ${result.status}): ${replayMessage(result)}` };
          },
        }),
      };
    }
  }
}

/** The report of a store this run could not work on: counted as left, whatever it holds. */
const notRedriven = (store: StoreName): StoreReport => ({
  store,
  label: STORE_LABELS[store],
  queueUrl: '',
  outcomes: [],
  counts: { ...emptyCounts(), left: 1 },
});

/** Re-drives the stores of `request.path` one after the other; one report per store. */
export async function redrivePath(
  clients: RedriveClients,
  stack: DeployedOutputs,
  request: RedriveRequest,
): Promise<StoreReport[]> {
  const { path, print } = request;
  const stores = request.stores ?? STORES_OF_PATH[path] ?? [];
  const reports: StoreReport[] = [];
  for (const store of stores) {
    const missing = missingOutputs(path, store, stack.outputs);
    if (missing.length > 0) {
      print(
        `${STORE_LABELS[store]}: stack ${stack.stackName} has no output ${missing.join(', ')}` +
          (store === 'on-failure'
            ? ' (its on-failure destination is not a queue): redrive it from where it delivers'
            : ': deployed from another version of the app?'),
      );
      reports.push(notRedriven(store));
      continue;
    }
    const options = {
      dryRun: request.dryRun ?? false,
      max: request.max,
      rate: request.rate,
      print,
      timing: request.timing,
    };
    try {
      reports.push(await redriveStore(clients, stack, store, request, options));
    } catch (error) {
      // An AWS error outside a record (the queue gone, access denied): this store is reported, the next one runs.
      print(`${STORE_LABELS[store]}: ${describeError(error)}: nothing more was done in this store`);
      reports.push(notRedriven(store));
    }
  }
  return reports;
}

async function redriveStore(
  clients: RedriveClients,
  stack: DeployedOutputs,
  store: StoreName,
  request: RedriveRequest,
  options: { dryRun: boolean; max?: number; rate?: number; print: (line: string) => void; timing?: Timing },
): Promise<StoreReport> {
  const { path } = request;
  if (store === 'dead-letter-queue') {
    const domain = DEAD_LETTER_DOMAINS[path];
    return redriveDeadLetterQueue(
      clients.sqs,
      {
        label: STORE_LABELS[store],
        queueUrl: stack.outputs.DeadLetterQueueUrl,
        queueArn: stack.outputs.DeadLetterQueueArn,
        recordName: domain?.recordName ?? 'record',
        keyPrefix: domain?.keyPrefix ?? '<key prefix>',
        fifo: stack.outputs.DeadLetterQueueArn.endsWith('.fifo'),
      },
      options,
    );
  }
  return drainQueue(clients.sqs, drainTarget(clients, stack, path, store, request), {
    ...options,
    journal: request.journal,
  });
}
