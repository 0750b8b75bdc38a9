/**
 * The wiring checks of one deployed stack: for each resource of its deployed template whose settings carry the
 * failure handling (queues, event source mappings, event invoke configs, subscriptions, tables, alarms, bucket
 * notifications, functions, log groups, streams, buckets), the AWS API's answer is compared with the template
 * (tools/smoke/checks.ts). Resource types with nothing of that kind are counted on one line, not checked.
 */
import { GetRouteCommand, GetStageCommand } from '@aws-sdk/client-apigatewayv2';
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  DescribeContinuousBackupsCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import {
  GetEventSourceMappingCommand,
  GetFunctionConfigurationCommand,
  GetFunctionEventInvokeConfigCommand,
} from '@aws-sdk/client-lambda';
import { GetBucketNotificationConfigurationCommand, GetBucketVersioningCommand } from '@aws-sdk/client-s3';
import { GetSubscriptionAttributesCommand } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { type Clients, type DeployedStack, isNotFound } from './aws';
import {
  checkAlarm,
  checkBucket,
  checkBucketNotifications,
  checkEventInvokeConfig,
  checkEventSourceMapping,
  checkFunction,
  checkHttpRoute,
  checkHttpStage,
  checkLogGroup,
  checkOutputs,
  checkQueue,
  type CheckContext,
  type CheckResult,
  checkStream,
  checkSubscription,
  checkTable,
  failure,
} from './checks';
import { attributeOf, evaluateCondition, tryResolve } from './resolve';

/** The resource types the smoke test checks; others are listed as not checked (no failure handling of theirs). */
export const CHECKED_TYPES = [
  'AWS::SQS::Queue',
  'AWS::Lambda::EventSourceMapping',
  'AWS::Lambda::EventInvokeConfig',
  'AWS::SNS::Subscription',
  'AWS::DynamoDB::Table',
  'AWS::CloudWatch::Alarm',
  'Custom::S3BucketNotifications',
  'AWS::Lambda::Function',
  'AWS::Logs::LogGroup',
  'AWS::Kinesis::Stream',
  'AWS::S3::Bucket',
  'AWS::ApiGatewayV2::Route',
  'AWS::ApiGatewayV2::Stage',
] as const;

/** ARNs, URLs and names of the stack's resources → their logical ids, for readable lines. */
export function namesOf(stack: DeployedStack): (reference: string) => string | undefined {
  const names = new Map<string, string>();
  for (const resource of stack.resources.values()) {
    if (resource.physicalId) names.set(resource.physicalId, resource.logicalId);
    for (const attribute of ['Arn', 'TopicArn']) {
      try {
        names.set(attributeOf(resource, attribute, stack.context), resource.logicalId);
      } catch {
        // no such attribute for this type
      }
    }
  }
  for (const [logicalId, attributes] of stack.context.attributes ?? []) {
    for (const value of Object.values(attributes)) names.set(value, logicalId);
  }
  return (reference) => names.get(reference);
}

