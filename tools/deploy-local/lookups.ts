/**
 * One lookup per resource type, through the AWS API of the type (against the emulator): is the resource there?
 * After the deploy every created resource must be found; after the destroy none may be (except what its
 * DeletionPolicy keeps). A type with no lookup fails the run (see {@link lookupResource}), so a template that gains
 * a type gains a lookup here, or an entry in NOT_EMULATED (coverage.ts) with its reason.
 */
import { DescribeAlarmsCommand, GetDashboardCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeLogGroupsCommand, DescribeMetricFiltersCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { GetRoleCommand, GetRolePolicyCommand } from '@aws-sdk/client-iam';
import { DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import { DescribeKeyCommand } from '@aws-sdk/client-kms';
import {
  GetEventSourceMappingCommand,
  GetFunctionConfigurationCommand,
  GetFunctionEventInvokeConfigCommand,
  GetPolicyCommand,
} from '@aws-sdk/client-lambda';
import {
  GetBucketNotificationConfigurationCommand,
  GetBucketPolicyCommand,
  HeadBucketCommand,
} from '@aws-sdk/client-s3';
import { GetSubscriptionAttributesCommand, GetTopicAttributesCommand } from '@aws-sdk/client-sns';
import {
  GetApiCommand,
  GetIntegrationCommand,
  GetRouteCommand,
  GetStageCommand,
} from '@aws-sdk/client-apigatewayv2';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { type Clients, isNotFound } from '../smoke/aws';

export interface LookupResult {
  /** `unknown`: the type has no lookup (fails the run, after the deploy and after the destroy alike). */
  readonly found: boolean | 'unknown';
  /** What was found, or why not. */
  readonly detail: string;
}

/** What a lookup is given: the physical id and the template properties resolved against the deployed stack. */
export interface LookupInput {
  readonly physicalId: string;
  readonly properties: Readonly<Record<string, unknown>>;
}

type Lookup = (clients: Clients, input: LookupInput) => Promise<LookupResult>;

const found = (detail: string): LookupResult => ({ found: true, detail });
const absent = (detail: string): LookupResult => ({ found: false, detail });

function statementCount(policy: unknown): number {
  const document = typeof policy === 'string' ? (JSON.parse(policy) as unknown) : policy;
  const statements = (document as { Statement?: unknown } | undefined)?.Statement;
  return Array.isArray(statements) ? statements.length : statements ? 1 : 0;
}

/** Finds a policy with the template's statements on each target; absent when a target or its policy is gone. */
async function policiesOn(
  targets: readonly string[],
  read: (target: string) => Promise<string | undefined>,
  expected: unknown,
  what: string,
): Promise<LookupResult> {
  const wanted = statementCount(expected);
  for (const target of targets) {
    const policy = await read(target);
    if (!policy) return absent(`${what} ${target} has no policy`);
    const count = statementCount(policy);
    if (count !== wanted)
      return absent(`${what} ${target} has a policy of ${count} statements, the template ${wanted}`);
  }
  return found(`on ${targets.length} ${what}${targets.length === 1 ? '' : 's'}, ${wanted} statements each`);
}

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.map(String) : value === undefined ? [] : [String(value)];

/** Resource types with nothing to look up: why. */
export const NOTHING_TO_LOOK_UP: Readonly<Record<string, string>> = {
  'AWS::CDK::Metadata': 'no AWS resource (CloudFormation bookkeeping)',
  'Custom::S3AutoDeleteObjects': 'acts on destroy only: the destroy checks its bucket is gone',
};

export const LOOKUPS: Readonly<Record<string, Lookup>> = {
  // The http path's API (API Gateway v2, an HTTP API), created on the emulator by the launcher's models.
  'AWS::ApiGatewayV2::Api': async ({ apigatewayv2 }, { physicalId }) => {
    const { ProtocolType } = await apigatewayv2.send(new GetApiCommand({ ApiId: physicalId }));
    return found(`GetApi (${ProtocolType})`);
  },
  'AWS::ApiGatewayV2::Stage': async ({ apigatewayv2 }, { properties }) => {
    const { StageName } = await apigatewayv2.send(
      new GetStageCommand({ ApiId: String(properties.ApiId), StageName: String(properties.StageName) }),
    );
    return found(`GetStage (${StageName})`);
  },
  'AWS::ApiGatewayV2::Route': async ({ apigatewayv2 }, { physicalId, properties }) => {
    const { RouteKey } = await apigatewayv2.send(
      new GetRouteCommand({ ApiId: String(properties.ApiId), RouteId: physicalId }),
    );
    return found(`GetRoute (${RouteKey})`);
  },
  'AWS::ApiGatewayV2::Integration': async ({ apigatewayv2 }, { physicalId, properties }) => {
    const { IntegrationType } = await apigatewayv2.send(
      new GetIntegrationCommand({ ApiId: String(properties.ApiId), IntegrationId: physicalId }),
    );
    return found(`GetIntegration (${IntegrationType})`);
  },
  'AWS::DynamoDB::Table': async ({ dynamodb }, { physicalId }) => {
    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: physicalId }));
    return Table?.TableStatus === 'DELETING'
      ? absent('DELETING')
      : found(`DescribeTable: ${Table?.TableStatus}`);
  },
  'AWS::S3::Bucket': async ({ s3 }, { physicalId }) => {
    await s3.send(new HeadBucketCommand({ Bucket: physicalId }));
    return found('HeadBucket');
  },
  'AWS::S3::BucketPolicy': ({ s3 }, { properties }) =>
    policiesOn(
      strings(properties.Bucket),
      async (bucket) => (await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy,
      properties.PolicyDocument,
      'bucket',
    ),
  'Custom::S3BucketNotifications': async ({ s3 }, { properties }) => {
    const config = await s3.send(
      new GetBucketNotificationConfigurationCommand({ Bucket: String(properties.BucketName) }),
    );
    const count =
      (config.TopicConfigurations?.length ?? 0) +
      (config.QueueConfigurations?.length ?? 0) +
      (config.LambdaFunctionConfigurations?.length ?? 0) +
      (config.EventBridgeConfiguration ? 1 : 0);
    return count > 0
      ? found(`${count} notification configuration(s)`)
      : absent('the bucket notifies nothing');
  },
  'AWS::IAM::Role': async ({ iam }, { physicalId }) => {
    await iam.send(new GetRoleCommand({ RoleName: physicalId }));
    return found('GetRole');
  },
  'AWS::IAM::Policy': async ({ iam }, { properties }) => {
    const roles = strings(properties.Roles);
    if (roles.length === 0) return found('attached to no role (users or groups: not looked up)');
    for (const role of roles) {
      await iam.send(new GetRolePolicyCommand({ RoleName: role, PolicyName: String(properties.PolicyName) }));
    }
    return found(`GetRolePolicy on ${roles.length} role(s)`);
  },
  'AWS::KMS::Key': async ({ kms }, { physicalId }) => {
    const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: physicalId }));
    return KeyMetadata?.KeyState === 'PendingDeletion' || KeyMetadata?.KeyState === 'PendingReplicaDeletion'
      ? absent(`${KeyMetadata.KeyState}`)
      : found(`DescribeKey: ${KeyMetadata?.KeyState}`);
  },
  'AWS::SNS::Topic': async ({ sns }, { physicalId }) => {
    await sns.send(new GetTopicAttributesCommand({ TopicArn: physicalId }));
    return found('GetTopicAttributes');
  },
  'AWS::SNS::TopicPolicy': ({ sns }, { properties }) =>
    policiesOn(
      strings(properties.Topics),
      async (topic) =>
        (await sns.send(new GetTopicAttributesCommand({ TopicArn: topic }))).Attributes?.Policy,
      properties.PolicyDocument,
      'topic',
    ),
  'AWS::SNS::Subscription': async ({ sns }, { physicalId }) => {
    const { Attributes } = await sns.send(
      new GetSubscriptionAttributesCommand({ SubscriptionArn: physicalId }),
    );
    return found(`GetSubscriptionAttributes: ${Attributes?.Protocol} ${Attributes?.Endpoint}`);
  },
  'AWS::SQS::Queue': async ({ sqs }, { physicalId }) => {
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: physicalId, AttributeNames: ['QueueArn'] }));
    return found('GetQueueAttributes');
  },
  'AWS::SQS::QueuePolicy': ({ sqs }, { properties }) =>
    policiesOn(
      strings(properties.Queues),
      async (queue) =>
        (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue, AttributeNames: ['Policy'] })))
          .Attributes?.Policy,
      properties.PolicyDocument,
      'queue',
    ),
  'AWS::Logs::LogGroup': async ({ logs }, { physicalId }) => {
    const { logGroups = [] } = await logs.send(
      new DescribeLogGroupsCommand({ logGroupNamePrefix: physicalId }),
    );
    return logGroups.some((group) => group.logGroupName === physicalId)
      ? found('DescribeLogGroups')
      : absent('no log group of that name');
  },
  'AWS::Logs::MetricFilter': async ({ logs }, { physicalId, properties }) => {
    const { metricFilters = [] } = await logs.send(
      new DescribeMetricFiltersCommand({
        logGroupName: String(properties.LogGroupName),
        filterNamePrefix: physicalId,
      }),
    );
    return metricFilters.some((filter) => filter.filterName === physicalId)
      ? found('DescribeMetricFilters')
      : absent('DescribeMetricFilters finds no filter of that name on its log group');
  },
  'AWS::Lambda::Function': async ({ lambda }, { physicalId }) => {
    const configuration = await lambda.send(
      new GetFunctionConfigurationCommand({ FunctionName: physicalId }),
    );
    return found(`GetFunctionConfiguration: ${configuration.Runtime}`);
  },
  'AWS::Lambda::Permission': async ({ lambda }, { properties }) => {
    const { Policy } = await lambda.send(
      new GetPolicyCommand({ FunctionName: String(properties.FunctionName) }),
    );
    const statements =
      ((Policy ? JSON.parse(Policy) : {}) as { Statement?: Record<string, unknown>[] }).Statement ?? [];
    const match = statements.find((statement) => {
      const principal = statement.Principal as { Service?: string; AWS?: string } | string | undefined;
      const service = typeof principal === 'string' ? principal : (principal?.Service ?? principal?.AWS);
      const source = JSON.stringify(statement.Condition ?? {});
      return (
        service === properties.Principal &&
        (properties.SourceArn === undefined || source.includes(String(properties.SourceArn)))
      );
    });
    return match
      ? found(`GetPolicy: ${String(properties.Principal)} may invoke`)
      : absent(`no statement lets ${String(properties.Principal)} invoke`);
  },
  'AWS::Lambda::EventInvokeConfig': async ({ lambda }, { properties }) => {
    await lambda.send(
      new GetFunctionEventInvokeConfigCommand({ FunctionName: String(properties.FunctionName) }),
    );
    return found('GetFunctionEventInvokeConfig');
  },
  'AWS::Lambda::EventSourceMapping': async ({ lambda }, { physicalId }) => {
    const mapping = await lambda.send(new GetEventSourceMappingCommand({ UUID: physicalId }));
    return found(`GetEventSourceMapping: ${mapping.State}`);
  },
  'AWS::CloudWatch::Alarm': async ({ cloudwatch }, { physicalId }) => {
    const { MetricAlarms = [] } = await cloudwatch.send(
      new DescribeAlarmsCommand({ AlarmNames: [physicalId] }),
    );
    return MetricAlarms.length > 0
      ? found('DescribeAlarms')
      : absent('DescribeAlarms finds no alarm of that name');
  },
  'AWS::CloudWatch::Dashboard': async ({ cloudwatch }, { physicalId }) => {
    await cloudwatch.send(new GetDashboardCommand({ DashboardName: physicalId }));
    return found('GetDashboard');
  },
  'AWS::Kinesis::Stream': async ({ kinesis }, { physicalId }) => {
    const { StreamDescriptionSummary } = await kinesis.send(
      new DescribeStreamSummaryCommand({ StreamName: physicalId }),
    );
    return StreamDescriptionSummary?.StreamStatus === 'DELETING'
      ? absent('DELETING')
      : found(`DescribeStreamSummary: ${StreamDescriptionSummary?.StreamStatus}`);
  },
};

/**
 * Looks a resource up. `undefined` when the type has nothing to look up ({@link NOTHING_TO_LOOK_UP}); a type with
 * neither a lookup nor an entry there is `unknown`, with what to add.
 */
export async function lookupResource(
  clients: Clients,
  type: string,
  input: LookupInput,
): Promise<LookupResult | undefined> {
  if (type in NOTHING_TO_LOOK_UP) return undefined;
  const lookup = LOOKUPS[type];
  if (!lookup) {
    return {
      found: 'unknown',
      detail: `no lookup for ${type}: add one to tools/deploy-local/lookups.ts (LOOKUPS), or to NOTHING_TO_LOOK_UP with the reason`,
    };
  }
  try {
    return await lookup(clients, input);
  } catch (error) {
    if (isNotFound(error)) return absent(`${(error as Error).name}: ${(error as Error).message}`);
    throw error;
  }
}
