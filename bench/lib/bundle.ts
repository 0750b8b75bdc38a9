/**
 * Bundles handlers for the benchmark with the settings the stacks deploy with (`CONSUMER_BUNDLING` in
 * lib/constructs/consumer-function.ts), translated to esbuild's API exactly as `NodejsFunction` translates them
 * to esbuild's command line (aws-cdk-lib/aws-lambda-nodejs, `Bundling.buildEsbuildArgs`): same entry, target,
 * platform, format, output file name, minification, source map, externals, main fields and banner.
 * {@link compareWithAsset} proves it: the bench's bundle must equal the asset `cdk synth` staged, byte for byte.
 */
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { ConsumerBundling } from '../../lib/constructs/consumer-function';

export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/** The esbuild options `NodejsFunction` would use for `entry` with `bundling`, writing into `outdir`. */
export function esbuildOptionsFor(bundling: ConsumerBundling, entry: string, outdir: string): BuildOptions {
  const format = bundling.format ?? 'cjs';
  const sourcemap = bundling.sourceMap ?? false;
  return {
    entryPoints: [path.resolve(PROJECT_ROOT, entry)],
    absWorkingDir: PROJECT_ROOT,
    bundle: true,
    platform: 'node',
    target: bundling.target ?? 'node24',
    format,
    outfile: path.join(outdir, format === 'esm' ? 'index.mjs' : 'index.js'),
    minify: bundling.minify ?? false,
    sourcemap,
    sourcesContent: bundling.sourcesContent ?? true,
    external: [...(bundling.externalModules ?? ['@aws-sdk/*'])],
    ...(bundling.mainFields && { mainFields: [...bundling.mainFields] }),
    ...(bundling.banner && { banner: { js: bundling.banner } }),
    metafile: true,
    logLevel: 'silent',
  };
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
  bundling: ConsumerBundling,
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

/** Whether a bundle is byte for byte the code of a staged asset (`cdk.out/asset.<hash>/index.js`). */
export function compareWithAsset(
  bundleFile: string,
  assetDirectory: string,
): 'identical' | 'different' | 'missing' {
  const assetFile = path.join(assetDirectory, path.basename(bundleFile));
  if (!existsSync(assetFile)) return 'missing';
  return readFileSync(assetFile).equals(readFileSync(bundleFile)) ? 'identical' : 'different';
}
