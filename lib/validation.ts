import { Duration, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Synth-time checks for the rules the AWS documentation (and the seeds) state, so that a bad setting fails
 * `cdk synth` with a message that names the construct, the property and the allowed range, instead of failing
 * a CloudFormation deployment minutes later.
 *
 * Values that are unresolved tokens (known only at deploy time) cannot be checked here and are let through.
 */
export class ConfigurationError extends Error {
  constructor(scope: IConstruct, property: string, message: string) {
    super(`${scope.node.path}: ${property} ${message}`);
    this.name = 'ConfigurationError';
  }
}

/**
 * Several broken rules of one construct, reported together (see {@link validateAll}): still a
 * `ConfigurationError`, whose message lists every rule's own message, one per line.
 */
export class ConfigurationErrors extends ConfigurationError {
  /** Each broken rule, in the order the construct checks them. */
  readonly errors: readonly ConfigurationError[];

  constructor(scope: IConstruct, errors: readonly ConfigurationError[]) {
    super(
      scope,
      `${errors.length} rules`,
      `are broken (each listed below; fix them all before synthesizing again):\n${errors
        .map((error) => `  - ${error.message}`)
        .join('\n')}`,
    );
    this.name = 'ConfigurationError';
    this.errors = errors;
  }
}

/** A check of one rule: it throws a {@link ConfigurationError} when the rule is broken. */
export type Check = () => void;

/**
 * Runs every check of a construct and reports all the rules they find broken at once, not just the first, so
 * one failed synth shows everything there is to fix: one broken rule throws its own `ConfigurationError`,
 * several throw one {@link ConfigurationErrors} listing them. Any other error propagates as it is.
 */
export function validateAll(scope: IConstruct, checks: Iterable<Check>): void {
  const errors: ConfigurationError[] = [];
  for (const check of checks) {
    try {
      check();
    } catch (error) {
      if (!(error instanceof ConfigurationError)) throw error;
      errors.push(...(error instanceof ConfigurationErrors ? error.errors : [error]));
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new ConfigurationErrors(scope, errors);
}

/** Fails unless `value` is a whole number within [min, max]; `undefined` (use the default) passes. */
export function assertIntegerInRange(
  scope: IConstruct,
  property: string,
  value: number | undefined,
  min: number,
  max: number,
  why?: string,
): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigurationError(
      scope,
      property,
      `must be a whole number from ${min} to ${max}, got ${value}${why ? ` (${why})` : ''}.`,
    );
  }
}

/** Fails unless `value` lies within [min, max]; `undefined` passes. Compared in whole seconds. */
export function assertDurationInRange(
  scope: IConstruct,
  property: string,
  value: Duration | undefined,
  min: Duration,
  max: Duration,
  why?: string,
): void {
  if (value === undefined || value.isUnresolved()) return;
  const seconds = value.toSeconds();
  if (seconds < min.toSeconds() || seconds > max.toSeconds()) {
    throw new ConfigurationError(
      scope,
      property,
      `must be from ${describeDuration(min)} to ${describeDuration(max)}, got ${describeDuration(value)}${
        why ? ` (${why})` : ''
      }.`,
    );
  }
}

/** One named term of a lower bound, e.g. `['retentionPeriod', Duration.days(4)]`. */
export type NamedDuration = readonly [name: string, value: Duration];

/**
 * Fails unless `value` is at least the sum of `terms`, with a message that shows the arithmetic
 * (`retentionPeriod + deadLetterQueueRetentionPeriod = 4 days + 14 days = 18 days (1555200 seconds)`), what it
 * got, and `why` the rule exists. Compared in whole seconds; `undefined` or any unresolved token passes.
 */
export function assertDurationAtLeastSum(
  scope: IConstruct,
  property: string,
  value: Duration | undefined,
  terms: readonly NamedDuration[],
  why: string,
): void {
  if (value === undefined || value.isUnresolved() || terms.some(([, term]) => term.isUnresolved())) return;
  const minimum = sumOfDurations(terms.map(([, term]) => term));
  if (value.toSeconds() >= minimum.toSeconds()) return;
  const names = terms.map(([name]) => name).join(' + ');
  const values = terms.length > 1 ? `${terms.map(([, term]) => describeDuration(term)).join(' + ')} = ` : '';
  throw new ConfigurationError(
    scope,
    property,
    `must be at least ${names} = ${values}${describeDuration(minimum)} (${minimum.toSeconds()} seconds), got ` +
      `${describeDuration(value)} (${value.toSeconds()} seconds): ${why}`,
  );
}

/** The sum of durations, in whole seconds. */
export function sumOfDurations(durations: readonly Duration[]): Duration {
  return Duration.seconds(durations.reduce((sum, duration) => sum + duration.toSeconds(), 0));
}

const UNITS: readonly (readonly [singular: string, milliseconds: number])[] = [
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
  ['second', 1_000],
  ['millisecond', 1],
];

/**
 * Human-readable duration for error messages, exact to the millisecond: "6 hours", "1 minute 30 seconds",
 * "17 days 23 hours 59 minutes 59 seconds" (CDK's `toHumanString()` keeps only the two largest units, which
 * would hide a difference of a second).
 */
export function describeDuration(duration: Duration): string {
  if (duration.isUnresolved()) return duration.toString();
  let rest = duration.toMilliseconds();
  const parts: string[] = [];
  for (const [unit, size] of UNITS) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0) parts.push(`${count} ${unit}${count === 1 ? '' : 's'}`);
  }
  return parts.length > 0 ? parts.join(' ') : '0 seconds';
}
