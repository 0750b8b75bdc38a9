/**
 * The cloud assembly the simulator reads: `cdk.out`, synthesized again when it is missing or older than the
 * sources it is built from (bin/, lib/, lambda/, cdk.json, package.json).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const SOURCES = ['bin', 'lib', 'lambda', 'cdk.json', 'package.json', 'tsconfig.json'];

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

/** Why the assembly must be synthesized, or undefined when it is up to date. */
export function staleReason(projectDir: string, assemblyDir: string): string | undefined {
  const manifest = join(assemblyDir, 'manifest.json');
  if (!existsSync(manifest)) return `${assemblyDir} has no cloud assembly`;
  const built = statSync(manifest).mtimeMs;
  const changed = SOURCES.filter((source) => newestMtime(join(projectDir, source)) > built);
  return changed.length > 0 ? `${changed.join(', ')} changed since the last synth` : undefined;
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
