/**
 * cdk-nag findings for a construct tree, as "Rule on construct/path" strings, for tests that assert a stack
 * has no unacknowledged finding. Uses the packs' `validateScope`, the entry point cdk-nag provides for tests.
 */
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';

export function nagFindings(scope: IConstruct): string[] {
  const packs = [new AwsSolutionsChecks(scope), new ServerlessChecks(scope)];
  return packs.flatMap((pack) =>
    pack
      .validateScope(scope)
      .violations.flatMap((violation) =>
        violation.violatingResources.map(
          (resource) => `${violation.ruleName} on ${resource.constructPath ?? resource.resourceLogicalId}`,
        ),
      ),
  );
}
