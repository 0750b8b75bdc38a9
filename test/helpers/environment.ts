/** Environment variables a test changes, put back after each test of the file. */

/** Registers an `afterEach` that restores `name` to the value it had when the file loaded (or removes it). */
export function restoreEnvironmentAfterEach(name: string): void {
  const saved = process.env[name];
  afterEach(() => {
    if (saved === undefined) delete process.env[name];
    else process.env[name] = saved;
  });
}
