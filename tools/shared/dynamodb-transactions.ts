/**
 * `TransactWriteItems` for the in-process DynamoDB (dynalite, which does not implement it), with AWS's semantics:
 * all or nothing, isolated from every other request, cancellation reasons aligned with the items, and
 * `ClientRequestToken` idempotency. The server in local-dynamodb.ts routes transactions here; everything else
 * goes to dynalite untouched.
 *
 * Design, and why it is sound:
 * - Isolation comes from a readers–writer lock ({@link ReadWriteLock}) in the server: a transaction runs under the
 *   exclusive side; every other request holds the shared side until its response is sent, which dynalite does only
 *   after it has applied the request. So no request overlaps a transaction: none can read one half-applied, nor
 *   write between its reads and its writes; and transactions run one at a time, so two that are each conditional
 *   on the other not having happened cannot both commit.
 * - Atomicity: under that lock, {@link transactWriteItems} takes consistent old images of every item, then applies
 *   each item as the equivalent single-item call (PutItem, UpdateItem, DeleteItem, carrying the item's condition),
 *   so dynalite itself evaluates conditions and expressions. If any item fails, the ones applied are undone by
 *   writing back their old images (PutItem, or DeleteItem where there was none); nobody can observe the undo.
 *   A ConditionCheck is a conditional write that changes nothing: PutItem of the item's own old image, or, when
 *   the item does not exist, DeleteItem (a no-op).
 * - Every item is tried, even after one failed, so each gets its reason, as in AWS: the items are distinct (checked
 *   first) and a condition reads only its own item, so each is evaluated against the state before the transaction.
 * - Errors: an item that dynalite rejects for the request itself (bad expression, missing table, wrong key) fails
 *   the whole transaction with that error, as AWS validates before it evaluates; an error that depends on the
 *   item's data (ADD to a string) is a cancellation reason with code `ValidationError`, as AWS reports it.
 * - A committed transaction's token is remembered for 10 minutes ({@link ClientTokens}): the SDK retries a
 *   transaction whose answer was lost with the same token, and that retry must not apply it twice.
 * Not modelled: the 4 MB aggregate size limit, ConsumedCapacity and ItemCollectionMetrics in the answer, and
 * TransactionConflict/TransactionInProgress (transactions here never overlap, so they never conflict).
 */

/** A DynamoDB JSON request or answer body (attribute values in DynamoDB JSON, `{ S: 'x' }`). */
export type JsonObject = Record<string, unknown>;

/** A DynamoDB API answer: HTTP status and JSON body (an error body has `__type` and a message). */
export interface DynamoDbAnswer {
  readonly status: number;
  readonly body: JsonObject;
}

/** One single-item call to the underlying DynamoDB (dynalite), e.g. `call('PutItem', { TableName, Item })`. */
export type DynamoDbCall = (operation: string, request: JsonObject) => Promise<DynamoDbAnswer>;

export const MAX_TRANSACT_ITEMS = 100;
/** How long a committed transaction's `ClientRequestToken` is remembered (AWS: 10 minutes). */
export const CLIENT_TOKEN_WINDOW_MS = 10 * 60_000;

const KINDS = ['Put', 'Update', 'Delete', 'ConditionCheck'] as const;
type Kind = (typeof KINDS)[number];

/** The members each kind requires (AWS answers a ValidationException without them). */
const REQUIRED: Record<Kind, readonly string[]> = {
  Put: ['TableName', 'Item'],
  Update: ['TableName', 'Key', 'UpdateExpression'],
  Delete: ['TableName', 'Key'],
  ConditionCheck: ['TableName', 'Key', 'ConditionExpression'],
};

/** The members passed on to the single-item call; anything else (ReturnValues...) is not a transaction's. */
const EXPRESSION_MEMBERS = ['ConditionExpression', 'ExpressionAttributeNames', 'ExpressionAttributeValues'];

/**
 * dynalite's messages for errors found while applying an update to the stored item: they depend on the item's
 * data, so in a transaction AWS reports them as a cancellation reason (`ValidationError`), not as the request's
 * error.
 */
const DATA_DEPENDENT_ERRORS = new Set([
  'An operand in the update expression has an incorrect data type',
  'The document path provided in the update expression is invalid for update',
  'The provided expression refers to an attribute that does not exist in the item',
  'Item size to update has exceeded the maximum allowed size',
  'Type mismatch for attribute to update',
  'The update expression attempted to update the secondary index key to unsupported type',
]);

