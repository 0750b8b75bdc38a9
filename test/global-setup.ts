/**
 * Runs once before the test files (jest.config.js `globalSetup`), in jest's parent process: a directory the
 * test files of this run share (the workers inherit the environment variable), removed by global-teardown.ts.
 * It holds what is expensive to build and the same for every file, such as the bundled cloud assembly
 * (test/helpers/cloud-assembly.ts). Nothing is built here: a file builds it when it first needs it, so a run
 * of other files pays nothing, and the workers are not kept waiting before the first file starts.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SHARED_DIRECTORY_VARIABLE } from './helpers/shared-directory';

export default function globalSetup(): void {
  const shared = mkdtempSync(join(tmpdir(), 'jest-shared-'));
  process.env[SHARED_DIRECTORY_VARIABLE] = shared;
  // Every temporary directory the tests make goes inside it too, so the teardown removes them all: a CDK App
  // without an outdir synthesizes into a fresh `cdk.out…` under the OS temp dir and never removes it
  // (hundreds per run otherwise). Node's tmpdir() reads TMPDIR on every call; the workers inherit it.
  const temporary = join(shared, 'tmp');
  mkdirSync(temporary);
  process.env.TMPDIR = temporary;

  // The AWS SDK for JavaScript v3 warns once per module instance (once per test file, and once more for the
  // handler bundles the simulator loads outside jest's registry) that its releases after the first week of
  // January 2027 require Node.js >= 22 (@aws-sdk/core, emitWarningIfUnsupportedVersion). The project supports
  // Node.js 20 until then (package.json `engines`, README), so in tests the warning is noise that would hide a
  // real one. `AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true` is the switch the SDK documents for it
  // (https://github.com/aws/aws-sdk-js-v3/issues/7983): it turns off this warning only; every other process
  // warning still prints. Set here, not in a setup file, so that the workers' own environment has it too (the
  // simulator's bundles read that one, not jest's per-file copy). Run with it set to `false` to see the warning.
  // Tests only: `npm run local`, `npm run replay` and the CDK CLI still warn on Node.js 20.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}
