/**
 * The app's cloud assembly as `cdk synth` writes it (cdk.json's context, every path), synthesized once per jest run
 * and shared by every test file that reads it: with the handler bundles in the asset directories
 * ({@link bundledCloudAssembly}, for tests that run the handlers), or without them ({@link templateCloudAssembly},
 * for tests that read only the templates and manifests: bundling is most of a synth's time).
 *
 * A synthesis is seconds of work. The first file to ask takes a lock (an atomic `mkdir` in the
 * run's shared directory) and synthesizes in its own process; a file that asks meanwhile, in another worker,
 * waits for it instead of doing the same work again. Files must treat the assembly as read-only.
 */
import { App } from 'aws-cdk-lib';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { context as cdkJsonContext } from '../../cdk.json';
import { buildApp } from '../../lib/app';
import { INGESTION_PATHS } from '../../lib/config';
import { withoutBundlingNotices } from './console-capture';
import { sharedDirectory } from './shared-directory';

const WAIT_LIMIT_MS = 180_000;
const POLL_MS = 50;

/** The directory of the bundled cloud assembly (synthesized on the first call of the run). */
export function bundledCloudAssembly(): Promise<string> {
  return sharedCloudAssembly('cloud-assembly', {});
}

/** The directory of the cloud assembly without bundles: templates and manifests only (asset directories empty). */
export function templateCloudAssembly(): Promise<string> {
  return sharedCloudAssembly('template-cloud-assembly', { 'aws:cdk:bundling-stacks': [] });
}

async function sharedCloudAssembly(name: string, extraContext: Record<string, unknown>): Promise<string> {
  const root = sharedDirectory();
  const outdir = join(root, name);
  const done = join(root, `${name}.done`);
  const failed = join(root, `${name}.failed`);
  if (existsSync(done)) return outdir;
  if (tryLock(join(root, `${name}.lock`))) {
    try {
      // What `cdk synth` would say while bundling is progress, not a result of any test: kept off the output.
      withoutBundlingNotices(() => {
        // Every path, whatever cdk.json deploys: the tests cover all the code the repository has.
        const context = { ...cdkJsonContext, paths: [...INGESTION_PATHS], ...extraContext };
        const app = new App({ outdir, context });
        buildApp(app, { nag: false });
        app.synth();
      });
    } catch (error) {
      writeFileSync(failed, error instanceof Error ? (error.stack ?? error.message) : String(error));
      throw error;
    }
    writeFileSync(done, '');
    return outdir;
  }
  const deadline = Date.now() + WAIT_LIMIT_MS;
  while (!existsSync(done)) {
    if (existsSync(failed)) {
      throw new Error(
        `Synthesizing the shared cloud assembly failed in another test file:\n${readFileSync(failed, 'utf8')}`,
      );
    }
    if (Date.now() > deadline)
      throw new Error(`The shared cloud assembly in ${outdir} was not ready in time.`);
    await sleep(POLL_MS);
  }
  return outdir;
}

function tryLock(path: string): boolean {
  try {
    mkdirSync(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}
