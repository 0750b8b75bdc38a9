/** What the three stack tests share: the two kinds of stage, and the check that a stack wires its own table. */
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { StageConfig } from '../../../lib/config';
import { IdempotencyTable } from '../../../lib/constructs/idempotency-table';
import { logicalIdOf } from '../../helpers/synth';

/** A sandbox: stateful resources are destroyed with the stack. */
export const SANDBOX: StageConfig = {
  stageName: 'sandbox',
  retainData: false,
  logRetention: RetentionDays.ONE_WEEK,
};

/** A stage that keeps its data. */
export const PROD: StageConfig = {
  stageName: 'prod',
  retainData: true,
  logRetention: RetentionDays.THREE_MONTHS,
};

/** Asserts that the stack's consumer function records idempotency in the stack's own table. */
export function expectConsumerUsesStackTable(
  stack: Stack & { readonly idempotencyTable: IdempotencyTable },
  template: Template,
): void {
  template.hasResourceProperties('AWS::Lambda::Function', {
    Environment: {
      Variables: Match.objectLike({
        IDEMPOTENCY_TABLE_NAME: { Ref: logicalIdOf(stack.idempotencyTable.table) },
      }),
    },
  });
}
