/**
 * Bundling a Lambda handler with esbuild's JavaScript API, inside the synth process.
 *
 * `NodejsFunction` runs a locally installed esbuild through the package manager (`npx --no-install esbuild`),
 * which costs ≈0.6 s of npm start-up per function before esbuild even starts (docs/performance.md, synth).
 * Calling esbuild's API instead starts its native binary once per process and bundles each function in
 * milliseconds, with the same options, so the bundle is byte for byte what `NodejsFunction` produced.
 *
 * {@link esbuildOptions} is the one translation of the bundling settings to esbuild's options: the stacks
 * ({@link bundledCode}) and the benchmark (bench/lib/bundle.ts) both call it, so they cannot drift apart.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { AssetHashType, DockerImage, type ILocalBundling } from 'aws-cdk-lib';
import { Code } from 'aws-cdk-lib/aws-lambda';
import type { BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { type BuildOptions, buildSync } from 'esbuild';

/** The repository root: esbuild's working directory, as `NodejsFunction`'s was (the lock file's folder). */
export const PROJECT_ROOT = path.resolve(__dirname, '..');

/**
 * The esbuild settings that decide what a bundle contains, named as `NodejsFunction`'s bundling props (a
 * subset of them) so that they read the same as before and in the AWS documentation.
 */
export type EsbuildSettings = Readonly<
  Pick<
    BundlingOptions,
    | 'minify'
    | 'sourceMap'
    | 'sourcesContent'
    | 'target'
    | 'format'
    | 'externalModules'
    | 'mainFields'
    | 'banner'
  >
>;

/**
 * esbuild's options for bundling `entry` into `outdir` with `settings`: exactly the options `NodejsFunction`
 * passes to esbuild's command line for the same settings (aws-cdk-lib/aws-lambda-nodejs,
 * `Bundling.buildEsbuildArgs`): the entry by its absolute path, Node platform, the output file `index.js`
 * (`index.mjs` for ESM), externals, main fields and banner.
 * Only options that decide the output's bytes; callers add how to report (log level, metafile).
 */
export function esbuildOptions(settings: EsbuildSettings, entry: string, outdir: string): BuildOptions {
  const format = settings.format ?? 'cjs';
  return {
    entryPoints: [path.resolve(PROJECT_ROOT, entry)],
    // Paths in the source map and in the output's comments are relative to this, whatever the caller's cwd.
    absWorkingDir: PROJECT_ROOT,
    bundle: true,
    platform: 'node',
    target: settings.target ?? 'node24',
    format,
    outfile: path.join(outdir, format === 'esm' ? 'index.mjs' : 'index.js'),
    minify: settings.minify ?? false,
    sourcemap: settings.sourceMap ?? false,
    sourcesContent: settings.sourcesContent ?? true,
    external: [...(settings.externalModules ?? ['@aws-sdk/*'])],
    ...(settings.mainFields && { mainFields: [...settings.mainFields] }),
    ...(settings.banner && { banner: { js: settings.banner } }),
  };
}

/**
 * CDK's local bundling provider for one handler. CDK serializes this object (not its methods) into the
 * asset's cache key, and into the asset hash when a stack's bundling is skipped: the entry and the settings
 * are its fields so that two functions never share a cached asset, and a skipped asset's hash still changes
 * with its settings. The entry is stored relative to the repository, so that hash does not depend on where
 * the repository is checked out.
 */
class InProcessEsbuild implements ILocalBundling {
  readonly entry: string;
  readonly settings: EsbuildSettings;

  constructor(entry: string, settings: EsbuildSettings) {
    this.entry = path.relative(PROJECT_ROOT, path.resolve(PROJECT_ROOT, entry)).split(path.sep).join('/');
    this.settings = settings;
  }

  tryBundle(outputDir: string): boolean {
    try {
      // Warnings still reach the terminal, as they did from esbuild's command line.
      buildSync({ ...esbuildOptions(this.settings, this.entry, outputDir), logLevel: 'warning' });
    } catch (error) {
      // Never fall back to Docker (returning false would): a failed build is a code problem to fix.
      // esbuild's message (from its worker thread) may repeat the "Error: " prefix CDK adds again.
      const reason = (error instanceof Error ? error.message : String(error)).replace(/^Error: /, '');
      throw new Error(`esbuild could not bundle ${this.entry}: ${reason}`, { cause: error });
    }
    return true;
  }
}

/**
 * Never pulled or run: CDK requires an image with every bundling option, but {@link InProcessEsbuild} always
 * bundles (or throws), so Docker is never needed.
 */
const UNUSED_IMAGE = DockerImage.fromRegistry('unused-bundling-is-local-esbuild');

/**
 * Lambda code bundled from `entry` (a path relative to the repository, or absolute) by esbuild in this
 * process. The asset is hashed by its output, as `NodejsFunction` hashes it: only a change to the bundle's
 * bytes changes the asset, not a change to unrelated files. When CDK skips bundling for a stack
 * (`aws:cdk:bundling-stacks`), esbuild does not run.
 */
export function bundledCode(entry: string, settings: EsbuildSettings): Code {
  // Checked here, not only by esbuild: tests skip bundling, and a wrong path should still fail there.
  const absolute = path.resolve(PROJECT_ROOT, entry);
  if (!existsSync(absolute)) throw new Error(`Cannot find entry file at ${absolute}`);
  return Code.fromAsset(PROJECT_ROOT, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: { image: UNUSED_IMAGE, local: new InProcessEsbuild(entry, settings) },
  });
}
