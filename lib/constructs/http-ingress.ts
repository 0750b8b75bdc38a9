import * as path from 'node:path';
import { Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  HttpApi,
  HttpMethod,
  HttpStage,
  LogGroupLogDestination,
  type HttpRoute,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Alarm, ComparisonOperator, Stats, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';
import {
  assertDurationInRange,
  assertIntegerInRange,
  type Check,
  ConfigurationError,
  describeDuration,
  validateAll,
} from '../validation';
import { ConsumerFunction, consumerFunctionChecks, type ConsumerFunctionOptions } from './consumer-function';
import type { IdempotencyTable } from './idempotency-table';

/**
 * Limits of API Gateway HTTP APIs and Lambda that the http path's settings are checked against (AWS documentation:
 * "Amazon API Gateway quotas" for HTTP APIs, "Lambda quotas").
 */
export const HTTP_API_LIMITS = {
  /** An HTTP API's integration timeout: 30 seconds at most (CDK's `HttpLambdaIntegration` allows 29). */
  integrationTimeout: Duration.seconds(29),
  /** API Gateway's throttle per account and Region (a soft quota): 10,000 requests per second... */
  maxRateLimit: 10_000,
  /** ...with a burst of 5,000. A stage throttle above the account's never applies. */
  maxBurstLimit: 5_000,
  /** A function's reserved concurrency can be at most the account's concurrency less 100 (1,000 − 100 by default). */
  maxReservedConcurrency: 900,
} as const;

/** Defaults of {@link HttpIngressProps}, exported so the README's settings table and the tests name them. */
export const HTTP_INGRESS_DEFAULTS = {
  entry: path.join(__dirname, '..', '..', 'lambda', 'http-ingress', 'index.ts'),
  routePath: '/orders',
  timeout: Duration.seconds(3),
  reservedConcurrency: 50,
  rateLimit: 10,
  burstLimit: 20,
  idempotencyExpiry: Duration.hours(24),
} as const;

/**
 * Invocations the stage throttle can have running at once, at most: the burst, admitted at once, plus the steady
 * rate for as long as an invocation may last (its timeout: a request admitted now may still hold its concurrency
 * `timeout` seconds later). Little's law at the worst duration: `burstLimit + rateLimit × timeout`.
 */
export function concurrencyAdmitted(rateLimit: number, burstLimit: number, timeout: Duration): number {
  return burstLimit + rateLimit * timeout.toSeconds();
}

export interface HttpIngressProps extends ConsumerFunctionOptions {
  /** The table the Idempotency-Keys and their answers go to (the stack's idempotency table). */
  readonly idempotencyTable: IdempotencyTable;
  /** The queue accepted orders are sent to (the SQS consumer's source queue); the function may only send there. */
  readonly queue: IQueue;
  /**
   * The handler's entry file. @default lambda/http-ingress/index.ts of this repository
   */
  readonly entry?: string;
  /** The route's path; the route is `POST <routePath>`. @default '/orders' */
  readonly routePath?: string;
  /**
   * How long one request may run in the function: 1 to 28 seconds (below the HTTP API's 29-second integration
   * timeout, so a slow request ends in the function's own 503, never API Gateway's 504). Part of the throttle
   * arithmetic: every second it adds lets `rateLimit` more invocations run at once.
   * @default Duration.seconds(3): the handler bounds each DynamoDB and SQS call (lambda/shared/deadlines.ts) so
   *   that its worst case fits, and a healthy request takes tens of milliseconds
   */
  readonly timeout?: Duration;
  /**
   * The function's reserved concurrency: the most invocations it runs at once, reserved out of the account's pool
   * (so other functions cannot starve it, and it cannot starve them). Must be at least `burstLimit + rateLimit ×
   * timeout`: then the stage throttle refuses excess requests with a clean `429` before Lambda would throttle the
   * function, which API Gateway would answer with a `500`. The account keeps at least 100 unreserved.
   * @default 50
   */
  readonly reservedConcurrency?: number;
  /** The stage's steady-state rate limit, requests per second (> 0, at most 10,000). @default 10 */
  readonly rateLimit?: number;
  /** The stage's burst limit, requests (1 to 5,000). @default 20 */
  readonly burstLimit?: number;
  /**
   * How long an Idempotency-Key and its answer are kept: a retry with the key within this time gets the first
   * answer; after it the key is forgotten (a late retry would enqueue again, and the SQS consumer still applies the
   * order once by its orderId while its own record lives). At least a minute; well above any client's retry
   * deadline (30 seconds for tools/http-client by default).
   * @default Duration.hours(24)
   */
  readonly idempotencyExpiry?: Duration;
  /** What happens to the access log group on destroy. @default RemovalPolicy.DESTROY */
  readonly logRemovalPolicy?: RemovalPolicy;
  /** Where the alarm on Lambda throttles notifies. @default no action */
  readonly alarmTopic?: ITopic;
}

/**
 * The http path's front door: an API Gateway HTTP API with one IAM-authorized route, `POST /orders`, to the
 * ingress function (lambda/http-ingress/), which validates the order, enqueues it to `queue` and answers `202`.
 *
 * Overload is a clean `429`: the stage throttle (`rateLimit`, `burstLimit`) admits at most `burstLimit + rateLimit
 * × timeout` concurrent invocations, and the function's reserved concurrency is at least that (synth refuses
 * less), so API Gateway refuses the excess before Lambda would throttle the function. An alarm fires if Lambda
 * throttles it anyway (the account's own limits, or a changed setting). Access logs (JSON, one line per request)
 * go to a log group of their own.
 */
export class HttpIngress extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly route: HttpRoute;
  readonly ingress: ConsumerFunction;
  /** The ingress function (same as `ingress.function`). */
  readonly function: NodejsFunction;
  readonly accessLogGroup: LogGroup;
  /** In ALARM when Lambda throttled the function: callers got a 500 where the arithmetic promised a 429. */
  readonly throttleAlarm: Alarm;
  /** `https://<api id>.execute-api.<region>.amazonaws.com/orders` */
  readonly ordersUrl: string;
  readonly timeout: Duration;
  readonly reservedConcurrency: number;
  readonly rateLimit: number;
  readonly burstLimit: number;

  constructor(scope: Construct, id: string, props: HttpIngressProps) {
    super(scope, id);
    const defaults = HTTP_INGRESS_DEFAULTS;
    this.timeout = props.timeout ?? defaults.timeout;
    this.reservedConcurrency = props.reservedConcurrency ?? defaults.reservedConcurrency;
    this.rateLimit = props.rateLimit ?? defaults.rateLimit;
    this.burstLimit = props.burstLimit ?? defaults.burstLimit;
    const idempotencyExpiry = props.idempotencyExpiry ?? defaults.idempotencyExpiry;
    const routePath = props.routePath ?? defaults.routePath;

    validateAll(this, [
      ...httpIngressChecks(this, {
        timeout: this.timeout,
        reservedConcurrency: this.reservedConcurrency,
        rateLimit: this.rateLimit,
        burstLimit: this.burstLimit,
        routePath,
      }),
      ...consumerFunctionChecks(this, { ...props, timeout: this.timeout, idempotencyExpiry }),
    ]);

    this.ingress = new ConsumerFunction(this, 'Ingress', {
      entry: props.entry ?? defaults.entry,
      serviceName: 'http-ingress',
      description: 'POST /orders: validates an order, enqueues it, answers 202 (Idempotency-Key, Powertools)',
      idempotencyTable: props.idempotencyTable,
      timeout: this.timeout,
      memorySize: props.memorySize,
      idempotencyExpiry,
      logLevel: props.logLevel,
      logRetention: props.logRetention,
      environment: { QUEUE_URL: props.queue.queueUrl },
    });
    this.function = this.ingress.function;
    (this.function.node.defaultChild as CfnFunction).reservedConcurrentExecutions = this.reservedConcurrency;

    // Send to that one queue, and nothing else: not grantSendMessages, which adds GetQueueAttributes and GetQueueUrl.
    this.function.addToRolePolicy(
      new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [props.queue.queueArn] }),
    );
    props.queue.encryptionMasterKey?.grant(this.function, 'kms:GenerateDataKey', 'kms:Decrypt');

    this.accessLogGroup = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });

    this.api = new HttpApi(this, 'Api', {
      apiName: `${Stack.of(this).stackName}-orders`,
      description: `Submit orders: POST ${routePath} (IAM authorization, Idempotency-Key required)`,
      createDefaultStage: false,
    });
    this.stage = new HttpStage(this, 'Stage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: this.rateLimit, burstLimit: this.burstLimit },
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogGroup),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });
    [this.route] = this.api.addRoutes({
      path: routePath,
      methods: [HttpMethod.POST],
      integration: new HttpLambdaIntegration('Submit', this.function, {
        timeout: HTTP_API_LIMITS.integrationTimeout,
      }),
      authorizer: new HttpIamAuthorizer(),
    });
    this.ordersUrl = `${this.api.apiEndpoint}${routePath}`;

    this.throttleAlarm = new Alarm(this, 'ThrottleAlarm', {
      alarmDescription:
        'Lambda throttled the http ingress function: callers got a 500 from API Gateway where the stage throttle ' +
        'should have answered 429. Check reservedConcurrency >= burstLimit + rateLimit x timeout, and the ' +
        "account's concurrency (docs/http-path.md).",
      metric: this.function.metricThrottles({ period: Duration.minutes(1), statistic: Stats.SUM }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    if (props.alarmTopic) this.throttleAlarm.addAlarmAction(new SnsAction(props.alarmTopic));

    acknowledgeHttpIngressNagFindings(this.function);
  }
}

/**
 * One JSON line per request (API Gateway's `$context` variables for HTTP APIs): who called (the IAM caller's
 * account and ARN), what came back (status, the function's status, API Gateway's error), and how long it took.
 */
export const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  routeKey: '$context.routeKey',
  status: '$context.status',
  responseLength: '$context.responseLength',
  responseLatencyMs: '$context.responseLatency',
  integrationStatus: '$context.integrationStatus',
  integrationLatencyMs: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
  error: '$context.error.message',
  errorType: '$context.error.responseType',
  callerAccountId: '$context.identity.accountId',
  callerArn: '$context.identity.userArn',
  sourceIp: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  protocol: '$context.protocol',
} as const;

