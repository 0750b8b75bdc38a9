/**
 * What a redrive did, per failure store: each record's outcome as a line, the tallies, and the exit code (0 only
 * when nothing that the run took on was left behind).
 */
import type { StoreName } from './stores';

export type OutcomeStatus = 'redriven' | 'already-redriven' | 'left' | 'would-redrive' | 'would-leave';

export interface Outcome {
  readonly status: OutcomeStatus;
  /** The message id in the store. */
  readonly id: string;
  /** What the record is (request, objects, shard and range). */
  readonly summary: string;
  /** What was done, or why it was left. */
  readonly detail: string;
}

export interface Counts {
  redriven: number;
  /** Re-driven by an earlier run whose delete did not go through; deleted now, not re-driven again. */
  alreadyRedriven: number;
  /** Could not be re-driven (or not deleted after it was): still in the store. */
  left: number;
  wouldRedrive: number;
  wouldLeave: number;
}

export interface StoreReport {
  readonly store: StoreName;
  /** e.g. `on-failure destination`. */
  readonly label: string;
  readonly queueUrl: string;
  readonly outcomes: Outcome[];
  readonly counts: Counts;
}

export const emptyCounts = (): Counts => ({
  redriven: 0,
  alreadyRedriven: 0,
  left: 0,
  wouldRedrive: 0,
  wouldLeave: 0,
});

const MARKS: Record<OutcomeStatus, string> = {
  redriven: 'redriven',
  'already-redriven': 'deleted',
  left: 'left',
  'would-redrive': 'would',
  'would-leave': 'would leave',
};

const COUNTED: Record<OutcomeStatus, keyof Counts> = {
  redriven: 'redriven',
  'already-redriven': 'alreadyRedriven',
  left: 'left',
  'would-redrive': 'wouldRedrive',
  'would-leave': 'wouldLeave',
};

export function formatOutcome(outcome: Outcome): string {
  return `  ${MARKS[outcome.status].padEnd(11)} ${outcome.id}  ${outcome.detail}\n${' '.repeat(14)}${outcome.summary}`;
}

/** Adds an outcome to a report and prints it. */
export function addOutcome(report: StoreReport, outcome: Outcome, print: (line: string) => void): void {
  report.outcomes.push(outcome);
  report.counts[COUNTED[outcome.status]] += 1;
  print(formatOutcome(outcome));
}

export function totals(reports: readonly StoreReport[]): Counts {
  const sum = emptyCounts();
  for (const report of reports) {
    for (const key of Object.keys(sum) as (keyof Counts)[]) sum[key] += report.counts[key];
  }
  return sum;
}

export function summaryLine(reports: readonly StoreReport[], dryRun: boolean): string {
  const t = totals(reports);
  if (dryRun) {
    return `redrive (dry run): ${t.wouldRedrive} would be redriven, ${t.wouldLeave} would be left; nothing was changed`;
  }
  return (
    `redrive: ${t.redriven} redriven, ${t.left} left` +
    (t.alreadyRedriven ? `, ${t.alreadyRedriven} redriven earlier and deleted now` : '')
  );
}

/** 0 when nothing was left; 1 when a record could not be re-driven, or not deleted after it was. */
export function exitCodeOf(reports: readonly StoreReport[]): 0 | 1 {
  return totals(reports).left > 0 ? 1 : 0;
}
