import { Effect, PolicyStatement, StarPrincipal } from 'aws-cdk-lib/aws-iam';
import { ITopic } from 'aws-cdk-lib/aws-sns';

/**
 * Every action Amazon SNS accepts in a topic policy ("Valid Amazon SNS policy actions" in the Amazon SNS developer
 * guide). A topic policy may only name these: SNS rejects `sns:*` and actions outside the list ("Policy statement
 * action out of service scope"), which is why cdk-nag's SNS3 rule moved from `sns:*` to `sns:Publish`
 * (cdklabs/cdk-nag#676). `enforceSSL` on a CDK Topic denies only `sns:Publish`.
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

/**
 * Makes a topic refuse every request that is not made over TLS: a statement in its topic policy that denies every
 * action SNS accepts there ({@link SNS_TOPIC_POLICY_ACTIONS}) to every principal when `aws:SecureTransport` is
 * false. Use it instead of the topic's `enforceSSL`, which covers publishing only.
 */
export function denyTopicAccessWithoutTls(topic: ITopic): void {
  topic.addToResourcePolicy(
    new PolicyStatement({
      sid: 'DenyEveryActionWithoutTLS',
      effect: Effect.DENY,
      principals: [new StarPrincipal()], // "Principal": "*", as in the SNS documentation's example
      actions: [...SNS_TOPIC_POLICY_ACTIONS],
      resources: [topic.topicArn],
      conditions: { Bool: { 'aws:SecureTransport': 'false' } },
    }),
  );
}
