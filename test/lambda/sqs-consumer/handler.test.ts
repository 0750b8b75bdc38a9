/**
 * The SQS consumer's handler against a real DynamoDB API (dynalite, in-process, with transactions): Powertools'
 * BatchProcessor and idempotency and the exactly-once commit run unmodified. The plan is the template's own
 * (`planOrder`) wrapped in a jest mock, so a test can count or hold plans; what an order did is asserted on the
 * durable data, the customers' totals in the effect table, and on the "side effect done" log lines.
 *
 * DynamoDB sits behind the local simulator's fault proxy (test/helpers/dynamodb.ts): tests that need a failing,
 * throttled or hung call inject it there, for the handler's execution environment, and the handler's client gets
 * the request timeout and attempts of a budget, as `createDynamoDbClient` sets them in Lambda.
 */
import { FullBatchFailureError } from '@aws-lambda-powertools/batch';
import { IdempotencyPersistenceLayerError } from '@aws-lambda-powertools/idempotency';
import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { DeadlineError, type DynamoDbCallBudget, worstCaseRecordMs } from '../../../lambda/shared/deadlines';
import { payloadHashOf, type Plan } from '../../../lambda/shared/exactly-once';
import { createIdempotencyDependencies } from '../../../lambda/shared/powertools';
import { SIDE_EFFECT_LOG_MESSAGE } from '../../../lambda/shared/side-effect';
import { createSqsConsumerHandler, type SqsConsumerHandler } from '../../../lambda/sqs-consumer/handler';
import type { MessageOf, ResponseOf } from '../../../lambda/shared/domain';
import { domain, examples } from '../../../lambda/sqs-consumer/domain';
import type { CallFault, CallFaultInjector, DynamoDbRequest } from '../../../tools/shared/dynamodb-faults';
import { mentioning, unreachableDynamoDbClient, useFaultyDynamoDb } from '../../helpers/dynamodb';
import { restoreEnvironmentAfterEach } from '../../helpers/environment';
import { effectsOf, invalidJsonBody, schemaIssuesOf } from '../../helpers/domain';
import { captureLogs } from '../shared/log-capture';
import { lambdaContext, lambdaContextWithRemaining, redelivered, sqsEvent, sqsRecord } from './events';

type Message = MessageOf<typeof domain>;
type Response = ResponseOf<typeof domain>;

const db = useFaultyDynamoDb();

type PlanOrder = (order: Message) => Plan<Response> | Promise<Plan<Response>>;
type LogCall = [string, Record<string, unknown>];

interface Harness {
  readonly handler: SqsConsumerHandler;
  readonly logger: Logger;
  /** The plan as the handler sees it (counts calls). */
  readonly plans: jest.Mock<ReturnType<PlanOrder>, Parameters<PlanOrder>>;
  /** One invocation (an invocation of the harness's execution environment, for the fault injector). */
  invoke(event: SQSEvent, context?: Context): Promise<SQSBatchResponse>;
  /** recordKey of every "side effect done" line, in order. */
  sideEffects(): string[];
  infos(): LogCall[];
  warnings(): LogCall[];
  errors(): LogCall[];
}

/** A budget whose calls fail fast: 2 attempts each (a hang costs 2 × 200 ms). */
// Request timeouts far above a local call's time even on a loaded machine (a healthy call that took longer than its
// timeout would fail a record the test expects applied), and short enough that a hang costs about a second.
const SMALL_BUDGET: DynamoDbCallBudget = { requestTimeoutMs: 500, maxAttempts: 2 };

/**
 * A handler as `index.ts` builds it, but with the test's DynamoDB client and a logger whose calls are recorded
 * (silent unless `printLogs`). `around` wraps the real plan (to fail or hold it on purpose). With `faults`, the
 * handler runs in its own execution environment behind the fault proxy, with `budget`'s client.
 */
