import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import { Dashboard, PeriodOverride } from 'aws-cdk-lib/aws-cloudwatch';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { alarmTopicNameOf, metricsNamespaceOf, removalPolicyFor, StageConfig } from '../config';
import { flowRow, type PathFlow } from '../constructs/dashboard';
import { denyTopicAccessWithoutTls } from '../constructs/tls';

export interface MonitoringStackProps extends StackProps {
  /** The stage: names of the topic and the dashboard, the e-mail subscription. */
  readonly config: StageConfig;
  /** The rows of the dashboard: one per deployed path, in the order of the `paths` setting. */
  readonly flows: readonly PathFlow[];
}

/**
 * A path stack's handle on the stage's alarm topic, by its name (`<appName>-<stage>-alarms`, in the stack's own
 * account and Region), not by a CloudFormation reference: the path stacks stay deployable and destroyable without
 * the monitoring stack, which itself depends on them (the dashboard reads their resources' names).
 */
export function stageAlarmTopic(scope: Construct, config: StageConfig): ITopic {
  const stack = Stack.of(scope);
  return Topic.fromTopicArn(
    scope,
    'StageAlarmTopic',
    stack.formatArn({ service: 'sns', resource: alarmTopicNameOf(config) }),
  );
}

/**
 * What every path stack gives its consumer from the stage: the removal policy of its stateful resources, the log
 * retention, the stage's alarm topic (every alarm notifies it, by name) and the stage's metrics namespace (the
 * business metrics). A stack's own `consumer` props may override each.
 */
export function stageConsumerSettings(
  scope: Construct,
  config: StageConfig,
): {
  readonly removalPolicy: RemovalPolicy;
  readonly logRetention: RetentionDays;
  readonly alarmTopic: ITopic;
  readonly metricsNamespace: string;
} {
  return {
    removalPolicy: removalPolicyFor(config),
    logRetention: config.logRetention,
    alarmTopic: stageAlarmTopic(scope, config),
    metricsNamespace: metricsNamespaceOf(config),
  };
}

/**
 * The stage's operations: the alarm topic every alarm of every path stack notifies (encrypted with a key of its
 * own that CloudWatch may use, every action denied without TLS, an e-mail subscription when the `alarmEmail` setting
 * names one) and the dashboard, one row per deployed path showing where records are (lib/constructs/dashboard.ts).
 * Stack `<appName>-<stage>-monitoring`.
 */
export class MonitoringStack extends Stack {
  readonly alarmTopic: Topic;
  readonly topicKey: Key;
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringStackProps) {
    super(scope, id, {
      description:
        'Reliable event-driven Lambda: the stage alarm topic (every alarm of every path) and the dashboard (one row per path)',
      ...props,
    });
    const { config } = props;

    // CloudWatch cannot publish to a topic encrypted with the AWS managed SNS key (its key policy cannot be changed):
    // a key of the topic's own, whose policy lets CloudWatch encrypt for this account's alarms only.
    this.topicKey = new Key(this, 'AlarmTopicKey', {
      description: `Encrypts the alarm topic ${alarmTopicNameOf(config)}`,
      enableKeyRotation: true,
      // A key is no stateful data of the stage: with the topic gone, nothing is left to decrypt.
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    const fromThisAccountsAlarms = {
      StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
      ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*` },
    };
    this.topicKey.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowThisAccountsAlarmsToPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: fromThisAccountsAlarms,
      }),
    );

    this.alarmTopic = new Topic(this, 'AlarmTopic', {
      topicName: alarmTopicNameOf(config),
      displayName: `${config.appName} ${config.stageName} alarms`,
      masterKey: this.topicKey,
    });
    denyTopicAccessWithoutTls(this.alarmTopic);
    this.alarmTopic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowThisAccountsAlarmsToPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.alarmTopic.topicArn],
        conditions: fromThisAccountsAlarms,
      }),
    );
    if (config.alarmEmail) {
      this.alarmTopic.addSubscription(new EmailSubscription(config.alarmEmail));
    }

    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: `${config.appName}-${config.stageName}`,
      defaultInterval: Duration.hours(3),
      periodOverride: PeriodOverride.AUTO,
    });
    for (const flow of props.flows) this.dashboard.addWidgets(...flowRow(flow));

    new CfnOutput(this, 'AlarmTopicArn', {
      description:
        'Every alarm of the stage notifies this topic: subscribe e-mail (setting alarmEmail), chat or a pager',
      value: this.alarmTopic.topicArn,
    });
    new CfnOutput(this, 'DashboardName', {
      description: 'The stage dashboard: one row per path, from records in to the DLQ or destination',
      value: `${config.appName}-${config.stageName}`,
    });
    new CfnOutput(this, 'DashboardUrl', {
      description: 'The stage dashboard in the CloudWatch console',
      value: `https://${Aws.REGION}.console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}#dashboards/dashboard/${config.appName}-${config.stageName}`,
    });
  }
}
