/**
 * `npm run fork:check`: forks the template the way the README's fork guide says, in a copy, and proves the fork
 * works. CI runs it. The fork: rename the app to `acme-payments`, keep only the SQS path, and replace that path's
 * domain (schema, idempotency key, action, examples) with a payment domain (tools/fork/payments). Then, in the
 * copy: count the files the fork touched (at most five), and run `npm run synth`, `npm run lint`, `npm test`,
 * `npm run local`, `npm run invoke -- sqs-consumer` and `npm run cost`, each of which must pass.
 *
 *   npm run fork:check                 the committed state of this repository (git clone), in a temporary dir
 *   npm run fork:check -- --keep       keep the copy afterwards (its path is printed)
 *   npm run fork:check -- --steps-only apply the steps and count the files, run nothing
 *
 * The copy shares this repository's node_modules (a symbolic link): the fork changes no dependency.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
const FORK_NAME = 'acme-payments';
const KEPT_PATH = 'sqs';
/** What the guide promises a fork touches at most. */
const MAX_FILES = 5;

/** One step of the README's fork guide, applied to the copy in `dir`. */
interface Step {
  readonly title: string;
  apply(dir: string): void;
}

const editJson = (file: string, edit: (json: Record<string, unknown>) => void): void => {
  const json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  edit(json);
  writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
};

/** The guide's steps, in its order (README, "Fork it as the template for your service"). */
export const FORK_STEPS: readonly Step[] = [
  {
    title: `1. Name the app: "appName" in cdk.json, "name" in package.json and package-lock.json -> ${FORK_NAME}`,
    apply(dir) {
      editJson(join(dir, 'cdk.json'), (json) => {
        (json.context as Record<string, unknown>).appName = FORK_NAME;
      });
      editJson(join(dir, 'package.json'), (json) => {
        json.name = FORK_NAME;
      });
      editJson(join(dir, 'package-lock.json'), (json) => {
        json.name = FORK_NAME;
        (json.packages as Record<string, Record<string, unknown>>)[''].name = FORK_NAME;
      });
    },
  },
  {
    title: `2. Keep the paths you need: "paths" in cdk.json -> ["${KEPT_PATH}"]`,
    apply(dir) {
      editJson(join(dir, 'cdk.json'), (json) => {
        (json.context as Record<string, unknown>).paths = [KEPT_PATH];
      });
    },
  },
  {
    title: `3. Replace the path's domain: lambda/${KEPT_PATH}-consumer/domain.ts and its test -> payments`,
    apply(dir) {
      const source = (name: string) => readFileSync(join(ROOT, 'tools/fork/payments', name), 'utf8');
      writeFileSync(
        join(dir, `lambda/${KEPT_PATH}-consumer/domain.ts`),
        source('domain.ts').replaceAll("'../../../lambda/shared/", "'../shared/"),
      );
      writeFileSync(
        join(dir, `test/lambda/${KEPT_PATH}-consumer/domain.test.ts`),
        source('domain.test.ts').replaceAll(
          "from './domain'",
          `from '../../../lambda/${KEPT_PATH}-consumer/domain'`,
        ),
      );
    },
  },
];

/** The commands that must pass in the fork, with what their output must show. */
const COMMANDS: readonly { readonly args: readonly string[]; readonly shows?: RegExp }[] = [
  { args: ['run', 'synth'] },
  { args: ['run', 'lint'] },
  { args: ['test', '--', '--ci'] },
  {
    args: ['run', 'local', '--', '--quiet'],
    shows: /Not deployed, so not run: the [a-z, -]+ paths of the scenario/,
  },
  { args: ['run', 'invoke', '--', 'sqs-consumer', '--no-synth'], shows: /"batchItemFailures"/ },
  { args: ['run', 'cost', '--', '--json'], shows: /"sqs"/ },
];

/** Files the fork changed, added or deleted in the copy, as `git status --porcelain` lists them. */
export function touchedFiles(dir: string): string[] {
  return execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], {
    cwd: dir,
    encoding: 'utf8',
  })
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => line.slice(3));
}

function main(argv: readonly string[]): number {
  const keep = argv.includes('--keep');
  const stepsOnly = argv.includes('--steps-only');
  const parent = mkdtempSync(join(tmpdir(), 'fork-check-'));
  const dir = join(parent, FORK_NAME);
  console.log(`Cloning the committed state of ${ROOT} into ${dir}`);
  execFileSync('git', ['clone', '--quiet', '--no-hardlinks', ROOT, dir]);
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  // .gitignore's `node_modules/` matches a directory, not this link: not a file of the fork.
  appendFileSync(join(dir, '.git', 'info', 'exclude'), '\n/node_modules\n');
  let failed = false;
  try {
    for (const step of FORK_STEPS) {
      console.log(step.title);
      step.apply(dir);
    }
    // As a person would finish: `npm run format` on what they edited.
    execFileSync(
      join(dir, 'node_modules', '.bin', 'prettier'),
      ['--write', '--log-level', 'warn', ...touchedFiles(dir)],
      {
        cwd: dir,
      },
    );
    const files = touchedFiles(dir);
    console.log(`\nThe fork touched ${files.length} files (at most ${MAX_FILES}):\n  ${files.join('\n  ')}`);
    if (files.length > MAX_FILES) {
      console.error(
        `FAIL: the fork touched ${files.length} files, more than the ${MAX_FILES} the guide promises.`,
      );
      return 1;
    }
    if (stepsOnly) return 0;
    for (const { args, shows } of COMMANDS) {
      const command = `npm ${args.join(' ')}`;
      console.log(`\n── ${command}`);
      const started = Date.now();
      const result = spawnSync('npm', args, {
        cwd: dir,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const output = `${result.stdout}${result.stderr}`;
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      if (result.status !== 0 || (shows && !shows.test(output))) {
        process.stdout.write(output);
        console.error(
          `FAIL: ${command} ${result.status !== 0 ? `exited with ${result.status}` : `did not show ${shows}`} (${seconds} s)`,
        );
        failed = true;
        break;
      }
      const lines = output.trimEnd().split('\n');
      console.log(`${lines.slice(-3).join('\n')}\n   ok in ${seconds} s`);
    }
  } finally {
    if (keep) console.log(`\nThe fork is kept in ${dir}`);
    else rmSync(parent, { recursive: true, force: true });
  }
  if (failed) return 1;
  console.log(
    `\nFork check passed: ${FORK_NAME}, one path (${KEPT_PATH}), its own domain; every command works.`,
  );
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