function harness(
  options: {
    client?: DynamoDBClient;
    around?: (order: Message, real: PlanOrder) => ReturnType<PlanOrder>;
    budget?: DynamoDbCallBudget;
    /**
     * Waits between tries inside one invocation after a transient DynamoDB failure. Default: none, so a test sees
     * what one try does (what Lambda re-delivers); the in-invocation retry has tests of its own.
     */
    dependencyRetryDelaysMs?: readonly number[];
    faults?: { readonly injector: CallFaultInjector; readonly environment: string };
    printLogs?: boolean;
    /** Called with the message of every INFO line (to pace a test by what the handler logs). */
    onInfo?: (message: string) => void;
  } = {},
): Harness {
  const logger = new Logger({
    serviceName: 'sqs-consumer-test',
    logLevel: options.printLogs ? 'INFO' : 'SILENT',
  });
  const realInfo = logger.info.bind(logger) as (...args: unknown[]) => void;
  const spies = {
    info: jest.spyOn(logger, 'info').mockImplementation((...args: unknown[]) => {
      options.onInfo?.(args[0] as string);
      realInfo(...args);
    }),
    warn: jest.spyOn(logger, 'warn'),
    error: jest.spyOn(logger, 'error'),
  };
  const plans = jest.fn((o: Message) => (options.around ? options.around(o, domain.plan) : domain.plan(o)));
  const handler = createSqsConsumerHandler({
    ...createIdempotencyDependencies({
      tableName: db.tableName,
      effectTableName: db.effectTableName,
      expiresAfterSeconds: 3600,
      client: options.client ?? db.dynamo.client,
      ...(options.budget && { budget: options.budget }),
    }),
    dependencyRetryDelaysMs: options.dependencyRetryDelaysMs ?? [],
    logger,
    plan: plans,
  });
  const calls = (spy: jest.SpyInstance) => spy.mock.calls as LogCall[];
  return {
    handler,
    logger,
    plans,
    invoke(event, context = lambdaContext()) {
      options.faults?.injector.beginInvocation(options.faults.environment);
      return handler(event, context);
    },
    sideEffects: () =>
      calls(spies.info)
        .filter(([message]) => message === SIDE_EFFECT_LOG_MESSAGE)
        .map(([, extra]) => extra.recordKey as string),
    infos: () => calls(spies.info),
    warnings: () => calls(spies.warn),
    errors: () => calls(spies.error),
  };
}

/** A harness in an execution environment of its own, whose DynamoDB calls meet `faults` (on selected requests). */
function faultyHarness(
  faults: readonly CallFault[],
  only: (request: DynamoDbRequest) => boolean,
  budget: DynamoDbCallBudget,
  options: { printLogs?: boolean; dependencyRetryDelaysMs?: readonly number[] } = {},
): Harness & { readonly injector: CallFaultInjector } {
  const environment = 'sqs-env-1';
  const injector = db.inject(faults, only);
  const h = harness({
    client: db.clientFor(environment, budget),
    budget,
    faults: { injector, environment },
    ...options,
  });
  return { ...h, injector };
}

const failedIds = (response: SQSBatchResponse): string[] =>
  response.batchItemFailures.map((failure) => failure.itemIdentifier).sort();

/**
 * The records come from the path's domain module (domain.ts: its examples, key and plan), so these tests hold for
 * any domain a fork puts there. Group `g` is one effect item (a customer's totals in the sample); every example is
 * variant 0, so one record of a group adds the same to it.
 */
const built = new Map<string, Message>();
const orderOf = (id: string, group: number): Message => {
  const message = examples.valid(id, { group });
  built.set(id, message);
  return message;
};
/**
 * The idempotency key (and the side-effect line's recordKey) of example `id`, as built by `orderOf` (a key may
 * depend on the group too).
 */
const keyOf = (id: string): string => domain.idempotencyKey(built.get(id) ?? examples.valid(id));
const isRecord = (message: Message, id: string): boolean => domain.idempotencyKey(message) === keyOf(id);
/** The effect table item of group `group`. */
const totalsOf = (group: number): string => domain.plan(orderOf(`any-${group}`, group)).effect[0].key;
/** The effect table after one record of each group listed (a group listed twice: two records). */
const appliedOnce = (...groups: number[]) =>
  effectsOf(
    domain.plan,
    groups.map((group, i) => orderOf(`applied-${i}`, group)),
  );

