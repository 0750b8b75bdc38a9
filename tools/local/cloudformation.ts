/**
 * Builds a {@link SimulationConfig} from a synthesized cloud assembly (`cdk.out`): the stack templates for the
 * resources and their settings, the asset manifests for each function's bundle directory. What CloudFormation
 * would only know at deploy time (names, ARNs, `Ref`s, imports) gets a local value: a resource without an
 * explicit name is called `<stack>-<logical id>`, in the default region and account.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AWS_DEFAULTS,
  DEFAULT_ACCOUNT,
  DEFAULT_REGION,
  type EventInvokeConfig,
  type FunctionConfig,
  type HttpApiConfig,
  type DynamoDbTableConfig,
  type KinesisEventSourceMappingConfig,
  type KinesisStreamConfig,
  type StreamEventSourceMappingConfig,
  type S3BucketConfig,
  type SimulationConfig,
  type SnsLambdaSubscriptionConfig,
  type SnsTopicConfig,
  type SqsEventSourceMappingConfig,
  type SqsQueueConfig,
} from './engine/config';

interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

interface CfnTemplate {
  readonly Resources?: Record<string, CfnResource>;
  readonly Outputs?: Record<
    string,
    { readonly Value: unknown; readonly Export?: { readonly Name: unknown } }
  >;
}

interface StackArtifact {
  readonly artifactId: string;
  readonly stackName: string;
  readonly template: CfnTemplate;
  /** Asset hash → directory (absolute). */
  readonly assetDirectories: ReadonlyMap<string, string>;
}

export interface LoadedAssembly {
  readonly config: SimulationConfig;
  readonly stacks: readonly string[];
  /** What the simulator reads but does not simulate, or could not resolve. */
  readonly warnings: readonly string[];
}

export class AssemblyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AssemblyError';
  }
}

/** Reads `cdk.out` (or another assembly directory) into a simulation configuration. */
export function loadCloudAssembly(
  directory: string,
  options: { region?: string; accountId?: string } = {},
): LoadedAssembly {
  const manifestFile = join(directory, 'manifest.json');
  if (!existsSync(manifestFile)) {
    throw new AssemblyError(`${directory} has no manifest.json: synthesize first (npx cdk synth --quiet).`);
  }
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as {
    artifacts?: Record<
      string,
      { type: string; properties?: { templateFile?: string; stackName?: string }; dependencies?: string[] }
    >;
  };
  const stacks: StackArtifact[] = [];
  for (const [artifactId, artifact] of Object.entries(manifest.artifacts ?? {})) {
    if (artifact.type !== 'aws:cloudformation:stack' || !artifact.properties?.templateFile) continue;
    const template = JSON.parse(
      readFileSync(join(directory, artifact.properties.templateFile), 'utf8'),
    ) as CfnTemplate;
    stacks.push({
      artifactId,
      stackName: artifact.properties.stackName ?? artifactId,
      template,
      assetDirectories: readAssetDirectories(directory, artifactId),
    });
  }
  if (stacks.length === 0) throw new AssemblyError(`${directory} holds no CloudFormation stack.`);
  return new AssemblyReader(
    stacks,
    options.region ?? DEFAULT_REGION,
    options.accountId ?? DEFAULT_ACCOUNT,
  ).read();
}

function readAssetDirectories(directory: string, artifactId: string): Map<string, string> {
  const result = new Map<string, string>();
  const file = join(directory, `${artifactId}.assets.json`);
  if (!existsSync(file)) return result;
  const assets = JSON.parse(readFileSync(file, 'utf8')) as {
    files?: Record<string, { source?: { path?: string; packaging?: string } }>;
  };
  for (const [hash, asset] of Object.entries(assets.files ?? {})) {
    if (asset.source?.path && asset.source.packaging === 'zip')
      result.set(hash, join(directory, asset.source.path));
  }
  return result;
}

/** An event source mapping, by the kind of its source. */
type MappingOf =
  | { readonly kind: 'sqs'; readonly mapping: SqsEventSourceMappingConfig }
  | { readonly kind: 'kinesis'; readonly mapping: KinesisEventSourceMappingConfig }
  | { readonly kind: 'dynamodb'; readonly mapping: StreamEventSourceMappingConfig };

/** The label of every table stream's ARN here (`<table ARN>/stream/<label>`): the virtual clock's start. */
const STREAM_LABEL = '2025-01-01T00:00:00.000';

