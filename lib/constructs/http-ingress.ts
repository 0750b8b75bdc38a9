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
import { Alarm, MathExpression, Metric, Stats } from 'aws-cdk-lib/aws-cloudwatch';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { FilterPattern, LogGroup, MetricFilter, RetentionDays } from 'aws-cdk-lib/aws-logs';
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
import {
  ALARM_DEFAULTS,
  type AlarmOptions,
  type AlarmThresholds,
  alarmThresholdChecks,
  PathAlarms,
  RUNBOOK,
} from './alarms';
import {
  ConsumerFunction,
  consumerFunctionChecks,
  type ConsumerFunctionOptions,
  DEFAULT_METRICS_NAMESPACE,
} from './consumer-function';
import { DASHBOARD_PERIOD, line, type PathFlow } from './dashboard';
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
 * The thresholds of the http path's alarms: the function's and the idempotency table's (as on every path), and the
 * API's own. Counts are per 5 minutes.
 */
export interface HttpAlarmThresholds extends Pick<
  AlarmThresholds,
  'errors' | 'throttles' | 'durationOfTimeout' | 'concurrencyOfCap' | 'concurrencyCap' | 'tableThrottleEvents'
> {
  /**
   * `5xx` answers (API Gateway's and the function's: 500, 502, 503, 504) per 5 minutes. A `503` is a dependency
   * that did not answer, API Gateway's own `5xx` a function that crashed, timed out or was throttled (the caller
   * retries both with the same key), a `500` problem document a failure no retry fixes.
   * @default 1
   */
  readonly serverErrors?: number;
  /**
   * The share of requests answered `4xx` (400, 403, 409, 415, 422, 429) in 5 minutes at which the client-error
   * alarm fires (0.01 to 1), counted only when at least `clientErrorMinRequests` requests came: a few callers'
   * mistakes in a quiet period are not an incident; a share this high is a broken client, a changed contract, or
   * callers turned away by the throttle.
   * @default 0.1 (10 %)
   */
  readonly clientErrorShare?: number;
  /**
   * The fewest requests in 5 minutes for which the client-error share is judged at all.
   * @default 20
   */
  readonly clientErrorMinRequests?: number;
  /**
   * Requests refused by the stage throttle with `429` per 5 minutes (from the access logs: an HTTP API publishes no
   * metric of its own for them). Clients back off and retry; sustained 429s turn away legitimate load.
   * @default 10
   */
  readonly throttledRequests?: number;
  /**
   * The share of a request's deadline (the function timeout, or API Gateway's 29-second integration timeout if that
   * is shorter) at which the latency alarm fires on the 99th percentile of 5 minutes (0.1 to 1): past the
   * deadline a caller gets API Gateway's `500`/`504` instead of the function's answer.
   * @default 0.8
   */
  readonly latencyOfTimeout?: number;
}

/** The defaults of {@link HttpAlarmThresholds} beyond {@link ALARM_DEFAULTS}. */
export const HTTP_ALARM_DEFAULTS = {
  serverErrors: 1,
  clientErrorShare: 0.1,
  clientErrorMinRequests: 20,
  throttledRequests: 10,
  latencyOfTimeout: 0.8,
} as const;

/**
 * The metric the access logs' metric filter writes: one per request the stage throttle refused with `429`, in the
 * business metrics' namespace, dimension `ApiId`.
 */
export const THROTTLED_REQUESTS_METRIC = 'ThrottledRequests';

/**
 * Invocations the stage throttle can have running at once, at most: the burst, admitted at once, plus the steady
 * rate for as long as an invocation may last (its timeout: a request admitted now may still hold its concurrency
 * `timeout` seconds later). Little's law at the worst duration: `burstLimit + rateLimit × timeout`.
 */
export function concurrencyAdmitted(rateLimit: number, burstLimit: number, timeout: Duration): number {
  return burstLimit + rateLimit * timeout.toSeconds();
}

