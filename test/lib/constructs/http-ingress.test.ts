/**
 * The http path's front door in the template: the route and its IAM authorization, the stage throttle, the access
 * logs, the function's reserved concurrency (chosen with the throttle), its permissions (send to that one queue
 * only), and the synth-time errors for bad settings, every one at once.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import {
  ACCESS_LOG_FIELDS,
  concurrencyAdmitted,
  HTTP_INGRESS_DEFAULTS,
  HttpIngress,
  type HttpIngressProps,
} from '../../../lib/constructs/http-ingress';
import { IdempotencyTable } from '../../../lib/constructs/idempotency-table';
import { nagFindings } from '../../helpers/nag';
import { errorThrownBy, logicalIdOf, testStack } from '../../helpers/synth';

function build(props: Partial<HttpIngressProps> = {}) {
  const stack = testStack();
  const queue = new Queue(stack, 'Orders', { enforceSSL: true });
  const idempotencyTable = new IdempotencyTable(stack, 'Idempotency');
  const ingress = new HttpIngress(stack, 'Http', { idempotencyTable, queue, ...props });
  return { stack, queue, ingress, template: Template.fromStack(stack) };
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
    expect(Stack.of(ingress).resolve(ingress.ordersUrl)).toEqual(expect.anything());
  });

  it('alarms when Lambda throttles the function anyway', () => {
    built.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Throttles',
      Namespace: 'AWS/Lambda',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
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