/** A value that refers to a resource (`Ref` / `Fn::GetAtt`), resolved to its local identity. */
interface ResourceRef {
  readonly stack: StackArtifact;
  readonly logicalId: string;
  readonly resource: CfnResource;
}

class AssemblyReader {
  private readonly warnings: string[] = [];
  private readonly exports = new Map<string, { stack: StackArtifact; value: unknown }>();

  constructor(
    private readonly stacks: readonly StackArtifact[],
    private readonly region: string,
    private readonly accountId: string,
  ) {
    for (const stack of stacks) {
      for (const output of Object.values(stack.template.Outputs ?? {})) {
        if (output.Export && typeof output.Export.Name === 'string') {
          this.exports.set(output.Export.Name, { stack, value: output.Value });
        }
      }
    }
  }

  read(): LoadedAssembly {
    const config: SimulationConfig = {
      region: this.region,
      accountId: this.accountId,
      functions: this.each('AWS::Lambda::Function', (ref) => this.functionOf(ref)),
      queues: this.each('AWS::SQS::Queue', (ref) => this.queueOf(ref)),
      sqsEventSourceMappings: [],
      streams: this.each('AWS::Kinesis::Stream', (ref) => this.streamOf(ref)),
      kinesisEventSourceMappings: [],
      topics: this.each('AWS::SNS::Topic', (ref) => this.topicOf(ref)),
      snsSubscriptions: this.each('AWS::SNS::Subscription', (ref) => this.subscriptionOf(ref)),
      buckets: this.each('AWS::S3::Bucket', (ref) => this.bucketOf(ref)),
      eventInvokeConfigs: this.each('AWS::Lambda::EventInvokeConfig', (ref) => this.invokeConfigOf(ref)),
      tables: this.each('AWS::DynamoDB::Table', (ref) => this.tableOf(ref)),
      dynamoDbEventSourceMappings: [],
    };
    const mappings = this.each('AWS::Lambda::EventSourceMapping', (ref) => this.mappingOf(ref, config));
    // A standard queue's mapping and a FIFO queue's are both SQS mappings; the queue's `fifo` tells the sqs path
    // from the fifo path (Simulation.entryPoints), so no tool takes one for the other.
    return {
      config: {
        ...config,
        sqsEventSourceMappings: mappings.flatMap((m) => (m.kind === 'sqs' ? [m.mapping] : [])),
        kinesisEventSourceMappings: mappings.flatMap((m) => (m.kind === 'kinesis' ? [m.mapping] : [])),
        dynamoDbEventSourceMappings: mappings.flatMap((m) => (m.kind === 'dynamodb' ? [m.mapping] : [])),
        httpApis: this.each('AWS::ApiGatewayV2::Stage', (ref) => this.httpApiOf(ref)),
      },
      stacks: this.stacks.map((s) => s.stackName),
      warnings: this.warnings,
    };
  }

  private each<T>(type: string, build: (ref: ResourceRef) => T | undefined): T[] {
    const out: T[] = [];
    for (const stack of this.stacks) {
      for (const [logicalId, resource] of Object.entries(stack.template.Resources ?? {})) {
        if (resource.Type !== type) continue;
        const built = build({ stack, logicalId, resource });
        if (built !== undefined) out.push(built);
      }
    }
    return out;
  }

  /** Stable id of a resource across stacks. */
  private idOf(ref: ResourceRef): string {
    return `${ref.stack.artifactId}/${ref.logicalId}`;
  }

  /** The physical name a resource gets: its explicit name, or `<stack>-<logical id>` (CloudFormation-like). */
  private nameOf(ref: ResourceRef): string {
    const nameProperty = {
      'AWS::Lambda::Function': 'FunctionName',
      'AWS::SQS::Queue': 'QueueName',
      'AWS::SNS::Topic': 'TopicName',
      'AWS::DynamoDB::Table': 'TableName',
      'AWS::Kinesis::Stream': 'Name',
      'AWS::S3::Bucket': 'BucketName',
    }[ref.resource.Type];
    const explicit = nameProperty ? ref.resource.Properties?.[nameProperty] : undefined;
    if (explicit !== undefined) {
      const resolved = this.resolve(ref.stack, explicit);
      if (typeof resolved === 'string') return resolved;
    }
    const base = `${ref.stack.stackName}-${ref.logicalId}`;
    const max = ref.resource.Type === 'AWS::S3::Bucket' ? 63 : 64;
    const name = ref.resource.Type === 'AWS::S3::Bucket' ? base.toLowerCase() : base;
    const fifo = ref.resource.Type === 'AWS::SQS::Queue' && ref.resource.Properties?.FifoQueue === true;
    return fifo ? `${name.slice(0, max - 5)}.fifo` : name.slice(0, max);
  }