export interface HttpIngressProps extends ConsumerFunctionOptions, Omit<AlarmOptions, 'alarmThresholds'> {
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
  /**
   * The alarms' thresholds ({@link HttpAlarmThresholds}); each unset one takes its default.
   * @default the defaults
   */
  readonly alarmThresholds?: HttpAlarmThresholds;
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
 *
 * Alarms (lib/constructs/alarms.ts; each with its dimensions, its meaning, its runbook section, and `alarmTopic`
 * as its action): the API's `5xx` answers, its `4xx` share, the `429`s of the throttle (a metric filter on the
 * access logs), its latency near the request's deadline; the function's errors, throttles, duration near the
 * timeout and concurrency near its reserved concurrency; the idempotency table's throttling. There is no failure
 * store: a synchronous path answers every failure to its caller.
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
  /** Every alarm of the front door, `throttleAlarm` included; each notifies `alarmTopic`. */
  readonly alarms: readonly Alarm[];
  /** The front door's row of the stage dashboard (lib/constructs/dashboard.ts). */
  readonly flow: PathFlow;
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
      ...httpAlarmThresholdChecks(this, props.alarmThresholds),
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
      metricsNamespace: props.metricsNamespace,
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

    // API Gateway publishes no metric of the requests its throttle refused: count the access logs' 429 lines.
    const metricsNamespace = props.metricsNamespace ?? DEFAULT_METRICS_NAMESPACE;
    new MetricFilter(this, 'ThrottledRequestsFilter', {
      logGroup: this.accessLogGroup,
      filterPattern: FilterPattern.stringValue('$.status', '=', '429'),
      metricNamespace: metricsNamespace,
      metricName: THROTTLED_REQUESTS_METRIC,
      metricValue: '1',
      dimensions: { ApiId: '$.apiId' },
    });
    const throttledRequests = new Metric({
      namespace: metricsNamespace,
      metricName: THROTTLED_REQUESTS_METRIC,
      dimensionsMap: { ApiId: this.api.apiId },
      statistic: Stats.SUM,
      period: ALARM_DEFAULTS.period,
    });

    const alarms = httpIngressAlarms(this, {
      stage: this.stage,
      fn: this.function,
      table: props.idempotencyTable,
      throttledRequests,
      timeout: this.timeout,
      reservedConcurrency: this.reservedConcurrency,
      options: props,
    });
    this.throttleAlarm = alarms.throttles;
    this.alarms = alarms.all;
    this.flow = httpIngressFlow(this.stage, this.function, throttledRequests, routePath);

    acknowledgeHttpIngressNagFindings(this.function);
  }
}

