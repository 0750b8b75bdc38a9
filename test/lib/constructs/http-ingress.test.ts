/**
 * The http path's front door in the template: the route and its IAM authorization, the stage throttle, the access
 * logs, the function's reserved concurrency (chosen with the throttle), its permissions (send to that one queue
 * only), and the synth-time errors for bad settings, every one at once.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { ALARM_DEFAULTS, RUNBOOK } from '../../../lib/constructs/alarms';
import {
  ACCESS_LOG_FIELDS,
  concurrencyAdmitted,
  HTTP_ALARM_DEFAULTS,
  HTTP_INGRESS_DEFAULTS,
  HttpIngress,
  type HttpIngressProps,
  THROTTLED_REQUESTS_METRIC,
} from '../../../lib/constructs/http-ingress';
import { IdempotencyTable } from '../../../lib/constructs/idempotency-table';
import { nagFindings } from '../../helpers/nag';
import { errorThrownBy, logicalIdOf, testStack } from '../../helpers/synth';

/** The front door on a bare queue and table; `withTopic`: the alarms notify a topic of the test stack. */
function build(props: Partial<HttpIngressProps> = {}, options: { withTopic?: boolean } = {}) {
  const stack = testStack();
  const queue = new Queue(stack, 'Orders', { enforceSSL: true });
  const idempotencyTable = new IdempotencyTable(stack, 'Idempotency');
  const alarmTopic = options.withTopic ? new Topic(stack, 'Alarms', { enforceSSL: true }) : undefined;
  const ingress = new HttpIngress(stack, 'Http', { idempotencyTable, queue, alarmTopic, ...props });
  return { stack, queue, idempotencyTable, alarmTopic, ingress, template: Template.fromStack(stack) };
}

type AlarmProperties = {
  Namespace?: string;
  MetricName?: string;
  Dimensions?: unknown[];
  Metrics?: {
    Expression?: string;
    MetricStat?: { Metric: { MetricName: string; Dimensions?: unknown[] } };
  }[];
  Threshold: number;
  AlarmActions?: unknown[];
  AlarmDescription: string;
};

function alarmsOf(template: Template): AlarmProperties[] {
  return Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
    (alarm) => alarm.Properties as AlarmProperties,
  );
}

/** The metric names an alarm watches: its own, or those of its metric math. */
function watched(alarm: AlarmProperties): string[] {
  return alarm.MetricName
    ? [alarm.MetricName]
    : (alarm.Metrics ?? []).flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric.MetricName] : []));
}