  private arnOf(ref: ResourceRef): string {
    const name = this.nameOf(ref);
    const r = this.region;
    const a = this.accountId;
    switch (ref.resource.Type) {
      case 'AWS::Lambda::Function':
        return `arn:aws:lambda:${r}:${a}:function:${name}`;
      case 'AWS::SQS::Queue':
        return `arn:aws:sqs:${r}:${a}:${name}`;
      case 'AWS::SNS::Topic':
        return `arn:aws:sns:${r}:${a}:${name}`;
      case 'AWS::Kinesis::Stream':
        return `arn:aws:kinesis:${r}:${a}:stream/${name}`;
      case 'AWS::S3::Bucket':
        return `arn:aws:s3:::${name}`;
      case 'AWS::DynamoDB::Table':
        return `arn:aws:dynamodb:${r}:${a}:table/${name}`;
      case 'AWS::KMS::Key':
        return `arn:aws:kms:${r}:${a}:key/${ref.logicalId}`;
      default:
        return `arn:aws:local:${r}:${a}:${ref.logicalId}`;
    }
  }

  /** What `Ref` returns for each resource type. */
  private refValue(ref: ResourceRef): string {
    switch (ref.resource.Type) {
      case 'AWS::SQS::Queue':
        return `https://sqs.${this.region}.amazonaws.com/${this.accountId}/${this.nameOf(ref)}`;
      case 'AWS::SNS::Topic':
        return this.arnOf(ref);
      case 'AWS::Lambda::Function':
      case 'AWS::DynamoDB::Table':
      case 'AWS::Kinesis::Stream':
      case 'AWS::S3::Bucket':
        return this.nameOf(ref);
      default:
        return `local-${ref.logicalId}`;
    }
  }

  private lookup(stack: StackArtifact, logicalId: string): ResourceRef | undefined {
    const resource = stack.template.Resources?.[logicalId];
    return resource ? { stack, logicalId, resource } : undefined;
  }

