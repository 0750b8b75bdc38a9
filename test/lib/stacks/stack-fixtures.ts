/** What the three stack tests share: the two kinds of stage, and the check that a stack wires its own tables. */
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { INGESTION_PATHS, StageConfig } from '../../../lib/config';
import { EffectTable } from '../../../lib/constructs/effect-table';
import { IdempotencyTable } from '../../../lib/constructs/idempotency-table';
import { logicalIdOf } from '../../helpers/synth';

/** A sandbox: stateful resources are destroyed with the stack. */
export const SANDBOX: StageConfig = {
  appName: 'test-app',
  stageName: 'sandbox',
  paths: INGESTION_PATHS,
  retainData: false,
  logRetention: RetentionDays.ONE_WEEK,
};

/** A stage that keeps its data. */
export const PROD: StageConfig = {
  appName: 'test-app',
  stageName: 'prod',
  paths: INGESTION_PATHS,
  retainData: true,
  logRetention: RetentionDays.THREE_MONTHS,
};

/**
 * Asserts that the stack's consumer function records idempotency in the stack's own table and writes its
 * effects to the stack's own effect table, that both are the stack's only tables, and that the stack outputs
 * the effect table's name with what its items are.
 */
export function expectConsumerUsesStackTable(
  stack: Stack & { readonly idempotencyTable: IdempotencyTable; readonly effectTable: EffectTable },
  template: Template,
  effectItems?: RegExp,
): void {
  template.resourceCountIs('AWS::DynamoDB::Table', 2);
  template.hasResourceProperties('AWS::Lambda::Function', {
    Environment: {
      Variables: Match.objectLike({
        IDEMPOTENCY_TABLE_NAME: { Ref: logicalIdOf(stack.idempotencyTable.table) },
        EFFECT_TABLE_NAME: { Ref: logicalIdOf(stack.effectTable.table) },
      }),
    },
  });
  expect(stack.effectTable.node.id).toBe('EffectTable');
  const outputs = template.findOutputs('EffectTableName');
  expect(Object.values(outputs)).toEqual([
    {
      Description: expect.stringMatching(effectItems ?? /^What the consumer applied: one item per /),
      Value: { Ref: logicalIdOf(stack.effectTable.table) },
    },
  ]);
}