describe('SQS consumer handler', () => {
  it('processes a valid batch: no item failures, one side effect, one COMPLETED record and the totals per order', async () => {
    const h = harness();
    const response = await h.invoke(
      sqsEvent(sqsRecord(orderOf('o-1', 1)), sqsRecord(orderOf('o-2', 2)), sqsRecord(orderOf('o-3', 3))),
    );
    expect(response).toEqual({ batchItemFailures: [] });
    expect(h.sideEffects().sort()).toEqual([keyOf('o-1'), keyOf('o-2'), keyOf('o-3')].sort());
    const records = await db.idempotencyRecords();
    expect(records).toHaveLength(3);
    for (const record of records) {
      expect(record.status).toBe('COMPLETED');
      expect(record.id).toMatch(new RegExp(`^${domain.keyPrefix}#`));
    }
    expect(await db.effects()).toEqual(appliedOnce(1, 2, 3));
    // The side-effect line names what was committed.
    expect(h.infos()).toContainEqual([
      SIDE_EFFECT_LOG_MESSAGE,
      expect.objectContaining({
        path: 'sqs',
        recordKey: keyOf('o-1'),
        effect: domain.plan(orderOf('o-1', 1)).effect,
      }),
    ]);
  });

  it('adds every record of one group to the same effect item', async () => {
    const h = harness();
    await h.invoke(sqsEvent(sqsRecord(orderOf('o-1', 1)), sqsRecord(orderOf('o-2', 1))));
    expect(await db.effects()).toEqual(appliedOnce(1, 1));
    expect(Object.keys(appliedOnce(1, 1))).toEqual([totalsOf(1)]);
  });

  it('returns exactly the failed messageIds in a partial failure', async () => {
    const h = harness();
    const good1 = sqsRecord(orderOf('o-1', 1));
    const notJson = sqsRecord('this is not json');
    const good2 = sqsRecord(orderOf('o-2', 2));
    const wrongSchema = sqsRecord(invalidJsonBody(examples, 'o-3'));
    const response = await h.invoke(sqsEvent(good1, notJson, good2, wrongSchema));
    expect(failedIds(response)).toEqual([notJson.messageId, wrongSchema.messageId].sort());
    expect(h.sideEffects().sort()).toEqual([keyOf('o-1'), keyOf('o-2')].sort());
    expect(await db.effects()).toEqual(appliedOnce(1, 2));
  });

  it('logs one structured ERROR line with messageId and issues for a body that is not JSON', async () => {
    const h = harness();
    const notJson = sqsRecord('{"truncated": ', { receiveCount: 3 });
    const response = await h.invoke(sqsEvent(notJson, sqsRecord(orderOf('o-1', 1))));
    expect(failedIds(response)).toEqual([notJson.messageId]);
    expect(h.errors()).toEqual([
      [
        'invalid payload',
        {
          messageId: notJson.messageId,
          approximateReceiveCount: 3,
          reason: expect.stringMatching(/^payload is not JSON/),
          issues: [],
        },
      ],
    ]);
    expect(h.warnings()).toEqual([]);
  });

  it('logs one ERROR line naming every schema issue, and never plans an invalid record', async () => {
    const h = harness();
    const body = invalidJsonBody(examples, 'o-9');
    const wrong = sqsRecord(body);
    const response = await h.invoke(sqsEvent(wrong, sqsRecord(orderOf('o-1', 1))));
    expect(failedIds(response)).toEqual([wrong.messageId]);
    expect(h.errors()).toHaveLength(1);
    const [message, extra] = h.errors()[0];
    expect(message).toBe('invalid payload');
    expect(extra.messageId).toBe(wrong.messageId);
    // Every issue the schema finds, as `path: message` (the domain's own tests check which issues they are).
    expect(extra.issues).toEqual(schemaIssuesOf(domain.schema, body));
    expect((extra.issues as string[]).length).toBeGreaterThan(0);
    expect(h.plans.mock.calls.map(([o]) => domain.idempotencyKey(o))).toEqual([keyOf('o-1')]);
  });

  it('applies each order once when the same batch is delivered twice', async () => {
    const h = harness();
    const batch = [sqsRecord(orderOf('o-1', 1)), sqsRecord(orderOf('o-2', 2))];
    const first = await h.invoke(sqsEvent(...batch));
    const second = await h.invoke(sqsEvent(...batch.map((record) => redelivered(record))));
    expect(first).toEqual({ batchItemFailures: [] });
    expect(second).toEqual({ batchItemFailures: [] });
    expect(h.sideEffects().sort()).toEqual([keyOf('o-1'), keyOf('o-2')].sort());
    expect(h.plans).toHaveBeenCalledTimes(2);
    expect(await db.effects()).toEqual(appliedOnce(1, 2));
  });

  it('applies an order once when the same message arrives in two different batches', async () => {
    const h = harness();
    const shared = sqsRecord(orderOf('o-shared', 10));
    await h.invoke(sqsEvent(sqsRecord(orderOf('o-1', 1)), shared));
    const later = await h.invoke(sqsEvent(redelivered(shared), sqsRecord(orderOf('o-2', 2))));
    expect(later).toEqual({ batchItemFailures: [] });
    expect(h.sideEffects().filter((key) => key === keyOf('o-shared'))).toHaveLength(1);
    expect(h.sideEffects().sort()).toEqual([keyOf('o-1'), keyOf('o-2'), keyOf('o-shared')].sort());
    expect(await db.effects()).toEqual(appliedOnce(1, 2, 10));
  });

  it('applies an order once when a producer sends it twice (new messageId, same orderId)', async () => {
    const h = harness();
    await h.invoke(sqsEvent(sqsRecord(orderOf('o-1', 1))));
    const resent = await h.invoke(sqsEvent(sqsRecord(orderOf('o-1', 1))));
    expect(resent).toEqual({ batchItemFailures: [] });
    expect(h.sideEffects()).toEqual([keyOf('o-1')].sort());
    expect(await db.effects()).toEqual(appliedOnce(1));
  });

  it('runs an order once when two invocations deliver it concurrently; the loser is an item failure', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let sharedCalls = 0;
    const h = harness({
      around: async (o, real) => {
        if (isRecord(o, 'o-shared')) {
          // The winner holds the order in progress until the loser has answered; a second entry would be
          // the bug under test, so it opens the gate rather than deadlock.
          if (++sharedCalls > 1) release();
          await gate;
        }
        return real(o);
      },
    });
    const shared = sqsRecord(orderOf('o-shared', 10));
    const inProgressDuringRace = jest.fn(async () => db.idempotencyRecords());
    const invocations = [
      h.invoke(sqsEvent(shared, sqsRecord(orderOf('o-a', 11)))),
      h.invoke(sqsEvent(redelivered(shared), sqsRecord(orderOf('o-b', 12)))),
    ].map((invocation) =>
      invocation.then(async (response) => {
        if (response.batchItemFailures.length > 0) await inProgressDuringRace();
        release();
        return response;
      }),
    );
    const responses = await Promise.all(invocations);

    expect(h.sideEffects().sort()).toEqual([keyOf('o-a'), keyOf('o-b'), keyOf('o-shared')].sort());
    const failures = responses.map(failedIds);
    expect(failures.filter((ids) => ids.length === 0)).toHaveLength(1);
    expect(failures.flat()).toEqual([shared.messageId]);
    expect(sharedCalls).toBe(1);

    // While the loser answered, the winner's record was IN_PROGRESS, bounded by the invocation's remaining time.
    expect(inProgressDuringRace).toHaveBeenCalledTimes(1);
    const duringRace = await inProgressDuringRace.mock.results[0].value;
    const inProgress = duringRace.filter((record: Record<string, unknown>) => record.status === 'INPROGRESS');
    expect(inProgress).toHaveLength(1);
    expect(Number(inProgress[0].in_progress_expiration)).toBeGreaterThan(Date.now());
    expect(Number(inProgress[0].in_progress_expiration)).toBeLessThanOrEqual(Date.now() + 30_000);

    // The loser's retry, after the visibility timeout, finds the order done and succeeds without running it.
    const retry = await h.invoke(sqsEvent(redelivered(shared, 3), sqsRecord(orderOf('o-c', 13))));
    expect(retry).toEqual({ batchItemFailures: [] });
    expect(h.sideEffects().filter((key) => key === keyOf('o-shared'))).toHaveLength(1);
    expect((await db.effects())[totalsOf(10)]).toEqual(appliedOnce(10)[totalsOf(10)]);
  });

  it('runs an order once when it appears twice in one batch; the loser is logged at INFO and retried', async () => {
    // Two messages with the same order in one batch run in parallel: the one that claims the order first holds
    // it in progress (its plan waits) until the other has found the claim and failed.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let dupCalls = 0;
    const inProgressLine = /already in progress/;
    const h = harness({
      around: async (o, real) => {
        if (isRecord(o, 'o-dup')) {
          if (++dupCalls > 1) release(); // a second plan is the bug under test: do not deadlock on it
          await gate;
        }
        return real(o);
      },
      onInfo: (message) => {
        if (inProgressLine.test(message)) release();
      },
    });
    const a = sqsRecord(orderOf('o-dup', 14));
    const b = sqsRecord(orderOf('o-dup', 14));
    const response = await h.invoke(sqsEvent(a, b, sqsRecord(orderOf('o-1', 1))));

    expect(dupCalls).toBe(1);
    const failed = failedIds(response);
    expect(failed).toHaveLength(1);
    expect([a.messageId, b.messageId]).toContain(failed[0]);
    expect(h.infos()).toContainEqual([
      expect.stringMatching(inProgressLine),
      expect.objectContaining({ messageId: failed[0] }),
    ]);
    expect(h.errors()).toEqual([]);
    // What failed is retried later and completes without a second effect.
    const retried = [a, b]
      .filter((record) => failed.includes(record.messageId))
      .map((record) => redelivered(record));
    expect(await h.invoke(sqsEvent(...retried, sqsRecord(orderOf('o-2', 2))))).toEqual({
      batchItemFailures: [],
    });
    expect(dupCalls).toBe(1);
    expect(await db.effects()).toEqual(appliedOnce(14, 1, 2));
  });

  it('answers an empty batch with no item failures and does nothing (Powertools returns the default response)', async () => {
    const h = harness();
    await expect(h.invoke(sqsEvent())).resolves.toEqual({ batchItemFailures: [] });
    expect(h.plans).not.toHaveBeenCalled();
    expect(await db.effects()).toEqual({});
  });

  it('throws FullBatchFailureError when every record fails, so the whole batch is retried', async () => {
    const h = harness();
    const invocation = h.invoke(sqsEvent(sqsRecord('nope'), sqsRecord(invalidJsonBody(examples, 'o-1'))));
    await expect(invocation).rejects.toBeInstanceOf(FullBatchFailureError);
    await invocation.catch((error: FullBatchFailureError) => expect(error.recordErrors).toHaveLength(2));
    expect(h.plans).not.toHaveBeenCalled();
  });

  it('fails every record and never plans while DynamoDB is unreachable; nothing is marked done or applied', async () => {
    const down = harness({ client: unreachableDynamoDbClient() });
    const batch = [sqsRecord(orderOf('o-1', 1)), sqsRecord(orderOf('o-2', 2))];
    const invocation = down.invoke(sqsEvent(...batch));
    await expect(invocation).rejects.toBeInstanceOf(FullBatchFailureError);
    await invocation.catch((error: FullBatchFailureError) => {
      expect(error.recordErrors).toHaveLength(2);
      for (const recordError of error.recordErrors) {
        expect(recordError).toBeInstanceOf(IdempotencyPersistenceLayerError);
      }
    });
    expect(down.plans).not.toHaveBeenCalled();
    expect(down.sideEffects()).toEqual([]);
    expect(await db.idempotencyRecords()).toEqual([]);
    expect(await db.effects()).toEqual({});

    // Once DynamoDB is back, the retried batch applies each order once.
    const up = harness();
    const retry = await up.invoke(sqsEvent(...batch.map((record) => redelivered(record))));
    expect(retry).toEqual({ batchItemFailures: [] });
    expect(up.sideEffects().sort()).toEqual([keyOf('o-1'), keyOf('o-2')].sort());
    expect(await db.effects()).toEqual(appliedOnce(1, 2));
  });

  it('reports a failing plan as an item failure, releases its claim, and a later retry applies it once', async () => {
    let failuresLeft = 1;
    const h = harness({
      around: async (o, real) => {
        if (isRecord(o, 'o-flaky') && failuresLeft-- > 0) throw new Error('downstream unavailable');
        return real(o);
      },
    });
    const flaky = sqsRecord(orderOf('o-flaky', 15));
    const first = await h.invoke(sqsEvent(sqsRecord(orderOf('o-1', 1)), flaky));
    expect(failedIds(first)).toEqual([flaky.messageId]);
    expect(h.errors()).toEqual([
      [
        'record failed; retried later',
        {
          messageId: flaky.messageId,
          approximateReceiveCount: 1,
          recordKey: keyOf('o-flaky'),
          error: { name: 'Error', message: 'downstream unavailable' },
        },
      ],
    ]);
    // Only o-1 is recorded: the claim of the failed order was released, and nothing of it was applied.
    expect(await db.idempotencyRecords()).toHaveLength(1);
    expect(await db.effects()).toEqual(appliedOnce(1));

    const retry = await h.invoke(sqsEvent(redelivered(flaky)));
    expect(retry).toEqual({ batchItemFailures: [] });
    expect(h.plans.mock.calls.filter(([o]) => isRecord(o, 'o-flaky'))).toHaveLength(2);
    expect(h.sideEffects().sort()).toEqual([keyOf('o-1'), keyOf('o-flaky')].sort());
    expect(await db.effects()).toEqual(appliedOnce(1, 15));
  });
});

