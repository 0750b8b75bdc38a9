/**
 * What `npm run deploy:local` demands of the emulator: every resource of every synthesized template must be
 * created (listed by CloudFormation as CREATE_COMPLETE, with a physical id) and then found through the AWS API of
 * its type (tools/deploy-local/lookups.ts); after the destroy, every one of them must be gone. A resource type the
 * emulator does not create, or that has no lookup here, fails the run with its name: nothing passes silently.
 *
 * The pure part (template vs CloudFormation's list) is here; the lookups call the emulator.
 */
import type { Template } from '../smoke/aws';
import {
  type DeployedResource,
  evaluateCondition,
  type ResolveContext,
  Unresolvable,
} from '../smoke/resolve';

/**
 * The resource types moto 5.2 has no CloudFormation model for, which tools/deploy-local/moto_launcher.py models
 * (each creates the real thing in moto's backends, readable through the AWS API), and what that model does.
 */
export const LAUNCHER_MODELS: Readonly<Record<string, string>> = {
  'AWS::CloudWatch::Alarm': 'created with PutMetricAlarm (metric, threshold, dimensions, actions)',
  'AWS::Lambda::EventInvokeConfig': 'retries, event age and destinations set on the function',
  'AWS::SNS::Subscription': 'subscribed with its attributes (raw delivery, redrive policy, filter policy)',
  'AWS::SNS::TopicPolicy': "set as the topic's Policy attribute (stored; moto enforces no topic policy)",
  'AWS::SQS::QueuePolicy': "set as the queue's Policy attribute (stored; moto enforces no queue policy)",
  'AWS::S3::BucketPolicy':
    'stored on the bucket (GetBucketPolicy), not enforced: moto would evaluate it without its conditions, so the TLS-only deny would refuse every request',
  'AWS::CDK::Metadata': "the CDK's version bookkeeping: listed by CloudFormation, no AWS resource",
  'Custom::S3BucketNotifications':
    "the bucket's notification configuration set directly (the CDK's Python handler needs Lambda execution, which moto has only in Docker)",
  'Custom::S3AutoDeleteObjects':
    'nothing on create; empties the bucket on delete (the provider function needs Docker); the destroy checks the buckets are gone',
  // The http path's HTTP API. Not emulated, it could not be skipped either: moto fails every later call on the stack
  // (its outputs, its listing, its deletion) when a Fn::GetAtt names a resource it skipped.
  'AWS::ApiGatewayV2::Api':
    "created with moto's API Gateway v2 (CreateApi): name, protocol, endpoint; serves no request",
  'AWS::ApiGatewayV2::Integration':
    'created on the API (CreateIntegration): type, function, payload version, timeout',
  'AWS::ApiGatewayV2::Route':
    'created on the API (CreateRoute): route key, IAM authorization, target integration',
  'AWS::ApiGatewayV2::Stage':
    'created on the API (CreateStage): auto-deploy, access log settings, throttling (stored; moto throttles nothing)',
  // The http path's count of 429s from its access logs (moto has the API call, no CloudFormation model).
  'AWS::Logs::MetricFilter':
    'created with PutMetricFilter: pattern, log group, metric and dimensions (stored; moto turns no log line into a metric)',
};

/**
 * Resource types the emulator does not create and the run accepts, each with its reason. A type absent from the
 * emulator and from this list fails the run.
 */
export const NOT_EMULATED: Readonly<Record<string, string>> = {
  'AWS::Logs::QueryDefinition':
    'moto 5.2 has no CloudWatch Logs Insights query definitions (no PutQueryDefinition, no CloudFormation model): saved queries of the console, nothing on the data path',
};

/** Types whose physical id moto leaves empty (CloudFormation gives one): found by their lookup instead. */
export const NO_PHYSICAL_ID_ON_THE_EMULATOR: readonly string[] = ['AWS::Lambda::Permission'];

/** A template resource, as the comparison sees it. */
export interface ExpectedResource {
  readonly logicalId: string;
  readonly type: string;
  readonly properties: Readonly<Record<string, unknown>>;
  /** `Retain` (or `RetainExceptOnCreate`, `Snapshot`): kept by the destroy. */
  readonly deletionPolicy?: string;
}

