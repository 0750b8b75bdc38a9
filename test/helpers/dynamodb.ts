/**
 * A real DynamoDB API in-process (dynalite, with `TransactWriteItems`), for handler tests: Powertools' persistence
 * layer and the exactly-once commit run unmodified against it, conditional writes and transactions included. One
 * server per test file; a fresh idempotency table and a fresh effect table per test keep tests apart.
 *
 * Two fixtures:
 * - {@link useLocalDynamoDb}: dynalite itself, no faults;
 * - {@link useFaultyDynamoDb}: dynalite behind the fault proxy of the local simulator
 *   (tools/local/runtime/local-dynamodb.ts), where a test injects {@link CallFault}s (a call that fails, is
 *   throttled or hangs, before or after the table applied it) per execution environment.
 */
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { BoundedRetryStrategy, type DynamoDbCallBudget } from '../../lambda/shared/deadlines';
import { EFFECT_KEY_ATTRIBUTE } from '../../lambda/shared/exactly-once';
import { createDynamoDbClient } from '../../lambda/shared/powertools';
import {
  type LocalDynamoDb as FaultyLocalDynamoDb,
  startLocalDynamoDb as startFaultyLocalDynamoDb,
} from '../../tools/local/runtime/local-dynamodb';
import { type CallFault, CallFaultInjector, type DynamoDbRequest } from '../../tools/shared/dynamodb-faults';
import {
  createEffectTable,
  createIdempotencyTable,
  localDynamoDbClient,
  scanItems,
  startDynalite,
} from '../../tools/shared/local-dynamodb';

export interface LocalDynamoDb {
  /** A client pointed at the in-process server, with dummy credentials. */
  readonly client: DynamoDBClient;
  readonly endpoint: string;
  /** Creates an idempotency table shaped like `IdempotencyTable` (key `id`) and returns its name. */
  createIdempotencyTable(name?: string): Promise<string>;
  /** Creates an effect table shaped like `EffectTable` (key `pk`) and returns its name. */
  createEffectTable(name?: string): Promise<string>;
  /** All items of a table (for asserting what was recorded), each attribute unwrapped (numbers stay text). */
  scan(tableName: string): Promise<Record<string, unknown>[]>;
  stop(): Promise<void>;
}

let tableCounter = 0;
const freshName = (kind: string) => `${kind}-${process.pid}-${++tableCounter}`;

export async function startLocalDynamoDb(): Promise<LocalDynamoDb> {
  const dynalite = await startDynalite();
  const client = localDynamoDbClient(dynalite.endpoint);
  return {
    client,
    endpoint: dynalite.endpoint,
    async createIdempotencyTable(name = freshName('idempotency')) {
      await createIdempotencyTable(client, name);
      return name;
    },
    async createEffectTable(name = freshName('effects')) {
      await createEffectTable(client, name);
      return name;
    },
    scan: (tableName) => scanItems(client, tableName),
    async stop() {
      client.destroy();
      await dynalite.stop();
    },
  };
}

/** A client for a DynamoDB that is not there: nothing listens on the port, and it gives up after one try. */
export function unreachableDynamoDbClient(): DynamoDBClient {
  return localDynamoDbClient('http://127.0.0.1:9', { maxAttempts: 1 });
}

/** One item of the effect table: its key (`pk`) and its counters, as numbers. */
export type EffectItem = Record<string, number>;

/**
 * Every item of an effect table, by `pk`, with its counters as numbers (`{ 'customer#c-1#EUR': { orderCount: 1,
 * ... } }`): the durable data a test asserts on.
 */
export async function readEffects(
  client: DynamoDBClient,
  tableName: string,
): Promise<Record<string, EffectItem>> {
  const { Items = [] } = await client.send(new ScanCommand({ TableName: tableName, ConsistentRead: true }));
  return Object.fromEntries(
    Items.map((item) => {
      const { [EFFECT_KEY_ATTRIBUTE]: key, ...counters } = unmarshall(item);
      return [String(key), counters as EffectItem];
    }),
  );
}

/** Every item of a table, unmarshalled (numbers as numbers, maps as objects): e.g. idempotency records. */
export async function readItems(
  client: DynamoDBClient,
  tableName: string,
): Promise<Record<string, unknown>[]> {
  const { Items = [] } = await client.send(new ScanCommand({ TableName: tableName, ConsistentRead: true }));
  return Items.map((item) => unmarshall(item));
}

/**
 * Selects the requests whose body contains `text`: with an effect item's key (`customer#c-2#EUR`), the commit of
 * the records that write it, whatever order a batch's records run in.
 */
export function mentioning(text: string): (request: DynamoDbRequest) => boolean {
  return (request) => JSON.stringify(request.body).includes(text);
}

