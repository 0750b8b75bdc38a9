/**
 * A capture of the structured log lines a handler writes: Powertools Logger prints JSON lines through its own
 * Console to stdout and stderr, and these are what CloudWatch Logs (and an operator) see.
 */

/** The structured (JSON) lines written to stdout and stderr while capturing. */
export interface LogCapture {
  readonly lines: Record<string, unknown>[];
  /** Lines whose `message` equals `message`. */
  withMessage(message: string): Record<string, unknown>[];
  /** Lines of a level (`INFO`, `ERROR`...). */
  atLevel(level: string): Record<string, unknown>[];
  restore(): void;
}

/** Captures what Powertools Logger prints until `restore()`. */
export function captureLogs(): LogCapture {
  const lines: Record<string, unknown>[] = [];
  const spies = [process.stdout, process.stderr].map((stream) =>
    jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      for (const line of String(chunk).split('\n')) {
        if (!line.trim().startsWith('{')) continue;
        try {
          lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // not a log line
        }
      }
      return true;
    }),
  );
  return {
    lines,
    withMessage: (message) => lines.filter((line) => line.message === message),
    atLevel: (level) => lines.filter((line) => line.level === level),
    restore: () => spies.forEach((spy) => spy.mockRestore()),
  };
}
