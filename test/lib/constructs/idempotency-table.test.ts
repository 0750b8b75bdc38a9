import { RemovalPolicy } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { IDEMPOTENCY_TABLE_ACTIONS, IdempotencyTable } from '../../../lib/constructs/idempotency-table';
import { templateOf, testStack } from '../../helpers/synth';

describe('IdempotencyTable', () => {
  it('has partition key id, TTL on expiration, on-demand billing, encryption and point-in-time recovery', () => {
    const stack = testStack();
    new IdempotencyTable(stack, 'Idempotency');
    templateOf(stack).hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it('keeps its data by default and is destroyed when asked', () => {
    const kept = testStack();
    new IdempotencyTable(kept, 'Idempotency');
    templateOf(kept).hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain' });

    const destroyed = testStack();
    new IdempotencyTable(destroyed, 'Idempotency', { removalPolicy: RemovalPolicy.DESTROY });
    templateOf(destroyed).hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
  });

  it('grants exactly the four item calls Powertools makes, on this table only', () => {
    const stack = testStack();
    const idempotency = new IdempotencyTable(stack, 'Idempotency');
    const role = new Role(stack, 'Consumer', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    idempotency.grantIdempotencyAccess(role);
    const template = templateOf(stack);
    const tableLogicalId = Object.keys(template.findResources('AWS::DynamoDB::Table'))[0];
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            // cdk.json's @aws-cdk/aws-iam:minimizePolicies sorts actions and unwraps single resources.
            Action: [...IDEMPOTENCY_TABLE_ACTIONS].sort(),
            Resource: { 'Fn::GetAtt': [tableLogicalId, 'Arn'] },
          },
        ],
      },
    });
    expect(IDEMPOTENCY_TABLE_ACTIONS).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
    ]);
  });
});