/** What both fixtures give a test; read the fields inside tests (they are set by the hooks). */
export interface DynamoDbTables {
  /** A fresh idempotency table for the current test. */
  readonly tableName: string;
  /** A fresh effect table for the current test (`EFFECT_TABLE_NAME`). */
  readonly effectTableName: string;
  /** The current test's effect items by `pk`, counters as numbers. */
  effects(): Promise<Record<string, EffectItem>>;
  /** The current test's idempotency records, unmarshalled (`data` is the stored response). */
  idempotencyRecords(): Promise<Record<string, unknown>[]>;
}

/** What {@link useLocalDynamoDb} gives a test file. */
export interface LocalDynamoDbFixture extends DynamoDbTables {
  /** The test file's server. */
  readonly dynamo: LocalDynamoDb;
}

/**
 * Registers the Jest hooks: one dynalite server for the test file, a fresh idempotency table and a fresh effect
 * table per test.
 */
export function useLocalDynamoDb(): LocalDynamoDbFixture {
  let dynamo: LocalDynamoDb | undefined;
  let tableName: string | undefined;
  let effectTableName: string | undefined;
  beforeAll(async () => {
    dynamo = await startLocalDynamoDb();
  });
  afterAll(async () => {
    await dynamo?.stop();
  });
  beforeEach(async () => {
    [tableName, effectTableName] = await Promise.all([
      dynamo!.createIdempotencyTable(),
      dynamo!.createEffectTable(),
    ]);
  });
  return {
    get dynamo() {
      return dynamo!;
    },
    get tableName() {
      return tableName!;
    },
    get effectTableName() {
      return effectTableName!;
    },
    effects: () => readEffects(dynamo!.client, effectTableName!),
    idempotencyRecords: () => readItems(dynamo!.client, tableName!),
  };
}

/** What {@link useFaultyDynamoDb} gives a test file. */
export interface FaultyDynamoDbFixture extends DynamoDbTables {
  /** The test file's server: dynalite behind the fault proxy. */
  readonly dynamo: FaultyLocalDynamoDb;
  /**
   * Decides the proxy's requests by these faults from now on (until the test ends). Call
   * `injector.beginInvocation(environment)` before each invocation: faults count calls per invocation of an
   * environment, and an environment whose invocation has not begun gets none. With `only`, the injector sees (and
   * counts) only the requests it selects, e.g. {@link mentioning} one record's effect item: the other requests
   * are forwarded untouched.
   */
  inject(faults: readonly CallFault[], only?: (request: DynamoDbRequest) => boolean): CallFaultInjector;
  /**
   * A client of one execution environment: its requests go through the proxy, tagged with `environment`. Its
   * request handler and attempts are the ones `createDynamoDbClient(budget)` gives the function in Lambda (so a
   * test sees what a hung or throttled call costs there). Destroyed when the test ends.
   */
  clientFor(environment: string, budget: DynamoDbCallBudget): DynamoDBClient;
}

/**
 * Registers the Jest hooks: one dynalite server behind the fault proxy for the test file, fresh tables per test,
 * and no faults at the start of each test.
 */
export function useFaultyDynamoDb(): FaultyDynamoDbFixture {
  let dynamo: FaultyLocalDynamoDb | undefined;
  let tableName: string | undefined;
  let effectTableName: string | undefined;
  const clients: DynamoDBClient[] = [];
  beforeAll(async () => {
    dynamo = await startFaultyLocalDynamoDb();
  });
  afterAll(async () => {
    await dynamo?.stop();
  });
  beforeEach(async () => {
    tableName = freshName('idempotency');
    effectTableName = freshName('effects');
    await Promise.all([
      dynamo!.createIdempotencyTable(tableName),
      dynamo!.createEffectTable(effectTableName),
    ]);
  });
  afterEach(() => {
    dynamo!.setInterceptor(undefined);
    for (const client of clients.splice(0)) client.destroy();
  });
  return {
    get dynamo() {
      return dynamo!;
    },
    get tableName() {
      return tableName!;
    },
    get effectTableName() {
      return effectTableName!;
    },
    effects: () => readEffects(dynamo!.client, effectTableName!),
    idempotencyRecords: () => readItems(dynamo!.client, tableName!),
    inject(faults, only) {
      const injector = new CallFaultInjector(faults);
      dynamo!.setInterceptor(
        only ? (request) => (only(request) ? injector.intercept(request) : undefined) : injector.intercept,
      );
      return injector;
    },
    clientFor(environment, budget) {
      // The function's own client settings: its request handler (timeouts), attempts and retry strategy, as
      // createDynamoDbClient builds them, pointed at the proxy with the dummy credentials.
      const functionClient = createDynamoDbClient(budget);
      const client = localDynamoDbClient(dynamo!.endpointFor(environment), {
        maxAttempts: functionClient.config.maxAttempts,
        requestHandler: functionClient.config.requestHandler,
        retryStrategy: new BoundedRetryStrategy(budget.maxAttempts),
      });
      clients.push(client);
      return client;
    },
  };
}