/** The front door's alarms, built with the shared builders (lib/constructs/alarms.ts) and its own. */
function httpIngressAlarms(
  scope: Construct,
  subjects: {
    readonly stage: HttpStage;
    readonly fn: NodejsFunction;
    readonly table: IdempotencyTable;
    readonly throttledRequests: Metric;
    readonly timeout: Duration;
    readonly reservedConcurrency: number;
    readonly options: HttpIngressProps;
  },
): { readonly throttles: Alarm; readonly all: readonly Alarm[] } {
  const t = subjects.options.alarmThresholds ?? {};
  const d = HTTP_ALARM_DEFAULTS;
  const alarms = new PathAlarms(scope, {
    alarmTopic: subjects.options.alarmTopic,
    alarmThresholds: t,
    label: 'HTTP ingress',
  });
  const period = ALARM_DEFAULTS.period;
  const serverErrors = t.serverErrors ?? d.serverErrors;
  alarms.alarm('ServerErrorsAlarm', {
    metric: subjects.stage.metricServerError({ period, statistic: Stats.SUM }),
    threshold: serverErrors,
    meaning:
      `callers got ${serverErrors} or more 5xx answers in 5 minutes: 503 (the queue or the idempotency store did not ` +
      'answer; the caller retries with the same key), 500 problem documents (a failure no retry fixes), ' +
      "API Gateway's own 5xx without a problem document (the function crashed, timed out or was throttled: " +
      'integrationError in the access log; the caller retries with the same key). The access logs (status, ' +
      'integrationError) and the ingress log group (by requestId) say which.',
    runbook: RUNBOOK.httpServerErrors,
  });
  const share = t.clientErrorShare ?? d.clientErrorShare;
  const minRequests = t.clientErrorMinRequests ?? d.clientErrorMinRequests;
  alarms.alarm('ClientErrorShareAlarm', {
    metric: new MathExpression({
      // Judged only with enough requests: 1 refused of 2 in a quiet period is no incident. The stage throttle's 429s
      // are left out (ThrottledRequestsAlarm pages for them), so an overload pages once, not twice; the throttle's
      // metric has no data point in a period without a 429, hence FILL.
      expression: `IF(requests >= ${minRequests}, 100 * (clientErrors - FILL(throttled, 0)) / requests, 0)`,
      usingMetrics: {
        requests: subjects.stage.metricCount({ period, statistic: Stats.SUM }),
        clientErrors: subjects.stage.metricClientError({ period, statistic: Stats.SUM }),
        throttled: subjects.throttledRequests.with({ period, statistic: Stats.SUM }),
      },
      period,
      label: '4xx but 429, % of requests',
    }),
    threshold: Math.round(share * 100 * 100) / 100,
    meaning:
      `${Math.round(share * 100)} % or more of the requests of 5 minutes (at least ${minRequests}) were answered 4xx ` +
      "other than the throttle's 429 (ThrottledRequestsAlarm): a client sending invalid orders or no " +
      'Idempotency-Key (400), unsigned requests (403), keys reused with other bodies (422). The access logs (status, ' +
      'errorType) say which; callers must fix their requests, except for 409, which they retry.',
    runbook: RUNBOOK.httpClientErrors,
  });
  const throttled = t.throttledRequests ?? d.throttledRequests;
  alarms.alarm('ThrottledRequestsAlarm', {
    metric: subjects.throttledRequests,
    threshold: throttled,
    meaning:
      `the stage throttle refused ${throttled} or more requests with 429 in 5 minutes: callers back off and retry ` +
      'with the same Idempotency-Key, but sustained 429s turn load away. Legitimate load: raise rateLimit and ' +
      'burstLimit together with reservedConcurrency (reservedConcurrency >= burstLimit + rateLimit x timeout).',
    runbook: RUNBOOK.httpThrottledRequests,
  });
  const deadline =
    subjects.timeout.toSeconds() < HTTP_API_LIMITS.integrationTimeout.toSeconds()
      ? subjects.timeout
      : HTTP_API_LIMITS.integrationTimeout;
  const latencyShare = t.latencyOfTimeout ?? d.latencyOfTimeout;
  alarms.alarm('LatencyAlarm', {
    metric: subjects.stage.metricLatency({ period, statistic: Stats.percentile(99) }),
    threshold: Math.floor(deadline.toMilliseconds() * latencyShare),
    meaning:
      `the 99th percentile of the requests' latency reached ${Math.round(latencyShare * 100)} % of their ` +
      `${describeDuration(deadline)} deadline (the function timeout; API Gateway's integration timeout is ` +
      `${describeDuration(HTTP_API_LIMITS.integrationTimeout)}): past it callers get API Gateway's error instead of ` +
      "the function's answer. Look at IntegrationLatency and the function's Duration: a slow queue or idempotency store.",
    runbook: RUNBOOK.httpLatency,
  });
  const fnAlarms = alarms.functionAlarms(subjects.fn, {
    timeout: subjects.timeout,
    concurrencyCap: subjects.reservedConcurrency,
    capName: "the function's reserved concurrency",
    // The alarm keeps its id from before the path had a full set (the stack's IngressThrottleAlarmName output).
    throttlesAlarmId: 'ThrottleAlarm',
    meanings: {
      errors:
        'invocations failed as a whole (a crash, an out of memory, a timeout): API Gateway answered those callers ' +
        'with its own 5xx, no problem document (integrationError in the access log). A retry with the same ' +
        'Idempotency-Key is safe. The handler answers every failure it expects itself, so each of these is a bug ' +
        'or a timeout: read the ERROR lines of the ingress log group.',
      throttles:
        'Lambda throttled the function: callers got a 500 from API Gateway where the stage throttle should have ' +
        "answered 429. Check reservedConcurrency >= burstLimit + rateLimit x timeout, and the account's concurrency.",
      duration:
        "close to being killed mid-request (the caller then gets API Gateway's own 5xx, and the order may be " +
        'enqueued without its answer stored: a retry sends it again, applied once by its business key downstream).',
      concurrency:
        'at the cap Lambda throttles and callers get 500s. The stage throttle should keep it below: check the ' +
        'throttle arithmetic and the function duration.',
    },
  });
  alarms.tableThrottles(
    'IdempotencyTable',
    subjects.table.table,
    'the idempotency table (the Idempotency-Keys)',
    'the ingress answers 503 with Retry-After at once (no waiting inside a request), and callers retry with the ' +
      'same key; sustained throttling refuses orders.',
  );
  return { throttles: fnAlarms.throttles, all: alarms.all };
}

