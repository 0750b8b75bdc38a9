/**
 * The directory the test files of one jest run share (made by test/global-setup.ts), or, when a file runs
 * without that setup, one of this process's own, removed when it exits.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SHARED_DIRECTORY_VARIABLE = 'RELIABLE_LAMBDA_TEST_SHARED_DIR';

let own: string | undefined;

export function sharedDirectory(): string {
  const shared = process.env[SHARED_DIRECTORY_VARIABLE];
  if (shared) return shared;
  if (!own) {
    const directory = mkdtempSync(join(tmpdir(), 'jest-shared-'));
    process.once('exit', () => rmSync(directory, { recursive: true, force: true }));
    own = directory;
  }
  return own;
}
