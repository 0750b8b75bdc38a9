/**
 * The AWS SDK clients of the smoke test and of `npm run deploy:local`, and how a deployed stack is read:
 * DescribeStacks (status, outputs, parameters), GetTemplate (what was deployed, not what the local sources say
 * now) and ListStackResources (each resource's physical id, for the resolver).
 *
 * Against the emulator the endpoint comes from `AWS_ENDPOINT_URL`, which every client here (and the CDK CLI)
 * follows; S3 then uses path-style URLs, SQS sends to that endpoint rather than to the host of a queue's URL, and
 * Kinesis talks HTTP/1.1 (its client defaults to HTTP/2, which moto does not serve).
 */
import {
  CloudFormationClient,
  DescribeStacksCommand,
  GetTemplateCommand,
  paginateListStackResources,
} from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { ApiGatewayV2Client } from '@aws-sdk/client-apigatewayv2';
import { IAMClient } from '@aws-sdk/client-iam';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { KMSClient } from '@aws-sdk/client-kms';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { type DeployedResource, type ResolveContext, stackEnvironment, urlSuffixOf } from './resolve';

export interface Clients {
  readonly cloudformation: CloudFormationClient;
  readonly sqs: SQSClient;
  readonly sns: SNSClient;
  readonly lambda: LambdaClient;
  readonly cloudwatch: CloudWatchClient;
  readonly logs: CloudWatchLogsClient;
  readonly s3: S3Client;
  readonly dynamodb: DynamoDBClient;
  readonly dynamodbStreams: DynamoDBStreamsClient;
  readonly kinesis: KinesisClient;
  readonly iam: IAMClient;
  readonly kms: KMSClient;
  readonly apigatewayv2: ApiGatewayV2Client;
}

export interface ClientOptions {
  /** The region (default: the SDK's, from AWS_REGION or the profile). */
  readonly region?: string;
  /** An emulator's endpoint (default: AWS_ENDPOINT_URL when `emulator` is set). */
  readonly endpoint?: string;
  /** Talk to the emulator: path-style S3, SQS to the endpoint, Kinesis over HTTP/1.1. */
  readonly emulator?: boolean;
}

export function createClients(options: ClientOptions = {}): Clients {
  const endpoint = options.endpoint ?? (options.emulator ? process.env.AWS_ENDPOINT_URL : undefined);
  const base = {
    ...(options.region ? { region: options.region } : {}),
    ...(endpoint ? { endpoint } : {}),
    // The emulator takes any credentials; these keep the SDK from looking for real ones.
    ...(options.emulator ? { credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } } : {}),
    maxAttempts: 5,
  };
  return {
    cloudformation: new CloudFormationClient(base),
    sqs: new SQSClient({ ...base, ...(endpoint ? { useQueueUrlAsEndpoint: false } : {}) }),
    sns: new SNSClient(base),
    lambda: new LambdaClient(base),
    cloudwatch: new CloudWatchClient(base),
    logs: new CloudWatchLogsClient(base),
    s3: new S3Client({ ...base, ...(options.emulator ? { forcePathStyle: true } : {}) }),
    dynamodb: new DynamoDBClient(base),
    dynamodbStreams: new DynamoDBStreamsClient(base),
    kinesis: new KinesisClient({
      ...base,
      ...(options.emulator ? { requestHandler: new NodeHttpHandler() } : {}),
    }),
    iam: new IAMClient(base),
    kms: new KMSClient(base),
    apigatewayv2: new ApiGatewayV2Client(base),
  };
}

export function destroyClients(clients: Clients): void {
  for (const client of Object.values(clients)) (client as { destroy(): void }).destroy();
}

/** A CloudFormation template, as far as the tools read it. */
export interface Template {
  readonly Resources?: Readonly<
    Record<
      string,
      {
        readonly Type: string;
        readonly Properties?: Readonly<Record<string, unknown>>;
        readonly Condition?: string;
        readonly DeletionPolicy?: string;
      }
    >
  >;
  readonly Outputs?: Readonly<Record<string, { readonly Value: unknown; readonly Condition?: string }>>;
  readonly Conditions?: Readonly<Record<string, unknown>>;
  readonly Mappings?: Readonly<Record<string, Record<string, Record<string, unknown>>>>;
}

