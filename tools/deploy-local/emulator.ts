/**
 * The local AWS emulator of `npm run deploy:local`: moto in server mode, started through
 * tools/deploy-local/moto_launcher.py (moto plus the models it lacks) on a free port of the loopback interface,
 * and the environment that points the CDK CLI, the AWS SDK and the smoke test at it, and at nothing else.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The one line a user runs to get the emulator (the only prerequisite outside npm). */
export const PIP_INSTALL = "pip install 'moto[server]>=5.2,<6'";

/** The account and region the emulated deploy uses (moto's default account). */
export const EMULATOR_ACCOUNT = '123456789012';
export const EMULATOR_REGION = 'us-east-1';

export class EmulatorUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmulatorUnavailable';
  }
}

export interface Emulator {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly port: number;
  /** moto's own log (one line per request, tracebacks). */
  readonly logFile: string;
  /** The environment of a process that must talk to the emulator only. */
  readonly env: NodeJS.ProcessEnv;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s). */
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly projectDir: string;
  /** Where moto's log goes (a new temporary directory by default). */
  readonly workDir?: string;
  /** Resource types whose launcher model is left out (`--skip`): to show that what is not created fails the run. */
  readonly skipModels?: readonly string[];
  /** @default DEPLOY_LOCAL_PYTHON, else python3 */
  readonly python?: string;
  /** @default 60000 */
  readonly startTimeoutMs?: number;
}

/**
 * The environment for the CDK CLI, the SDK and the tools against the emulator at `port`: its endpoint for every
 * service, the S3 endpoint CloudFormation reads template URLs from (`localhost`, which moto needs for path-style
 * bucket URLs), dummy credentials, the emulator's region, and no way to reach a real account: profiles, session
 * tokens, role and container credentials of the caller's environment are removed, the config files point
 * nowhere, and the instance metadata service is off.
 */
export function emulatorEnvironment(
  port: number,
  workDir: string,
  base: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(base)) {
    if (/^AWS_/.test(name) || /^CDK_DEFAULT_/.test(name)) continue;
    env[name] = value;
  }
  return {
    ...env,
    AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
    AWS_ENDPOINT_URL_S3_FOR_CLOUDFORMATION: `http://localhost:${port}`,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: EMULATOR_REGION,
    AWS_DEFAULT_REGION: EMULATOR_REGION,
    AWS_CONFIG_FILE: join(workDir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(workDir, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    // The SDK's notice that its 2027 releases need Node.js 22 (README): printed by every CLI process otherwise.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    CDK_DISABLE_CLI_TELEMETRY: 'true',
  };
}

/** Starts moto through the launcher and waits until it listens. Throws {@link EmulatorUnavailable} with the pip line. */
export async function startEmulator(options: StartOptions): Promise<Emulator> {
  const workDir = options.workDir ?? mkdtempSync(join(tmpdir(), 'deploy-local-'));
  const logFile = join(workDir, 'moto.log');
  const log = createWriteStream(logFile);
  const args = [
    join(options.projectDir, 'tools', 'deploy-local', 'moto_launcher.py'),
    '--host',
    '127.0.0.1',
    '--port',
    '0',
  ];
  for (const type of options.skipModels ?? []) args.push('--skip', type);
  const python = options.python ?? process.env.DEPLOY_LOCAL_PYTHON ?? 'python3';
  const child = spawn(python, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  child.stderr.pipe(log);

  const port = await new Promise<number>((resolve, reject) => {
    let stdout = '';
    let stderrTail = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new EmulatorUnavailable(
          `moto did not start within ${(options.startTimeoutMs ?? 60000) / 1000} s (log: ${logFile})`,
        ),
      );
    }, options.startTimeoutMs ?? 60000);
    child.stderr.on('data', (chunk: Buffer) => {
      stderrTail = (stderrTail + chunk.toString()).slice(-2000);
    });
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      log.write(chunk);
      const match = /moto listening on http:\/\/[^:]+:(\d+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        new EmulatorUnavailable(
          error.code === 'ENOENT'
            ? `${python} is not installed: npm run deploy:local needs Python 3 with moto in server mode. Install it with:\n  ${PIP_INSTALL}`
            : `cannot start ${python}: ${error.message}`,
        ),
      );
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(
        new EmulatorUnavailable(
          code === 3
            ? `moto (with its server extras) is not installed for ${python}. Install it with:\n  ${PIP_INSTALL}\n${stderrTail.trim()}`
            : `moto exited (${code}) before it listened; the end of its log (${logFile}):\n${stderrTail.trim()}`,
        ),
      );
    });
  });
  child.removeAllListeners('exit');
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    logFile,
    env: emulatorEnvironment(port, workDir),
    stop: () => stopProcess(child).finally(() => log.end()),
  };
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
