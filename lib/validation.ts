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

/** Human-readable duration for error messages: "90 seconds", "6 hours". */
export function describeDuration(duration: Duration): string {
  return duration.toHumanString();
}
