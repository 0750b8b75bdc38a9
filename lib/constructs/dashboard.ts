/**
 * A path's row of the stage dashboard (lib/stacks/monitoring-stack.ts), written once: each path construct says
 * which metrics show its flow ({@link PathFlow}), and {@link flowRow} lays them out the same way for every path, left
 * to right as a record travels: in, processed, failed, in the dead-letter queue or on-failure destination, age, and
 * the business outcomes the handler counted (Powertools Metrics).
 */
import { Duration } from 'aws-cdk-lib';
import {
  GraphWidget,
  IMetric,
  IWidget,
  LegendPosition,
  Metric,
  Stats,
  TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { BUSINESS_METRICS } from '../../lambda/shared/business-metrics';
import { eventSourceMappingMetric } from './alarms';

/** The metrics of a path's flow, each a graph of the row. */
export interface PathFlow {
  /** The row's title: the path and its stack. */
  readonly title: string;
  /** One line on what the path is and where its failures go, under the title. */
  readonly summary: string;
  /** Records arriving at the source. */
  readonly in: readonly IMetric[];
  /** Records processed (handed to the function, deleted from the queue, invocations). */
  readonly processed: readonly IMetric[];
  /** Records or invocations that failed (retried, then sent on). */
  readonly failed: readonly IMetric[];
  /** Where failures wait for a person: dead-letter queues, on-failure destinations. */
  readonly failureStores: readonly IMetric[];
  /** How old the oldest waiting record is (queue age, iterator age, asynchronous event age). */
  readonly age: readonly IMetric[];
  /** The handler's business metrics (applied, duplicates, invalid). */
  readonly business: readonly IMetric[];
  /** The graphs' titles where a path's words differ (a synchronous path has requests, not records). */
  readonly titles?: Partial<Record<FlowGraph, string>>;
  /**
   * Where failures go on a path without a failure store (a synchronous path: to the caller), shown in place of the
   * empty failure-store graph. @default none: the path has failure stores
   */
  readonly noFailureStore?: string;
}

/** The graphs of a row, left to right. */
export type FlowGraph = 'in' | 'processed' | 'failed' | 'failureStores' | 'age' | 'business';

/** Each graph's title unless a path names it otherwise ({@link PathFlow.titles}). */
export const FLOW_GRAPH_TITLES: Readonly<Record<FlowGraph, string>> = {
  in: 'In',
  processed: 'Processed',
  failed: 'Failed',
  failureStores: 'In the DLQ or destination',
  age: 'Age of the oldest',
  business: 'Applied, duplicates, invalid',
};

/** The period of every graph. */
export const DASHBOARD_PERIOD = Duration.minutes(1);

/** The business metrics of a consumer: `RecordsApplied`, `DuplicateRecords`, `InvalidPayloads` (Sum per minute). */
export function businessMetrics(namespace: string, serviceName: string): Metric[] {
  return Object.entries(BUSINESS_METRICS).map(
    ([label, metricName]) =>
      new Metric({
        namespace,
        metricName,
        dimensionsMap: { service: serviceName },
        statistic: Stats.SUM,
        period: DASHBOARD_PERIOD,
        label,
      }),
  );
}

/** A metric as a graph line: its statistic (`Sum` unless given), per minute, with a label. */
export function line(metric: IMetric, label: string, statistic: string = Stats.SUM): IMetric {
  return (metric as Metric).with({ label, statistic, period: DASHBOARD_PERIOD });
}

/**
 * What failed on a path whose function an event source mapping invokes (the queue and stream paths): the records
 * the mapping saw fail, the function's failed invocations, and its throttles.
 */
export function mappingFailedLines(eventSourceMappingId: string, fn: IFunction): IMetric[] {
  return [
    line(eventSourceMappingMetric(eventSourceMappingId, 'FailedInvokeEventCount'), 'records failed'),
    line(fn.metricErrors(), 'invocations failed'),
    line(fn.metricThrottles(), 'throttles'),
  ];
}

/** The row of a path: its title, then six graphs of equal width (the dashboard is 24 units wide). */
export function flowRow(flow: PathFlow): IWidget[] {
  const graph = (which: FlowGraph, metrics: readonly IMetric[]) =>
    new GraphWidget({
      title: flow.titles?.[which] ?? FLOW_GRAPH_TITLES[which],
      left: [...metrics],
      width: 4,
      height: 6,
      legendPosition: LegendPosition.BOTTOM,
    });
  const failureStores =
    flow.noFailureStore !== undefined && flow.failureStores.length === 0
      ? new TextWidget({
          markdown: `**${flow.titles?.failureStores ?? 'No failure store'}**\n\n${flow.noFailureStore}`,
          width: 4,
          height: 6,
        })
      : graph('failureStores', flow.failureStores);
  return [
    new TextWidget({ markdown: `### ${flow.title}\n${flow.summary}`, width: 24, height: 2 }),
    graph('in', flow.in),
    graph('processed', flow.processed),
    graph('failed', flow.failed),
    failureStores,
    graph('age', flow.age),
    graph('business', flow.business),
  ];
}