/** A DynamoDB JSON error answer, in the format the SDK maps to its exception classes. */
export function errorAnswer(code: string, message: string, status = 400): DynamoDbAnswer {
  // AWS (and dynalite) name validation errors in the coral namespace; the SDK reads the code after the '#'.
  const namespace =
    code === 'ValidationException' ? 'com.amazon.coral.validate' : 'com.amazonaws.dynamodb.v20120810';
  return { status, body: { __type: `${namespace}#${code}`, message } };
}

const validationError = (message: string) => errorAnswer('ValidationException', message);
const errorCode = (answer: DynamoDbAnswer) => String(answer.body.__type ?? '').replace(/^.*#/, '');
const errorMessage = (answer: DynamoDbAnswer) => String(answer.body.message ?? answer.body.Message ?? '');
const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** One item of the transaction, as parsed from the request. */
interface TransactItem {
  readonly kind: Kind;
  readonly params: JsonObject;
}

/** An item with what applying and undoing it needs. */
interface PreparedItem extends TransactItem {
  readonly tableName: string;
  /** The item's key (key-schema attributes only); undefined when a Put's item lacks one (PutItem will say so). */
  readonly key: JsonObject | undefined;
  /** The item before the transaction (consistent read), undefined if it did not exist. */
  readonly oldImage: JsonObject | undefined;
}

/**
 * Runs one `TransactWriteItems` request against `call`. The caller must hold the exclusive side of the lock that
 * every other request to the same DynamoDB takes shared (see the header comment). Rejects only if undoing an
 * applied item failed, which would leave a partial transaction (the caller answers InternalServerError).
 */
export async function transactWriteItems(
  request: JsonObject,
  call: DynamoDbCall,
  tokens: ClientTokens,
): Promise<DynamoDbAnswer> {
  const items = parseTransactItems(request.TransactItems);
  if (!Array.isArray(items)) return items;

  const token = typeof request.ClientRequestToken === 'string' ? request.ClientRequestToken : undefined;
  const fingerprint = stableJson({ ...request, ClientRequestToken: undefined });
  if (token !== undefined) {
    const seen = tokens.check(token, fingerprint);
    if (seen === 'replay') return { status: 200, body: {} };
    if (seen === 'mismatch') {
      return errorAnswer(
        'IdempotentParameterMismatchException',
        'The request uses the same client token as a previous, but non-identical request.',
      );
    }
  }

  const prepared = await prepare(items, call);
  if (!Array.isArray(prepared)) return prepared;

  // Every item is tried (see the header comment); a call that throws still lets the others be undone.
  const answers = await Promise.all(
    prepared.map((item) =>
      apply(item, call).catch((error: unknown) => errorAnswer('InternalServerError', String(error), 500)),
    ),
  );
  const applied = prepared.filter((item, i) => answers[i]!.status === 200 && item.kind !== 'ConditionCheck');
  const failures = answers.filter((answer) => answer.status !== 200);
  if (failures.length === 0) {
    if (token !== undefined) tokens.remember(token, fingerprint);
    return { status: 200, body: {} };
  }

  await Promise.all(applied.map((item) => undo(item, call)));
  // An error in the request itself wins over cancellation reasons: AWS would have refused the request outright.
  const requestError = failures.find((answer) => cancellationReason(answer) === undefined);
  if (requestError) return requestError;
  const reasons = answers.map((answer, i) => cancellationReason(answer, prepared[i]!) ?? { Code: 'None' });
  const codes = reasons.map((reason) => reason.Code).join(', ');
  return {
    status: 400,
    body: {
      __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
      // AWS spells this exception's message with a capital M (the SDK reads either).
      Message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes}]`,
      CancellationReasons: reasons,
    },
  };
}

/** The items, or the ValidationException AWS answers for a malformed list. */
function parseTransactItems(value: unknown): TransactItem[] | DynamoDbAnswer {
  if (!Array.isArray(value)) {
    return validationError(
      "1 validation error detected: Value null at 'transactItems' failed to satisfy constraint: Member must not be null",
    );
  }
  if (value.length < 1 || value.length > MAX_TRANSACT_ITEMS) {
    const bound =
      value.length < 1 ? 'greater than or equal to 1' : `less than or equal to ${MAX_TRANSACT_ITEMS}`;
    return validationError(
      `1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length ${bound}`,
    );
  }
  const items: TransactItem[] = [];
  for (const [index, entry] of value.entries()) {
    const kinds = KINDS.filter((kind) => isObject(entry) && entry[kind] != null);
    if (kinds.length !== 1) {
      return validationError('TransactItems can only contain one of Check, Put, Update or Delete');
    }
    const kind = kinds[0]!;
    const params = (entry as JsonObject)[kind];
    if (!isObject(params)) return validationError(`Invalid ${kind} in transactItems.${index + 1}`);
    const missing = REQUIRED[kind].find((member) => params[member] == null);
    if (missing) {
      const path = `transactItems.${index + 1}.member.${lowerFirst(kind)}.${lowerFirst(missing)}`;
      return validationError(
        `1 validation error detected: Value null at '${path}' failed to satisfy constraint: Member must not be null`,
      );
    }
    const returnValues = params.ReturnValuesOnConditionCheckFailure;
    if (returnValues != null && returnValues !== 'ALL_OLD' && returnValues !== 'NONE') {
      return validationError(
        `1 validation error detected: Value '${String(returnValues)}' at 'transactItems.${index + 1}.member.` +
          `${lowerFirst(kind)}.returnValuesOnConditionCheckFailure' failed to satisfy constraint: ` +
          'Member must satisfy enum value set: [ALL_OLD, NONE]',
      );
    }
    items.push({ kind, params });
  }
  return items;
}

