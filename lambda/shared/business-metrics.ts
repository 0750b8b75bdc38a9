/**
 * The names of the business metrics (powertools.ts, `RecordMetrics`), in a module of their own with no imports, so
 * the CDK app (lib/constructs/dashboard.ts) names the same metrics without loading Powertools.
 */

/**
 * The business metrics every path emits, per invocation, in CloudWatch's embedded metric format (one JSON line on
 * stdout that CloudWatch Logs turns into metrics: no API call, no extra latency). Namespace and the `service`
 * dimension come from `POWERTOOLS_METRICS_NAMESPACE` and `POWERTOOLS_SERVICE_NAME`, which `ConsumerFunction` sets.
 * Read them with the `Sum` statistic.
 */
export const BUSINESS_METRICS = {
  /** Records whose effect this delivery committed (one "side effect done" line each). */
  applied: 'RecordsApplied',
  /**
   * Deliveries of a record already applied, which applied nothing: answered from the idempotency store, or whose
   * commit another delivery of the same key won meanwhile.
   */
  duplicate: 'DuplicateRecords',
  /** Records (or events) that can never be applied as they are: the payload failed parsing or validation. */
  invalid: 'InvalidPayloads',
} as const;

/** The outcome of one record, as counted. */
export type RecordOutcome = keyof typeof BUSINESS_METRICS;
