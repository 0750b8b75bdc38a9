import { Token } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { alarmTopicNameOf, metricsNamespaceOf } from '../../../lib/config';
import { HTTP_INGRESS_DEFAULTS } from '../../../lib/constructs/http-ingress';
import { HttpIngestionStack } from '../../../lib/stacks/http-ingestion-stack';
import { logicalIdOf, testApp } from '../../helpers/synth';
import { expectConsumerUsesStackTable, PROD, SANDBOX } from './stack-fixtures';

describe('HttpIngestionStack', () => {
  let stack: HttpIngestionStack;
  let template: Template;

  beforeAll(() => {
    stack = new HttpIngestionStack(testApp(), 'Http', { config: SANDBOX });
    template = Template.fromStack(stack);
  });

  it('matches the snapshot (asset hashes masked)', () => {
    expect(template.toJSON()).toMatchSnapshot();
  });

  // cdk-nag (AwsSolutions and Serverless) on this stack as the app builds it: test/lib/app.test.ts, every stack in one synth.

  it('composes the front door and an SQS path of its own: accepted orders flow into its queue', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    template.resourceCountIs('AWS::SQS::Queue', 2);
    template.resourceCountIs('AWS::Lambda::Function', 2);
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    // The consumer's alarms (its dead-letter queue, and more) and the ingress's throttle alarm.
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Throttles',
      Namespace: 'AWS/Lambda',
    });
    template.hasResource('AWS::CloudWatch::Alarm', {
      Properties: { MetricName: 'ApproximateNumberOfMessagesVisible' },
    });
    expectConsumerUsesStackTable(
      stack,
      template,
      /^What the consumer applied: one item per customer and currency \(pk = customer#<customerId>#<currency>\)$/,
    );
    // The ingress sends to the consumer's queue and stores its keys in the stack's one idempotency table.
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: 'http-ingress',
          QUEUE_URL: { Ref: logicalIdOf(stack.sqsConsumer.queue) },
          IDEMPOTENCY_TABLE_NAME: { Ref: logicalIdOf(stack.idempotencyTable.table) },
        }),
      },
    });
  });

  it('takes removal policy and log retention from the stage, and lets props override both constructs', () => {
    for (const type of ['AWS::DynamoDB::Table', 'AWS::SQS::Queue']) {
      for (const resource of Object.values(template.findResources(type)))
        expect(resource.DeletionPolicy).toBe('Delete');
    }
    const kept = Template.fromStack(
      new HttpIngestionStack(testApp(), 'Http', {
        config: PROD,
        ingress: { rateLimit: 5, burstLimit: 5, reservedConcurrency: 20 },
        consumer: { batchSize: 5 },
      }),
    );
    for (const resource of Object.values(kept.findResources('AWS::DynamoDB::Table'))) {
      expect(resource.DeletionPolicy).toBe('Retain');
    }
    kept.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    kept.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 5 },
    });
    kept.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 5 });
  });

  it("routes every alarm of both parts to the stage's alarm topic, and gives the dashboard a row for each", () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(stack.httpIngress.alarms.length + stack.sqsConsumer.alarms.length);
    const topic = `:${alarmTopicNameOf(SANDBOX)}`;
    for (const alarm of alarms) {
      expect(JSON.stringify(alarm.Properties.AlarmActions)).toContain(topic);
    }
    // The access logs' 429s and the consumer's business metrics go to the stage's namespace.
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      MetricTransformations: [Match.objectLike({ MetricNamespace: metricsNamespaceOf(SANDBOX) })],
    });
    expect(stack.flows.map((flow) => flow.title)).toEqual([
      stack.httpIngress.flow.title,
      expect.stringMatching(/the queue behind the front door/),
    ]);
  });

  it('outputs the orders URL and what an operator reads', () => {
    template.hasOutput('OrdersUrl', {
      Value: {
        'Fn::Join': [
          '',
          [
            { 'Fn::GetAtt': [logicalIdOf(stack.httpIngress.api), 'ApiEndpoint'] },
            HTTP_INGRESS_DEFAULTS.routePath,
          ],
        ],
      },
    });
    for (const output of [
      'OrdersUrl',
      'ApiId',
      'AccessLogGroupName',
      'IngressFunctionName',
      'IngressLogGroupName',
      'IngressThrottleAlarmName',
      'QueueUrl',
      'DeadLetterQueueUrl',
      'DeadLetterQueueArn',
      'EffectTableName',
      'ConsumerFunctionName',
      'ConsumerLogGroupName',
      'DeadLetterQueueAlarmName',
    ]) {
      template.hasOutput(output, { Value: Match.anyValue() });
    }
  });

  it('is environment-agnostic and refers to no other stack', () => {
    expect(Token.isUnresolved(stack.account)).toBe(true);
    expect(JSON.stringify(template.toJSON())).not.toMatch(/Fn::ImportValue|Fn::GetStackOutput/);
  });
});
