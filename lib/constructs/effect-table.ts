import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Grant, IGrantable } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/** The partition key of every effect item (a string such as `customer#<customerId>#<currency>`). */
export const EFFECT_KEY_ATTRIBUTE = 'pk';

/**
 * The item-level call a consumer makes on the effect table, and nothing more: an `UpdateItem` (`ADD` to a
 * running counter) inside the `TransactWriteItems` that also completes the idempotency record. A transaction
 * has no IAM action of its own: it needs the action of each of its operations, here `UpdateItem` on this table
 * (and on the idempotency table, whose `IDEMPOTENCY_TABLE_ACTIONS` already include it).
 */
export const EFFECT_TABLE_ACTIONS = ['dynamodb:UpdateItem'] as const;

export interface EffectTableProps {
  /**
   * What happens to the table (and the effects in it) on `cdk destroy` or when it is removed from the app.
   * @default RemovalPolicy.RETAIN: the effects are the business data. Sandboxes pass `DESTROY`.
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Point-in-time recovery: restores the effects to any second of the last 35 days after an accident.
   * @default true
   */
  readonly pointInTimeRecovery?: boolean;
}

/**
 * The DynamoDB table the consumer's business action writes its effects to: partition key `pk` (string),
 * on-demand billing (the write rate follows the event rate), encrypted at rest, no TTL (the effects are the
 * business data, they never expire). Each effect is an update committed in the same `TransactWriteItems` as
 * the completion of its idempotency record, so it is applied exactly once even though it is not idempotent.
 */
export class EffectTable extends Construct {
  /** The table itself. */
  readonly table: Table;

  constructor(scope: Construct, id: string, props: EffectTableProps = {}) {
    super(scope, id);
    this.table = new Table(this, 'Table', {
      partitionKey: { name: EFFECT_KEY_ATTRIBUTE, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: props.pointInTimeRecovery ?? true },
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
  }

  /** Least privilege for a consumer: `UpdateItem` on this table only (see {@link EFFECT_TABLE_ACTIONS}). */
  grantEffectWrites(grantee: IGrantable): Grant {
    return this.table.grant(grantee, ...EFFECT_TABLE_ACTIONS);
  }
}
