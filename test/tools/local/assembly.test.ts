/**
 * When `npm run invoke` and `npm run local` synthesize before reading cdk.out: a fake assembly (a manifest, one
 * stack's template and asset manifest) whose function code is a bundle, the repository root (what `cdk ls`
 * writes: CDK skips bundling for the stacks a command does not select), or an asset directory that is gone.
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareAssembly, staleness, staleReason } from '../../../tools/local/assembly';

const HASH = 'a'.repeat(64);
let project: string;
let assembly: string;

/** Writes a cloud assembly in `assembly` whose one function's code asset is `assetPath`. */
function writeAssembly(assetPath: string, options: { bundle?: boolean; inline?: boolean } = {}): void {
  mkdirSync(assembly, { recursive: true });
  writeFileSync(
    join(assembly, 'manifest.json'),
    JSON.stringify({
      version: '55.0.0',
      artifacts: {
        Sqs: {
          type: 'aws:cloudformation:stack',
          properties: { templateFile: 'Sqs.template.json', stackName: 'sqs' },
        },
      },
    }),
  );
  writeFileSync(
    join(assembly, 'Sqs.template.json'),
    JSON.stringify({
      Resources: {
        Consumer: {
          Type: 'AWS::Lambda::Function',
          Properties: {
            Code: options.inline
              ? { ZipFile: 'exports.handler = async () => {}' }
              : { S3Bucket: { 'Fn::Sub': 'cdk-assets' }, S3Key: `${HASH}.zip` },
            Handler: 'index.handler',
          },
        },
        Queue: { Type: 'AWS::SQS::Queue', Properties: {} },
      },
    }),
  );
  writeFileSync(
    join(assembly, 'Sqs.assets.json'),
    JSON.stringify({
      version: '55.0.0',
      files: {
        [HASH]: { displayName: 'Consumer/Code', source: { path: assetPath, packaging: 'zip' } },
        ['b'.repeat(64)]: { source: { path: 'Sqs.template.json', packaging: 'file' } },
      },
    }),
  );
  if (options.bundle) {
    mkdirSync(join(assembly, assetPath), { recursive: true });
    writeFileSync(join(assembly, assetPath, 'index.js'), 'exports.handler = async () => ({});\n');
  }
}

beforeEach(() => {
  project = mkdtempSync(join(tmpdir(), 'assembly-test-'));
  // A project with sources older than any assembly written by the test.
  mkdirSync(join(project, 'lib'));
  writeFileSync(join(project, 'lib', 'stack.ts'), '');
  const past = new Date(Date.now() - 3_600_000);
  utimesSync(join(project, 'lib', 'stack.ts'), past, past);
  utimesSync(join(project, 'lib'), past, past);
  assembly = join(project, 'cdk.out');
});

afterEach(() => rmSync(project, { recursive: true, force: true }));

describe('staleReason', () => {
  it('takes an assembly whose function code is a bundle for up to date', () => {
    writeAssembly(`asset.${HASH}`, { bundle: true });
    expect(staleReason(project, assembly)).toBeUndefined();
  });

  it('says the assembly was written without bundling when a function asset is the repository root (cdk ls)', () => {
    writeAssembly(project);
    expect(staleReason(project, assembly)).toBe('cdk.out was written without bundling (by `cdk ls`?)');
    expect(staleness(project, assembly)).toMatchObject({
      kind: 'unbundled',
      detail: `the code of Sqs/Consumer is ${project}, not a bundle with index.js`,
    });
  });

  it('names the missing bundle when an asset directory of the assembly is gone or lacks the handler file', () => {
    writeAssembly(`asset.${HASH}`);
    expect(staleReason(project, assembly)).toBe(
      `cdk.out lacks the bundle of Sqs/Consumer (asset.${HASH}/index.js)`,
    );
    mkdirSync(join(assembly, `asset.${HASH}`));
    expect(staleness(project, assembly)?.kind).toBe('unbundled');
  });

  it('leaves inline code alone', () => {
    writeAssembly(project, { inline: true });
    expect(staleReason(project, assembly)).toBeUndefined();
  });

  it('still reports a missing assembly and sources newer than it', () => {
    expect(staleReason(project, assembly)).toBe('cdk.out has no cloud assembly');
    writeAssembly(`asset.${HASH}`, { bundle: true });
    writeFileSync(join(project, 'lib', 'stack.ts'), '// changed');
    const future = new Date(Date.now() + 60_000);
    utimesSync(join(project, 'lib', 'stack.ts'), future, future);
    expect(staleness(project, assembly)).toEqual({
      kind: 'outdated',
      reason: 'lib changed since the last synth',
    });
  });
});

describe('prepareAssembly', () => {
  const run = (synth: 'auto' | 'always' | 'never', needsBundles = true) => {
    const lines: string[] = [];
    const synthesize = jest.fn((_project: string, dir: string) => {
      rmSync(dir, { recursive: true, force: true });
      writeAssembly(`asset.${HASH}`, { bundle: true });
    });
    prepareAssembly({
      projectDir: project,
      assemblyDir: assembly,
      synth,
      needsBundles,
      progress: (line) => lines.push(line),
      synthesize,
    });
    return { lines, synthesized: synthesize.mock.calls.length };
  };

  it('synthesizes an unbundled assembly again, saying why in one line', () => {
    writeAssembly(project);
    const { lines, synthesized } = run('auto');
    expect(synthesized).toBe(1);
    expect(lines[0]).toBe(
      'cdk.out was written without bundling (by `cdk ls`?): synthesizing again (npx cdk synth --quiet)',
    );
    expect(staleReason(project, assembly)).toBeUndefined();
  });

  it('with --no-synth, fails on an unbundled assembly with what to run', () => {
    writeAssembly(project);
    expect(() => run('never')).toThrow(
      'cdk.out was written without bundling (by `cdk ls`?): run `npm run synth` (--no-synth never synthesizes)',
    );
  });

  it('names the command for another output directory', () => {
    assembly = join(tmpdir(), `assembly-test-out-${process.pid}`);
    try {
      writeAssembly(project);
      expect(() => run('never')).toThrow(`run \`npx cdk synth --quiet --output ${assembly}\``);
    } finally {
      rmSync(assembly, { recursive: true, force: true });
    }
  });

  it('leaves an unbundled assembly alone when no bundle runs (npm run local --model)', () => {
    writeAssembly(project);
    expect(run('auto', false)).toEqual({ lines: [], synthesized: 0 });
    expect(run('never', false)).toEqual({ lines: [], synthesized: 0 });
  });

  it('reads an outdated but bundled assembly with --no-synth, with a note', () => {
    writeAssembly(`asset.${HASH}`, { bundle: true });
    const future = new Date(Date.now() + 60_000);
    utimesSync(join(project, 'lib', 'stack.ts'), future, future);
    expect(run('never')).toEqual({
      lines: ['Note: lib changed since the last synth; reading it anyway (--no-synth).'],
      synthesized: 0,
    });
  });

  it('fails when synthesizing did not bundle either', () => {
    writeAssembly(project);
    expect(() =>
      prepareAssembly({
        projectDir: project,
        assemblyDir: assembly,
        synth: 'always',
        needsBundles: true,
        progress: () => undefined,
        synthesize: () => undefined,
      }),
    ).toThrow(/without bundling \(by `cdk ls`\?\) even after synthesizing: is bundling turned off/);
  });
});
