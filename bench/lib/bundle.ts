/**
 * Bundles handlers for the benchmark with the settings the stacks deploy with (`CONSUMER_BUNDLING` in
 * lib/constructs/consumer-function.ts), through the same translation to esbuild's options the stacks use
 * (`esbuildOptions` in lib/bundling.ts): the bench cannot build something other than what deploys.
 * {@link compareWithAsset} still checks it on every synth benchmark: the bench's bundle must equal the asset
 * `cdk synth` staged, byte for byte, with an equivalent source map.
 */
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { esbuildOptions, type EsbuildSettings, PROJECT_ROOT } from '../../lib/bundling';

export { PROJECT_ROOT };

/** The options the stacks bundle `entry` with (for `bundling`), plus a metafile for the bench's size report. */
export function esbuildOptionsFor(bundling: EsbuildSettings, entry: string, outdir: string): BuildOptions {
  return { ...esbuildOptions(bundling, entry, outdir), metafile: true, logLevel: 'silent' };
}

export interface BuiltBundle {
  /** The file Lambda would load (`index.js`, or `index.mjs` for ESM). */
  readonly file: string;
  readonly bytes: number;
  /** Bytes of the source map next to it (0 without one). */
  readonly mapBytes: number;
  /** Bytes of the output per package (`zod`, `@aws-lambda-powertools/logger`, or the repo folder). */
  readonly bytesByPackage: Readonly<Record<string, number>>;
  /** Modules left to the runtime (`@aws-sdk/client-dynamodb`, `node:crypto`...). */
  readonly externalImports: readonly string[];
}

export async function bundleHandler(
  bundling: EsbuildSettings,
  entry: string,
  outdir: string,
): Promise<BuiltBundle> {
  const options = esbuildOptionsFor(bundling, entry, outdir);
  const result = await build(options);
  const file = options.outfile as string;
  const output = outputOf(result.metafile as Metafile, file);
  const mapFile = `${file}.map`;
  return {
    file,
    bytes: output.bytes,
    mapBytes: bundling.sourceMap && existsSync(mapFile) ? readFileSync(mapFile).length : 0,
    bytesByPackage: bytesByPackage(output.inputs),
    externalImports: [
      ...new Set(output.imports.filter((entry) => entry.external).map((entry) => entry.path)),
    ].sort(),
  };
}

function outputOf(metafile: Metafile, file: string): Metafile['outputs'][string] {
  const relative = path.relative(PROJECT_ROOT, file).split(path.sep).join('/');
  const output = metafile.outputs[relative];
  if (!output)
    throw new Error(`esbuild wrote no ${relative} (outputs: ${Object.keys(metafile.outputs).join(', ')})`);
  return output;
}

/** Groups a bundle's bytes by npm package (or by top-level folder of this repository). */
export function bytesByPackage(
  inputs: Readonly<Record<string, { readonly bytesInOutput: number }>>,
): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const [file, { bytesInOutput }] of Object.entries(inputs)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
    const key = match ? match[1] : file.split('/').slice(0, 2).join('/');
    totals[key] = (totals[key] ?? 0) + bytesInOutput;
  }
  return Object.fromEntries(Object.entries(totals).sort((a, b) => b[1] - a[1]));
}

/**
 * Whether a bundle is the code of a staged asset (`cdk.out/asset.<hash>/index.js`): the code byte for byte,
 * and the source map (when there is one) the same once its `sources` are resolved. Those are relative to the
 * map's folder, which differs between the bench's output and cdk.out, so the maps' bytes may differ.
 */
export function compareWithAsset(
  bundleFile: string,
  assetDirectory: string,
): 'identical' | 'different' | 'missing' {
  const assetFile = path.join(assetDirectory, path.basename(bundleFile));
  if (!existsSync(assetFile)) return 'missing';
  if (!readFileSync(assetFile).equals(readFileSync(bundleFile))) return 'different';
  const bundleMap = `${bundleFile}.map`;
  const assetMap = `${assetFile}.map`;
  if (existsSync(bundleMap) !== existsSync(assetMap)) return 'different';
  if (!existsSync(bundleMap)) return 'identical';
  return JSON.stringify(resolvedSourceMap(bundleMap)) === JSON.stringify(resolvedSourceMap(assetMap))
    ? 'identical'
    : 'different';
}

/** A source map with its `sources` made absolute, so that maps written to different folders compare equal. */
function resolvedSourceMap(mapFile: string): Record<string, unknown> {
  const map = JSON.parse(readFileSync(mapFile, 'utf8')) as Record<string, unknown> & { sources?: string[] };
  const root = path.resolve(path.dirname(mapFile), typeof map.sourceRoot === 'string' ? map.sourceRoot : '');
  return { ...map, sourceRoot: undefined, sources: map.sources?.map((source) => path.resolve(root, source)) };
}