describe('a transient DynamoDB failure, tried again inside the invocation (F10)', () => {
  const onlyO2 = mentioning(totalsOf(2));
  const batch = () => [sqsRecord(orderOf('o-1', 1)), sqsRecord(orderOf('o-2', 2))];

  it.each(['throttle', 'error', 'hang'] as const)(
    'a commit failing (%s) on every attempt is tried again after a wait, and applied once in the same invocation',
    async (kind) => {
      const h = faultyHarness([{ operation: 'TransactWriteItems', call: 1, kind }], onlyO2, SMALL_BUDGET, {
        dependencyRetryDelaysMs: [10],
      });
      const [o1, o2] = batch();
      expect(await h.invoke(sqsEvent(o1, o2))).toEqual({ batchItemFailures: [] });
      expect(await db.effects()).toEqual(appliedOnce(1, 2));
      expect(h.sideEffects().sort()).toEqual([keyOf('o-1'), keyOf('o-2')].sort());
      // One WARN line for the wait, naming the record and the cause.
      expect(h.warnings()).toEqual([
        [
          'DynamoDB unavailable for now; trying the record again in this invocation',
          expect.objectContaining({ messageId: o2.messageId, retry: 1, waitMs: 10 }),
        ],
      ]);
    },
  );

  it('does not try again what cannot pass: the same orderId with other content fails at once', async () => {
    const h = faultyHarness([], () => false, SMALL_BUDGET, { dependencyRetryDelaysMs: [10] });
    await h.invoke(sqsEvent(sqsRecord(orderOf('o-1', 1))));
    const changed = sqsRecord(examples.withOtherContent(orderOf('o-1', 1)));
    const response = await h.invoke(sqsEvent(changed, sqsRecord(orderOf('o-3', 3))));
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: changed.messageId }] });
    expect(h.warnings()).toEqual([]);
    expect(h.errors().map(([message]) => message)).toEqual([
      'same idempotency key, different content: not applied; needs a person',
    ]);
  });
});

