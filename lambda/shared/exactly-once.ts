/**
 * Exactly-once effects: a record's business effect and the completion of its idempotency record commit in one
 * DynamoDB transaction, on top of Powertools idempotency (`makeIdempotent` with this persistence layer).
 *
 * ## Why claim → action → complete alone is not exactly-once
 * Powertools claims the key (`INPROGRESS`), runs the action, then marks the key `COMPLETED`. If the function
 * crashes, times out, or the completing write fails *after* the action and before the mark, nothing records
 * that the action ran: the claim is released (or expires with the invocation) and the next delivery runs the
 * action again. That window cannot be closed from outside the effect: it is closed only when the effect and the
 * completion are one atomic write.
 *
 * ## What this module does instead
 * The business logic is a *plan*: a function of the record that returns the response and the effect as data
 * (counters to add to items of the effect table). Nothing is written while planning. The completion is one
 * `TransactWriteItems`: the idempotency record set to `COMPLETED`, on the condition that no live completed
 * record exists for the key, together with every effect update. Either all of it commits or none of it does, and
 * the condition lets at most one delivery per key commit while the record lives. So, whatever fails and wherever
 * the function dies:
 * - before the transaction commits: nothing of the effect is written, the record is re-delivered, and a later
 *   delivery commits it (the claim is released at once, or expires with the invocation);
 * - after it commits (the answer lost, a crash before the batch response): the record is re-delivered and
 *   answered from the completed idempotency record; the effect is not written again.
 * Two deliveries of one key that both get past the claim (a claim that timed out, or the `read-then-complete`
 * scheme, which writes none) both try to commit, and the condition refuses the second: it reports success
 * without applying anything (`applied-by-another-delivery`), with the committed delivery's stored response.
 *
 * ## Effects outside DynamoDB
 * An HTTP call or an e-mail cannot join the transaction. Do it in the plan, pass the idempotency key to the
 * receiver (an `Idempotency-Key` header, a message id) so that it can drop a repeat, and know the window you live
 * with: if the function dies after the call and before the commit, or the commit fails, the next delivery makes
 * the call again. That window is one invocation long at most (the commit follows the call at once), and it opens
 * only on a crash, a timeout or a failed commit.
 *
 * ## Same key, different content
 * Each record carries the hash of its content (`payloadHash`), stored with the claim and the completion. A
 * delivery whose key is known but whose content differs is an {@link IdempotencyValidationError}: the caller
 * makes it an item failure and logs both hashes. It is never answered silently from the store.
 */