/** Runs every check of one stack. Never throws for an API error: it becomes the failing line of its check. */
export async function checkStack(
  clients: Clients,
  stack: DeployedStack,
  options: { emulator: boolean; label?: string },
): Promise<CheckResult[]> {
  const ctx: CheckContext = {
    stack: options.label ?? stack.stackName,
    emulator: options.emulator,
    nameOf: namesOf(stack),
  };
  const results: CheckResult[] = [];
  const healthy = /_COMPLETE$/.test(stack.status) && !/ROLLBACK|DELETE/.test(stack.status);
  results.push(
    healthy
      ? { stack: ctx.stack, subject: 'stack', status: 'pass', detail: stack.status }
      : failure(ctx, 'stack', `${stack.status}${stack.statusReason ? `: ${stack.statusReason}` : ''}`),
  );

  const outputs: Record<string, { value?: unknown; unresolvable?: string }> = {};
  for (const [key, output] of Object.entries(stack.template.Outputs ?? {})) {
    if (output.Condition && !conditionHolds(output.Condition)) continue;
    outputs[key] = tryResolve(output.Value, stack.context);
  }
  results.push(checkOutputs(ctx, outputs, stack.outputs));

  const unchecked = new Map<string, number>();
  const checks: Promise<CheckResult[]>[] = [];
  for (const [logicalId, resource] of Object.entries(stack.template.Resources ?? {})) {
    if (resource.Condition && !conditionHolds(resource.Condition)) continue;
    if (!(CHECKED_TYPES as readonly string[]).includes(resource.Type)) {
      unchecked.set(resource.Type, (unchecked.get(resource.Type) ?? 0) + 1);
      continue;
    }
    const deployed = stack.resources.get(logicalId);
    const subject = `${resource.Type} ${logicalId}`;
    if (!deployed?.physicalId) {
      results.push(
        failure(
          ctx,
          subject,
          deployed ? `${deployed.status} with no physical id` : 'not in the deployed stack',
        ),
      );
      continue;
    }
    const resolved = tryResolve(resource.Properties ?? {}, stack.context);
    if ('unresolvable' in resolved) {
      results.push(failure(ctx, subject, `cannot resolve its template properties: ${resolved.unresolvable}`));
      continue;
    }
    const props = resolved.value as Record<string, unknown>;
    checks.push(
      checkResource(clients, ctx, stack, resource.Type, logicalId, deployed.physicalId, props).catch(
        (error: Error) => [failure(ctx, subject, `${error.name}: ${error.message}`)],
      ),
    );
  }
  for (const found of await Promise.all(checks)) results.push(...found);
  if (unchecked.size > 0) {
    results.push({
      stack: ctx.stack,
      subject: 'other resources',
      status: 'not-checked',
      detail: `no failure-handling settings to compare: ${[...unchecked].map(([type, count]) => `${type} x${count}`).join(', ')}`,
    });
  }
  return results;

  function conditionHolds(name: string): boolean {
    try {
      return evaluateCondition(name, stack.context);
    } catch {
      return true;
    }
  }
}

