import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { stageConsumerSettings } from './monitoring-stack';
import { removalPolicyFor, StageConfig } from '../config';
import type { PathFlow } from '../constructs/dashboard';
import { EFFECT_KEY_ATTRIBUTE, EffectTable } from '../constructs/effect-table';
import { HttpIngress, HttpIngressProps } from '../constructs/http-ingress';
import { IdempotencyTable } from '../constructs/idempotency-table';
import { SqsConsumer, SqsConsumerProps } from '../constructs/sqs-consumer';

export interface HttpIngestionStackProps extends StackProps {
  /** The stage: removal policy of the tables and queues, log retention. */
  readonly config: StageConfig;
  /** Overrides of the front door's settings (throttle, reserved concurrency, timeout...). @default the HttpIngress defaults */
  readonly ingress?: Omit<HttpIngressProps, 'idempotencyTable' | 'queue'>;
  /** Overrides of the SQS consumer behind it. @default the SqsConsumer defaults */
  readonly consumer?: Omit<SqsConsumerProps, 'idempotencyTable' | 'effectTable'>;
}

/**
 * The http path as a deployable unit: the front door (an HTTP API with `POST /orders` to the ingress function,
 * {@link HttpIngress}) and, behind it, an SQS path of its own ({@link SqsConsumer}: the same construct, handler and
 * domain as the sqs stack), which the accepted orders flow into and which applies them exactly once per orderId.
 * One idempotency table (the ingress's Idempotency-Keys and the consumer's orderIds, under different prefixes)
 * and one effect table. Self-contained: deployed and destroyed on its own, no reference to another stack
 * (README, "The http path").
 */
export class HttpIngestionStack extends Stack {
  readonly idempotencyTable: IdempotencyTable;
  readonly effectTable: EffectTable;
  readonly sqsConsumer: SqsConsumer;
  readonly httpIngress: HttpIngress;
  /**
   * The path's rows of the stage dashboard: the front door (requests and their answers), then the queue behind it
   * (where accepted orders go, and its dead-letter queue).
   */
  readonly flows: readonly PathFlow[];

  constructor(scope: Construct, id: string, props: HttpIngestionStackProps) {
    super(scope, id, {
      description:
        'Reliable event-driven Lambda: HTTP API (IAM, throttled) -> Lambda (Idempotency-Key) -> SQS -> Lambda (batch + idempotency)',
      ...props,
    });
    const removalPolicy = removalPolicyFor(props.config);
    // Removal policy, log retention, the stage's alarm topic (every alarm of both constructs notifies it) and
    // metrics namespace.
    const stage = stageConsumerSettings(this, props.config);

    this.idempotencyTable = new IdempotencyTable(this, 'IdempotencyTable', { removalPolicy });
    this.effectTable = new EffectTable(this, 'EffectTable', { removalPolicy });
    this.sqsConsumer = new SqsConsumer(this, 'SqsConsumer', {
      ...stage,
      ...props.consumer,
      idempotencyTable: this.idempotencyTable,
      effectTable: this.effectTable,
    });
    this.httpIngress = new HttpIngress(this, 'HttpIngress', {
      logRetention: stage.logRetention,
      alarmTopic: stage.alarmTopic,
      metricsNamespace: stage.metricsNamespace,
      ...props.ingress,
      idempotencyTable: this.idempotencyTable,
      queue: this.sqsConsumer.queue,
    });
    this.flows = [
      this.httpIngress.flow,
      {
        ...this.sqsConsumer.flow,
        title: 'HTTP → SQS → Lambda: the queue behind the front door (SqsConsumer)',
      },
    ];

    new CfnOutput(this, 'OrdersUrl', {
      description: 'POST orders here, signed with SigV4 (execute-api), with an Idempotency-Key: npm run send',
      value: this.httpIngress.ordersUrl,
    });
    new CfnOutput(this, 'ApiId', { description: 'The HTTP API', value: this.httpIngress.api.apiId });
    new CfnOutput(this, 'AccessLogGroupName', {
      description: 'API Gateway access logs: one JSON line per request (status, caller, latency, errors)',
      value: this.httpIngress.accessLogGroup.logGroupName,
    });
    new CfnOutput(this, 'IngressFunctionName', {
      description: 'The function behind POST /orders',
      value: this.httpIngress.function.functionName,
    });
    new CfnOutput(this, 'IngressLogGroupName', {
      description:
        'Ingress logs: refused requests with their reasons, one "side effect done" per enqueued order',
      value: this.httpIngress.function.logGroup.logGroupName,
    });
    new CfnOutput(this, 'IngressThrottleAlarmName', {
      description: 'In ALARM when Lambda throttled the ingress function (callers saw 500, not 429)',
      value: this.httpIngress.throttleAlarm.alarmName,
    });
    new CfnOutput(this, 'QueueUrl', {
      description: 'The queue accepted orders are sent to',
      value: this.sqsConsumer.queue.queueUrl,
    });
    new CfnOutput(this, 'DeadLetterQueueUrl', {
      description: 'Orders that failed maxReceiveCount times in the consumer',
      value: this.sqsConsumer.deadLetterQueue.queueUrl,
    });
    new CfnOutput(this, 'DeadLetterQueueArn', {
      description: 'Source ARN of a redrive (a message move task back to the queue): npm run redrive -- http',
      value: this.sqsConsumer.deadLetterQueue.queueArn,
    });
    new CfnOutput(this, 'EffectTableName', {
      description: `What the consumer applied: one item per customer and currency (${EFFECT_KEY_ATTRIBUTE} = customer#<customerId>#<currency>)`,
      value: this.effectTable.table.tableName,
    });
    new CfnOutput(this, 'ConsumerFunctionName', {
      description: 'The SQS consumer function',
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
