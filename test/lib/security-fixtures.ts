/**
 * What the security assertions of the template tests compare against, written out from AWS's documentation
 * rather than imported from lib/, so that a change to the constructs' lists is caught here.
 */
import { Template } from 'aws-cdk-lib/assertions';

/**
 * Every action Amazon SNS accepts in a topic policy ("Valid Amazon SNS policy actions", Amazon SNS developer
 * guide, sns-access-policy-language-api-permissions-reference). SNS rejects `sns:*` in a topic policy, so a deny of
 * every action names them all.
 */
export const SNS_TOPIC_POLICY_ACTIONS = [
  'sns:AddPermission',
  'sns:DeleteTopic',
  'sns:GetDataProtectionPolicy',
  'sns:GetTopicAttributes',
  'sns:ListSubscriptionsByTopic',
  'sns:ListTagsForResource',
  'sns:Publish',
  'sns:PutDataProtectionPolicy',
  'sns:RemovePermission',
  'sns:SetTopicAttributes',
  'sns:Subscribe',
] as const;

interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Principal?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

/** The statements of every policy of `policyType` whose `targetsProperty` names `ref` (e.g. `{ Ref: queueId }`). */
function statementsAbout(
  template: Template,
  policyType: string,
  targetsProperty: string,
  ref: unknown,
): Statement[] {
  return Object.values(template.findResources(policyType))
    .filter((policy) => {
      const targets = policy.Properties[targetsProperty] as unknown;
      const list = Array.isArray(targets) ? targets : [targets];
      return list.some((target) => JSON.stringify(target) === JSON.stringify(ref));
    })
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
}

/**
 * The actions a resource's policies deny to every principal when the request is not made over TLS
 * (`aws:SecureTransport` false), sorted; empty when no statement does.
 */
export function actionsDeniedWithoutTls(
  template: Template,
  policyType: 'AWS::SQS::QueuePolicy' | 'AWS::SNS::TopicPolicy' | 'AWS::S3::BucketPolicy',
  resourceId: string,
): string[] {
  const targetsProperty = {
    'AWS::SQS::QueuePolicy': 'Queues',
    'AWS::SNS::TopicPolicy': 'Topics',
    'AWS::S3::BucketPolicy': 'Bucket',
  }[policyType];
  const everyone = (principal: unknown) =>
    principal === '*' || JSON.stringify(principal) === JSON.stringify({ AWS: '*' });
  return statementsAbout(template, policyType, targetsProperty, { Ref: resourceId })
    .filter(
      (statement) =>
        statement.Effect === 'Deny' &&
        everyone(statement.Principal) &&
        statement.Condition?.Bool?.['aws:SecureTransport'] === 'false',
    )
    .flatMap((statement) => (Array.isArray(statement.Action) ? statement.Action : [statement.Action]))
    .sort();
}