describe('HttpIngress', () => {
  let built: ReturnType<typeof build>;
  beforeAll(() => {
    built = build();
  });

  it('routes POST /orders to the function, IAM-authorized, as a Lambda proxy with payload format 2.0', () => {
    const { template, ingress } = built;
    template.resourceCountIs('AWS::ApiGatewayV2::Route', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'POST /orders',
      AuthorizationType: 'AWS_IAM',
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
      IntegrationUri: { 'Fn::GetAtt': [logicalIdOf(ingress.function), 'Arn'] },
      TimeoutInMillis: 29_000,
    });
    // API Gateway may invoke the function for this route only.
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Principal: 'apigateway.amazonaws.com',
      SourceArn: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('/\\*/\\*/orders$')])] },
    });
  });

  it('throttles the stage (rate, burst) and gives the function the reserved concurrency that covers it', () => {
    const { template } = built;
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: {
        ThrottlingRateLimit: HTTP_INGRESS_DEFAULTS.rateLimit,
        ThrottlingBurstLimit: HTTP_INGRESS_DEFAULTS.burstLimit,
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: HTTP_INGRESS_DEFAULTS.reservedConcurrency,
      Timeout: HTTP_INGRESS_DEFAULTS.timeout.toSeconds(),
    });
    // The defaults satisfy the arithmetic exactly: 20 + 10 × 3 = 50.
    expect(
      concurrencyAdmitted(
        HTTP_INGRESS_DEFAULTS.rateLimit,
        HTTP_INGRESS_DEFAULTS.burstLimit,
        HTTP_INGRESS_DEFAULTS.timeout,
      ),
    ).toBe(HTTP_INGRESS_DEFAULTS.reservedConcurrency);
  });

  it('writes JSON access logs to a log group of its own, with a retention', () => {
    const { template, ingress } = built;
    const stage = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'))[0];
    const settings = stage.Properties.AccessLogSettings;
    expect(settings.DestinationArn).toEqual({ 'Fn::GetAtt': [logicalIdOf(ingress.accessLogGroup), 'Arn'] });
    expect(JSON.parse(settings.Format)).toEqual(ACCESS_LOG_FIELDS);
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('may send to that one queue and nothing else; no effect table, no other queue action', () => {
    const { template, ingress, queue } = built;
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^HttpIngress') }] },
    });
    const statements = Object.values(policies).flatMap(
      (policy) => policy.Properties.PolicyDocument.Statement as { Action: unknown; Resource: unknown }[],
    );
    const sqsStatements = statements.filter((s) => JSON.stringify(s.Action).includes('sqs:'));
    expect(sqsStatements).toEqual([
      { Action: 'sqs:SendMessage', Effect: 'Allow', Resource: { 'Fn::GetAtt': [logicalIdOf(queue), 'Arn'] } },
    ]);
    expect(JSON.stringify(statements)).not.toMatch(/dynamodb:(Query|Scan|BatchWriteItem)/);
    const env = Object.values(template.findResources('AWS::Lambda::Function'))[0].Properties.Environment
      .Variables;
    expect(env).toMatchObject({
      QUEUE_URL: { Ref: logicalIdOf(queue) },
      POWERTOOLS_SERVICE_NAME: 'http-ingress',
    });
    expect(env.EFFECT_TABLE_NAME).toBeUndefined();
    // The API's own endpoint (https://<api id>.execute-api.<region>.amazonaws.com) and the route's path.
    expect(Stack.of(ingress).resolve(ingress.ordersUrl)).toEqual({
      'Fn::Join': [
        '',
        [{ 'Fn::GetAtt': [logicalIdOf(ingress.api), 'ApiEndpoint'] }, HTTP_INGRESS_DEFAULTS.routePath],
      ],
    });
    expect(
      Stack.of(ingress).resolve(build({ routePath: '/v2/submissions' }).ingress.ordersUrl)['Fn::Join'][1][1],
    ).toBe('/v2/submissions');
  });

  it('alarms when Lambda throttles the function anyway', () => {
    built.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Throttles',
      Namespace: 'AWS/Lambda',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(logicalIdOf(built.ingress.throttleAlarm)).toMatch(/^HttpThrottleAlarm/);
  });

  it('alarms on every failure signal of the front door: each with dimensions, its runbook section, and the topic', () => {
    const { template, ingress, alarmTopic } = build({}, { withTopic: true });
    const alarms = alarmsOf(template);
    expect(alarms).toHaveLength(ingress.alarms.length);
    expect(alarms.flatMap(watched).sort()).toEqual(
      [
        '5xx',
        'Count',
        '4xx',
        // The 429 count, alone (ThrottledRequestsAlarm) and subtracted from the 4xx share (no second page).
        THROTTLED_REQUESTS_METRIC,
        THROTTLED_REQUESTS_METRIC,
        'Latency',
        'Errors',
        'Throttles',
        'Duration',
        'ConcurrentExecutions',
        'ReadThrottleEvents',
        'WriteThrottleEvents',
      ].sort(),
    );
    const runbooks = new Set<string>(Object.values(RUNBOOK));
    for (const alarm of alarms) {
      expect(alarm.AlarmActions).toEqual([{ Ref: logicalIdOf(alarmTopic!) }]);
      const runbook = /Runbook: docs\/operations\.md#([a-z0-9-]+)$/.exec(alarm.AlarmDescription);
      expect(runbooks).toContain(runbook?.[1]);
      const dimensioned = alarm.Metrics
        ? alarm.Metrics.flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric.Dimensions] : []))
        : [alarm.Dimensions];
      for (const dimensions of dimensioned) expect(dimensions?.length).toBeGreaterThan(0);
    }
    const api = { Name: 'ApiId', Value: { Ref: logicalIdOf(ingress.api) } };
    const stage = { Name: 'Stage', Value: '$default' };
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/ApiGateway',
      MetricName: '5xx',
      Dimensions: [api, stage],
      Threshold: HTTP_ALARM_DEFAULTS.serverErrors,
      AlarmDescription: Match.stringLikeRegexp(`#${RUNBOOK.httpServerErrors}$`),
    });
    // Latency near the request's deadline: the function timeout (below the integration timeout), at the 99th percentile.
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/ApiGateway',
      MetricName: 'Latency',
      ExtendedStatistic: 'p99',
      Dimensions: [api, stage],
      Threshold: Math.floor(
        HTTP_INGRESS_DEFAULTS.timeout.toMilliseconds() * HTTP_ALARM_DEFAULTS.latencyOfTimeout,
      ),
    });
    // The 4xx share, judged only with enough requests.
    const share = alarms.find((alarm) => alarm.Metrics !== undefined)!;
    expect(share.Metrics![0].Expression).toBe(
      `IF(requests >= ${HTTP_ALARM_DEFAULTS.clientErrorMinRequests}, 100 * (clientErrors - FILL(throttled, 0)) / requests, 0)`,
    );
    expect(share.Threshold).toBe(HTTP_ALARM_DEFAULTS.clientErrorShare * 100);
    // 429s from the access logs, by the API's id, which the access log line carries.
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      LogGroupName: { Ref: logicalIdOf(ingress.accessLogGroup) },
      FilterPattern: '{ $.status = "429" }',
      MetricTransformations: [
        Match.objectLike({
          MetricName: THROTTLED_REQUESTS_METRIC,
          MetricValue: '1',
          Dimensions: [{ Key: 'ApiId', Value: '$.apiId' }],
        }),
      ],
    });
    expect(ACCESS_LOG_FIELDS.apiId).toBe('$context.apiId');
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: THROTTLED_REQUESTS_METRIC,
      Dimensions: [api],
      Threshold: HTTP_ALARM_DEFAULTS.throttledRequests,
    });
    // The function's concurrency against its reserved concurrency; the idempotency table's throttling.
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ConcurrentExecutions',
      Threshold: Math.floor(HTTP_INGRESS_DEFAULTS.reservedConcurrency * ALARM_DEFAULTS.concurrencyOfCap),
      AlarmDescription: Match.stringLikeRegexp('reserved concurrency \\(50\\)'),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/DynamoDB',
      MetricName: 'WriteThrottleEvents',
      AlarmDescription: Match.stringLikeRegexp('answers 503 with Retry-After'),
    });
  });

  it('takes its alarm thresholds as props', () => {
    const { template } = build({
      timeout: Duration.seconds(10),
      reservedConcurrency: 200,
      alarmThresholds: {
        serverErrors: 5,
        clientErrorShare: 0.25,
        clientErrorMinRequests: 50,
        throttledRequests: 100,
        latencyOfTimeout: 0.5,
        concurrencyOfCap: 0.5,
      },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: '5xx', Threshold: 5 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Latency', Threshold: 5000 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: THROTTLED_REQUESTS_METRIC,
      Threshold: 100,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ConcurrentExecutions',
      Threshold: 100,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 25,
      Metrics: Match.arrayWith([
        Match.objectLike({
          Expression: 'IF(requests >= 50, 100 * (clientErrors - FILL(throttled, 0)) / requests, 0)',
        }),
      ]),
    });
  });

  it('has no unacknowledged cdk-nag finding (AwsSolutions and Serverless)', () => {
    // The test's bare queue has findings of its own (no DLQ): the stack test checks a real one.
    expect(nagFindings(built.stack).filter((finding) => finding.includes('TestStack/Http/'))).toEqual([]);
  });

  it('takes other settings', () => {
    const { template } = build({
      rateLimit: 100,
      burstLimit: 100,
      reservedConcurrency: 400,
      timeout: Duration.seconds(2),
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 100 },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 400,
      Timeout: 2,
    });
  });
});

