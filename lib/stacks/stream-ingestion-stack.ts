import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { stageConsumerSettings } from './monitoring-stack';
import { removalPolicyFor, StageConfig } from '../config';
import type { PathFlow } from '../constructs/dashboard';
import { EFFECT_KEY_ATTRIBUTE, EffectTable } from '../constructs/effect-table';
import { IdempotencyTable } from '../constructs/idempotency-table';
import { StreamConsumer, StreamConsumerProps } from '../constructs/stream-consumer';

export interface StreamIngestionStackProps extends StackProps {
  /** The stage: removal policy of the tables, stream and failure queue; log retention. */
  readonly config: StageConfig;
  /**
   * Overrides of the stream consumer's settings (capacity, retries, record age, destination...). The
   * idempotency and effect tables are the stack's own; removal policy and log retention come from `config`
   * unless given here.
   * @default the StreamConsumer defaults
   */
  readonly consumer?: Omit<StreamConsumerProps, 'idempotencyTable' | 'effectTable'>;
}

/**
 * The stream path as a deployable unit: its own idempotency and effect tables and the {@link StreamConsumer}
 * (Kinesis stream, consumer function, event source mapping with bisect / bounded retries / record age /
 * on-failure destination, alarms). Composition only; environment-agnostic.
 */
export class StreamIngestionStack extends Stack {
  readonly idempotencyTable: IdempotencyTable;
  readonly effectTable: EffectTable;
  readonly streamConsumer: StreamConsumer;
  /** The path's row of the stage dashboard. */
  readonly flow: PathFlow;

  constructor(scope: Construct, id: string, props: StreamIngestionStackProps) {
    super(scope, id, {
      description:
        'Reliable event-driven Lambda: Kinesis stream -> Lambda (bisect, bounded retries, per-key order, idempotency), on-failure destination',
      ...props,
    });
    const removalPolicy = removalPolicyFor(props.config);

    this.idempotencyTable = new IdempotencyTable(this, 'IdempotencyTable', { removalPolicy });
    this.effectTable = new EffectTable(this, 'EffectTable', { removalPolicy });
    this.streamConsumer = new StreamConsumer(this, 'StreamConsumer', {
      // Removal policy, log retention, the stage's alarm topic and metrics namespace.
      ...stageConsumerSettings(this, props.config),
      ...props.consumer,
      idempotencyTable: this.idempotencyTable,
      effectTable: this.effectTable,
    });
    this.flow = this.streamConsumer.flow;
    const { stream, onFailureDestination, alarms } = this.streamConsumer;

    new CfnOutput(this, 'StreamName', {
      description: 'Put sensor readings here (partition key: the sensor id)',
      value: stream.streamName,
    });
    new CfnOutput(this, 'StreamArn', {
      description: 'The stream; failure records name it in KinesisBatchInfo.streamArn',
      value: stream.streamArn,
    });
    new CfnOutput(this, 'OnFailureDestinationArn', {
      description: `Where Lambda sends batches it gave up on (${onFailureDestination.kind})`,
      value: onFailureDestination.destinationArn,
    });
    if (onFailureDestination.queue) {
      new CfnOutput(this, 'FailureQueueUrl', {
        description:
          'Failure records kept for an operator: npm run redrive -- stream puts their records back into the stream',
        value: onFailureDestination.queue.queueUrl,
      });
    }
    new CfnOutput(this, 'EffectTableName', {
      description: `What the consumer applied: one item per sensor and metric (${EFFECT_KEY_ATTRIBUTE} = sensor#<sensorId>#<metric>)`,
      value: this.effectTable.table.tableName,
    });
    new CfnOutput(this, 'ConsumerFunctionName', {
      description: 'The consumer function',
      value: this.streamConsumer.function.functionName,
    });
    new CfnOutput(this, 'ConsumerLogGroupName', {
      description:
        'Consumer logs: invalid payloads and held-back records with sequence numbers, one "side effect done" per reading',
      value: this.streamConsumer.function.logGroup.logGroupName,
    });
    new CfnOutput(this, 'IteratorAgeAlarmName', {
      description: 'In ALARM while a shard is blocked or behind',
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
