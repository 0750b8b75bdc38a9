/** Running a command of the benchmark (jest, cdk synth, node) with its output captured and its wall time. */
import { spawn } from 'node:child_process';

export interface CommandResult {
  readonly code: number | null;
  readonly wallMs: number;
  /** stdout and stderr, interleaved as they came. */
  readonly output: string;
}

export function runCommand(
  command: string,
  args: readonly string[],
  options: { readonly cwd: string; readonly env?: Readonly<Record<string, string>> },
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(command, [...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, wallMs: performance.now() - start, output }));
  });
}

/** Like {@link runCommand}, failing with the command's output unless it exits 0. */
export async function runCommandOrThrow(
  command: string,
  args: readonly string[],
  options: { readonly cwd: string; readonly env?: Readonly<Record<string, string>> },
): Promise<string> {
  const { code, output } = await runCommand(command, args, options);
  if (code !== 0)
    throw new Error(`${command} ${args.join(' ')} (in ${options.cwd}) exited ${code}:\n${output}`);
  return output;
}