/**
 * Resolves each item's table and key, refuses two operations on one item, and takes the old images; nothing is
 * written yet, so any error here is simply the answer.
 */
async function prepare(items: TransactItem[], call: DynamoDbCall): Promise<PreparedItem[] | DynamoDbAnswer> {
  const schemas = new Map<string, Promise<DynamoDbAnswer>>();
  const describe = (tableName: string) => {
    if (!schemas.has(tableName)) schemas.set(tableName, call('DescribeTable', { TableName: tableName }));
    return schemas.get(tableName)!;
  };
  const keyed: { item: TransactItem; tableName: string; key: JsonObject | undefined }[] = [];
  const seen = new Set<string>();
  for (const item of items) {
    const tableName = String(item.params.TableName);
    const description = await describe(tableName);
    if (description.status !== 200) return description; // e.g. ResourceNotFoundException
    const table = description.body.Table as { KeySchema: { AttributeName: string }[] };
    const names = table.KeySchema.map((element) => element.AttributeName);
    const source = (item.kind === 'Put' ? item.params.Item : item.params.Key) as JsonObject;
    const key = names.every((name) => source[name] != null)
      ? Object.fromEntries(names.map((name) => [name, source[name]]))
      : undefined;
    if (key) {
      const identity = JSON.stringify([tableName, ...names.map((name) => key[name])]);
      if (seen.has(identity)) {
        return validationError('Transaction request cannot include multiple operations on one item');
      }
      seen.add(identity);
    }
    keyed.push({ item, tableName, key });
  }
  const reads = await Promise.all(
    keyed.map(({ tableName, key }) =>
      key ? call('GetItem', { TableName: tableName, Key: key, ConsistentRead: true }) : undefined,
    ),
  );
  const failedRead = reads.find((answer) => answer !== undefined && answer.status !== 200);
  if (failedRead) return failedRead;
  return keyed.map(({ item, tableName, key }, i) => ({
    ...item,
    tableName,
    key,
    oldImage: reads[i]?.body.Item as JsonObject | undefined,
  }));
}

/** Applies one item as the equivalent single-item call, with the item's condition. */
function apply(item: PreparedItem, call: DynamoDbCall): Promise<DynamoDbAnswer> {
  const { kind, params, tableName } = item;
  const pick = (...members: string[]) =>
    Object.fromEntries(
      members.filter((member) => params[member] != null).map((member) => [member, params[member]]),
    );
  switch (kind) {
    case 'Put':
      return call('PutItem', pick('TableName', 'Item', ...EXPRESSION_MEMBERS));
    case 'Update':
      return call('UpdateItem', pick('TableName', 'Key', 'UpdateExpression', ...EXPRESSION_MEMBERS));
    case 'Delete':
      return call('DeleteItem', pick('TableName', 'Key', ...EXPRESSION_MEMBERS));
    case 'ConditionCheck':
      // A conditional write that changes nothing: rewrite the item as it is, or delete the item that is not there.
      return item.oldImage
        ? call('PutItem', { ...pick(...EXPRESSION_MEMBERS), TableName: tableName, Item: item.oldImage })
        : call('DeleteItem', pick('TableName', 'Key', ...EXPRESSION_MEMBERS));
  }
}

