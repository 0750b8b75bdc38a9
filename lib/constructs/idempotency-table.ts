import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Grant, IGrantable } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/** The attribute names Powertools' `DynamoDBPersistenceLayer` uses by default. */
export const IDEMPOTENCY_KEY_ATTRIBUTE = 'id';
export const IDEMPOTENCY_EXPIRY_ATTRIBUTE = 'expiration';

/**
 * The item-level calls Powertools' DynamoDB persistence layer makes, and nothing more: a conditional put to
 * claim a key, a get when the claim fails, an update to save the result, a delete when processing failed.
 */
export const IDEMPOTENCY_TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
] as const;

export interface IdempotencyTableProps {
  /**
   * What happens to the table (and its idempotency records) on `cdk destroy` or when it is removed from the app.
   * @default RemovalPolicy.RETAIN: a record lost while its message may still be re-delivered means a
   *   duplicate side effect. Sandboxes pass `DESTROY`.
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Point-in-time recovery. Idempotency records are short-lived, but a restore after an accident keeps
   * re-deliveries from repeating work.
   * @default true
   */
  readonly pointInTimeRecovery?: boolean;
}

/**
 * The DynamoDB table that Powertools idempotency writes to: partition key `id` (string), TTL on
 * `expiration` so expired records are removed for free, on-demand billing (the write rate follows the event
 * rate), encrypted at rest.
 */
export class IdempotencyTable extends Construct {
  /** The table itself. */
  readonly table: Table;

  constructor(scope: Construct, id: string, props: IdempotencyTableProps = {}) {
    super(scope, id);
    this.table = new Table(this, 'Table', {
      partitionKey: { name: IDEMPOTENCY_KEY_ATTRIBUTE, type: AttributeType.STRING },
      timeToLiveAttribute: IDEMPOTENCY_EXPIRY_ATTRIBUTE,
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: props.pointInTimeRecovery ?? true },
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
  }

  /** Least privilege for a consumer: the four item calls Powertools makes, on this table only. */
  grantIdempotencyAccess(grantee: IGrantable): Grant {
    return this.table.grant(grantee, ...IDEMPOTENCY_TABLE_ACTIONS);
  }
}
