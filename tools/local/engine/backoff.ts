/**
 * How long the Lambda service waits before trying again after a throttle: exponential from one second, doubling
 * per consecutive throttle, up to a ceiling that depends on the invocation model.
 */

/** Event source mappings (SQS, Kinesis) back off to at most a minute. */
export const MAPPING_THROTTLE_BACKOFF_MAX_MS = 60_000;
/** Asynchronous invocation backs off to at most five minutes. */
export const ASYNC_THROTTLE_BACKOFF_MAX_MS = 300_000;

const THROTTLE_BACKOFF_START_MS = 1000;

/** The wait after the `throttles`-th consecutive throttle (1, 2, ...). */
export function throttleBackoffMs(throttles: number, maxMs: number): number {
  return Math.min(maxMs, THROTTLE_BACKOFF_START_MS * 2 ** (throttles - 1));
}
