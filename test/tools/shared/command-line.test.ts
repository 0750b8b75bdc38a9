import { parseCommandLine, UsageError } from '../../../tools/shared/command-line';

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  max: { type: 'string' },
  'dry-run': { type: 'boolean' },
} as const;

describe('parseCommandLine', () => {
  it('returns the options and the positionals', () => {
    expect(parseCommandLine(['sqs', '--max', '3', '--dry-run'], OPTIONS)).toEqual({
      values: { max: '3', 'dry-run': true },
      positionals: ['sqs'],
    });
    expect(parseCommandLine(['-h'], OPTIONS).values.help).toBe(true);
  });

  it.each([
    [['--what'], 'Unknown argument --what'],
    [['-x'], 'Unknown argument -x'],
    [['--max'], '--max needs a value'],
    // Another option where the value should be is refused, not taken as the value.
    [['--max', '--dry-run'], '--max needs a value'],
  ])('refuses %j with a usage error: %s', (argv, message) => {
    const parse = () => parseCommandLine(argv, OPTIONS);
    expect(parse).toThrow(UsageError);
    expect(parse).toThrow(new UsageError(message));
  });
});
