import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { stageConsumerSettings } from './monitoring-stack';
import { removalPolicyFor, StageConfig } from '../config';
import type { PathFlow } from '../constructs/dashboard';
import { EFFECT_KEY_ATTRIBUTE, EffectTable } from '../constructs/effect-table';
import { IdempotencyTable } from '../constructs/idempotency-table';
import { ObjectConsumer, ObjectConsumerProps } from '../constructs/object-consumer';

export interface ObjectIngestionStackProps extends StackProps {
  /** The stage: removal policy of the tables, buckets, key and queues; log retention. */
  readonly config: StageConfig;
  /**
   * Overrides of the object consumer's settings (filters, retries, event age, destinations, timeouts...).
   * The idempotency and effect tables are the stack's own; removal policy and log retention come from
   * `config` unless given here.
   * @default the ObjectConsumer defaults
   */
  readonly consumer?: Omit<ObjectConsumerProps, 'idempotencyTable' | 'effectTable'>;
}

/**
 * The asynchronous path as a deployable unit: its own idempotency and effect tables and the {@link ObjectConsumer}
 * (S3 bucket -> SNS topic -> Lambda, with retries, event age, on-failure destination and subscription DLQ).
 * Composition only; environment-agnostic (no account or region is resolved).
 */
export class ObjectIngestionStack extends Stack {
  readonly idempotencyTable: IdempotencyTable;
  readonly effectTable: EffectTable;
  readonly objectConsumer: ObjectConsumer;
  /** The path's row of the stage dashboard. */
  readonly flow: PathFlow;

  constructor(scope: Construct, id: string, props: ObjectIngestionStackProps) {
    super(scope, id, {
      description:
        'Reliable event-driven Lambda: S3 -> SNS -> asynchronous Lambda (retries, event age, on-failure destination, idempotency per object version)',
      ...props,
    });
    const removalPolicy = removalPolicyFor(props.config);

    this.idempotencyTable = new IdempotencyTable(this, 'IdempotencyTable', { removalPolicy });
    this.effectTable = new EffectTable(this, 'EffectTable', { removalPolicy });
    this.objectConsumer = new ObjectConsumer(this, 'ObjectConsumer', {
      // Removal policy, log retention, the stage's alarm topic and metrics namespace.
      ...stageConsumerSettings(this, props.config),
      ...props.consumer,
      idempotencyTable: this.idempotencyTable,
      effectTable: this.effectTable,
    });
    this.flow = this.objectConsumer.flow;
    const consumer = this.objectConsumer;

    new CfnOutput(this, 'BucketName', {
      description: 'Upload objects here; each new object version is processed once',
      value: consumer.bucket.bucketName,
    });
    new CfnOutput(this, 'ObjectCreatedTopicArn', {
      description: 'S3 publishes object-created notifications here',
      value: consumer.objectCreatedTopic.topicArn,
    });
    if (consumer.onFailureQueue) {
      new CfnOutput(this, 'OnFailureQueueUrl', {
        description:
          'Invocation records of events that exhausted retries or event age: aws sqs receive-message --queue-url <this>',
        value: consumer.onFailureQueue.queueUrl,
      });
    }
    new CfnOutput(this, 'SubscriptionDeadLetterQueueUrl', {
      description:
        'Notifications SNS could not deliver to the function (delivery failures, not function errors)',
      value: consumer.subscriptionDeadLetterQueue.queueUrl,
    });
    new CfnOutput(this, 'EffectTableName', {
      description: `What the consumer applied: one item per object prefix (${EFFECT_KEY_ATTRIBUTE} = prefix#<bucket>/<first path segment or (root)>)`,
      value: this.effectTable.table.tableName,
    });
    new CfnOutput(this, 'ConsumerFunctionName', {
      description:
        'The consumer function (npm run redrive -- object invokes it again with each failed event)',
      value: consumer.function.functionName,
    });
    new CfnOutput(this, 'ConsumerLogGroupName', {
      description:
        'Consumer logs: invalid notifications, failures with objectVersionKey, one "side effect done" per object version',
      value: consumer.function.logGroup.logGroupName,
    });
  }
}
