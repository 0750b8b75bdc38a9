/**
 * Runs before every test file (jest.config.js `setupFiles`).
 *
 * CDK's built-in CloudFormation validation (aws-cdk-lib runs a 9 MB WebAssembly rule engine on every synth)
 * costs seconds per test file to initialise, because each test file has its own module registry: it was most of
 * the suite's time (docs/performance.md). Template tests skip it; test/lib/cloudformation-validation.test.ts
 * runs it once on the whole app, where a finding fails synth as it does in `cdk synth` (cdk.json sets
 * `@aws-cdk/core:validateAgainstDefaultRules`). `CDK_VALIDATION=true npx jest` turns it on everywhere.
 */
process.env.CDK_VALIDATION ??= 'false';
