/**
 * The command line of the project's tools (`npm run smoke`, `redrive`, `send`, …), parsed once the same way: Node's
 * own `parseArgs` (strict: an unknown option or an option without its value is refused), with its errors turned into
 * a {@link UsageError} that names the argument the way the tools' help does (`--max needs a value`), so the tools
 * that use it (smoke, redrive, send) answer bad usage alike: exit code 2 and the message, not a stack trace.
 * (`npm run local` keeps its own parser: its exit codes are 1 for bad usage and 2 for a broken invariant.)
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Bad usage of a command: the caller prints the message (and the help) and exits with 2. */
export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;

/** The options and positionals of `argv`; throws {@link UsageError} for an unknown option or a missing value. */
export function parseCommandLine<const O extends Options>(argv: readonly string[], options: O) {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw usageErrorOf(error);
  }
}

function usageErrorOf(error: unknown): Error {
  const { code, message } = error as { code?: string; message: string };
  const option = /'(-{1,2}[^' ]+)/.exec(message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION')
    return new UsageError(`Unknown argument ${option ?? message}`);
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE')
    return new UsageError(option ? `${option} needs a value` : message);
  return error instanceof Error ? error : new Error(String(error));
}
