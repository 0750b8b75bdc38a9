/**
 * Summary statistics for the benchmark. Machines are noisy (here: 2 shared cores), so every figure is a median
 * over interleaved rounds with its spread, and every comparison is a ratio of two figures measured side by side.
 */

/** The q-quantile (0..1) of `values`, linearly interpolated between the closest ranks. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  if (q < 0 || q > 1) throw new Error(`quantile must be within [0, 1], got ${q}`);
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower);
}

export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/** Median and interquartile range: what every table shows. */
export interface Summary {
  readonly median: number;
  readonly p25: number;
  readonly p75: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

export function summarise(values: readonly number[]): Summary {
  return {
    median: median(values),
    p25: quantile(values, 0.25),
    p75: quantile(values, 0.75),
    min: values.length ? Math.min(...values) : Number.NaN,
    max: values.length ? Math.max(...values) : Number.NaN,
    n: values.length,
  };
}

/**
 * Ratios of paired measurements (`numerators[i] / denominators[i]`, both taken in the same round), summarised.
 * Pairing cancels slow drifts of the machine (another process starting, thermal throttling) that a ratio of two
 * medians would absorb.
 */
export function pairedRatios(numerators: readonly number[], denominators: readonly number[]): Summary {
  if (numerators.length !== denominators.length) {
    throw new Error(
      `paired ratios need as many numerators as denominators (${numerators.length} vs ${denominators.length})`,
    );
  }
  return summarise(numerators.map((value, index) => value / denominators[index]));
}

/** Rotates `items` by `round` places, so that no variant always runs first (or right after the same one). */
export function rotate<T>(items: readonly T[], round: number): T[] {
  if (items.length === 0) return [];
  const shift = ((round % items.length) + items.length) % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

/** `1.23× (1.18–1.30)`: a ratio with its interquartile range. */
export function formatRatio(summary: Summary, digits = 2): string {
  if (Number.isNaN(summary.median)) return 'n/a';
  return `${summary.median.toFixed(digits)}× (${summary.p25.toFixed(digits)}–${summary.p75.toFixed(digits)})`;
}

/** `123 ms (110–140)`: a median with its interquartile range. */
export function formatMs(summary: Summary, digits = 0): string {
  if (Number.isNaN(summary.median)) return 'n/a';
  return `${summary.median.toFixed(digits)} ms (${summary.p25.toFixed(digits)}–${summary.p75.toFixed(digits)})`;
}
