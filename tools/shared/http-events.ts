/**
 * API Gateway HTTP API events (payload format 2.0) as API Gateway builds them for a Lambda proxy integration with
 * IAM authorization, for everything that invokes the http path's function outside AWS: its tests, the local API
 * (local-api.ts) and, later, the simulator. Header names are in lower case, as API Gateway delivers them.
 */
import type { APIGatewayProxyEventV2WithIAMAuthorizer } from 'aws-lambda';
import { randomUUID } from 'node:crypto';

export interface HttpEventOptions {
  /** @default 'POST' */
  readonly method?: string;
  /** @default '/orders' */
  readonly path?: string;
  /** Request headers (any case; stored in lower case). */
  readonly headers?: Readonly<Record<string, string>>;
  /** The body as sent; objects are JSON-encoded. @default none */
  readonly body?: unknown;
  /** The caller's AWS account (IAM authorization). @default '123456789012' */
  readonly accountId?: string;
  /** @default a fresh id */
  readonly requestId?: string;
  /** @default 'orders' */
  readonly stage?: string;
}

export const LOCAL_ACCOUNT_ID = '123456789012';

export function httpApiEvent(options: HttpEventOptions = {}): APIGatewayProxyEventV2WithIAMAuthorizer {
  const method = options.method ?? 'POST';
  const path = options.path ?? '/orders';
  const accountId = options.accountId ?? LOCAL_ACCOUNT_ID;
  const body =
    options.body === undefined
      ? undefined
      : typeof options.body === 'string'
        ? options.body
        : JSON.stringify(options.body);
  const headers = Object.fromEntries(
    Object.entries(options.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
  );
  const now = Date.now();
  const stage = options.stage ?? '$default';
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers,
    requestContext: {
      accountId: LOCAL_ACCOUNT_ID,
      apiId: 'localapi',
      authorizer: {
        iam: {
          accessKey: 'ASIALOCAL',
          accountId,
          callerId: 'AROALOCAL:session',
          cognitoIdentity: null as never,
          principalOrgId: null as never,
          userArn: `arn:aws:sts::${accountId}:assumed-role/local/session`,
          userId: 'AROALOCAL:session',
        },
      },
      domainName: 'localapi.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'localapi',
      http: {
        method,
        path,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: options.requestId ?? randomUUID(),
      routeKey: `${method} ${path}`,
      stage,
      time: new Date(now).toISOString(),
      timeEpoch: now,
    },
    ...(body !== undefined && { body, isBase64Encoded: false }),
  } as APIGatewayProxyEventV2WithIAMAuthorizer;
}