/** The front door's row of the stage dashboard: requests, their answers, latency, the function. */
function httpIngressFlow(
  stage: HttpStage,
  fn: NodejsFunction,
  throttledRequests: Metric,
  routePath: string,
): PathFlow {
  const requests = stage.metricCount({ period: DASHBOARD_PERIOD, statistic: Stats.SUM });
  const clientErrors = stage.metricClientError({ period: DASHBOARD_PERIOD, statistic: Stats.SUM });
  const serverErrors = stage.metricServerError({ period: DASHBOARD_PERIOD, statistic: Stats.SUM });
  return {
    title: 'HTTP → Lambda → SQS (HttpIngress)',
    summary:
      `POST ${routePath}, IAM-authorized, throttled by the stage: each request answered 202, or refused to the caller ` +
      "with a problem+json 4xx/5xx or API Gateway's 429; accepted orders continue on the queue row below.",
    titles: {
      in: 'Requests',
      processed: 'Accepted (2xx)',
      failed: 'Refused or failed (4xx, 429, 5xx)',
      failureStores: 'No DLQ: failures go to the caller',
      age: 'Latency (ms)',
      business: 'The function',
    },
    in: [line(requests, 'requests')],
    processed: [
      new MathExpression({
        // An HTTP API publishes Count, 4xx and 5xx, not 2xx.
        expression: 'requests - clientErrors - serverErrors',
        usingMetrics: { requests, clientErrors, serverErrors },
        period: DASHBOARD_PERIOD,
        label: '2xx (requests − 4xx − 5xx)',
      }),
    ],
    failed: [
      line(clientErrors, '4xx'),
      line(throttledRequests, '429 (throttle, from the access logs)'),
      line(serverErrors, '5xx'),
    ],
    failureStores: [],
    noFailureStore:
      'A synchronous invocation has no retries and no dead-letter queue: every failure is answered to the caller ' +
      '(4xx: fix the request; 409, 429, 503 and gateway errors: retry with the same Idempotency-Key). ' +
      'Runbook: docs/operations.md, "HTTP 5xx answers".',
    age: [
      line(stage.metricLatency(), 'latency p50', Stats.percentile(50)),
      line(stage.metricLatency(), 'latency p99', Stats.percentile(99)),
      line(stage.metricIntegrationLatency(), 'integration p99', Stats.percentile(99)),
    ],
    business: [
      line(fn.metricErrors(), 'errors'),
      line(fn.metricThrottles(), 'throttles'),
      line(fn.metric('ConcurrentExecutions'), 'concurrent (max)', Stats.MAXIMUM),
    ],
  };
}

/** The checks of {@link HttpAlarmThresholds}: shares and counts in range. */
export function httpAlarmThresholdChecks(scope: IConstruct, thresholds: HttpAlarmThresholds = {}): Check[] {
  const share = (property: keyof HttpAlarmThresholds, value: number | undefined, min: number): Check => {
    return () => {
      if (value === undefined || Token.isUnresolved(value)) return;
      if (!(value >= min && value <= 1)) {
        throw new ConfigurationError(
          scope,
          `alarmThresholds.${property}`,
          `must be a share from ${min} to 1, got ${value}.`,
        );
      }
    };
  };
  const count = (property: keyof HttpAlarmThresholds, value: number | undefined): Check => {
    return () => assertIntegerInRange(scope, `alarmThresholds.${property}`, value, 1, 1_000_000);
  };
  return [
    ...alarmThresholdChecks(scope, thresholds),
    share('clientErrorShare', thresholds.clientErrorShare, 0.01),
    share('latencyOfTimeout', thresholds.latencyOfTimeout, 0.1),
    count('serverErrors', thresholds.serverErrors),
    count('clientErrorMinRequests', thresholds.clientErrorMinRequests),
    count('throttledRequests', thresholds.throttledRequests),
  ];
}

/**
 * One JSON line per request (API Gateway's `$context` variables for HTTP APIs): who called (the IAM caller's
 * account and ARN), what came back (status, the function's status, API Gateway's error), and how long it took.
 */
export const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  // The API's id: the dimension of the throttled-requests metric its metric filter writes.
  apiId: '$context.apiId',
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
