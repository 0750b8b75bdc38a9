/**
 * Reads what the cost model needs from a synthesized cloud assembly (cdk.out): for each path's consumer
 * function (found by its `POWERTOOLS_SERVICE_NAME`), its memory, architecture, tracing and log retention, the
 * batch size of its event source mapping, how often a failing record is attempted, and the stream's mode.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Architecture, IngestionPath, PathSettings } from './cost-model';

interface Resource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}
type Resources = Readonly<Record<string, Resource>>;

/** The settings plus what the tables show about retries. */
export interface SynthesizedPath extends PathSettings {
  readonly stack: string;
  readonly functionLogicalId: string;
  /** How many times one failing record is attempted before it is set aside (DLQ or on-failure destination). */
  readonly maxAttempts: number;
  readonly maxBatchingWindowSeconds: number;
  readonly timeoutSeconds: number;
}

export const SERVICE_OF_PATH: Readonly<Record<IngestionPath, string>> = {
  sqs: 'sqs-consumer',
  object: 'object-consumer',
  stream: 'stream-consumer',
  fifo: 'fifo-consumer',
  'table-stream': 'table-stream-consumer',
  http: 'http-ingress',
};

/** The logical id a `{ Ref }` or `{ Fn::GetAtt }` points at. */
function referenced(value: unknown): string | undefined {
  if (value && typeof value === 'object') {
    const ref = (value as { Ref?: unknown }).Ref;
    if (typeof ref === 'string') return ref;
    const getAtt = (value as { 'Fn::GetAtt'?: unknown })['Fn::GetAtt'];
    if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  }
  return undefined;
}

function stackTemplates(assemblyDir: string): { stack: string; resources: Resources }[] {
  const manifest = JSON.parse(readFileSync(path.join(assemblyDir, 'manifest.json'), 'utf8')) as {
    artifacts: Record<string, { type: string; properties?: { templateFile?: string } }>;
  };
  return Object.entries(manifest.artifacts)
    .filter(
      ([, artifact]) => artifact.type === 'aws:cloudformation:stack' && artifact.properties?.templateFile,
    )
    .map(([stack, artifact]) => {
      const template = JSON.parse(
        readFileSync(path.join(assemblyDir, artifact.properties?.templateFile as string), 'utf8'),
      ) as { Resources: Resources };
      return { stack, resources: template.Resources };
    });
}

/**
 * The settings of the paths synthesized in `assemblyDir`: the app deploys the paths of its `paths` context, so a
 * path may be absent. Throws when none is there.
 */
export function readPathSettings(assemblyDir: string): Partial<Record<IngestionPath, SynthesizedPath>> {
  const found: Partial<Record<IngestionPath, SynthesizedPath>> = {};
  for (const { stack, resources } of stackTemplates(assemblyDir)) {
    for (const [functionId, resource] of Object.entries(resources)) {
      if (resource.Type !== 'AWS::Lambda::Function') continue;
      const properties = resource.Properties ?? {};
      const variables =
        (properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
      const ingestionPath = (Object.keys(SERVICE_OF_PATH) as IngestionPath[]).find(
        (candidate) => SERVICE_OF_PATH[candidate] === variables.POWERTOOLS_SERVICE_NAME,
      );
      // The http stack has an SQS consumer of its own behind its API: the sqs stack's, when both are there.
      if (!ingestionPath || found[ingestionPath]) continue;
      found[ingestionPath] = settingsOf(ingestionPath, stack, functionId, properties, resources);
    }
  }
  if (Object.keys(found).length === 0) {
    throw new Error(
      `no consumer function of any ingestion path in ${assemblyDir}: synthesize the app first (npm run synth)`,
    );
  }
  return found;
}

function settingsOf(
  ingestionPath: IngestionPath,
  stack: string,
  functionId: string,
  properties: Record<string, unknown>,
  resources: Resources,
): SynthesizedPath {
  const variables =
    (properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
  const architectures = properties.Architectures as Architecture[] | undefined;
  const logGroupId = referenced((properties.LoggingConfig as { LogGroup?: unknown } | undefined)?.LogGroup);
  const retention = logGroupId ? resources[logGroupId]?.Properties?.RetentionInDays : undefined;
  const mapping = Object.values(resources).find(
    (candidate) =>
      candidate.Type === 'AWS::Lambda::EventSourceMapping' &&
      referenced(candidate.Properties?.FunctionName) === functionId,
  )?.Properties;
  const base = {
    path: ingestionPath,
    stack,
    functionLogicalId: functionId,
    memoryMb: Number(properties.MemorySize ?? 128),
    architecture: architectures?.[0] ?? 'x86_64',
    tracing: (properties.TracingConfig as { Mode?: string } | undefined)?.Mode === 'Active',
    // A log group without a retention keeps logs forever: priced as a year here.
    logRetentionDays: typeof retention === 'number' ? retention : 365,
    maxBatchingWindowSeconds: Number(mapping?.MaximumBatchingWindowInSeconds ?? 0),
    timeoutSeconds: Number(properties.Timeout ?? 3),
  };
  if (ingestionPath === 'sqs' || ingestionPath === 'fifo') {
    const queueId = referenced(mapping?.EventSourceArn);
    const redrive = queueId
      ? (resources[queueId]?.Properties?.RedrivePolicy as { maxReceiveCount?: number } | undefined)
      : undefined;
    return {
      ...base,
      batchSize: Number(mapping?.BatchSize ?? 10),
      maxAttempts: Number(redrive?.maxReceiveCount ?? Infinity),
    };
  }
  if (ingestionPath === 'http') {
    // One request per invocation; a failure is answered to the caller, whose client retries (a new request).
    return { ...base, batchSize: 1, maxAttempts: 1 };
  }
  if (ingestionPath === 'object') {
    const invokeConfig = Object.values(resources).find(
      (candidate) =>
        candidate.Type === 'AWS::Lambda::EventInvokeConfig' &&
        referenced(candidate.Properties?.FunctionName) === functionId,
    )?.Properties;
    return { ...base, batchSize: 1, maxAttempts: 1 + Number(invokeConfig?.MaximumRetryAttempts ?? 2) };
  }
  const streamId = referenced(mapping?.EventSourceArn);
  const stream = streamId ? resources[streamId]?.Properties : undefined;
  const mode = (stream?.StreamModeDetails as { StreamMode?: string } | undefined)?.StreamMode;
  const retries = Number(mapping?.MaximumRetryAttempts ?? -1);
  const streamSettings = {
    ...base,
    batchSize: Number(mapping?.BatchSize ?? 100),
    maxAttempts: retries < 0 ? Infinity : 1 + retries,
    ...(variables.IDEMPOTENCY_SCHEME === 'read-then-complete' && {
      idempotencyScheme: 'read-then-complete' as const,
    }),
  };
  // A DynamoDB table's stream has no mode or shards to pay for.
  if (ingestionPath === 'table-stream') return streamSettings;
  return {
    ...streamSettings,
    streamMode:
      mode === 'PROVISIONED' || (mode === undefined && stream?.ShardCount !== undefined)
        ? 'PROVISIONED'
        : 'ON_DEMAND',
    ...(stream?.ShardCount !== undefined && { shardCount: Number(stream.ShardCount) }),
  };
}