/** The settings {@link httpIngressChecks} checks. */
export interface HttpIngressSettings {
  readonly timeout: Duration;
  readonly reservedConcurrency: number;
  readonly rateLimit: number;
  readonly burstLimit: number;
  readonly routePath: string;
}

/** The http path's rules, each a {@link Check}, so one synth reports every broken one. */
export function httpIngressChecks(scope: IConstruct, settings: HttpIngressSettings): Check[] {
  const { timeout, reservedConcurrency, rateLimit, burstLimit, routePath } = settings;
  return [
    () =>
      assertDurationInRange(
        scope,
        'timeout',
        timeout,
        Duration.seconds(1),
        Duration.seconds(HTTP_API_LIMITS.integrationTimeout.toSeconds() - 1),
        `below the HTTP API's ${describeDuration(HTTP_API_LIMITS.integrationTimeout)} integration timeout, so a slow request ends in the function's 503, not API Gateway's 504`,
      ),
    () => {
      if (Token.isUnresolved(rateLimit)) return;
      if (!(rateLimit > 0) || rateLimit > HTTP_API_LIMITS.maxRateLimit) {
        throw new ConfigurationError(
          scope,
          'rateLimit',
          `must be above 0 and at most ${HTTP_API_LIMITS.maxRateLimit} requests per second (API Gateway's account throttle), got ${rateLimit}.`,
        );
      }
    },
    () =>
      assertIntegerInRange(
        scope,
        'burstLimit',
        burstLimit,
        1,
        HTTP_API_LIMITS.maxBurstLimit,
        "API Gateway's account burst",
      ),
    () =>
      assertIntegerInRange(
        scope,
        'reservedConcurrency',
        reservedConcurrency,
        1,
        HTTP_API_LIMITS.maxReservedConcurrency,
        'Lambda keeps 100 of the default 1,000 unreserved',
      ),
    () => {
      if ([rateLimit, burstLimit, reservedConcurrency].some((value) => Token.isUnresolved(value))) return;
      if (timeout.isUnresolved()) return;
      const admitted = concurrencyAdmitted(rateLimit, burstLimit, timeout);
      if (admitted > reservedConcurrency) {
        throw new ConfigurationError(
          scope,
          'reservedConcurrency',
          `(${reservedConcurrency}) is below what the stage throttle admits at once: burstLimit + rateLimit × timeout = ` +
            `${burstLimit} + ${rateLimit} × ${timeout.toSeconds()} = ${admitted}. Lambda would then throttle the function ` +
            'and callers would get a 500 from API Gateway instead of a clean 429. Raise reservedConcurrency to at least ' +
            `${Math.ceil(admitted)}, or lower rateLimit, burstLimit or timeout.`,
        );
      }
    },
    () => {
      if (!/^\/[A-Za-z0-9._~\-/]*$/.test(routePath) || routePath.endsWith('/') || routePath.includes('//')) {
        throw new ConfigurationError(
          scope,
          'routePath',
          `must be a path such as /orders (a leading slash, no trailing slash, no parameters), got "${routePath}".`,
        );
      }
    },
  ];
}

/** cdk-nag findings that do not fit the ingress function, acknowledged with the reason. */
function acknowledgeHttpIngressNagFindings(fn: IConstruct): void {
  Validations.of(fn).acknowledge({
    id: 'Serverless-LambdaDLQ',
    reason:
      'A function dead-letter queue only receives failed asynchronous invocations; API Gateway invokes this ' +
      'function synchronously, and every failure is answered to the caller (a 503 with Retry-After, or a problem ' +
      'document), whose client retries with the same Idempotency-Key (tools/http-client/).',
  });
}
