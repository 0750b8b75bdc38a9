import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INGESTION_PATHS } from '../../../lib/config';
import { configuredPaths } from '../../../tools/shared/project-paths';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'project-paths-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const withContext = (context: Record<string, unknown>) =>
  writeFileSync(join(dir, 'cdk.json'), JSON.stringify({ app: 'x', context }));

describe('configuredPaths', () => {
  it("reads cdk.json's context paths, in the template's order", () => {
    withContext({ paths: ['stream', 'sqs'] });
    expect(configuredPaths(dir)).toEqual(['sqs', 'stream']);
  });

  it('is every path when cdk.json names none', () => {
    withContext({});
    expect(configuredPaths(dir)).toEqual([...INGESTION_PATHS]);
  });

  it('names the file and the bad value', () => {
    withContext({ paths: ['sqs', 'kafka'] });
    expect(() => configuredPaths(dir)).toThrow(/cdk\.json: Context "paths" names "kafka"/);
  });
});