/** Restores an applied item's old image. */
async function undo(item: PreparedItem, call: DynamoDbCall): Promise<void> {
  const answer = item.oldImage
    ? await call('PutItem', { TableName: item.tableName, Item: item.oldImage })
    : await call('DeleteItem', { TableName: item.tableName, Key: item.key });
  if (answer.status !== 200) {
    throw new Error(`Could not undo a transaction item in ${item.tableName}: ${JSON.stringify(answer.body)}`);
  }
}

/** The cancellation reason for a failed item's answer; undefined if the answer is an error of the request itself. */
function cancellationReason(answer: DynamoDbAnswer, item?: PreparedItem): JsonObject | undefined {
  const code = errorCode(answer);
  if (code === 'ConditionalCheckFailedException') {
    const returnOld = item?.params.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' && item.oldImage;
    return {
      Code: 'ConditionalCheckFailed',
      Message: 'The conditional request failed',
      ...(returnOld ? { Item: item.oldImage } : {}),
    };
  }
  if (code === 'ValidationException' && DATA_DEPENDENT_ERRORS.has(errorMessage(answer))) {
    return { Code: 'ValidationError', Message: errorMessage(answer) };
  }
  return undefined;
}

/**
 * The tokens of committed transactions, each with its request's fingerprint, for {@link CLIENT_TOKEN_WINDOW_MS}.
 * Only commits are remembered: a cancelled transaction changed nothing, so running its retry again is what AWS
 * does too.
 */
export class ClientTokens {
  private readonly committed = new Map<string, { readonly fingerprint: string; readonly at: number }>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly windowMs = CLIENT_TOKEN_WINDOW_MS,
  ) {}

  /** `replay`: committed with these parameters; `mismatch`: committed with others; `new`: not seen (or expired). */
  check(token: string, fingerprint: string): 'new' | 'replay' | 'mismatch' {
    this.forgetExpired();
    const entry = this.committed.get(token);
    if (!entry) return 'new';
    return entry.fingerprint === fingerprint ? 'replay' : 'mismatch';
  }

  remember(token: string, fingerprint: string): void {
    this.committed.delete(token); // keeps the map in commit order, which forgetExpired relies on
    this.committed.set(token, { fingerprint, at: this.now() });
  }

  private forgetExpired(): void {
    const oldest = this.now() - this.windowMs;
    for (const [token, { at }] of this.committed) {
      if (at > oldest) return;
      this.committed.delete(token);
    }
  }
}

/**
 * A readers–writer lock, first come first served: a waiting exclusive holder blocks later shared ones, so a stream
 * of reads cannot starve a transaction. Each acquire resolves to its release function (idempotent).
 */
export class ReadWriteLock {
  private readers = 0;
  private writing = false;
  private readonly waiting: { readonly exclusive: boolean; readonly grant: () => void }[] = [];

  shared(): Promise<() => void> {
    return this.acquire(false);
  }

  exclusive(): Promise<() => void> {
    return this.acquire(true);
  }

  private acquire(exclusive: boolean): Promise<() => void> {
    return new Promise((resolve) => {
      this.waiting.push({ exclusive, grant: () => resolve(this.releaser(exclusive)) });
      this.grantWaiting();
    });
  }

  private grantWaiting(): void {
    for (let next = this.waiting[0]; next; next = this.waiting[0]) {
      if (this.writing || (next.exclusive && this.readers > 0)) return;
      this.waiting.shift();
      if (next.exclusive) this.writing = true;
      else this.readers += 1;
      next.grant();
    }
  }

  private releaser(exclusive: boolean): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (exclusive) this.writing = false;
      else this.readers -= 1;
      this.grantWaiting();
    };
  }
}

/** JSON with object keys sorted, so that equal requests have equal fingerprints whatever their key order. */
function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, member: unknown) =>
    isObject(member)
      ? Object.fromEntries(
          Object.keys(member)
            .sort()
            .map((key) => [key, member[key]]),
        )
      : member,
  );
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
