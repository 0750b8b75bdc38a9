/**
 * The ingestion paths the project deploys, as cdk.json's context `paths` says (lib/config.ts reads the same value
 * for the app): the tools that run without a cloud assembly (the bench) measure these and no others.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONTEXT_KEYS, type IngestionPathName, readPaths } from '../../lib/config';

/** The paths of cdk.json's context (every path when it names none). Throws on a bad value, naming it. */
export function configuredPaths(projectDir: string): IngestionPathName[] {
  const cdkJson = JSON.parse(readFileSync(join(projectDir, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  const problems: string[] = [];
  const paths = readPaths(cdkJson.context?.[CONTEXT_KEYS.paths], problems);
  if (problems.length > 0) throw new Error(`${join(projectDir, 'cdk.json')}: ${problems.join(' ')}`);
  return paths;
}