import {
  IdempotencyConfig,
  IdempotencyItemAlreadyExistsError,
  IdempotencyItemNotFoundError,
  IdempotencyKeyError,
  IdempotencyRecordStatus,
  IdempotencyValidationError,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { IdempotencyRecord } from '@aws-lambda-powertools/idempotency/persistence';
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  type TransactWriteItem,
  type Update,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { createHash } from 'node:crypto';
import type { IdempotencyScheme } from './serial-key-persistence';

/** Partition key attribute of the effect table (`EffectTable` in lib/constructs/effect-table.ts). */
export const EFFECT_KEY_ATTRIBUTE = 'pk';

/**
 * One durable, naturally non-idempotent write: numbers added to one item of the effect table (DynamoDB `ADD`).
 * Applied twice, it shows in the data.
 */
export interface CounterIncrement {
  /** The item (`pk`), e.g. `customer#c-1#EUR`. */
  readonly key: string;
  /** Attribute → amount to add, e.g. `{ orderCount: 1, totalCents: 2500 }`. */
  readonly add: Readonly<Record<string, number>>;
}

/** What a record does to the effect table. Empty for a record that changes nothing. */
export type Effect = readonly CounterIncrement[];

/** The business logic's answer for one record: what to return, and what to write. */
export interface Plan<R> {
  /** Stored in the idempotency record and returned to later deliveries (must be JSON). */
  readonly response: R;
  readonly effect: Effect;
}

/** What happened to a record. */
export type ApplyStatus =
  /** This delivery committed the effect. */
  | 'applied'
  /** The key was already completed: answered from the idempotency record, nothing written. */
  | 'duplicate'
  /** Another delivery of the key committed first, while this one was planning: nothing written; its stored response. */
  | 'applied-by-another-delivery';

export interface Applied<R> {
  readonly response: R;
  readonly status: ApplyStatus;
  /** The effect this delivery committed (empty unless `applied`). */
  readonly effect: Effect;
}

/** The argument Powertools hashes: the idempotency key, and the hash of the record's content. */
interface KeyedPayload {
  readonly key: string;
  readonly payloadHash: string;
  [field: string]: string;
}

/** What the idempotency-wrapped function returns; `status` is set when the completion commits. */
interface PlannedResult<R> {
  response: R;
  effect: Effect;
  status?: ApplyStatus;
}

/** Powertools' attribute names (its defaults, which `IdempotencyTable` is built for). */
const ATTRIBUTES = {
  key: 'id',
  status: 'status',
  expiry: 'expiration',
  inProgressExpiry: 'in_progress_expiration',
  data: 'data',
  validation: 'validation',
} as const;

export interface ExactlyOncePersistenceOptions {
  /** The idempotency table (`IDEMPOTENCY_TABLE_NAME`). */
  readonly tableName: string;
  /** The effect table (`EFFECT_TABLE_NAME`). */
  readonly effectTableName: string;
  readonly client: DynamoDBClient;
  /**
   * `claim-then-complete` (default): a conditional `PutItem` claims the key before planning, so a concurrent
   * duplicate does not plan at all. `read-then-complete`: a consistent `GetItem` instead, for sources that never
   * run one key twice at once (a Kinesis partition key); the commit's condition still refuses a second commit.
   */
  readonly scheme?: IdempotencyScheme;
}

/**
 * Powertools' DynamoDB persistence layer, with the completion replaced by the transaction described above, the
 * payload hash stored and checked, and a claim that is released only while it is still a claim.
 */
export class ExactlyOncePersistenceLayer extends DynamoDBPersistenceLayer {
  private readonly options: ExactlyOncePersistenceOptions;

  constructor(options: ExactlyOncePersistenceOptions) {
    super({ tableName: options.tableName, awsSdkV3Client: options.client });
    this.options = options;
  }

  /** Content hashes are always stored with the claim and checked against later deliveries. */
  override isPayloadValidationEnabled(): boolean {
    return true;
  }

  /**
   * `<prefix>#<base64 MD5 of the JSON of the key string>`: the key alone, as Powertools hashes a string argument,
   * so records written before this layer keep matching.
   */
  protected override getHashedIdempotencyKey(data: unknown): string {
    const { key } = data as KeyedPayload;
    if (typeof key !== 'string' || key === '') {
      throw new IdempotencyKeyError(
        'The record has no idempotency key: it cannot be processed exactly once.',
      );
    }
    return `${this.idempotencyKeyPrefix}#${createHash('md5').update(JSON.stringify(key)).digest('base64')}`;
  }

  override async saveInProgress(data: unknown, remainingTimeInMillis?: number): Promise<void> {
    const record = new IdempotencyRecord({
      idempotencyKey: this.getHashedIdempotencyKey(data),
      status: IdempotencyRecordStatus.INPROGRESS,
      expiryTimestamp: this.expiryTimestamp(),
      payloadHash: (data as KeyedPayload).payloadHash,
    });
    // Bounded by the invocation: once it has timed out, a re-delivery may take the key over.
    if (remainingTimeInMillis) record.inProgressExpiryTimestamp = Date.now() + remainingTimeInMillis;
    await this._putRecord(record);
  }

  /** A known key with other content is refused, whatever state its record is in. */
  override processExistingRecord(stored: IdempotencyRecord, data: unknown): IdempotencyRecord {
    const payloadHash = (data as KeyedPayload).payloadHash;
    if (stored.payloadHash !== undefined && stored.payloadHash !== payloadHash) {
      throw new PayloadMismatchError((data as KeyedPayload).key, stored.payloadHash, payloadHash, stored);
    }
    return stored;
  }

  /** The `read-then-complete` scheme reads instead of claiming (see serial-key-persistence.ts). */
  protected override async _putRecord(record: IdempotencyRecord): Promise<void> {
    if (this.options.scheme !== 'read-then-complete') return super._putRecord(record);
    let existing: IdempotencyRecord;
    try {
      existing = await this._getRecord(record.idempotencyKey);
    } catch (error) {
      if (error instanceof IdempotencyItemNotFoundError) return;
      throw error;
    }
    if (isLive(existing)) {
      throw new IdempotencyItemAlreadyExistsError(
        `Idempotency key already recorded: ${record.idempotencyKey}`,
        existing,
      );
    }
  }

  /**
   * Releases a claim so that the next delivery need not wait for it to expire, but only while it is still a claim:
   * an unconditional delete that arrives late (sent just before a timeout) would erase another delivery's
   * completion, and the key would then be applied again. `read-then-complete` writes no claim.
   */
  protected override async _deleteRecord(record: IdempotencyRecord): Promise<void> {
    if (this.options.scheme === 'read-then-complete') return;
    try {
      await this.options.client.send(
        new DeleteItemCommand({
          TableName: this.options.tableName,
          Key: { [ATTRIBUTES.key]: { S: record.idempotencyKey } },
          ConditionExpression: '#status = :inprogress',
          ExpressionAttributeNames: { '#status': ATTRIBUTES.status },
          ExpressionAttributeValues: { ':inprogress': { S: IdempotencyRecordStatus.INPROGRESS } },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /**
   * Commits the effect and the completion as one transaction. Called by Powertools once the plan returned.
   * Sets `result.status`. A commit that fails for any reason but the condition leaves nothing written: the claim is
   * released (conditionally) and the error goes up, so the record fails and is re-delivered.
   */
  override async saveSuccess(data: unknown, result: unknown): Promise<void> {
    const payload = data as KeyedPayload;
    const planned = result as PlannedResult<unknown>;
    const idempotencyKey = this.getHashedIdempotencyKey(payload);
    try {
      // Built inside the try: a response DynamoDB cannot store (a class instance) fails here, and the claim must
      // be released as for any other failed commit.
      const completion = this.completionUpdate(idempotencyKey, payload.payloadHash, planned.response);
      if (planned.effect.length === 0) {
        await this.options.client.send(new UpdateItemCommand(completion));
      } else {
        await this.options.client.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              { Update: completion },
              ...effectUpdates(this.options.effectTableName, planned.effect),
            ],
          }),
        );
      }
      planned.status = 'applied';
    } catch (error) {
      const completedBy = completedElsewhere(error);
      if (completedBy === undefined) {
        await this._deleteRecord(new IdempotencyRecord({ idempotencyKey, status: 'INPROGRESS' })).catch(
          () => undefined, // the claim then expires with this invocation
        );
        throw error;
      }
      // Another delivery completed the key meanwhile: its content must be this record's, or this is a mismatch.
      // Without its record to compare against, the record fails (and is retried) rather than pass unchecked.
      const stored = completedBy.item ?? (await this._getRecord(idempotencyKey));
      const storedHash = stored.payloadHash;
      if (storedHash !== undefined && storedHash !== payload.payloadHash) {
        throw new PayloadMismatchError(payload.key, storedHash, payload.payloadHash, stored);
      }
      // The answer is the stored one, as for any later duplicate: the response this delivery planned describes work
      // that did not commit (the http path's 202 would name a message id no stored answer or retry ever names).
      if (stored.responseData !== undefined) planned.response = stored.responseData;
      planned.status = 'applied-by-another-delivery';
    }
  }

  private expiryTimestamp(): number {
    return Math.round(Date.now() / 1000 + this.getExpiresAfterSeconds());
  }

  /** The completion: `COMPLETED` with the response, unless a live completion is already there. */
  private completionUpdate(idempotencyKey: string, payloadHash: string, response: unknown): Update {
    return {
      TableName: this.options.tableName,
      Key: { [ATTRIBUTES.key]: { S: idempotencyKey } },
      UpdateExpression:
        'SET #status = :completed, #expiry = :expiry, #data = :data, #validation = :validation',
      ConditionExpression: 'attribute_not_exists(#id) OR #status <> :completed OR #expiry < :now',
      ExpressionAttributeNames: {
        '#id': ATTRIBUTES.key,
        '#status': ATTRIBUTES.status,
        '#expiry': ATTRIBUTES.expiry,
        '#data': ATTRIBUTES.data,
        '#validation': ATTRIBUTES.validation,
      },
      ExpressionAttributeValues: marshall(
        {
          ':completed': IdempotencyRecordStatus.COMPLETED,
          ':expiry': this.expiryTimestamp(),
          ':now': Date.now() / 1000,
          // `null` for a plan without a response: an undefined value would leave `:data` out of the request.
          ':data': response ?? null,
          ':validation': payloadHash,
        },
        { removeUndefinedValues: true },
      ),
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    };
  }
}

/** The same key arrived with other content: a producer bug, or a key that is not unique. Needs a person. */
export class PayloadMismatchError extends IdempotencyValidationError {
  constructor(
    readonly idempotencyKey: string,
    readonly storedPayloadHash: string,
    readonly payloadHash: string,
    existingRecord?: IdempotencyRecord,
  ) {
    super(
      `idempotency key "${idempotencyKey}" was first seen with other content (stored payload hash ${storedPayloadHash}, ` +
        `this one ${payloadHash}): not applied, and not answered from the store`,
      existingRecord,
    );
    this.name = 'PayloadMismatchError';
  }
}

/** The completion's condition failed: the old item, when DynamoDB returned it. Undefined for any other error. */
function completedElsewhere(error: unknown): { item?: IdempotencyRecord } | undefined {
  let oldItem: Record<string, AttributeValue> | undefined;
  if (error instanceof ConditionalCheckFailedException) {
    oldItem = error.Item;
  } else if (error instanceof TransactionCanceledException) {
    const reason = error.CancellationReasons?.[0];
    if (reason?.Code !== 'ConditionalCheckFailed') return undefined;
    oldItem = reason.Item;
  } else {
    return undefined;
  }
  if (!oldItem) return {};
  const item = unmarshall(oldItem);
  return {
    item: new IdempotencyRecord({
      idempotencyKey: item[ATTRIBUTES.key],
      status: item[ATTRIBUTES.status],
      expiryTimestamp: item[ATTRIBUTES.expiry],
      responseData: item[ATTRIBUTES.data],
      payloadHash: item[ATTRIBUTES.validation],
    }),
  };
}

/** One `ADD` update per effect item; increments of one item are merged (a transaction touches an item once). */
export function effectUpdates(tableName: string, effect: Effect): TransactWriteItem[] {
  const byKey = new Map<string, Map<string, number>>();
  for (const increment of effect) {
    const amounts = byKey.get(increment.key) ?? new Map<string, number>();
    for (const [attribute, amount] of Object.entries(increment.add)) {
      amounts.set(attribute, (amounts.get(attribute) ?? 0) + amount);
    }
    byKey.set(increment.key, amounts);
  }
  return [...byKey].map(([key, amounts]) => {
    const entries = [...amounts];
    return {
      Update: {
        TableName: tableName,
        Key: { [EFFECT_KEY_ATTRIBUTE]: { S: key } },
        UpdateExpression: `ADD ${entries.map((_, index) => `#a${index} :a${index}`).join(', ')}`,
        ExpressionAttributeNames: Object.fromEntries(entries.map(([name], index) => [`#a${index}`, name])),
        ExpressionAttributeValues: Object.fromEntries(
          entries.map(([, amount], index) => [`:a${index}`, { N: String(amount) }]),
        ),
      },
    };
  });
}

/** The same conditions under which Powertools' conditional put fails: not expired, and not a timed-out claim. */
function isLive(record: IdempotencyRecord): boolean {
  if (record.isExpired()) return false;
  const claimTimedOut =
    record.getStatus() === IdempotencyRecordStatus.INPROGRESS &&
    record.inProgressExpiryTimestamp !== undefined &&
    record.inProgressExpiryTimestamp < Date.now();
  return !claimTimedOut;
}

/** The hash of a record's content: base64 MD5 of its JSON with object keys sorted (key order is not content). */
export function payloadHashOf(content: unknown): string {
  return createHash('md5').update(canonicalJson(content)).digest('base64');
}

function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );
}