describe('an event from another source', () => {
  it('a Kinesis event fails whole, with one ERROR line saying what arrived (not "undefined is not valid JSON")', async () => {
    const h = harness();
    const kinesisEvent = {
      Records: [
        { eventSource: 'aws:kinesis', eventID: 'shardId-0:1', kinesis: { partitionKey: 'k', data: 'e30=' } },
      ],
    };
    const error = await h.invoke(kinesisEvent as never).catch((caught: unknown) => caught);
    expect((error as Error).name).toBe('WrongEventError');
    expect(h.errors()).toEqual([
      [
        "not an event of this function's source: the whole invocation fails",
        { reason: 'not an aws:sqs event: record 0 has eventSource "aws:kinesis" and no messageId, body' },
      ],
    ]);
    expect(h.plans).not.toHaveBeenCalled();
  });
});

describe('a commit that does not go through (F1)', () => {
  // The commit of o-2 (the transaction that writes customer c-2's totals) meets the fault; o-1's does not.
  const onlyO2 = mentioning(totalsOf(2));
  const batch = () => [sqsRecord(orderOf('o-1', 1)), sqsRecord(orderOf('o-2', 2))];

  // A throttled call is retried after up to a second (the SDK's throttling backoff), so the throttle case makes
  // one attempt; the error case shows the SDK's retry refused too.
  it.each([
    ['throttle', 1],
    ['error', 2],
  ] as const)(
    'TransactWriteItems failing (%s) on every attempt (%d): an item failure, nothing applied, the claim released; the re-delivery applies it once',
    async (kind, maxAttempts) => {
      const budget: DynamoDbCallBudget = { ...SMALL_BUDGET, maxAttempts };
      const h = faultyHarness([{ operation: 'TransactWriteItems', call: 1, kind }], onlyO2, budget);
      const [o1, o2] = batch();
      const first = await h.invoke(sqsEvent(o1, o2));
      expect(first).toEqual({ batchItemFailures: [{ itemIdentifier: o2.messageId }] });
      // Every attempt of the commit was refused.
      expect(h.injector.hits.map((hit) => `${hit.fault.kind} ${hit.operation} #${hit.attempt}`)).toEqual(
        Array.from({ length: maxAttempts }, (_, i) => `${kind} TransactWriteItems #${i + 1}`),
      );
      expect(await db.effects()).toEqual(appliedOnce(1));
      // No claim is left behind: only o-1's completed record.
      expect((await db.idempotencyRecords()).map((record) => record.status)).toEqual(['COMPLETED']);
      expect(h.sideEffects()).toEqual([keyOf('o-1')].sort());

      // The re-delivery (at once: nothing holds the key) applies o-2, once.
      const again = await h.invoke(sqsEvent(redelivered(o1), redelivered(o2)));
      expect(again).toEqual({ batchItemFailures: [] });
      expect(await db.effects()).toEqual(appliedOnce(1, 2));
      expect(h.sideEffects()).toEqual([keyOf('o-1'), keyOf('o-2')].sort());
    },
  );

  it('a commit applied whose answer is lost (timing after): an item failure; the re-delivery is answered from the store, applied once', async () => {
    const h = faultyHarness(
      [{ operation: 'TransactWriteItems', call: 1, kind: 'error', timing: 'after' }],
      onlyO2,
      SMALL_BUDGET,
    );
    const [o1, o2] = batch();
    const first = await h.invoke(sqsEvent(o1, o2));
    expect(first).toEqual({ batchItemFailures: [{ itemIdentifier: o2.messageId }] });
    expect(h.injector.hits).toHaveLength(2);
    // The table applied the commit (the SDK's retry carried the same ClientRequestToken: applied once).
    expect(await db.effects()).toEqual(appliedOnce(1, 2));
    expect((await db.idempotencyRecords()).map((record) => record.status)).toEqual([
      'COMPLETED',
      'COMPLETED',
    ]);

    const again = await h.invoke(sqsEvent(redelivered(o2)));
    expect(again).toEqual({ batchItemFailures: [] });
    expect(h.infos()).toContainEqual([
      'duplicate: answered from the idempotency record, nothing applied',
      expect.objectContaining({ messageId: o2.messageId, recordKey: keyOf('o-2') }),
    ]);
    expect(h.plans.mock.calls.filter(([o]) => isRecord(o, 'o-2'))).toHaveLength(1);
    expect(await db.effects()).toEqual(appliedOnce(1, 2));
  });

  it('logs a throttled commit with its cause chain: the AWS error code and the request id', async () => {
    const logs = captureLogs();
    // One attempt: the SDK's throttling backoff (up to a second) is not what this test is about.
    const oneAttempt: DynamoDbCallBudget = { ...SMALL_BUDGET, maxAttempts: 1 };
    try {
      const h = faultyHarness(
        [{ operation: 'TransactWriteItems', call: 1, kind: 'throttle' }],
        onlyO2,
        oneAttempt,
        {
          printLogs: true,
        },
      );
      const [o1, o2] = batch();
      expect(await h.invoke(sqsEvent(o1, o2))).toEqual({
        batchItemFailures: [{ itemIdentifier: o2.messageId }],
      });
      expect(logs.atLevel('ERROR')).toEqual([
        expect.objectContaining({
          message: 'record failed; retried later',
          messageId: o2.messageId,
          recordKey: keyOf('o-2'),
          error: {
            name: 'IdempotencyPersistenceLayerError',
            message: 'Failed to update success record to idempotency store',
            cause: expect.objectContaining({
              name: 'ThrottlingException',
              code: 'ThrottlingException',
              httpStatusCode: 400,
              requestId: expect.stringMatching(/\S/),
              attempts: 1,
            }),
          },
        }),
      ]);
    } finally {
      logs.restore();
    }
  });
});

