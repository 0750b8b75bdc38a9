/**
 * The http path's function: `POST /orders` behind API Gateway (HTTP API, payload format 2.0, IAM authorization).
 * It validates the order with the SQS path's domain (lambda/sqs-consumer/domain.ts: the same schema, the same
 * business key), enqueues it to the queue the SQS consumer reads, and answers `202 Accepted` with the order's id.
 *
 * ## Idempotency-Key
 * `POST` requires the `Idempotency-Key` header (idempotency-key.ts). The key, scoped to the caller's AWS account,
 * is the idempotency key of Powertools' idempotency in the stack's IdempotencyTable, through the exactly-once
 * machinery every path shares (lambda/shared/apply-record.ts, exactly-once.ts), with the hash of the request body
 * as the content:
 * - first request: the key is claimed (`INPROGRESS`), the order enqueued, and the `202` answer stored with the key
 *   (`COMPLETED`);
 * - the same key and body again (a retry): the stored `202`, with `Idempotent-Replayed: true`; nothing enqueued;
 * - the same key with another body: `422`, nothing enqueued;
 * - the same key while the first request still runs: `409` with `Retry-After`;
 * - no key: `400`. An invalid body (`400`, every issue listed) claims nothing: fixed, it may reuse the key;
 * - no IAM caller identity in the event (the route is not IAM-authorized as deployed here): `500`
 *   caller-unidentified, before anything is read or stored: keys are scoped per caller account, and there is no
 *   account to scope them to.
 *
 * A request whose key another request completed while it ran (a claim that timed out under it) gets the stored
 * `202`, with `Idempotent-Replayed: true`: the messageId a retry gets, never the one of its own late send.
 *
 * ## What is exactly-once here, and what is at-least-once
 * The enqueue is an external effect: it cannot commit in one transaction with the idempotency record. The record
 * is completed right after `SendMessage` succeeds; if that completion fails, or the function dies between the two,
 * the claim is released (or expires with the invocation), the caller gets a `503` (or API Gateway's error) and
 * retries, and the order is enqueued a second time. So per key, the **answer** is exactly-once (every retry after
 * the completion gets the first `202`), the **enqueue** is at-least-once (twice only after a failure in that
 * window), and the **effect** is exactly-once again downstream: the SQS consumer applies each order once per
 * `orderId`, its own idempotency key. The key rides downstream as the message attribute `IdempotencyKey`.
 *
 * ## Overload and deadlines
 * No waiting inside the invocation: a failed dependency call is answered `503` with `Retry-After` at once (the
 * caller's client backs off), because a waiting invocation holds one of the function's reserved concurrency and
 * the stage throttle is sized on how long an invocation can last (README, "The http path's arithmetic"). Every
 * DynamoDB and SQS call has a per-attempt timeout and bounded attempts sized from the function timeout, so the
 * function answers before it times out.
 */
