import { RemovalPolicy } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  EFFECT_KEY_ATTRIBUTE,
  EFFECT_TABLE_ACTIONS,
  EffectTable,
} from '../../../lib/constructs/effect-table';
import { IdempotencyTable } from '../../../lib/constructs/idempotency-table';
import { EFFECT_KEY_ATTRIBUTE as HANDLER_EFFECT_KEY_ATTRIBUTE } from '../../../lambda/shared/exactly-once';
import { logicalIdOf, templateOf, testStack } from '../../helpers/synth';
import { policyStatements } from './effect-table-fixtures';

describe('EffectTable', () => {
  it('has partition key pk (string), on-demand billing, encryption and point-in-time recovery, and no TTL', () => {
    const stack = testStack();
    new EffectTable(stack, 'Effects');
    const template = templateOf(stack);
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      // The effects are the business data: nothing expires them.
      TimeToLiveSpecification: Match.absent(),
      GlobalSecondaryIndexes: Match.absent(),
    });
    expect(EFFECT_KEY_ATTRIBUTE).toBe('pk');
    // The handlers keep their own copy (importing lib/ would bundle aws-cdk-lib into every function).
    expect(HANDLER_EFFECT_KEY_ATTRIBUTE).toBe(EFFECT_KEY_ATTRIBUTE);
  });

  it('turns point-in-time recovery off only when asked', () => {
    const stack = testStack();
    new EffectTable(stack, 'Effects', { pointInTimeRecovery: false });
    templateOf(stack).hasResourceProperties('AWS::DynamoDB::Table', {
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: false },
    });
  });

  it('keeps its data by default and is destroyed when asked', () => {
    const kept = testStack();
    new EffectTable(kept, 'Effects');
    templateOf(kept).hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });

    const destroyed = testStack();
    new EffectTable(destroyed, 'Effects', { removalPolicy: RemovalPolicy.DESTROY });
    templateOf(destroyed).hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
  });

  it('grants exactly dynamodb:UpdateItem, on this table only (no index, no other table)', () => {
    const stack = testStack();
    const effects = new EffectTable(stack, 'Effects');
    new IdempotencyTable(stack, 'Idempotency');
    const role = new Role(stack, 'Consumer', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    effects.grantEffectWrites(role);
    expect(policyStatements(templateOf(stack))).toEqual([
      {
        Effect: 'Allow',
        Action: 'dynamodb:UpdateItem',
        Resource: { 'Fn::GetAtt': [logicalIdOf(effects.table), 'Arn'] },
      },
    ]);
    expect(EFFECT_TABLE_ACTIONS).toEqual(['dynamodb:UpdateItem']);
  });
});