describe('same orderId, different content (F3)', () => {
  it('fails the record with an ERROR line naming the key and both payload hashes; nothing applied, not answered from the store', async () => {
    const h = harness();
    const original = orderOf('o-1', 1);
    const changed = examples.withOtherContent(original);
    expect(await h.invoke(sqsEvent(sqsRecord(original)))).toEqual({ batchItemFailures: [] });

    const conflicting = sqsRecord(changed);
    const response = await h.invoke(sqsEvent(conflicting, sqsRecord(orderOf('o-2', 2))));
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: conflicting.messageId }] });
    expect(h.errors()).toEqual([
      [
        'same idempotency key, different content: not applied; needs a person',
        {
          messageId: conflicting.messageId,
          approximateReceiveCount: 1,
          recordKey: keyOf('o-1'),
          idempotencyKey: keyOf('o-1'),
          storedPayloadHash: payloadHashOf(original),
          payloadHash: payloadHashOf(changed),
        },
      ],
    ]);
    expect(payloadHashOf(original)).not.toBe(payloadHashOf(changed));
    // Not answered from the store, not planned, not applied: group 1 has the original record only.
    expect(h.infos().filter(([, extra]) => extra.messageId === conflicting.messageId)).toEqual([]);
    expect(h.plans.mock.calls.map(([o]) => o)).toEqual([original, orderOf('o-2', 2)]);
    expect(await db.effects()).toEqual(appliedOnce(1, 2));
  });
});