export interface ExactlyOnceOptions {
  readonly persistenceStore: ExactlyOncePersistenceLayer;
  readonly idempotencyConfig: IdempotencyConfig;
  /**
   * Prefix of the stored keys. Fixed, never the function name (Powertools' default), which changes when
   * CloudFormation replaces the function: every stored record would stop matching.
   */
  readonly keyPrefix: string;
}

/**
 * Makes `plan` exactly-once per idempotency key: the returned function plans the record (only if its key is not
 * already done), then commits the effect with the completion. `content` is what "the same record" means for the
 * key (hashed into `payloadHash`).
 */
export function makeExactlyOnce<I, R>(
  plan: (input: I) => Plan<R> | Promise<Plan<R>>,
  options: ExactlyOnceOptions,
): (key: string, input: I, content?: unknown) => Promise<Applied<R>> {
  const once = makeIdempotent(
    async (_payload: KeyedPayload, input: I): Promise<PlannedResult<R>> => {
      const { response, effect } = await plan(input);
      return { response, effect };
    },
    // The options' type depends on whether the second argument is a Lambda context, which TypeScript cannot
    // decide for a generic `I`; it is not a context here, so `dataIndexArgument` applies.
    {
      persistenceStore: options.persistenceStore,
      config: options.idempotencyConfig,
      keyPrefix: options.keyPrefix,
      dataIndexArgument: 0,
    } as Parameters<typeof makeIdempotent<(payload: KeyedPayload, input: string) => Promise<unknown>>>[1],
  );
  // Powertools runs the plan bare when idempotency is disabled (POWERTOOLS_IDEMPOTENCY_DISABLED): nothing would
  // be committed while every record reported done. Refused at cold start.
  if (!options.idempotencyConfig.isEnabled()) {
    throw new Error(
      'Idempotency is disabled (POWERTOOLS_IDEMPOTENCY_DISABLED): the effects are committed with the idempotency ' +
        'records, so nothing would be written. Unset the variable.',
    );
  }
  return async (key, input, content = input) => {
    const result = await once({ key, payloadHash: payloadHashOf(content) }, input);
    // A fresh plan carries the status its commit set; a stored response is the plain response.
    if (isPlannedResult<R>(result)) {
      // No status: the commit never ran. Never report that as applied.
      if (result.status === undefined) throw new Error(`record ${key} was planned but not committed`);
      const { status } = result;
      return { response: result.response, status, effect: status === 'applied' ? result.effect : [] };
    }
    return { response: result as R, status: 'duplicate', effect: [] };
  };
}

function isPlannedResult<R>(value: unknown): value is PlannedResult<R> {
  return typeof value === 'object' && value !== null && 'effect' in value && 'response' in value;
}