/** The resources of a template that this deployment creates: those whose Condition holds (all, when none). */
export function expectedResources(template: Template, ctx: ResolveContext | undefined): ExpectedResource[] {
  const out: ExpectedResource[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    if (resource.Condition && ctx) {
      try {
        if (!evaluateCondition(resource.Condition, { ...ctx, conditions: template.Conditions })) continue;
      } catch (error) {
        if (!(error instanceof Unresolvable)) throw error;
      }
    }
    out.push({
      logicalId,
      type: resource.Type,
      properties: resource.Properties ?? {},
      deletionPolicy: resource.DeletionPolicy,
    });
  }
  return out;
}

export type CoverageStatus = 'created' | 'not-emulated' | 'missing' | 'failed' | 'unexpected';

export interface CoverageFinding {
  readonly logicalId: string;
  readonly type: string;
  readonly status: CoverageStatus;
  readonly detail: string;
  readonly physicalId?: string;
}

const CREATED = new Set(['CREATE_COMPLETE', 'UPDATE_COMPLETE']);

/**
 * Compares a template's resources with what CloudFormation lists for the deployed stack. `created` resources go
 * on to their lookup; `not-emulated` ones are accepted with their reason; every other finding fails the run.
 */
export function compareResources(
  expected: readonly ExpectedResource[],
  deployed: ReadonlyMap<string, DeployedResource>,
  notEmulated: Readonly<Record<string, string>> = NOT_EMULATED,
  /** The stack's failed status (and reason), when it did not complete: why its missing resources are missing. */
  failedStack?: string,
): CoverageFinding[] {
  const findings: CoverageFinding[] = [];
  for (const resource of expected) {
    const found = deployed.get(resource.logicalId);
    const base = { logicalId: resource.logicalId, type: resource.type };
    if (!found) {
      findings.push(
        notEmulated[resource.type]
          ? { ...base, status: 'not-emulated', detail: `not emulated: ${notEmulated[resource.type]}` }
          : failedStack
            ? { ...base, status: 'missing', detail: `not created: the stack is ${failedStack}` }
            : {
                ...base,
                status: 'missing',
                detail:
                  'not created by the emulator, and CloudFormation does not list it: moto skips a type it has no model for ' +
                  '(with only a log line) and still reports CREATE_COMPLETE. Model it in tools/deploy-local/moto_launcher.py, ' +
                  'or list it in NOT_EMULATED (tools/deploy-local/coverage.ts) with the reason',
              },
      );
      continue;
    }
    if (found.type !== resource.type) {
      findings.push({ ...base, status: 'failed', detail: `listed as ${found.type}` });
    } else if (!CREATED.has(found.status)) {
      findings.push({
        ...base,
        status: 'failed',
        detail: `${found.status}${found.reason ? `: ${found.reason}` : ''}`,
      });
    } else if (!found.physicalId && !NO_PHYSICAL_ID_ON_THE_EMULATOR.includes(resource.type)) {
      findings.push({ ...base, status: 'failed', detail: `${found.status} but with no physical id` });
    } else {
      findings.push({ ...base, status: 'created', detail: found.status, physicalId: found.physicalId });
    }
  }
  const names = new Set(expected.map((resource) => resource.logicalId));
  for (const resource of deployed.values()) {
    if (!names.has(resource.logicalId)) {
      findings.push({
        logicalId: resource.logicalId,
        type: resource.type,
        status: 'unexpected',
        detail: `listed by CloudFormation (${resource.status}) but not in the template`,
      });
    }
  }
  return findings;
}

/** Whether a finding fails the run. */
export function isFailure(finding: Pick<CoverageFinding, 'status'>): boolean {
  return finding.status !== 'created' && finding.status !== 'not-emulated';
}

/** Whether the destroy keeps the resource (its DeletionPolicy). */
export function retainedOnDestroy(resource: Pick<ExpectedResource, 'deletionPolicy'>): boolean {
  return resource.deletionPolicy !== undefined && resource.deletionPolicy !== 'Delete';
}
