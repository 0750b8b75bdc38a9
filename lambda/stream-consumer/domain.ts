/**
 * The stream path's domain: sensor readings. A producer writes one reading per Kinesis record, with the sensor
 * id as the partition key, so all readings of one sensor land on one shard, in the order they were written.
 * Its schema, idempotency key, partition key, plan and example readings are here; the handler, the tests and the
 * tools take the path's business from this module only.
 *
 * Everything here is a plain function of its arguments (no AWS, no I/O), so it is unit-tested directly. When you
 * fork, replace this file (and test/lambda/stream-consumer/domain.test.ts), keeping the exported `domain` and
 * `examples` (the contract is lambda/shared/domain.ts).
 */
// zod/mini, as in the other handlers: esbuild keeps only what the schema uses (docs/performance.md).
import * as z from 'zod/mini';
import {
  type DomainExamples,
  type ExampleOptions,
  groupOfId,
  type InvalidExample,
  type StreamDomain,
} from '../shared/domain';
import type { Plan } from '../shared/exactly-once';

/** One reading, as the producer writes it (JSON, base64-encoded by Kinesis). Unknown fields are dropped. */
export const SensorReadingSchema = z.object({
  /**
   * Unique id of this reading, chosen by the producer (e.g. a UUID). It is the idempotency key: it stays the
   * same when Lambda re-delivers the record, when a producer retry writes it twice, and when an operator
   * replays it into the stream.
   */
  eventId: z.string().check(z.minLength(1), z.maxLength(128)),
  /** The sensor; producers use it as the partition key. */
  sensorId: z.string().check(z.minLength(1), z.maxLength(128)),
  /** When the sensor measured (ISO 8601 with a time zone). */
  recordedAt: z.iso.datetime({ offset: true }),
  metric: z.enum(['temperature', 'humidity', 'pressure']),
  // zod 4 numbers are finite: Infinity and NaN are rejected.
  value: z.number(),
});

export type SensorReading = z.output<typeof SensorReadingSchema>;
export type Metric = SensorReading['metric'];

/** The range a reading must fall in to count as normal, per metric. */
export type ReadingLimits = Readonly<Record<Metric, { readonly min: number; readonly max: number }>>;

export const DEFAULT_LIMITS: ReadingLimits = {
  temperature: { min: -40, max: 85 },
  humidity: { min: 0, max: 100 },
  pressure: { min: 300, max: 1100 },
};

export type ReadingStatus = 'normal' | 'out-of-range';

/** Whether a reading lies within the limits of its metric. */
export function classifyReading(
  reading: SensorReading,
  limits: ReadingLimits = DEFAULT_LIMITS,
): ReadingStatus {
  const { min, max } = limits[reading.metric];
  return reading.value >= min && reading.value <= max ? 'normal' : 'out-of-range';
}

/** What applying a reading returns (stored in the idempotency record, returned to later deliveries). */
export interface ReadingOutcome {
  readonly eventId: string;
  readonly status: ReadingStatus;
}

/** The effect table item of a sensor's totals for one metric: `sensor#<sensorId>#<metric>`. */
export function sensorTotalsKey(reading: Pick<SensorReading, 'sensorId' | 'metric'>): string {
  return `sensor#${reading.sensorId}#${reading.metric}`;
}

/**
 * What applying a reading does: the sensor's totals for its metric count one more reading and add its value
 * (and count it as out of range when it is). Naturally not idempotent: applied twice, the count shows it.
 */
export function planReading(
  reading: SensorReading,
  limits: ReadingLimits = DEFAULT_LIMITS,
): Plan<ReadingOutcome> {
  const status = classifyReading(reading, limits);
  return {
    response: { eventId: reading.eventId, status },
    effect: [
      {
        key: sensorTotalsKey(reading),
        add: { readingCount: 1, valueSum: reading.value, outOfRangeCount: status === 'out-of-range' ? 1 : 0 },
      },
    ],
  };
}

/**
 * The reading path's domain. The idempotency key is the reading's own `eventId`: it stays the same when Lambda
 * re-delivers the record, when a producer retry writes it twice, and when an operator replays it. The partition
 * key is the sensor: per-partition-key order is what Kinesis and Lambda guarantee, so it is per-sensor order.
 */
export const domain: StreamDomain<SensorReading, ReadingOutcome> = {
  recordName: 'reading',
  schema: SensorReadingSchema,
  idempotencyKey: (reading) => reading.eventId,
  partitionKey: (reading) => reading.sensorId,
  keyPrefix: 'stream-consumer.applyReading',
  plan: (reading) => planReading(reading),
};

const METRICS: readonly Metric[] = ['temperature', 'humidity', 'pressure'];

/**
 * Example readings. Group `g` is sensor `sensor-<g>` measuring one metric (group 1: temperature), so its readings
 * share a partition key and an effect item; the variant sets the value (every 7th variant out of range) and the
 * time.
 */
export const examples: DomainExamples<SensorReading> = {
  valid(id: string, options: ExampleOptions = {}): SensorReading {
    const group = options.group ?? groupOfId(id, 100);
    const variant = options.variant ?? 0;
    const metric = METRICS[(group - 1 + METRICS.length) % METRICS.length];
    const { min, max } = DEFAULT_LIMITS[metric];
    const value = variant % 7 === 6 ? max + 1 + (variant % 10) : min + ((variant * 37) % (max - min));
    return {
      eventId: id,
      sensorId: `sensor-${String(group).padStart(3, '0')}`,
      recordedAt: new Date(Date.UTC(2026, 0, 1) + variant * 60_000).toISOString(),
      metric,
      value,
    };
  },
  withOtherContent(reading: SensorReading): SensorReading {
    return { ...reading, value: reading.value + 1 };
  },
  invalid(id: string): readonly InvalidExample[] {
    const reading = examples.valid(id);
    return [
      { reason: 'value is not a number', body: JSON.stringify({ ...reading, value: 'very hot' }) },
      { reason: 'unknown metric', body: JSON.stringify({ ...reading, metric: 'wind-speed' }) },
      { reason: 'not JSON', body: `${id},${reading.sensorId},not-json` },
    ];
  },
};