import { IdempotencyAlreadyInProgressError } from '@aws-lambda-powertools/idempotency';
import type { Logger } from '@aws-lambda-powertools/logger';
import type {
  APIGatewayProxyEventV2WithIAMAuthorizer,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import * as z from 'zod/mini';
import { createRecordApplier } from '../shared/apply-record';
import { DeadlineError } from '../shared/deadlines';
import type { MessageOf } from '../shared/domain';
import { describeError, findInChain, isTransientDependencyError } from '../shared/errors';
import { PayloadMismatchError } from '../shared/exactly-once';
// parsing.ts sets zod's English messages: the validation issues a caller reads.
import { InvalidPayloadError } from '../shared/parsing';
import type { IdempotencyDependencies } from '../shared/powertools';
import { domain } from '../sqs-consumer/domain';
import { IDEMPOTENCY_KEY_HEADER, readIdempotencyKey } from './idempotency-key';
import { jsonPointer, problem, PROBLEM_CONTENT_TYPE, type ProblemIssue, type ProblemKind } from './problem';
import type { Enqueue } from './queue';

type Order = MessageOf<typeof domain>;

/**
 * Prefix of the stored idempotency keys of this function (never the generated function name, which changes when
 * CloudFormation replaces the function). Another prefix than the SQS consumer's, so both can share one table.
 */
export const HTTP_KEY_PREFIX = 'http-ingress.submitOrder';

/** Seconds a caller should wait before retrying a 409 (a request in progress) or a 503 (`Retry-After`). */
export const RETRY_AFTER_SECONDS = { inProgress: 1, unavailable: 2 } as const;

/** The field of the 202 body that holds the accepted record's business key (`orderId`). */
export const ACCEPTED_ID_FIELD = `${domain.recordName}Id`;

/**
 * The `202 Accepted` body: stored with the key, and answered again to every retry. `status: "accepted"`, the
 * order's business key under {@link ACCEPTED_ID_FIELD} (`orderId`: the SQS consumer's idempotency key), and
 * `messageId`, SQS's id of the message that carries the order.
 */
export type AcceptedBody = Readonly<Record<string, string>> & {
  readonly status: 'accepted';
  readonly messageId: string;
};

export interface HttpIngressDependencies extends IdempotencyDependencies {
  readonly logger: Logger;
  /** Sends the order to the SQS consumer's queue (queue.ts). */
  readonly enqueue: Enqueue;
}

export type HttpIngressHandler = (
  event: APIGatewayProxyEventV2WithIAMAuthorizer,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

/** What the plan is given: the validated order, and the key to pass downstream. */
interface Submission {
  readonly order: Order;
  readonly idempotencyKey: string;
}

export function createHttpIngressHandler(dependencies: HttpIngressDependencies): HttpIngressHandler {
  const { logger, idempotencyConfig, enqueue } = dependencies;
  const apply = createRecordApplier<Submission, AcceptedBody>({
    ...dependencies,
    // No waits inside the invocation: the caller retries (see the module comment).
    dependencyRetryDelaysMs: [],
    logger,
    path: 'http',
    keyPrefix: HTTP_KEY_PREFIX,
    plan: async ({ order, idempotencyKey }) => {
      const messageId = await enqueue(JSON.stringify(order), idempotencyKey);
      return {
        response: {
          status: 'accepted',
          [ACCEPTED_ID_FIELD]: domain.idempotencyKey(order),
          messageId,
        } as AcceptedBody,
        // Nothing for the effect table: the effect is the SQS consumer's, per orderId.
        effect: [],
      };
    },
  });

  return async (event, context) => {
    logger.addContext(context);
    idempotencyConfig.registerLambdaContext(context);
    const requestId = event.requestContext?.requestId;
    const fail = (
      kind: ProblemKind,
      detail: string,
      extra: {
        errors?: readonly ProblemIssue[];
        idempotencyKey?: string;
        headers?: Record<string, string>;
      } = {},
    ) => problemResponse(kind, detail, { requestId, ...extra });

    const method = event.requestContext?.http?.method;
    if (method !== 'POST') {
      return fail(
        'methodNotAllowed',
        `${String(method)} is not allowed on this resource; submit orders with POST.`,
        {
          headers: { Allow: 'POST' },
        },
      );
    }
    if (callerAccountOf(event) === undefined) {
      // Never a key space shared by every unidentified caller: one caller could read another's answer.
      logger.error(CALLER_UNIDENTIFIED_LOG_MESSAGE, { requestId, routeKey: event.routeKey });
      return fail(
        'callerUnidentified',
        "the request reached the function without an IAM caller identity, which the POST route's IAM authorization " +
          'always gives: the API is not deployed as this template builds it. Nothing was stored or enqueued; quote ' +
          "the requestId to the API's owners (retrying will not help).",
      );
    }
    const headers = event.headers ?? {};
    const keyReading = readIdempotencyKey(headers[IDEMPOTENCY_KEY_HEADER]);
    if (!keyReading.ok) {
      logger.warn('request refused: Idempotency-Key', { requestId, reason: keyReading.reason });
      return fail(keyReading.missing ? 'missingIdempotencyKey' : 'invalidIdempotencyKey', keyReading.reason);
    }
    const idempotencyKey = keyReading.key;
    const contentType = headers['content-type'];
    if (!isJson(contentType)) {
      return fail(
        'unsupportedMediaType',
        `the body must be a JSON order sent with Content-Type: application/json, got ${
          contentType === undefined ? 'no Content-Type' : `"${contentType}"`
        }.`,
        { idempotencyKey },
      );
    }
    const body = bodyText(event);
    const parsed = parseOrder(body);
    if (!parsed.ok) {
      logger.warn('request refused: invalid body', { requestId, idempotencyKey, issues: parsed.errors });
      return fail('invalidBody', parsed.detail, { errors: parsed.errors, idempotencyKey });
    }

    try {
      const applied = await apply(
        {
          idempotencyKey: scopedKey(event, idempotencyKey),
          recordKey: domain.idempotencyKey(parsed.order),
          input: { order: parsed.order, idempotencyKey },
          // The request body, parsed: "the same request" is the same JSON (key order and spacing aside).
          content: parsed.json,
          logKeys: { requestId, idempotencyKey },
        },
        () => context.getRemainingTimeInMillis(),
      );
      return {
        statusCode: 202,
        headers: {
          'Content-Type': 'application/json',
          // The stored answer: a duplicate's, or another request's that completed the key first.
          ...(applied.status !== 'applied' && { 'Idempotent-Replayed': 'true' }),
        },
        body: JSON.stringify(applied.response),
      };
    } catch (error) {
      // apply-record.ts has logged the failure with its cause chain.
      return failureResponse(error, { requestId, idempotencyKey });
    }
  };
}

/** The ERROR line of a request that reached the function without an IAM caller identity. */
export const CALLER_UNIDENTIFIED_LOG_MESSAGE =
  'request refused: no IAM caller identity (is the route IAM-authorized?)';

/**
 * The caller's AWS account, as API Gateway's IAM authorizer names it in the event; undefined without one (a route
 * without IAM authorization, or an invocation that did not come through the route).
 */
export function callerAccountOf(event: APIGatewayProxyEventV2WithIAMAuthorizer): string | undefined {
  const account = event.requestContext?.authorizer?.iam?.accountId;
  return typeof account === 'string' && account !== '' ? account : undefined;
}

/**
 * The key of the idempotency record: the caller's AWS account and the header's key. Two callers of different
 * accounts who happen to pick the same key do not see each other's answers. (Not the caller's ARN: an assumed
 * role's session name changes between sessions, and a retry must still find its key.) A request without a caller
 * identity has no key space: refused (the handler answers it with a 500 before it gets here), never given a shared
 * one where every unidentified caller would read the others' answers.
 */
export function scopedKey(event: APIGatewayProxyEventV2WithIAMAuthorizer, idempotencyKey: string): string {
  const account = callerAccountOf(event);
  if (account === undefined) {
    throw new Error(
      'the request has no IAM caller identity: its Idempotency-Key has no key space to belong to',
    );
  }
  return `${account}#${idempotencyKey}`;
}

/** The answer to a request that failed after validation: which kind, what it means for the caller. */
function failureResponse(
  error: unknown,
  context: { requestId?: string; idempotencyKey: string },
): APIGatewayProxyStructuredResultV2 {
  const mismatch = findInChain(error, (link) => link instanceof PayloadMismatchError);
  if (mismatch) {
    return problemResponse(
      'idempotencyKeyReused',
      'this Idempotency-Key was first used with another request body; a retry must send the same body. Use a new ' +
        'key for a new order. Nothing was enqueued.',
      context,
    );
  }
  if (findInChain(error, (link) => link instanceof IdempotencyAlreadyInProgressError)) {
    return problemResponse(
      'requestInProgress',
      'the first request with this Idempotency-Key has not finished yet; retry with the same key and body after ' +
        'Retry-After seconds to get its answer. Nothing was enqueued by this request.',
      { ...context, headers: { 'Retry-After': String(RETRY_AFTER_SECONDS.inProgress) } },
    );
  }
  if (error instanceof DeadlineError || isTransientDependencyError(error) || noAnswer(error)) {
    return problemResponse(
      'temporarilyUnavailable',
      'a service the order depends on (its queue, or the idempotency store) did not answer in time. The order was ' +
        'not accepted; retry with the same Idempotency-Key and body after Retry-After seconds.',
      { ...context, headers: { 'Retry-After': String(RETRY_AFTER_SECONDS.unavailable) } },
    );
  }
  if (error instanceof InvalidPayloadError) {
    return problemResponse('invalidBody', error.message, context);
  }
  return problemResponse(
    'internalError',
    `the order was not accepted: ${describeError(error).name}. Quote the requestId to the API's owners; retrying ` +
      'the same request will not help until they fix it.',
    context,
  );
}

/**
 * A call the service never answered: the SDK gave up without an HTTP response (a refused or reset connection, a
 * timeout). It wraps such errors ("AWS SDK error wrapper for Error: connect ECONNREFUSED ...") without the
 * system error's code, but with `$metadata` and no `httpStatusCode`. A later try can pass.
 */
function noAnswer(error: unknown): boolean {
  return (
    findInChain(error, (link) => {
      const metadata = (link as { $metadata?: { httpStatusCode?: number } }).$metadata;
      return metadata !== undefined && metadata.httpStatusCode === undefined;
    }) !== undefined
  );
}

function problemResponse(
  kind: ProblemKind,
  detail: string,
  options: {
    requestId?: string;
    idempotencyKey?: string;
    errors?: readonly ProblemIssue[];
    headers?: Record<string, string>;
  },
): APIGatewayProxyStructuredResultV2 {
  const body = problem(kind, detail, options);
  return {
    statusCode: body.status,
    headers: { 'Content-Type': PROBLEM_CONTENT_TYPE, ...options.headers },
    body: JSON.stringify(body),
  };
}

/** `application/json`, or any `+json` type (`application/vnd.acme.order+json`), with parameters. */
function isJson(contentType: string | undefined): boolean {
  return contentType !== undefined && /^application\/([\w.+-]+\+)?json\s*(;.*)?$/i.test(contentType.trim());
}

function bodyText(event: APIGatewayProxyEventV2WithIAMAuthorizer): string {
  const body = event.body ?? '';
  return event.isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
}

type ParsedOrder =
  | { readonly ok: true; readonly order: Order; readonly json: unknown }
  | { readonly ok: false; readonly detail: string; readonly errors: readonly ProblemIssue[] };

/** The body as an order of the domain's schema, or every issue with it. */
export function parseOrder(body: string): ParsedOrder {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    const detail = `the body is not JSON: ${(error as Error).message}`;
    return { ok: false, detail, errors: [{ pointer: '', detail }] };
  }
  const result = z.safeParse(domain.schema, json);
  if (!result.success) {
    const errors = result.error.issues.map((issue) => ({
      pointer: jsonPointer(issue.path),
      detail: issue.message,
    }));
    return {
      ok: false,
      detail: `the body is not a valid ${domain.recordName}: ${errors.length} issue${errors.length === 1 ? '' : 's'}, each in "errors".`,
      errors,
    };
  }
  return { ok: true, order: result.data, json };
}
