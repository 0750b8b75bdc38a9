/**
 * The stream path's domain: sensor readings. A producer writes one reading per Kinesis record, with the sensor
 * id as the partition key, so all readings of one sensor land on one shard, in the order they were written.
 *
 * Everything here is a plain function of its arguments (no AWS, no I/O), so it is unit-tested directly. Replace
 * the schema and `planReading` with your own domain when you fork.
 */
// zod/mini, as in the other handlers: esbuild keeps only what the schema uses (docs/performance.md).
import * as z from 'zod/mini';
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

/** Where a record sits in the stream, for logs and side-effect details. */
export interface StreamPosition {
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly partitionKey: string;
}

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

/**
 * Whether the producer keyed the record by its sensor, as this path expects. Per-partition-key order is
 * what Kinesis and Lambda guarantee; it is per-sensor order only when the partition key is the sensor id.
 */
export function isKeyedBySensor(reading: SensorReading, partitionKey: string): boolean {
  return reading.sensorId === partitionKey;
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
