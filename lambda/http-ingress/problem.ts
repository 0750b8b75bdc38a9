/**
 * Error answers as Problem Details for HTTP APIs (RFC 9457): `Content-Type: application/problem+json`, a body with
 * `type` (a URI naming the kind of problem; the same kind always has the same type), `title` (a short summary of
 * that kind, the same every time), `status` (the HTTP status code, repeated for readers of the body alone) and
 * `detail` (what went wrong with this request, in words a person acts on). Validation problems carry every issue
 * in `errors`, each with a JSON Pointer (RFC 6901) to the field and what is wrong with it, as RFC 9457's own
 * example of an extension member does.
 *
 * Pure: no AWS, no I/O. The kinds are the contract of the `http` path, listed with their status codes and the
 * tests that show them in docs/http-path.md.
 */

/** One validation issue: where (a JSON Pointer into the request body, `''` for the whole body) and what. */
export interface ProblemIssue {
  readonly pointer: string;
  readonly detail: string;
}

/** The body of an error answer (RFC 9457 members, and this API's extension members). */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  /** Every validation issue (400 invalid-body only). */
  readonly errors?: readonly ProblemIssue[];
  /** The request id API Gateway gave the request: what to quote when asking the API's owners about it. */
  readonly requestId?: string;
  /** The request's `Idempotency-Key`, when it had a usable one. */
  readonly idempotencyKey?: string;
}

/** The kinds of problem this API answers with: status, the type's last segment and the fixed title. */
export const PROBLEMS = {
  missingIdempotencyKey: {
    status: 400,
    slug: 'missing-idempotency-key',
    title: 'Idempotency-Key header required',
  },
  invalidIdempotencyKey: {
    status: 400,
    slug: 'invalid-idempotency-key',
    title: 'Idempotency-Key header malformed',
  },
  invalidBody: { status: 400, slug: 'invalid-body', title: 'Request body is not a valid order' },
  methodNotAllowed: { status: 405, slug: 'method-not-allowed', title: 'Method not allowed' },
  requestInProgress: {
    status: 409,
    slug: 'request-in-progress',
    title: 'A request with this Idempotency-Key is still in progress',
  },
  unsupportedMediaType: {
    status: 415,
    slug: 'unsupported-media-type',
    title: 'Request body must be application/json',
  },
  idempotencyKeyReused: {
    status: 422,
    slug: 'idempotency-key-reused',
    title: 'Idempotency-Key already used with another request body',
  },
  internalError: { status: 500, slug: 'internal-error', title: 'The request failed on the server' },
  callerUnidentified: {
    status: 500,
    slug: 'caller-unidentified',
    title: 'The request reached the function without an IAM caller identity',
  },
  temporarilyUnavailable: {
    status: 503,
    slug: 'temporarily-unavailable',
    title: 'The order could not be accepted now; try again later',
  },
} as const;

export type ProblemKind = keyof typeof PROBLEMS;

/**
 * The `type` URI of a kind: a URN, so it names the kind without promising a page at an address (RFC 9457 §3.1.1
 * allows a non-resolvable URI). A fork renames the prefix with its API.
 */
export const PROBLEM_TYPE_PREFIX = 'urn:reliable-lambda:problem:';

export function problemType(kind: ProblemKind): string {
  return `${PROBLEM_TYPE_PREFIX}${PROBLEMS[kind].slug}`;
}

/** The problem body of `kind` with this request's `detail` and extension members. */
export function problem(
  kind: ProblemKind,
  detail: string,
  extensions: Partial<Pick<Problem, 'errors' | 'requestId' | 'idempotencyKey'>> = {},
): Problem {
  const { status, title } = PROBLEMS[kind];
  return {
    type: problemType(kind),
    title,
    status,
    detail,
    ...(extensions.errors && { errors: extensions.errors }),
    ...(extensions.requestId && { requestId: extensions.requestId }),
    ...(extensions.idempotencyKey && { idempotencyKey: extensions.idempotencyKey }),
  };
}

/** A JSON Pointer (RFC 6901) to `path`: `['lines', 0, 'sku']` → `/lines/0/sku`; `[]` → `''` (the whole body). */
export function jsonPointer(path: readonly PropertyKey[]): string {
  return path.map((segment) => `/${String(segment).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/** The media type of problem answers. */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
