import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { stageConsumerSettings } from './monitoring-stack';
import { removalPolicyFor, StageConfig } from '../config';
import type { PathFlow } from '../constructs/dashboard';
import { EFFECT_KEY_ATTRIBUTE, EffectTable } from '../constructs/effect-table';
import { IdempotencyTable } from '../constructs/idempotency-table';
import { SqsConsumer, SqsConsumerProps } from '../constructs/sqs-consumer';

export interface SqsIngestionStackProps extends StackProps {
  /** The stage: removal policy of the tables and queues, log retention. */
  readonly config: StageConfig;
  /**
   * Overrides of the SQS consumer's settings (batch size, concurrency, timeouts, entry...). The idempotency
   * and effect tables are the stack's own; removal policy and log retention come from `config` unless given here.
   * @default the SqsConsumer defaults
   */
  readonly consumer?: Omit<SqsConsumerProps, 'idempotencyTable' | 'effectTable'>;
}

/**
 * The SQS path as a deployable unit: its own idempotency and effect tables and the {@link SqsConsumer}. Composition only;
 * environment-agnostic (no account or region is resolved).
 */
export class SqsIngestionStack extends Stack {
  readonly idempotencyTable: IdempotencyTable;
  readonly effectTable: EffectTable;
  readonly sqsConsumer: SqsConsumer;
  /** The path's row of the stage dashboard. */
  readonly flow: PathFlow;

  constructor(scope: Construct, id: string, props: SqsIngestionStackProps) {
    super(scope, id, {
      description:
        'Reliable event-driven Lambda: SQS source queue -> Lambda (batch + idempotency), DLQ on the queue',
      ...props,
    });
    const removalPolicy = removalPolicyFor(props.config);

    this.idempotencyTable = new IdempotencyTable(this, 'IdempotencyTable', { removalPolicy });
    this.effectTable = new EffectTable(this, 'EffectTable', { removalPolicy });
    this.sqsConsumer = new SqsConsumer(this, 'SqsConsumer', {
      // Removal policy, log retention, the stage's alarm topic and metrics namespace.
      ...stageConsumerSettings(this, props.config),
      ...props.consumer,
      idempotencyTable: this.idempotencyTable,
      effectTable: this.effectTable,
    });
    this.flow = this.sqsConsumer.flow;

    new CfnOutput(this, 'QueueUrl', {
      description: 'Send order messages here',
      value: this.sqsConsumer.queue.queueUrl,
    });
    new CfnOutput(this, 'DeadLetterQueueUrl', {
      description: 'Messages that failed maxReceiveCount times',
      value: this.sqsConsumer.deadLetterQueue.queueUrl,
    });
    new CfnOutput(this, 'DeadLetterQueueArn', {
      description: 'Source ARN of a redrive (a message move task back to the queue): npm run redrive -- sqs',
      value: this.sqsConsumer.deadLetterQueue.queueArn,
    });
    new CfnOutput(this, 'EffectTableName', {
      description: `What the consumer applied: one item per customer and currency (${EFFECT_KEY_ATTRIBUTE} = customer#<customerId>#<currency>)`,
      value: this.effectTable.table.tableName,
    });
    new CfnOutput(this, 'ConsumerFunctionName', {
      description: 'The consumer function',
      value: this.sqsConsumer.function.functionName,
    });
    new CfnOutput(this, 'ConsumerLogGroupName', {
      description:
        'Consumer logs: invalid messages, failures with messageId, one "side effect done" per order',
      value: this.sqsConsumer.function.logGroup.logGroupName,
    });
    new CfnOutput(this, 'DeadLetterQueueAlarmName', {
      description: 'In ALARM while the dead-letter queue holds a message',
      value: this.sqsConsumer.dlqAlarm.alarmName,
    });
  }
}
