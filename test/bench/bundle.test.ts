import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compareWithAsset, esbuildOptionsFor } from '../../bench/lib/bundle';
import { esbuildOptions } from '../../lib/bundling';
import { CONSUMER_BUNDLING } from '../../lib/constructs/consumer-function';

describe('bench bundling', () => {
  let dir: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-bundle-'));
  });

  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('bundles with the options the stacks bundle with, only reporting differently', () => {
    const entry = 'lambda/sqs-consumer/index.ts';
    const { metafile, logLevel, ...rest } = esbuildOptionsFor(CONSUMER_BUNDLING, entry, dir);
    expect(rest).toEqual(esbuildOptions(CONSUMER_BUNDLING, entry, dir));
    expect({ metafile, logLevel }).toEqual({ metafile: true, logLevel: 'silent' });
  });

  /** Writes `index.js` and a map whose sources point at `/src/handler.ts` from `folder`. */
  function writeBundle(folder: string, code = 'code'): string {
    fs.mkdirSync(folder, { recursive: true });
    const source = path.relative(folder, '/src/handler.ts');
    fs.writeFileSync(path.join(folder, 'index.js'), code);
    fs.writeFileSync(
      path.join(folder, 'index.js.map'),
      JSON.stringify({ version: 3, sources: [source], mappings: 'AAAA' }),
    );
    return path.join(folder, 'index.js');
  }

  it('finds a bundle identical to an asset whose source map lives at another depth', () => {
    const bundle = writeBundle(path.join(dir, 'bench', 'sqs'));
    expect(compareWithAsset(bundle, path.dirname(writeBundle(path.join(dir, 'a', 'b', 'asset.1'))))).toBe(
      'identical',
    );
  });

  it('reports different code, a different map and a missing asset', () => {
    const bundle = writeBundle(path.join(dir, 'bench'));
    expect(compareWithAsset(bundle, path.dirname(writeBundle(path.join(dir, 'x'), 'other')))).toBe(
      'different',
    );
    const otherMap = path.dirname(writeBundle(path.join(dir, 'y')));
    fs.writeFileSync(
      path.join(otherMap, 'index.js.map'),
      JSON.stringify({ version: 3, sources: ['../elsewhere.ts'], mappings: 'AAAA' }),
    );
    expect(compareWithAsset(bundle, otherMap)).toBe('different');
    expect(compareWithAsset(bundle, path.join(dir, 'none'))).toBe('missing');
  });
});
