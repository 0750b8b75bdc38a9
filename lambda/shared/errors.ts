/**
 * Errors as a log line can show them: the whole cause chain, with what AWS says about each link. Powertools wraps
 * a failed DynamoDB call in `IdempotencyPersistenceLayerError` whose message says only "Failed to ..."; the
 * throttling, the timeout or the cancelled transaction behind it is in `cause`, and an operator needs it (the
 * AWS error code, the request id to quote to AWS Support, the HTTP status, a transaction's cancellation reasons).
 */

/** One link of an error chain, as JSON. */
export interface ErrorDescription {
  readonly name: string;
  readonly message: string;
  /** The AWS error code (`ThrottlingException`, `TransactionCanceledException`...), when AWS answered. */
  readonly code?: string;
  readonly httpStatusCode?: number;
  /** AWS's request id: what AWS Support asks for. */
  readonly requestId?: string;
  /** SDK attempts made for the call (retries included). */
  readonly attempts?: number;
  /** A cancelled DynamoDB transaction: one code per item (`None`, `ConditionalCheckFailed`...). */
  readonly cancellationReasons?: readonly string[];
  /** The errors of an `AggregateError`. */
  readonly errors?: readonly ErrorDescription[];
  readonly cause?: ErrorDescription;
}

/** How many causes deep a description goes (a cycle or a very deep chain stops there). */
const MAX_DEPTH = 5;

interface AwsErrorShape {
  readonly $metadata?: {
    readonly httpStatusCode?: number;
    readonly requestId?: string;
    readonly attempts?: number;
  };
  readonly $fault?: string;
  readonly Code?: string;
  readonly CancellationReasons?: readonly { readonly Code?: string }[];
}

/** Describes `error` and its causes, for a structured log line. Anything thrown is accepted. */
export function describeError(error: unknown, depth = 0): ErrorDescription {
  if (!(error instanceof Error)) return { name: typeof error, message: String(error) };
  const aws = error as Error & AwsErrorShape;
  const metadata = aws.$metadata;
  const nested = depth + 1 < MAX_DEPTH;
  return {
    name: error.name,
    message: error.message,
    ...(metadata && { code: aws.Code ?? error.name }),
    ...(metadata?.httpStatusCode !== undefined && { httpStatusCode: metadata.httpStatusCode }),
    ...(metadata?.requestId && { requestId: metadata.requestId }),
    ...(metadata?.attempts !== undefined && { attempts: metadata.attempts }),
    ...(aws.CancellationReasons && {
      cancellationReasons: aws.CancellationReasons.map((reason) => reason.Code ?? 'None'),
    }),
    ...(error instanceof AggregateError &&
      nested && { errors: error.errors.map((inner) => describeError(inner, depth + 1)) }),
    ...(error.cause !== undefined && nested && { cause: describeError(error.cause, depth + 1) }),
  };
}

/** The first error in the chain (the error itself, then its causes) that satisfies `test`. */
export function findInChain(error: unknown, test: (link: Error) => boolean): Error | undefined {
  let link: unknown = error;
  for (let depth = 0; depth < MAX_DEPTH && link instanceof Error; depth += 1) {
    if (test(link)) return link;
    link = link.cause;
  }
  return undefined;
}

/** AWS error codes that say "try again later", not "this request is wrong". */
const TRANSIENT_CODES = new Set([
  'TimeoutError',
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TransactionConflictException',
  'TransactionInProgressException',
  'LimitExceededException',
  'RequestTimeout',
  'RequestTimeoutException',
]);
/** Cancellation reasons of a transaction that a later attempt can pass. */
const TRANSIENT_CANCELLATIONS = new Set([
  'ThrottlingError',
  'TransactionConflict',
  'ProvisionedThroughputExceeded',
]);
const NETWORK_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * Whether a failure is DynamoDB (or the way to it) being unavailable for a while: an outage, throttling, a
 * timeout, a dropped connection, a transaction cancelled by a conflict. Such a record can pass a moment later;
 * a failed condition, an invalid payload or a validation error cannot.
 */
export function isTransientDependencyError(error: unknown): boolean {
  return (
    findInChain(error, (link) => {
      const aws = link as Error & AwsErrorShape & { code?: string };
      if (aws.CancellationReasons) {
        const codes = aws.CancellationReasons.map((reason) => reason.Code ?? 'None').filter(
          (c) => c !== 'None',
        );
        return codes.length > 0 && codes.every((code) => TRANSIENT_CANCELLATIONS.has(code));
      }
      if (TRANSIENT_CODES.has(link.name) || NETWORK_ERRORS.has(aws.code ?? '')) return true;
      // The SDK marks what it considers retryable; 429 is "too many requests", 5xx a server error.
      if ((aws as { $retryable?: unknown }).$retryable) return true;
      const status = aws.$metadata?.httpStatusCode ?? 0;
      return status === 429 || status >= 500;
    }) !== undefined
  );
}
