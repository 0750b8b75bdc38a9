/** Removes the directory test/global-setup.ts made for the run (jest.config.js `globalTeardown`). */
import { rmSync } from 'node:fs';
import { SHARED_DIRECTORY_VARIABLE } from './helpers/shared-directory';

export default function globalTeardown(): void {
  const directory = process.env[SHARED_DIRECTORY_VARIABLE];
  if (directory) rmSync(directory, { recursive: true, force: true });
}
