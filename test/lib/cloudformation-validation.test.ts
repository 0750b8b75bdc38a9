/**
 * CDK's built-in CloudFormation validation (schema and rule checks of every template, run by `cdk synth`, which
 * fails on a finding because cdk.json sets `@aws-cdk/core:validateAgainstDefaultRules`) on the whole app.
 * Template tests skip it for speed (test/helpers/jest-setup.ts): this file runs it once.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { CfnResource, Stack } from 'aws-cdk-lib';
import { buildApp } from '../../lib/app';
import { testApp } from '../helpers/synth';

interface ValidationReport {
  readonly pluginReports: readonly {
    readonly pluginName: string;
    readonly violations: readonly { readonly ruleName: string; readonly description: string }[];
  }[];
}

function cloudFormationFindings(directory: string): string[] {
  const report = JSON.parse(
    readFileSync(path.join(directory, 'validation-report.json'), 'utf8'),
  ) as ValidationReport;
  return report.pluginReports
    .filter((plugin) => plugin.pluginName === 'CloudFormation Validate')
    .flatMap((plugin) =>
      plugin.violations.map((violation) => `${violation.ruleName}: ${violation.description}`),
    );
}

describe("CDK's built-in CloudFormation validation", () => {
  const skipped = process.env.CDK_VALIDATION;

  beforeAll(() => {
    delete process.env.CDK_VALIDATION;
  });

  afterAll(() => {
    if (skipped !== undefined) process.env.CDK_VALIDATION = skipped;
  });

  it('is active: synth fails on a template that breaks a resource schema', () => {
    // cdk.json sets @aws-cdk/core:validateAgainstDefaultRules, so a finding is an error, as in `cdk synth`.
    const app = testApp();
    new CfnResource(new Stack(app, 'Broken'), 'Queue', {
      type: 'AWS::SQS::Queue',
      properties: { VisibilityTimeout: 'soon' },
    });
    expect(() => app.synth()).toThrow(
      /VisibilityTimeout: 'soon' is not of type 'integer' \(CloudFormation Validate\)/,
    );
  });

  it('finds nothing in any of the three stacks', () => {
    const app = testApp();
    buildApp(app, { nag: false });
    expect(cloudFormationFindings(app.synth().directory)).toEqual([]);
  });
});
