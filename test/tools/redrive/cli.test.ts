/**
 * The command line of `npm run redrive`: its arguments, the stack it reads, and the outputs it needs, which the
 * app's synthesized stacks must have.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { appContext } from '../../../tools/smoke/cli';
import { parseArguments, stackToRead, UsageError } from '../../../tools/redrive/cli';
import { REDRIVABLE_PATHS, requiredOutputs, STORES_OF_PATH } from '../../../tools/redrive/stores';
import { templateCloudAssembly } from '../../helpers/cloud-assembly';

const projectDir = resolve(__dirname, '../../..');

describe('parseArguments', () => {
  const parse = (...argv: string[]) => parseArguments(argv);

  it('takes a path and the options', () => {
    expect(parse('object', '--dry-run', '--max', '5', '--rate', '2.5', '--stage', 'prod')).toMatchObject({
      path: 'object',
      dryRun: true,
      max: 5,
      rate: 2.5,
      stage: 'prod',
    });
    expect(parse('sqs', '--stack', 'my-stack', '--store', 'dead-letter-queue')).toMatchObject({
      path: 'sqs',
      stackName: 'my-stack',
      stores: ['dead-letter-queue'],
    });
    expect(parse('--help')).toBe('help');
  });

  it.each([
    [[], /path/],
    [['nope'], /nope.*sqs, fifo, object, stream, table-stream/],
    [['sqs', 'object'], /one path/],
    [['sqs', '--max', '0'], /--max/],
    [['sqs', '--max', '1.5'], /--max/],
    [['sqs', '--rate', '0'], /--rate/],
    [['sqs', '--rate', '501'], /--rate.*500/],
    [['sqs', '--rate', '2.5'], /--rate.*whole number/],
    [['object', '--store', 'dead-letter-queue'], /object.*on-failure, subscription-dlq/],
    [['sqs', '--stage', 'a', '--stack', 'b'], /--stage or --stack/],
    [['sqs', '--bogus'], /--bogus/],
  ])('refuses %j', (argv, message) => {
    expect(() => parse(...(argv as string[]))).toThrow(UsageError);
    expect(() => parse(...(argv as string[]))).toThrow(message);
  });
});

it('stackToRead: <appName>-<stage>-<path>, as the app and the smoke test name it, or the --stack given', () => {
  expect(stackToRead({ appName: 'reliable-lambda', stage: 'sandbox', path: 'table-stream' })).toBe(
    'reliable-lambda-sandbox-table-stream',
  );
  expect(stackToRead({ appName: 'a', stage: 's', path: 'sqs', stackName: 'explicit' })).toBe('explicit');
});

describe('every output the command reads is one the deployed stack has', () => {
  let outdir: string;
  beforeAll(async () => {
    outdir = await templateCloudAssembly();
  });

  it.each(REDRIVABLE_PATHS.map((path) => [path]))('%s', (path) => {
    const { appName, stage } = appContext(projectDir);
    const stack = `${appName}-${stage ?? 'sandbox'}-${path}`;
    const template = JSON.parse(readFileSync(join(outdir, `${stack}.template.json`), 'utf8')) as {
      Outputs: Record<string, unknown>;
    };
    for (const store of STORES_OF_PATH[path] ?? []) {
      for (const output of requiredOutputs(path, store))
        expect(Object.keys(template.Outputs)).toContain(output);
    }
  });
});