  /** Resolves intrinsic functions to plain values, as far as a local run can know them. */
  private resolve(stack: StackArtifact, value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolve(stack, v));
    if (!value || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [fn, arg] = entries[0];
      switch (fn) {
        case 'Ref':
          return this.resolveRef(stack, String(arg));
        case 'Fn::GetAtt': {
          const [logicalId, attribute] = Array.isArray(arg) ? (arg as string[]) : String(arg).split('.');
          const ref = this.lookup(stack, logicalId);
          if (!ref) return `local-${logicalId}.${attribute}`;
          if (attribute === 'Arn') return this.arnOf(ref);
          if (attribute === 'QueueName' || attribute === 'TopicName' || attribute === 'Name')
            return this.nameOf(ref);
          if (attribute === 'QueueUrl') return this.refValue(ref);
          if (attribute === 'StreamArn' && ref.resource.Type === 'AWS::DynamoDB::Table')
            return this.tableStreamArnOf(ref);
          return `local-${logicalId}.${attribute}`;
        }
        case 'Fn::ImportValue': {
          const name = this.resolve(stack, arg);
          const exported = typeof name === 'string' ? this.exports.get(name) : undefined;
          if (!exported) {
            this.warnings.push(
              `${stack.stackName}: import "${String(name)}" is not exported by any synthesized stack.`,
            );
            return `local-import-${String(name)}`;
          }
          return this.resolve(exported.stack, exported.value);
        }
        case 'Fn::Join': {
          const [separator, parts] = arg as [string, unknown[]];
          return (this.resolve(stack, parts) as unknown[]).map(String).join(separator);
        }
        case 'Fn::Sub': {
          const [text, variables = {}] = Array.isArray(arg)
            ? (arg as [string, Record<string, unknown>])
            : [String(arg)];
          return text.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
            if (name in variables) return String(this.resolve(stack, variables[name]));
            if (name.includes('.')) {
              const [logicalId, attribute] = name.split('.');
              return String(this.resolve(stack, { 'Fn::GetAtt': [logicalId, attribute] }));
            }
            return String(this.resolveRef(stack, name));
          });
        }
        case 'Fn::Select': {
          const [index, list] = arg as [number, unknown];
          return (this.resolve(stack, list) as unknown[])[Number(index)];
        }
        case 'Fn::Split': {
          const [separator, text] = arg as [string, unknown];
          return String(this.resolve(stack, text)).split(separator);
        }
        default:
          break;
      }
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, this.resolve(stack, v)]));
  }

  private resolveRef(stack: StackArtifact, name: string): unknown {
    switch (name) {
      case 'AWS::Region':
        return this.region;
      case 'AWS::AccountId':
        return this.accountId;
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return stack.stackName;
      case 'AWS::NoValue':
        return undefined;
      default: {
        const ref = this.lookup(stack, name);
        return ref ? this.refValue(ref) : `local-${name}`;
      }
    }
  }

  /** The resource a value (Ref, GetAtt, ARN string) points to. */
  private target(stack: StackArtifact, value: unknown): ResourceRef | undefined {
    if (value && typeof value === 'object') {
      const v = value as Record<string, unknown>;
      if (typeof v.Ref === 'string') return this.lookup(stack, v.Ref);
      if (v['Fn::GetAtt']) {
        const [logicalId] = Array.isArray(v['Fn::GetAtt'])
          ? (v['Fn::GetAtt'] as string[])
          : String(v['Fn::GetAtt']).split('.');
        return this.lookup(stack, logicalId);
      }
      if (v['Fn::ImportValue'] !== undefined) {
        const name = this.resolve(stack, v['Fn::ImportValue']);
        const exported = typeof name === 'string' ? this.exports.get(name) : undefined;
        return exported ? this.target(exported.stack, exported.value) : undefined;
      }
    }
    const text = this.resolve(stack, value);
    if (typeof text !== 'string') return undefined;
    for (const s of this.stacks) {
      for (const [logicalId, resource] of Object.entries(s.template.Resources ?? {})) {
        const ref = { stack: s, logicalId, resource };
        if (this.arnOf(ref) === text || this.nameOf(ref) === text) return ref;
      }
    }
    return undefined;
  }

  private props(ref: ResourceRef): Record<string, unknown> {
    return (this.resolve(ref.stack, ref.resource.Properties ?? {}) as Record<string, unknown>) ?? {};
  }

  private functionOf(ref: ResourceRef): FunctionConfig {
    const p = this.props(ref);
    const raw = ref.resource.Properties ?? {};
    const s3Key = (raw.Code as { S3Key?: unknown } | undefined)?.S3Key;
    const hash = typeof s3Key === 'string' ? s3Key.replace(/\.zip$/, '') : undefined;
    const directory = hash ? ref.stack.assetDirectories.get(hash) : undefined;
    const variables = ((p.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ??
      {}) as Record<string, unknown>;
    const environment = Object.fromEntries(
      Object.entries(variables)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
    );
    const deadLetterTargetArn = (p.DeadLetterConfig as { TargetArn?: string } | undefined)?.TargetArn;
    return {
      id: this.idOf(ref),
      functionName: this.nameOf(ref),
      functionArn: this.arnOf(ref),
      timeoutSeconds: Number(p.Timeout ?? AWS_DEFAULTS.functionTimeoutSeconds),
      memorySizeMb: Number(p.MemorySize ?? 128),
      environment,
      ...(p.ReservedConcurrentExecutions !== undefined && {
        reservedConcurrency: Number(p.ReservedConcurrentExecutions),
      }),
      ...(deadLetterTargetArn && { deadLetterTargetArn }),
      ...(directory && { code: { directory, handler: String(p.Handler ?? 'index.handler') } }),
    };
  }

  private queueOf(ref: ResourceRef): SqsQueueConfig {
    const p = this.props(ref);
    const redrive = parseMaybeJson(p.RedrivePolicy) as
      { deadLetterTargetArn?: string; maxReceiveCount?: number } | undefined;
    const fifo = p.FifoQueue === true || p.FifoQueue === 'true';
    const deduplicationScope = p.DeduplicationScope === 'messageGroup' ? 'messageGroup' : 'queue';
    return {
      id: this.idOf(ref),
      queueName: this.nameOf(ref),
      queueArn: this.arnOf(ref),
      queueUrl: this.refValue(ref),
      visibilityTimeoutSeconds: Number(p.VisibilityTimeout ?? AWS_DEFAULTS.sqsVisibilityTimeoutSeconds),
      messageRetentionSeconds: Number(p.MessageRetentionPeriod ?? AWS_DEFAULTS.sqsRetentionSeconds),
      ...(redrive?.deadLetterTargetArn && {
        redrivePolicy: {
          deadLetterTargetArn: redrive.deadLetterTargetArn,
          maxReceiveCount: Number(redrive.maxReceiveCount ?? 10),
        },
      }),
      fifo,
      // A FIFO queue's message groups and deduplication (engine/sqs-fifo.ts); `FifoThroughputLimit` only sets a
      // quota, which the simulator does not model.
      ...(fifo && {
        contentBasedDeduplication:
          p.ContentBasedDeduplication === true || p.ContentBasedDeduplication === 'true',
        deduplicationScope,
      }),
    };
  }

  private streamOf(ref: ResourceRef): KinesisStreamConfig {
    const p = this.props(ref);
    const onDemand = (p.StreamModeDetails as { StreamMode?: string } | undefined)?.StreamMode === 'ON_DEMAND';
    return {
      id: this.idOf(ref),
      streamName: this.nameOf(ref),
      streamArn: this.arnOf(ref),
      shardCount: onDemand ? AWS_DEFAULTS.onDemandShardCount : Number(p.ShardCount ?? 1),
      retentionHours: Number(p.RetentionPeriodHours ?? AWS_DEFAULTS.kinesisRetentionHours),
    };
  }

  private tableStreamArnOf(ref: ResourceRef): string {
    return `${this.arnOf(ref)}/stream/${STREAM_LABEL}`;
  }

  private tableOf(ref: ResourceRef): DynamoDbTableConfig {
    const p = this.props(ref);
    const keySchema = (p.KeySchema as { AttributeName: string; KeyType: string }[] | undefined) ?? [];
    const keyAttributes = [
      ...keySchema.filter((k) => k.KeyType === 'HASH'),
      ...keySchema.filter((k) => k.KeyType === 'RANGE'),
    ].map((k) => k.AttributeName);
    const viewType = (p.StreamSpecification as { StreamViewType?: string } | undefined)?.StreamViewType as
      DynamoDbTableConfig['streamViewType'] | undefined;
    return {
      id: this.idOf(ref),
      tableName: this.nameOf(ref),
      tableArn: this.arnOf(ref),
      keyAttributes,
      ...(viewType && { streamViewType: viewType, streamArn: this.tableStreamArnOf(ref) }),
      streamShardCount: AWS_DEFAULTS.dynamoDbStreamShardCount,
    };
  }

  private topicOf(ref: ResourceRef): SnsTopicConfig {
    return { id: this.idOf(ref), topicName: this.nameOf(ref), topicArn: this.arnOf(ref) };
  }

  private subscriptionOf(ref: ResourceRef): SnsLambdaSubscriptionConfig | undefined {
    const raw = ref.resource.Properties ?? {};
    const p = this.props(ref);
    if (p.Protocol !== 'lambda') return undefined;
    const fn = this.target(ref.stack, raw.Endpoint);
    if (!fn || fn.resource.Type !== 'AWS::Lambda::Function') {
      this.warnings.push(`${this.idOf(ref)}: its endpoint is not a function of the assembly; not simulated.`);
      return undefined;
    }
    if (p.FilterPolicy)
      this.warnings.push(`${this.idOf(ref)}: FilterPolicy is not simulated (every message is delivered).`);
    const redrive = parseMaybeJson(p.RedrivePolicy) as { deadLetterTargetArn?: string } | undefined;
    return {
      id: this.idOf(ref),
      topicArn: String(p.TopicArn),
      functionId: this.idOf(fn),
      subscriptionArn: `${String(p.TopicArn)}:${ref.logicalId}`,
      ...(redrive?.deadLetterTargetArn && { deadLetterTargetArn: redrive.deadLetterTargetArn }),
    };
  }

  private bucketOf(ref: ResourceRef): S3BucketConfig {
    const p = this.props(ref);
    const name = this.nameOf(ref);
    const native = ((p.NotificationConfiguration as { TopicConfigurations?: unknown[] } | undefined)
      ?.TopicConfigurations ?? []) as {
      Event?: string;
      Topic?: string;
    }[];
    const topicNotifications: { events: string[]; topicArn: string }[] = native
      .filter((c) => c.Topic)
      .map((c) => ({ events: [c.Event ?? 's3:ObjectCreated:*'], topicArn: c.Topic! }));
    // CDK writes bucket notifications as a custom resource (Custom::S3BucketNotifications).
    for (const custom of this.each('Custom::S3BucketNotifications', (r) => r)) {
      const cp = this.props(custom);
      if (cp.BucketName !== name) continue;
      const configs = ((cp.NotificationConfiguration as { TopicConfigurations?: unknown[] } | undefined)
        ?.TopicConfigurations ?? []) as {
        Events?: string[];
        TopicArn?: string;
        Filter?: unknown;
      }[];
      for (const c of configs) {
        if (!c.TopicArn) continue;
        if (c.Filter) this.warnings.push(`${this.idOf(ref)}: notification key filters are not simulated.`);
        topicNotifications.push({ events: c.Events ?? ['s3:ObjectCreated:*'], topicArn: c.TopicArn });
      }
    }
    return {
      id: this.idOf(ref),
      bucketName: name,
      bucketArn: this.arnOf(ref),
      versioned: (p.VersioningConfiguration as { Status?: string } | undefined)?.Status === 'Enabled',
      topicNotifications,
    };
  }

  private invokeConfigOf(ref: ResourceRef): EventInvokeConfig | undefined {
    const raw = ref.resource.Properties ?? {};
    const p = this.props(ref);
    const fn = this.target(ref.stack, raw.FunctionName);
    if (!fn) return undefined;
    const destinations = (p.DestinationConfig ?? {}) as {
      OnSuccess?: { Destination?: string };
      OnFailure?: { Destination?: string };
    };
    return {
      functionId: this.idOf(fn),
      maximumRetryAttempts: Number(p.MaximumRetryAttempts ?? AWS_DEFAULTS.asyncMaximumRetryAttempts),
      maximumEventAgeSeconds: Number(p.MaximumEventAgeInSeconds ?? AWS_DEFAULTS.asyncMaximumEventAgeSeconds),
      ...(destinations.OnSuccess?.Destination && {
        onSuccessDestinationArn: destinations.OnSuccess.Destination,
      }),
      ...(destinations.OnFailure?.Destination && {
        onFailureDestinationArn: destinations.OnFailure.Destination,
      }),
    };
  }

  /**
   * An HTTP API by its stage: the stage's default route throttle, and the API's routes whose integration is a
   * Lambda proxy (`integrations/<Ref>` → `IntegrationUri` the function's ARN). A stage of an API without such a
   * route is left out.
   */
  private httpApiOf(ref: ResourceRef): HttpApiConfig | undefined {
    const raw = ref.resource.Properties ?? {};
    const api = this.target(ref.stack, raw.ApiId);
    if (!api) return undefined;
    const throttle = (this.props(ref).DefaultRouteSettings ?? {}) as {
      ThrottlingRateLimit?: number;
      ThrottlingBurstLimit?: number;
    };
    const routes: { routeKey: string; functionId: string }[] = [];
    for (const [logicalId, resource] of Object.entries(ref.stack.template.Resources ?? {})) {
      if (resource.Type !== 'AWS::ApiGatewayV2::Route') continue;
      const route = resource.Properties ?? {};
      if (this.target(ref.stack, route.ApiId)?.logicalId !== api.logicalId) continue;
      const target = String(this.resolve(ref.stack, route.Target) ?? '');
      const integrationId = target.replace(/^integrations\/(local-)?/, '');
      const integration = this.lookup(ref.stack, integrationId);
      const fn = integration && this.target(ref.stack, integration.resource.Properties?.IntegrationUri);
      if (fn?.resource.Type !== 'AWS::Lambda::Function') {
        this.warnings.push(
          `${ref.stack.artifactId}/${logicalId}: a route without a Lambda integration; not simulated.`,
        );
        continue;
      }
      routes.push({ routeKey: String(this.resolve(ref.stack, route.RouteKey)), functionId: this.idOf(fn) });
    }
    if (routes.length === 0) return undefined;
    return {
      id: this.idOf(api),
      apiName: String(this.props(api).Name ?? this.nameOf(api)),
      stageName: String(this.props(ref).StageName ?? '$default'),
      ...(throttle.ThrottlingRateLimit !== undefined && { rateLimit: Number(throttle.ThrottlingRateLimit) }),
      ...(throttle.ThrottlingBurstLimit !== undefined && {
        burstLimit: Number(throttle.ThrottlingBurstLimit),
      }),
      routes,
    };
  }

  private mappingOf(ref: ResourceRef, config: SimulationConfig): MappingOf | undefined {
    const raw = ref.resource.Properties ?? {};
    const p = this.props(ref);
    const fn = this.target(ref.stack, raw.FunctionName);
    const source = this.target(ref.stack, raw.EventSourceArn);
    if (!fn || !source) {
      this.warnings.push(
        `${this.idOf(ref)}: its function or event source is not in the assembly; not simulated.`,
      );
      return undefined;
    }
    const responseTypes = (p.FunctionResponseTypes as string[] | undefined) ?? [];
    const reportBatchItemFailures = responseTypes.includes('ReportBatchItemFailures');
    const enabled = p.Enabled !== false && p.Enabled !== 'false';
    const filters = ((p.FilterCriteria as { Filters?: { Pattern?: string }[] } | undefined)?.Filters ?? [])
      .map((f) => f.Pattern)
      .filter((pattern): pattern is string => typeof pattern === 'string');
    if (p.FilterCriteria && source.resource.Type !== 'AWS::DynamoDB::Table')
      this.warnings.push(`${this.idOf(ref)}: FilterCriteria are not simulated (every record is delivered).`);
    if (source.resource.Type === 'AWS::SQS::Queue') {
      const queue = config.queues.find((q) => q.id === this.idOf(source))!;
      const scaling = p.ScalingConfig as { MaximumConcurrency?: number } | undefined;
      if (queue.fifo && Number(p.MaximumBatchingWindowInSeconds ?? 0) > 0) {
        this.warnings.push(
          `${this.idOf(ref)}: a batching window on a FIFO queue, which Lambda does not support; simulated without one.`,
        );
      }
      return {
        kind: 'sqs',
        mapping: {
          id: this.idOf(ref),
          functionId: this.idOf(fn),
          queueArn: queue.queueArn,
          batchSize: Number(p.BatchSize ?? AWS_DEFAULTS.sqsBatchSize),
          maximumBatchingWindowSeconds: queue.fifo ? 0 : Number(p.MaximumBatchingWindowInSeconds ?? 0),
          reportBatchItemFailures,
          ...(scaling?.MaximumConcurrency !== undefined && {
            maximumConcurrency: Number(scaling.MaximumConcurrency),
          }),
          enabled,
        },
      };
    }
    if (source.resource.Type === 'AWS::Kinesis::Stream' || source.resource.Type === 'AWS::DynamoDB::Table') {
      const dynamodb = source.resource.Type === 'AWS::DynamoDB::Table';
      if (p.TumblingWindowInSeconds)
        this.warnings.push(`${this.idOf(ref)}: tumbling windows are not simulated.`);
      const destination = (p.DestinationConfig as { OnFailure?: { Destination?: string } } | undefined)
        ?.OnFailure?.Destination;
      const mapping: StreamEventSourceMappingConfig = {
        id: this.idOf(ref),
        functionId: this.idOf(fn),
        streamArn: dynamodb ? this.tableStreamArnOf(source) : this.arnOf(source),
        batchSize: Number(p.BatchSize ?? AWS_DEFAULTS.kinesisBatchSize),
        maximumBatchingWindowSeconds: Number(p.MaximumBatchingWindowInSeconds ?? 0),
        bisectBatchOnFunctionError:
          p.BisectBatchOnFunctionError === true || p.BisectBatchOnFunctionError === 'true',
        maximumRetryAttempts: Number(p.MaximumRetryAttempts ?? -1),
        maximumRecordAgeSeconds: Number(p.MaximumRecordAgeInSeconds ?? -1),
        parallelizationFactor: Number(p.ParallelizationFactor ?? 1),
        reportBatchItemFailures,
        ...(destination && { onFailureDestinationArn: destination }),
        startingPosition:
          (p.StartingPosition as KinesisEventSourceMappingConfig['startingPosition']) ?? 'LATEST',
        enabled,
        ...(dynamodb && filters.length > 0 && { filters }),
      };
      return dynamodb ? { kind: 'dynamodb', mapping } : { kind: 'kinesis', mapping };
    }
    this.warnings.push(`${this.idOf(ref)}: event source ${source.resource.Type} is not simulated.`);
    return undefined;
  }
}

function parseMaybeJson(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}
