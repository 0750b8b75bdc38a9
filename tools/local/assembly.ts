/**
 * The cloud assembly the simulator reads: `cdk.out`, synthesized again when it is missing, older than the
 * sources it is built from (bin/, lib/, lambda/, cdk.json, package.json, tsconfig.json), or written without
 * bundling.
 *
 * CDK bundles an asset only for the stacks a command selects: `cdk ls` (or `cdk diff`, `cdk synth <other
 * stack>`) rewrites `cdk.out` with each function's code pointing at the repository instead of a directory holding
 * the bundled `index.js`. Such an assembly is newer than every source, so the age check alone takes it for up to
 * date, and running a handler from it fails with `ENOENT … index.js`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { AssemblyError } from './cloudformation';

const SOURCES = ['bin', 'lib', 'lambda', 'cdk.json', 'package.json', 'tsconfig.json'];
/** The files a Node.js handler setting `<file>.<export>` can name. */
const HANDLER_EXTENSIONS = ['.js', '.mjs', '.cjs'];

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules' || entry.startsWith('.')) continue;
    newest = Math.max(newest, newestMtime(join(path, entry)));
  }
  return newest;
}

/** Why the assembly must be synthesized before it is read. */
export interface Staleness {
  /**
   * `missing`: no cloud assembly; `unbundled`: a function's code is not a bundle (so no handler can run from it);
   * `outdated`: the sources changed since (its bundles run, but they may not be what the sources say).
   */
  readonly kind: 'missing' | 'unbundled' | 'outdated';
  /** One line, e.g. "cdk.out was written without bundling (by `cdk ls`?)". */
  readonly reason: string;
  /** For `unbundled`: which function's code is where. */
  readonly detail?: string;
}

/** How the assembly directory is named in messages: relative to the project when it is inside it. */
function displayName(projectDir: string, assemblyDir: string): string {
  const inside = relative(projectDir, assemblyDir);
  return inside && !inside.startsWith('..') && !isAbsolute(inside) ? inside : assemblyDir;
}

/** Why the assembly must be synthesized, or undefined when it is up to date. */
export function staleness(projectDir: string, assemblyDir: string): Staleness | undefined {
  const name = displayName(projectDir, assemblyDir);
  const manifest = join(assemblyDir, 'manifest.json');
  if (!existsSync(manifest)) return { kind: 'missing', reason: `${name} has no cloud assembly` };
  const unbundled = unbundledFunctions(assemblyDir, name);
  if (unbundled) return unbundled;
  const built = statSync(manifest).mtimeMs;
  const changed = SOURCES.filter((source) => newestMtime(join(projectDir, source)) > built);
  return changed.length > 0
    ? { kind: 'outdated', reason: `${changed.join(', ')} changed since the last synth` }
    : undefined;
}

/** Why the assembly must be synthesized (one line), or undefined when it is up to date. */
export function staleReason(projectDir: string, assemblyDir: string): string | undefined {
  return staleness(projectDir, assemblyDir)?.reason;
}

interface TemplateResource {
  readonly Type?: string;
  readonly Properties?: { readonly Code?: { readonly S3Key?: unknown }; readonly Handler?: unknown };
}

/**
 * The first Lambda function whose code asset is not a directory holding its handler file: an asset pointing
 * outside the assembly (what CDK writes when it skips bundling: the asset's source, here the repository root),
 * or an asset directory of the assembly that is missing or lacks the file.
 */
