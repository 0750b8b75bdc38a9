import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { stageConsumerSettings } from './monitoring-stack';
import { removalPolicyFor, StageConfig } from '../config';
import type { PathFlow } from '../constructs/dashboard';
import { FifoConsumer, FifoConsumerProps } from '../constructs/fifo-consumer';
import { EFFECT_KEY_ATTRIBUTE, EffectTable } from '../constructs/effect-table';
import { IdempotencyTable } from '../constructs/idempotency-table';

export interface FifoIngestionStackProps extends StackProps {
  /** The stage: removal policy of the tables and queues, log retention. */
  readonly config: StageConfig;
  /**
   * Overrides of the FIFO consumer's settings (deduplication, high throughput, batch size, concurrency, timeouts,
   * entry...). The idempotency and effect tables are the stack's own; removal policy and log retention come from
   * `config` unless given here.
   * @default the FifoConsumer defaults
   */
  readonly consumer?: Omit<FifoConsumerProps, 'idempotencyTable' | 'effectTable'>;
}

/**
 * The SQS FIFO path as a deployable unit: its own idempotency and effect tables and the {@link FifoConsumer}.
 * Composition only; environment-agnostic (no account or region is resolved).
 */
export class FifoIngestionStack extends Stack {
  readonly idempotencyTable: IdempotencyTable;
  readonly effectTable: EffectTable;
  readonly fifoConsumer: FifoConsumer;
  /** The path's row of the stage dashboard. */
  readonly flow: PathFlow;

  constructor(scope: Construct, id: string, props: FifoIngestionStackProps) {
    super(scope, id, {
      description:
        'Reliable event-driven Lambda: SQS FIFO source queue -> Lambda (in order per message group, batch + idempotency), FIFO DLQ on the queue',
      ...props,
    });
    const removalPolicy = removalPolicyFor(props.config);

    this.idempotencyTable = new IdempotencyTable(this, 'IdempotencyTable', { removalPolicy });
    this.effectTable = new EffectTable(this, 'EffectTable', { removalPolicy });
    this.fifoConsumer = new FifoConsumer(this, 'FifoConsumer', {
      // Removal policy, log retention, the stage's alarm topic and metrics namespace.
      ...stageConsumerSettings(this, props.config),
      ...props.consumer,
      idempotencyTable: this.idempotencyTable,
      effectTable: this.effectTable,
    });
    this.flow = this.fifoConsumer.flow;

    new CfnOutput(this, 'QueueUrl', {
      description: 'Send messages here, each with a MessageGroupId (the group whose order is kept)',
      value: this.fifoConsumer.queue.queueUrl,
    });
    new CfnOutput(this, 'DeadLetterQueueUrl', {
      description: 'Messages that failed maxReceiveCount times (FIFO)',
      value: this.fifoConsumer.deadLetterQueue.queueUrl,
    });
    new CfnOutput(this, 'DeadLetterQueueArn', {
      description: 'Source ARN of a redrive (a message move task back to the queue): npm run redrive -- fifo',
      value: this.fifoConsumer.deadLetterQueue.queueArn,
    });
    new CfnOutput(this, 'EffectTableName', {
      description: `What the consumer applied: one item per account and currency (${EFFECT_KEY_ATTRIBUTE} = account#<accountId>#<currency>)`,
      value: this.effectTable.table.tableName,
    });
    new CfnOutput(this, 'ConsumerFunctionName', {
      description: 'The consumer function',
      value: this.fifoConsumer.function.functionName,
    });
    new CfnOutput(this, 'ConsumerLogGroupName', {
      description:
        'Consumer logs: invalid messages, failures with messageId and message group, one "side effect done" per message',
      value: this.fifoConsumer.function.logGroup.logGroupName,
    });
    new CfnOutput(this, 'DeadLetterQueueAlarmName', {
      description: 'In ALARM while the dead-letter queue holds a message',
      value: this.fifoConsumer.dlqAlarm.alarmName,
    });
  }
}
