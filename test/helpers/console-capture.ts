/**
 * Output a test provokes on purpose, kept out of the run's output (and asserted on where it matters), so that a
 * green `npm test` prints only jest's results and an unexpected warning stands out. Only what matches the given
 * pattern is captured: everything else still prints.
 *
 * - CDK prints a synth's warning annotations as a validation report through `console.error` (cdk.json turns on
 *   `@aws-cdk/core:annotationsInValidationReport`): a test that builds a stack with a warning on purpose captures
 *   the report with {@link captureConsoleError} and checks that it lists exactly the warnings it expects.
 * - CDK writes `Bundling asset <path>...` to stderr for every asset it bundles: tests that bundle (esbuild in the
 *   test process) run the synth through {@link withoutBundlingNotices}.
 */
import { format } from 'node:util';

export interface ConsoleErrorCapture {
  /** The text of each captured call, as `console.error` would have printed it. */
  readonly captured: string[];
  /** The warnings the captured CDK validation reports list (`WARNING <message> (Annotation)`), messages only. */
  warnings(): string[];
  restore(): void;
}

/** The pattern of a CDK validation report that lists warning annotations. */
export const CDK_WARNING_REPORT = /^WARNING .* \(Annotation\)$/m;

/** Captures the `console.error` calls whose text matches `expected` until `restore()`. */
export function captureConsoleError(expected: RegExp): ConsoleErrorCapture {
  const original = console.error.bind(console);
  const captured: string[] = [];
  const spy = jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
    const text = format(...args);
    if (expected.test(text)) captured.push(text);
    else original(...args);
  });
  return {
    captured,
    warnings: () =>
      captured.flatMap((text) =>
        [...text.matchAll(/^WARNING (.*) \(Annotation\)$/gm)].map(([, message]) => message),
      ),
    restore: () => spy.mockRestore(),
  };
}

/** The line CDK writes to stderr before it bundles an asset (aws-cdk-lib `AssetStaging`). */
const BUNDLING_NOTICE = /^Bundling asset (\S+)\.\.\.\n$/;

/**
 * Runs `synth` (whatever creates or synthesizes bundled assets) without CDK's `Bundling asset <path>...` lines
 * on stderr; anything else written to stderr still shows. Returns what `synth` returned and the paths of the
 * assets CDK announced, in order.
 */
export function withoutBundlingNotices<T>(synth: () => T): { result: T; bundled: string[] } {
  const write = process.stderr.write.bind(process.stderr) as (...args: unknown[]) => boolean;
  const bundled: string[] = [];
  const spy = jest.spyOn(process.stderr, 'write').mockImplementation(((...args: unknown[]) => {
    const notice = typeof args[0] === 'string' ? BUNDLING_NOTICE.exec(args[0]) : null;
    if (!notice) return write(...args);
    bundled.push(notice[1]);
    return true;
  }) as typeof process.stderr.write);
  try {
    return { result: synth(), bundled };
  } finally {
    spy.mockRestore();
  }
}