describe('stable idempotency key prefix (F4)', () => {
  restoreEnvironmentAfterEach('AWS_LAMBDA_FUNCTION_NAME');

  it('stores records under the fixed prefix whatever the function is named, so a replaced function still finds them', async () => {
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'SqsIngestionStack-SqsConsumerFunctionA1B2C3-Old';
    const before = harness();
    await before.invoke(sqsEvent(sqsRecord(orderOf('o-1', 1))));
    // CloudFormation replaced the function: a new generated name, the same table.
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'SqsIngestionStack-SqsConsumerFunctionD4E5F6-New';
    const after = harness();
    expect(await after.invoke(sqsEvent(sqsRecord(orderOf('o-1', 1))))).toEqual({ batchItemFailures: [] });

    const ids = (await db.idempotencyRecords()).map((record) => String(record.id));
    expect(ids).toEqual([expect.stringMatching(new RegExp(`^${domain.keyPrefix}#`))]);
    expect(after.plans).not.toHaveBeenCalled();
    expect(await db.effects()).toEqual(appliedOnce(1));
  });
});

describe('deadlines (F7)', () => {
  /** The hang test's budget: 2 attempts of 500 ms per call (one record's worst case: worstCaseRecordMs). */
  const HANG_BUDGET: DynamoDbCallBudget = { requestTimeoutMs: 500, maxAttempts: 2 };

  // The SDK abandons each attempt after `requestTimeoutMs` only because `createDynamoDbClient` sets
  // `throwOnRequestTimeout` (@smithy/node-http-handler 4.x otherwise just logs a warning and waits); without it this
  // invocation would wait for the hung request until its own timeout. The race bounds the wait if that regresses.
  it('a hung commit ends the invocation long before its deadline: a partial response, the other orders done', async () => {
    const h = faultyHarness(
      [{ operation: 'TransactWriteItems', call: 1, kind: 'hang' }],
      mentioning(totalsOf(2)),
      HANG_BUDGET,
    );
    const batch = [sqsRecord(orderOf('o-1', 1)), sqsRecord(orderOf('o-2', 2)), sqsRecord(orderOf('o-3', 3))];
    // 30 s left in the invocation; a hung call is abandoned after its request timeout, attempt by attempt (the
    // hits below: two hangs), so the answer comes long before the deadline. Without the timeouts it never comes:
    // the race only tells the two apart, with room for a loaded machine (10 × one record's worst case).
    const invocation = h.invoke(sqsEvent(...batch), lambdaContext(30_000));
    const worstCaseMs = worstCaseRecordMs(HANG_BUDGET);
    let stillRunning: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      invocation,
      new Promise((resolve) => {
        stillRunning = setTimeout(() => resolve('still running'), 10 * worstCaseMs);
      }),
    ]);
    clearTimeout(stillRunning);

    expect(outcome).toEqual({ batchItemFailures: [{ itemIdentifier: batch[1].messageId }] });
    expect(h.injector.hits.map((hit) => `${hit.fault.kind} #${hit.attempt}`)).toEqual(['hang #1', 'hang #2']);
    expect(await db.effects()).toEqual(appliedOnce(1, 3));
    // The claim of the hung order was released.
    expect((await db.idempotencyRecords()).map((record) => record.status)).toEqual([
      'COMPLETED',
      'COMPLETED',
    ]);
    expect(h.errors()).toEqual([
      [
        'record failed; retried later',
        expect.objectContaining({
          messageId: batch[1].messageId,
          error: expect.objectContaining({ cause: expect.objectContaining({ name: 'TimeoutError' }) }),
        }),
      ],
    ]);
  });

  it('does not start an order with less time left than one record may need: DeadlineError, a WARN line each, nothing written', async () => {
    const h = harness({ budget: SMALL_BUDGET });
    const neededMs = worstCaseRecordMs(SMALL_BUDGET);
    const batch = [sqsRecord(orderOf('o-1', 1)), sqsRecord(orderOf('o-2', 2))];
    const invocation = h.invoke(sqsEvent(...batch), lambdaContextWithRemaining(neededMs - 1));
    await expect(invocation).rejects.toBeInstanceOf(FullBatchFailureError);
    await invocation.catch((error: FullBatchFailureError) => {
      expect(error.recordErrors).toHaveLength(2);
      for (const recordError of error.recordErrors) expect(recordError).toBeInstanceOf(DeadlineError);
    });
    expect(h.warnings()).toEqual(
      batch.map((record, index) => [
        'not started: too little time left in the invocation; retried later',
        {
          messageId: record.messageId,
          approximateReceiveCount: 1,
          recordKey: `o-${index + 1}`,
          remainingMs: neededMs - 1,
          neededMs,
        },
      ]),
    );
    expect(h.plans).not.toHaveBeenCalled();
    expect(await db.idempotencyRecords()).toEqual([]);
    expect(await db.effects()).toEqual({});

    // With the time there, the same batch is applied.
    expect(await h.invoke(sqsEvent(...batch), lambdaContextWithRemaining(neededMs))).toEqual({
      batchItemFailures: [],
    });
    expect(await db.effects()).toEqual(appliedOnce(1, 2));
  });
});
