import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { stageConsumerSettings } from './monitoring-stack';
import { removalPolicyFor, StageConfig } from '../config';
import type { PathFlow } from '../constructs/dashboard';
import { EFFECT_KEY_ATTRIBUTE, EffectTable } from '../constructs/effect-table';
import { IdempotencyTable } from '../constructs/idempotency-table';
import { destinationNameOf } from '../constructs/stream-rules';
import { TableStreamConsumer, TableStreamConsumerProps } from '../constructs/table-stream-consumer';

export interface TableStreamIngestionStackProps extends StackProps {
  /** The stage: removal policy of the tables and the failure queue; log retention. */
  readonly config: StageConfig;
  /**
   * Overrides of the table stream consumer's settings (filters, retries, record age, destination...). The
   * idempotency and effect tables are the stack's own; removal policy and log retention come from `config`
   * unless given here.
   * @default the TableStreamConsumer defaults
   */
  readonly consumer?: Omit<TableStreamConsumerProps, 'idempotencyTable' | 'effectTable'>;
}

/**
 * The DynamoDB Streams path as a deployable unit: its own idempotency and effect tables and the
 * {@link TableStreamConsumer} (source table with its stream, consumer function, event source mapping with filter
 * criteria / bisect / bounded retries / record age / on-failure destination, alarms). Composition only;
 * environment-agnostic.
 */
export class TableStreamIngestionStack extends Stack {
  readonly idempotencyTable: IdempotencyTable;
  readonly effectTable: EffectTable;
  readonly tableStreamConsumer: TableStreamConsumer;
  /** The path's row of the stage dashboard. */
  readonly flow: PathFlow;

  constructor(scope: Construct, id: string, props: TableStreamIngestionStackProps) {
    super(scope, id, {
      description:
        'Reliable event-driven Lambda: DynamoDB stream -> Lambda (filter criteria, bisect, bounded retries, per-item order, idempotency), on-failure destination',
      ...props,
    });
    const removalPolicy = removalPolicyFor(props.config);

    this.idempotencyTable = new IdempotencyTable(this, 'IdempotencyTable', { removalPolicy });
    this.effectTable = new EffectTable(this, 'EffectTable', { removalPolicy });
    this.tableStreamConsumer = new TableStreamConsumer(this, 'TableStreamConsumer', {
      // Removal policy, log retention, the stage's alarm topic and metrics namespace.
      ...stageConsumerSettings(this, props.config),
      ...props.consumer,
      idempotencyTable: this.idempotencyTable,
      effectTable: this.effectTable,
    });
    this.flow = this.tableStreamConsumer.flow;
    const { table, onFailureDestination, alarms } = this.tableStreamConsumer;

    new CfnOutput(this, 'SourceTableName', {
      description: 'Write items here (partition key pk): each INSERT and MODIFY reaches the consumer',
      value: table.tableName,
    });
    new CfnOutput(this, 'StreamArn', {
      description: "The table's stream (NEW_AND_OLD_IMAGES): failure records name it as their streamArn",
      value: table.tableStreamArn!,
    });
    new CfnOutput(this, 'OnFailureDestinationName', {
      description: `Where Lambda sends batches it gave up on (${onFailureDestination.kind})`,
      value: destinationNameOf(onFailureDestination),
    });
    new CfnOutput(this, 'OnFailureDestinationArn', {
      description: `Where Lambda sends batches it gave up on (${onFailureDestination.kind})`,
      value: onFailureDestination.destinationArn,
    });
    if (onFailureDestination.queue) {
      new CfnOutput(this, 'FailureQueueUrl', {
        description:
          'Failure records kept for an operator (shard and sequence numbers): npm run redrive -- table-stream replays them',
        value: onFailureDestination.queue.queueUrl,
      });
    }
    new CfnOutput(this, 'EffectTableName', {
      description: `What the consumer applied: one item per warehouse (${EFFECT_KEY_ATTRIBUTE} = stock#<warehouse>)`,
      value: this.effectTable.table.tableName,
    });
    new CfnOutput(this, 'ConsumerFunctionName', {
      description: 'The consumer function',
      value: this.tableStreamConsumer.function.functionName,
    });
    new CfnOutput(this, 'ConsumerLogGroupName', {
      description:
        'Consumer logs: invalid images and held-back records with sequence numbers, one "side effect done" per change',
      value: this.tableStreamConsumer.function.logGroup.logGroupName,
    });
    new CfnOutput(this, 'IteratorAgeAlarmName', {
      description: 'In ALARM while a shard of the stream is blocked or behind',
      value: alarms.iteratorAge.alarmName,
    });
    if (alarms.failureQueueNotEmpty) {
      new CfnOutput(this, 'FailureQueueAlarmName', {
        description: 'In ALARM while the failure queue holds a failure record',
        value: alarms.failureQueueNotEmpty.alarmName,
      });
    }
  }
}