/** A stack as CloudFormation reports it. */
export interface DeployedStack {
  readonly stackName: string;
  readonly stackId: string;
  readonly status: string;
  readonly statusReason?: string;
  readonly outputs: Readonly<Record<string, string>>;
  readonly template: Template;
  readonly resources: ReadonlyMap<string, DeployedResource>;
  /** For the resolver: the stack's environment, resources, parameters, conditions and mappings. */
  readonly context: ResolveContext;
}

function isMissingStack(error: unknown): boolean {
  const message = (error as Error).message ?? '';
  return (error as { name?: string }).name === 'ValidationError' && /does not exist/i.test(message);
}

/** Reads a stack, or undefined when no stack has that name (or it was deleted). */
export async function readStack(clients: Clients, stackName: string): Promise<DeployedStack | undefined> {
  let described;
  try {
    described = await clients.cloudformation.send(new DescribeStacksCommand({ StackName: stackName }));
  } catch (error) {
    if (isMissingStack(error)) return undefined;
    throw error;
  }
  const stack = described.Stacks?.[0];
  if (!stack?.StackId || stack.StackStatus === 'DELETE_COMPLETE') return undefined;
  const [templateResponse, resources] = await Promise.all([
    clients.cloudformation.send(new GetTemplateCommand({ StackName: stack.StackId })),
    listResources(clients, stack.StackId),
  ]);
  const template = JSON.parse(templateResponse.TemplateBody ?? '{}') as Template;
  const { partition, region, accountId } = stackEnvironment(stack.StackId);
  const parameters: Record<string, string> = {};
  for (const parameter of stack.Parameters ?? []) {
    if (parameter.ParameterKey) {
      parameters[parameter.ParameterKey] = parameter.ResolvedValue ?? parameter.ParameterValue ?? '';
    }
  }
  // A table's stream ARN ends with the stream's creation time: read it where the template names a stream.
  const attributes = new Map<string, Record<string, string>>();
  await Promise.all(
    Object.entries(template.Resources ?? {})
      .filter(
        ([, resource]) =>
          resource.Type === 'AWS::DynamoDB::Table' && resource.Properties?.StreamSpecification,
      )
      .map(async ([logicalId]) => {
        const table = resources.get(logicalId)?.physicalId;
        if (!table) return;
        const { Table } = await clients.dynamodb.send(new DescribeTableCommand({ TableName: table }));
        if (Table?.LatestStreamArn) attributes.set(logicalId, { StreamArn: Table.LatestStreamArn });
      }),
  );
  const outputs: Record<string, string> = {};
  for (const output of stack.Outputs ?? []) {
    if (output.OutputKey) outputs[output.OutputKey] = output.OutputValue ?? '';
  }
  return {
    stackName,
    stackId: stack.StackId,
    status: stack.StackStatus ?? 'UNKNOWN',
    statusReason: stack.StackStatusReason,
    outputs,
    template,
    resources,
    context: {
      partition,
      region,
      accountId,
      stackName,
      stackId: stack.StackId,
      urlSuffix: urlSuffixOf(partition),
      resources,
      parameters,
      conditions: template.Conditions,
      mappings: template.Mappings,
      attributes,
    },
  };
}

export async function listResources(
  clients: Clients,
  stackId: string,
): Promise<Map<string, DeployedResource>> {
  const resources = new Map<string, DeployedResource>();
  for await (const page of paginateListStackResources(
    { client: clients.cloudformation },
    { StackName: stackId },
  )) {
    for (const summary of page.StackResourceSummaries ?? []) {
      if (!summary.LogicalResourceId) continue;
      resources.set(summary.LogicalResourceId, {
        logicalId: summary.LogicalResourceId,
        type: summary.ResourceType ?? '',
        physicalId: summary.PhysicalResourceId ?? '',
        status: summary.ResourceStatus ?? '',
        reason: summary.ResourceStatusReason,
      });
    }
  }
  return resources;
}

/** Whether an SDK error says the thing is not there (404s, *NotFound*, NoSuch*, does not exist). */
export function isNotFound(error: unknown): boolean {
  const {
    name = '',
    message = '',
    $metadata,
  } = error as {
    name?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
  };
  return (
    $metadata?.httpStatusCode === 404 ||
    /NotFound|NoSuch|NonExistent|DoesNotExist|ResourceNotFound/i.test(name) ||
    /does not exist|not found/i.test(message)
  );
}
