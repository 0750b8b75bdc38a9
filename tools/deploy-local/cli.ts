/**
 * `npm run deploy:local`: the README's deploy, run against a local AWS emulator (moto in server mode) with the
 * project's pinned CDK CLI: start the emulator on a free loopback port, synthesize (or reuse an up-to-date bundled
 * cdk.out), bootstrap, deploy every stack, check that every resource of every template was created and can be
 * found, run `npm run smoke -- --emulator` and the emulator tests (`npm run test:deploy-local`) against it,
 * destroy, check that nothing is left, stop the emulator. Exit code 0 only when every step passed.
 */
import { resolve as resolvePath } from 'node:path';
import { AssemblyError } from '../local/cloudformation';
import { prepareAssembly } from '../local/assembly';
import { createClients, destroyClients } from '../smoke/aws';
import { appContext } from '../smoke/cli';
import { LAUNCHER_MODELS } from './coverage';
import {
  assemblyStacks,
  bootstrapArgs,
  cdkBinary,
  deployArgs,
  describeResources,
  destroyArgs,
  type ResourceReport,
  runCommand,
  stageOf,
  verifyDeployment,
  verifyDestroyed,
} from './deploy';
import { type Emulator, startEmulator } from './emulator';

const HELP = `Usage: npm run deploy:local -- [options]

Deploys every stack of the app to a local AWS emulator (moto in server mode, Python) and destroys it again:
bootstrap, asset publishing and deploy with the project's pinned CDK CLI, then every resource of every template
checked, npm run smoke, the emulator tests, cdk destroy, and a check that nothing is left.
Needs Python 3 with moto: ${"pip install 'moto[server]>=5.2,<6'"} (DEPLOY_LOCAL_PYTHON names another
interpreter than python3).

Options:
  --synth             synthesize even when cdk.out is up to date
  --no-tests          skip the emulator tests (npm run test:deploy-local)
  --keep              leave the stacks and the emulator running at the end (Ctrl-C stops it); prints the
                      environment to point the AWS CLI or SDK at it
  --skip-model TYPE   leave the launcher's model of TYPE out (e.g. AWS::CloudWatch::Alarm): the emulator then
                      skips that type as moto does, and the run must fail; shows that nothing passes silently
  --verbose           print the CDK CLI's output as it comes (it is printed on failure anyway)
  -h, --help          this help`;

interface Options {
  synth: boolean;
  tests: boolean;
  keep: boolean;
  verbose: boolean;
  skipModels: string[];
}

function parse(argv: readonly string[]): Options | 'help' {
  const options: Options = { synth: false, tests: true, keep: false, verbose: false, skipModels: [] };
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index];
    switch (argument) {
      case '-h':
      case '--help':
        return 'help';
      case '--synth':
        options.synth = true;
        break;
      case '--no-tests':
        options.tests = false;
        break;
      case '--keep':
        options.keep = true;
        break;
      case '--verbose':
        options.verbose = true;
        break;
      case '--skip-model': {
        const type = argv[index + 1];
        if (!type || !(type in LAUNCHER_MODELS)) {
          throw new Error(`--skip-model takes one of: ${Object.keys(LAUNCHER_MODELS).join(', ')}`);
        }
        options.skipModels.push(type);
        index += 1;
        break;
      }
      default:
        throw new Error(`Unknown argument ${argument}`);
    }
  }
  return options;
}

const seconds = (value: number) => `${value.toFixed(1)} s`;