describe('HttpIngress settings refused at synth', () => {
  it.each<[Partial<HttpIngressProps>, RegExp]>([
    [
      { reservedConcurrency: 49 },
      /reservedConcurrency \(49\) is below what the stage throttle admits at once: burstLimit \+ rateLimit × timeout = 20 \+ 10 × 3 = 50/,
    ],
    [{ rateLimit: 0 }, /rateLimit must be above 0 and at most 10000/],
    [{ rateLimit: 20_000 }, /rateLimit must be above 0/],
    [{ burstLimit: 0 }, /burstLimit must be a whole number from 1 to 5000/],
    [{ burstLimit: 2.5 }, /burstLimit must be a whole number/],
    [{ reservedConcurrency: 0 }, /reservedConcurrency must be a whole number from 1 to 900/],
    [{ timeout: Duration.seconds(29) }, /timeout must be from 1 second to 28 seconds/],
    [{ routePath: 'orders' }, /routePath must be a path such as \/orders/],
    [{ routePath: '/orders/{id}' }, /routePath must be a path/],
    [{ idempotencyExpiry: Duration.seconds(10) }, /idempotencyExpiry must be from 1 minute/],
    [{ memorySize: 64 }, /memorySize must be a whole number from 128/],
    [
      { alarmThresholds: { clientErrorShare: 0 } },
      /alarmThresholds.clientErrorShare must be a share from 0.01 to 1/,
    ],
    [
      { alarmThresholds: { latencyOfTimeout: 1.5 } },
      /alarmThresholds.latencyOfTimeout must be a share from 0.1/,
    ],
    [{ alarmThresholds: { serverErrors: 0 } }, /alarmThresholds.serverErrors must be a whole number from 1/],
    [
      { alarmThresholds: { throttledRequests: 2.5 } },
      /alarmThresholds.throttledRequests must be a whole number/,
    ],
  ])('%j', (props, message) => {
    expect(errorThrownBy(() => build(props), props).message).toMatch(message);
  });

  it('reports every broken rule at once', () => {
    const error = errorThrownBy(
      () =>
        build({ rateLimit: 0, burstLimit: 0, timeout: Duration.seconds(40), routePath: 'x', memorySize: 1 }),
      'five broken rules',
    );
    expect(error.message).toMatch(/^TestStack\/Http: 5 rules are broken/);
    for (const property of ['timeout', 'rateLimit', 'burstLimit', 'routePath', 'memorySize']) {
      expect(error.message).toMatch(new RegExp(`TestStack/Http: ${property} `));
    }
  });
});