async function checkResource(
  clients: Clients,
  ctx: CheckContext,
  stack: DeployedStack,
  type: string,
  logicalId: string,
  physicalId: string,
  props: Record<string, unknown>,
): Promise<CheckResult[]> {
  const orUndefined = async <T>(request: Promise<T>): Promise<T | undefined> => {
    try {
      return await request;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  };
  switch (type) {
    case 'AWS::SQS::Queue': {
      const { Attributes = {} } = await clients.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: physicalId, AttributeNames: ['All'] }),
      );
      return [checkQueue(ctx, logicalId, props, Attributes)];
    }
    case 'AWS::Lambda::EventSourceMapping': {
      const mapping = await clients.lambda.send(new GetEventSourceMappingCommand({ UUID: physicalId }));
      const functionArn = functionArnOf(props.FunctionName, stack);
      return [
        checkEventSourceMapping(
          ctx,
          logicalId,
          props,
          mapping as unknown as Record<string, unknown>,
          functionArn,
        ),
      ];
    }
    case 'AWS::Lambda::EventInvokeConfig': {
      const config = await orUndefined(
        clients.lambda.send(
          new GetFunctionEventInvokeConfigCommand({
            FunctionName: String(props.FunctionName),
            Qualifier: props.Qualifier === undefined ? undefined : String(props.Qualifier),
          }),
        ),
      );
      return [checkEventInvokeConfig(ctx, logicalId, props, config as Record<string, unknown> | undefined)];
    }
    case 'AWS::SNS::Subscription': {
      const found = await orUndefined(
        clients.sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: physicalId })),
      );
      return [checkSubscription(ctx, logicalId, props, found?.Attributes)];
    }
    case 'AWS::DynamoDB::Table': {
      const [table, ttl, backups] = await Promise.all([
        clients.dynamodb.send(new DescribeTableCommand({ TableName: physicalId })),
        clients.dynamodb.send(new DescribeTimeToLiveCommand({ TableName: physicalId })),
        ctx.emulator
          ? undefined
          : clients.dynamodb.send(new DescribeContinuousBackupsCommand({ TableName: physicalId })),
      ]);
      return checkTable(ctx, logicalId, props, {
        keySchema: table.Table?.KeySchema?.map(({ AttributeName, KeyType }) => ({ AttributeName, KeyType })),
        billingMode:
          table.Table?.BillingModeSummary?.BillingMode ??
          (table.Table?.BillingModeSummary ? undefined : 'PROVISIONED'),
        ttl: {
          status: ttl.TimeToLiveDescription?.TimeToLiveStatus,
          attribute: ttl.TimeToLiveDescription?.AttributeName,
        },
        pitr: backups?.ContinuousBackupsDescription?.PointInTimeRecoveryDescription
          ?.PointInTimeRecoveryStatus,
        streamViewType: table.Table?.StreamSpecification?.StreamEnabled
          ? table.Table.StreamSpecification.StreamViewType
          : undefined,
      });
    }
    case 'AWS::CloudWatch::Alarm': {
      const { MetricAlarms = [] } = await clients.cloudwatch.send(
        new DescribeAlarmsCommand({ AlarmNames: [physicalId] }),
      );
      return [checkAlarm(ctx, logicalId, props, MetricAlarms[0] as Record<string, unknown> | undefined)];
    }
    case 'Custom::S3BucketNotifications': {
      const configuration = await clients.s3.send(
        new GetBucketNotificationConfigurationCommand({ Bucket: String(props.BucketName) }),
      );
      return [
        checkBucketNotifications(ctx, logicalId, props, configuration as unknown as Record<string, unknown>),
      ];
    }
    case 'AWS::Lambda::Function': {
      const configuration = await orUndefined(
        clients.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: physicalId })),
      );
      return checkFunction(ctx, logicalId, props, configuration as Record<string, unknown> | undefined);
    }
    case 'AWS::Logs::LogGroup': {
      const { logGroups = [] } = await clients.logs.send(
        new DescribeLogGroupsCommand({ logGroupNamePrefix: physicalId }),
      );
      const group = logGroups.find((candidate) => candidate.logGroupName === physicalId);
      return [checkLogGroup(ctx, logicalId, props, group as Record<string, unknown> | undefined)];
    }
    case 'AWS::Kinesis::Stream': {
      const summary = await orUndefined(
        clients.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: physicalId })),
      );
      return checkStream(
        ctx,
        logicalId,
        props,
        summary?.StreamDescriptionSummary as Record<string, unknown> | undefined,
      );
    }
    case 'AWS::S3::Bucket': {
      if (!props.VersioningConfiguration) return [];
      const versioning = ctx.emulator
        ? undefined
        : await clients.s3.send(new GetBucketVersioningCommand({ Bucket: physicalId }));
      const result = checkBucket(ctx, logicalId, props, versioning?.Status);
      return result ? [result] : [];
    }
    case 'AWS::ApiGatewayV2::Route': {
      const route = await orUndefined(
        clients.apigatewayv2.send(new GetRouteCommand({ ApiId: String(props.ApiId), RouteId: physicalId })),
      );
      return [checkHttpRoute(ctx, logicalId, props, route as Record<string, unknown> | undefined)];
    }
    case 'AWS::ApiGatewayV2::Stage': {
      const stage = await orUndefined(
        clients.apigatewayv2.send(
          new GetStageCommand({ ApiId: String(props.ApiId), StageName: String(props.StageName) }),
        ),
      );
      return [checkHttpStage(ctx, logicalId, props, stage as Record<string, unknown> | undefined)];
    }
    default:
      return [];
  }
}

/** The ARN of the function a mapping's FunctionName names (a name, or already an ARN). */
function functionArnOf(name: unknown, stack: DeployedStack): string | undefined {
  if (typeof name !== 'string') return undefined;
  if (name.startsWith('arn:')) return name;
  const { partition, region, accountId } = stack.context;
  return `arn:${partition}:lambda:${region}:${accountId}:function:${name}`;
}