async function main(): Promise<number> {
  let options;
  try {
    options = parse(process.argv.slice(2));
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (options === 'help') {
    console.log(HELP);
    return 0;
  }
  const projectDir = resolvePath(__dirname, '..', '..');
  // The SDK's notice that its 2027 releases need Node.js 22 (README), once per process: noise in this tool's report.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const assemblyDir = resolvePath(projectDir, 'cdk.out');
  const started = performance.now();
  const log = (line: string) => console.log(`deploy:local: ${line}`);
  const timings: string[] = [];
  const timed = async <T>(name: string, step: () => Promise<T> | T): Promise<T> => {
    const at = performance.now();
    try {
      return await step();
    } finally {
      timings.push(`${name} ${seconds((performance.now() - at) / 1000)}`);
    }
  };

  // The emulator first (about 2 s): without Python or moto the run stops here, before any synth.
  let emulator: Emulator;
  try {
    emulator = await timed('emulator start', () =>
      startEmulator({ projectDir, skipModels: options.skipModels }),
    );
  } catch (error) {
    console.error(`deploy:local: ${(error as Error).message}`);
    return 1;
  }
  log(`moto listening on ${emulator.endpoint} (log: ${emulator.logFile})`);
  if (options.skipModels.length > 0)
    log(`launcher models left out (--skip-model): ${options.skipModels.join(', ')}`);
  try {
    await timed('synth', () =>
      prepareAssembly({
        projectDir,
        assemblyDir,
        synth: options.synth ? 'always' : 'auto',
        needsBundles: true,
        progress: log,
      }),
    );
  } catch (error) {
    await emulator.stop();
    console.error(`deploy:local: ${(error as Error).message}`);
    return 1;
  }
  const stopOnSignal = () => {
    void emulator.stop().then(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);

  const stacks = assemblyStacks(assemblyDir);
  const { appName } = appContext(projectDir);
  const stage = appName
    ? stageOf(
        appName,
        stacks.map((stack) => stack.stackName),
      )
    : undefined;
  const cdk = cdkBinary(projectDir);
  const env = emulator.env;
  const clients = createClients({ emulator: true, endpoint: emulator.endpoint, region: env.AWS_REGION });
  const failures: string[] = [];
  let deployed = false;
  let reports: ResourceReport[] = [];
  const stream = options.verbose ? (text: string) => process.stdout.write(text) : undefined;
  const step = async (name: string, args: string[]) => {
    const result = await timed(name, () => runCommand(cdk, args, { cwd: projectDir, env, stream }));
    if (result.code !== 0) {
      if (!options.verbose) process.stdout.write(result.output);
      failures.push(`${name}: cdk ${args.join(' ')} exited ${result.code}`);
      log(
        `FAIL ${name}: cdk ${args[0]} exited ${result.code} after ${seconds(result.seconds)} (its output above)`,
      );
      return false;
    }
    log(`${name}: done in ${seconds(result.seconds)}`);
    return true;
  };

  try {
    log(`stacks: ${stacks.map((stack) => stack.stackName).join(', ')}`);
    if (await step('bootstrap', bootstrapArgs(assemblyDir))) {
      deployed = true; // even a failed deploy may leave stacks behind to destroy
      await step('deploy', deployArgs(assemblyDir, stacks.length));

      try {
        reports = await timed('resource check', () => verifyDeployment(clients, stacks));
      } catch (error) {
        failures.push(`resource check: ${(error as Error).name}: ${(error as Error).message}`);
      }
      for (const line of describeResources(reports)) console.log(line);
      const bad = reports.filter((report) => report.failed);
      if (bad.length > 0) {
        failures.push(
          `${bad.length} resource(s) not created by the emulator or not found (each above): ${bad
            .slice(0, 5)
            .map((report) => `${report.stackName}/${report.logicalId} (${report.type})`)
            .join(', ')}${bad.length > 5 ? `, and ${bad.length - 5} more` : ''}`,
        );
      }

      if (!stage) {
        failures.push(`smoke: the stack names are not <appName>-<stage>-<path> with appName "${appName}"`);
      } else {
        log(`npm run smoke -- --stage ${stage} --emulator`);
        const smoke = await timed('smoke', () =>
          runCommand('npm', ['run', '-s', 'smoke', '--', '--stage', stage, '--emulator'], {
            cwd: projectDir,
            env,
            stream: (text) => process.stdout.write(text),
          }),
        );
        if (smoke.code !== 0) failures.push(`smoke exited ${smoke.code}`);
        if (options.tests) {
          log('npm run test:deploy-local (against this deployment)');
          const tests = await timed('emulator tests', () =>
            runCommand('npm', ['run', '-s', 'test:deploy-local'], {
              cwd: projectDir,
              env: { ...env, DEPLOY_LOCAL_ENDPOINT: emulator.endpoint, DEPLOY_LOCAL_STAGE: stage },
              stream: (text) => process.stdout.write(text),
            }),
          );
          if (tests.code !== 0) failures.push(`the emulator tests exited ${tests.code}`);
        }
      }
    }
    if (options.keep) {
      log('--keep: the stacks stay deployed. In another shell:');
      for (const name of ['AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION']) {
        console.log(`  export ${name}=${env[name]}`);
      }
      log('Ctrl-C stops the emulator (and with it every stack).');
      await new Promise(() => undefined);
    }
    if (deployed) {
      if (await step('destroy', destroyArgs(assemblyDir))) {
        const left = await timed('leftover check', () =>
          verifyDestroyed(clients, stacks, reports).catch((error: Error) => [
            `leftover check: ${error.name}: ${error.message}`,
          ]),
        );
        for (const problem of left) console.log(`  FAIL  ${problem}`);
        if (left.length > 0) failures.push(`${left.length} resource(s) or stack(s) left after the destroy`);
        else log('destroyed: every stack gone, every resource no longer found');
      }
    }
  } finally {
    destroyClients(clients);
    await timed('emulator stop', () => emulator.stop());
  }
  log(`timings: ${timings.join(', ')}; total ${seconds((performance.now() - started) / 1000)}`);
  if (failures.length > 0) {
    console.log(`deploy:local: FAILED\n${failures.map((failure) => `  - ${failure}`).join('\n')}`);
    return 1;
  }
  log('passed');
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: Error) => {
      console.error(error instanceof AssemblyError ? error.message : error);
      process.exitCode = 1;
    },
  );
}