export function unbundledFunctions(assemblyDir: string, name = assemblyDir): Staleness | undefined {
  const manifest = readJson(join(assemblyDir, 'manifest.json')) as {
    artifacts?: Record<string, { type?: string; properties?: { templateFile?: string } }>;
  };
  for (const [artifactId, artifact] of Object.entries(manifest.artifacts ?? {})) {
    const templateFile = artifact.properties?.templateFile;
    if (artifact.type !== 'aws:cloudformation:stack' || !templateFile) continue;
    const assetsFile = join(assemblyDir, `${artifactId}.assets.json`);
    if (!existsSync(assetsFile) || !existsSync(join(assemblyDir, templateFile))) continue;
    const assets = readJson(assetsFile) as {
      files?: Record<string, { source?: { path?: string; packaging?: string } }>;
    };
    const template = readJson(join(assemblyDir, templateFile)) as {
      Resources?: Record<string, TemplateResource>;
    };
    for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
      if (resource.Type !== 'AWS::Lambda::Function') continue;
      const s3Key = resource.Properties?.Code?.S3Key;
      if (typeof s3Key !== 'string') continue; // inline code
      const source = assets.files?.[s3Key.replace(/\.zip$/, '')]?.source;
      if (!source?.path || source.packaging !== 'zip') continue;
      const handler = String(resource.Properties?.Handler ?? 'index.handler');
      const file = handler.slice(0, Math.max(handler.lastIndexOf('.'), 0)) || 'index';
      const directory = resolve(assemblyDir, source.path);
      const present = HANDLER_EXTENSIONS.some((extension) => existsSync(join(directory, file + extension)));
      if (present) continue;
      const where = relative(assemblyDir, directory);
      const outside = isAbsolute(source.path) || where.startsWith('..') || isAbsolute(where);
      return outside
        ? {
            kind: 'unbundled',
            reason: `${name} was written without bundling (by \`cdk ls\`?)`,
            detail: `the code of ${artifactId}/${logicalId} is ${source.path}, not a bundle with ${file}.js`,
          }
        : {
            kind: 'unbundled',
            reason: `${name} lacks the bundle of ${artifactId}/${logicalId} (${join(where, file)}.js)`,
          };
    }
  }
  return undefined;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new AssemblyError(`Cannot read ${file}: ${(error as Error).message}`);
  }
}

export interface PrepareAssemblyOptions {
  readonly projectDir: string;
  readonly assemblyDir: string;
  /** `auto`: when missing, unbundled or outdated; `always` (--synth); `never` (--no-synth). */
  readonly synth: 'auto' | 'always' | 'never';
  /** Whether the handler bundles will run (not for `npm run local --model`, which reads the templates only). */
  readonly needsBundles: boolean;
  /** Where the one-line notes go (stderr). */
  readonly progress: (line: string) => void;
  /** @default {@link synthesize} */
  readonly synthesize?: (projectDir: string, assemblyDir: string) => void;
}

/**
 * Synthesizes the assembly when it must be (saying why, in one line), or, with `--no-synth`, fails with what to
 * run when the assembly cannot be used as it is. Throws {@link AssemblyError} for a message the user reads.
 */
export function prepareAssembly(options: PrepareAssemblyOptions): void {
  const { projectDir, assemblyDir, progress } = options;
  const found = staleness(projectDir, assemblyDir);
  const stale = found?.kind === 'unbundled' && !options.needsBundles ? undefined : found;
  const command = `npx cdk synth --quiet${displayName(projectDir, assemblyDir) === 'cdk.out' ? '' : ` --output ${assemblyDir}`}`;
  if (options.synth === 'never') {
    if (stale?.kind === 'outdated') progress(`Note: ${stale.reason}; reading it anyway (--no-synth).`);
    else if (stale) {
      const run = command === 'npx cdk synth --quiet' ? '`npm run synth`' : `\`${command}\``;
      throw new AssemblyError(
        `${stale.reason}: run ${run} (--no-synth never synthesizes)${stale.detail ? `; ${stale.detail}` : ''}.`,
      );
    }
    return;
  }
  if (options.synth === 'auto' && !stale) return;
  const why = options.synth === 'always' ? '--synth' : stale!.reason;
  progress(`${why}: synthesizing${stale && stale.kind !== 'missing' ? ' again' : ''} (${command})`);
  const started = performance.now();
  (options.synthesize ?? synthesize)(projectDir, assemblyDir);
  progress(`Synthesized in ${((performance.now() - started) / 1000).toFixed(1)} s.`);
  const still = options.needsBundles
    ? unbundledFunctions(assemblyDir, displayName(projectDir, assemblyDir))
    : undefined;
  if (still) {
    throw new AssemblyError(
      `${still.reason} even after synthesizing: is bundling turned off (context aws:cdk:bundling-stacks in cdk.json or cdk.context.json)?${still.detail ? ` ${still.detail}.` : ''}`,
    );
  }
}

/** Runs `npx cdk synth --quiet` (its output goes to stderr). Throws if it fails. */
export function synthesize(projectDir: string, assemblyDir: string): void {
  const result = spawnSync('npx', ['cdk', 'synth', '--quiet', '--output', assemblyDir], {
    cwd: projectDir,
    stdio: ['ignore', process.stderr, process.stderr],
  });
  if (result.status !== 0) {
    throw new Error(`cdk synth failed (exit ${result.status ?? result.signal}); see its output above.`);
  }
}
