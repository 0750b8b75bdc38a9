/**
 * CDK's built-in CloudFormation validation (schema and rule checks of every template, run by `cdk synth`, which
 * fails on a finding because cdk.json sets `@aws-cdk/core:validateAgainstDefaultRules`) on the whole app.
 * Template tests skip it for speed (test/helpers/jest-setup.ts): this file runs it once.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { setFlagsFromString } from 'node:v8';
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
    // The engine is 9 MB of WebAssembly, and V8 recompiles its hot functions with its optimizing compiler on
    // background threads: more CPU than the faster code saves in one run of the engine (≈25 % less CPU with
    // the baseline compiler alone, measured). Only how the engine is compiled changes, not what it checks.
    setFlagsFromString('--liftoff-only');
  });

  afterAll(() => {
    setFlagsFromString('--no-liftoff-only');
    if (skipped !== undefined) process.env.CDK_VALIDATION = skipped;
  });

  // The whole app first: the engine is set up for the resource types it is given and set up again for a
  // template with other types, so the broken one-queue stack, whose types are a subset, reuses it (one engine
  // set-up of seconds instead of two).
  it('finds nothing in any stack of the app', () => {
    const app = testApp();
    buildApp(app, { nag: false });
    expect(cloudFormationFindings(app.synth().directory)).toEqual([]);
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
});
