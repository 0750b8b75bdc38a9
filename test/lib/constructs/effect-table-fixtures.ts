/** What the construct tests share about the effect table: a consumer writes its effects there, and only that. */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { EFFECT_TABLE_ACTIONS } from '../../../lib/constructs/effect-table';

interface Statement {
  readonly Action: string | string[];
  readonly Resource: unknown;
}

/** Every statement of every IAM policy in the template. */
export function policyStatements(template: Template): Statement[] {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
    (policy) => policy.Properties.PolicyDocument.Statement as Statement[],
  );
}

/**
 * Asserts that the template's consumer function gets the effect table's name as `EFFECT_TABLE_NAME` and that
 * the only permission on that table is `dynamodb:UpdateItem`, on the table itself.
 */
export function expectEffectWritesOnly(template: Template, effectTableLogicalId: string): void {
  template.hasResourceProperties('AWS::Lambda::Function', {
    Environment: {
      Variables: Match.objectLike({ EFFECT_TABLE_NAME: { Ref: effectTableLogicalId } }),
    },
  });
  const onEffectTable = policyStatements(template).filter((statement) =>
    JSON.stringify(statement.Resource).includes(`"${effectTableLogicalId}"`),
  );
  expect(onEffectTable).toEqual([
    expect.objectContaining({
      Effect: 'Allow',
      Action: 'dynamodb:UpdateItem',
      Resource: { 'Fn::GetAtt': [effectTableLogicalId, 'Arn'] },
    }),
  ]);
  expect(EFFECT_TABLE_ACTIONS).toEqual(['dynamodb:UpdateItem']);
}
