import {
  classifyReading,
  DEFAULT_LIMITS,
  domain,
  examples,
  planReading,
  SensorReadingSchema,
  type SensorReading,
  sensorTotalsKey,
} from '../../../lambda/stream-consumer/domain';
import { schemaIssuesOf } from '../../helpers/domain';

/** A valid reading of sensor-a; `n` makes its eventId unique within a test. */
function reading(n: number, overrides: Partial<SensorReading> = {}): SensorReading {
  return {
    eventId: `evt-${n}`,
    sensorId: 'sensor-a',
    recordedAt: new Date(Date.UTC(2025, 0, 1, 0, 0, n)).toISOString(),
    metric: 'temperature',
    value: 20 + n / 10,
    ...overrides,
  };
}

describe('SensorReadingSchema', () => {
  it('accepts a reading and drops unknown fields', () => {
    expect(SensorReadingSchema.parse({ ...reading(1), firmware: '1.2' })).toEqual(reading(1));
  });

  it('names every issue of a payload of the wrong shape, as `path: message` (what the handler logs)', () => {
    const wrong = {
      eventId: '',
      sensorId: 'sensor-a',
      recordedAt: 'yesterday',
      metric: 'noise',
      value: 'hot',
    };
    expect(schemaIssuesOf(SensorReadingSchema, JSON.stringify(wrong))).toEqual([
      expect.stringMatching(/^eventId: /),
      expect.stringMatching(/^recordedAt: /),
      expect.stringMatching(/^metric: /),
      expect.stringMatching(/^value: /),
    ]);
  });

  it('accepts a time with an offset', () => {
    expect(
      SensorReadingSchema.safeParse(reading(1, { recordedAt: '2025-01-01T01:00:00+01:00' })).success,
    ).toBe(true);
  });

  it.each([
    ['an empty eventId', { eventId: '' }],
    ['a missing sensorId', { sensorId: undefined }],
    ['a time that is not ISO 8601', { recordedAt: '01/01/2025' }],
    ['an unknown metric', { metric: 'noise' }],
    ['a value that is not a number', { value: '21' }],
    ['an infinite value', { value: Infinity }],
  ])('rejects %s', (_name, change) => {
    expect(SensorReadingSchema.safeParse({ ...reading(1), ...change }).success).toBe(false);
  });
});

describe('classifyReading', () => {
  it('is normal within the limits of its metric, inclusive', () => {
    const { min, max } = DEFAULT_LIMITS.temperature;
    expect(classifyReading(reading(1, { value: min }))).toBe('normal');
    expect(classifyReading(reading(1, { value: max }))).toBe('normal');
  });

  it('is out of range outside them', () => {
    expect(classifyReading(reading(1, { metric: 'humidity', value: 101 }))).toBe('out-of-range');
    expect(classifyReading(reading(1, { metric: 'pressure', value: 299 }))).toBe('out-of-range');
  });

  it('takes other limits', () => {
    const limits = { ...DEFAULT_LIMITS, temperature: { min: 0, max: 10 } };
    expect(classifyReading(reading(1, { value: 20 }), limits)).toBe('out-of-range');
  });
});

describe('domain', () => {
  it('keys a reading by its eventId and partitions it by its sensor', () => {
    expect(domain.idempotencyKey(reading(1, { sensorId: 's-1' }))).toBe('evt-1');
    expect(domain.partitionKey(reading(1, { sensorId: 's-1' }))).toBe('s-1');
  });
});

describe('examples', () => {
  it('puts a group on one sensor and metric, and every seventh variant out of range', () => {
    const inGroup = [0, 1, 6].map((variant) => examples.valid(`e-${variant}`, { group: 1, variant }));
    expect(inGroup.map((r) => sensorTotalsKey(r))).toEqual(Array(3).fill('sensor#sensor-001#temperature'));
    expect(inGroup.map((r) => classifyReading(r))).toEqual(['normal', 'normal', 'out-of-range']);
  });
});

describe('sensorTotalsKey', () => {
  it('is one item per sensor and metric', () => {
    expect(sensorTotalsKey(reading(1, { sensorId: 's-1', metric: 'humidity' }))).toBe('sensor#s-1#humidity');
    expect(sensorTotalsKey(reading(2, { sensorId: 's-1', metric: 'pressure' }))).toBe('sensor#s-1#pressure');
  });
});

describe('planReading', () => {
  it("answers with the status and adds the reading to its sensor's totals for its metric", () => {
    expect(planReading(reading(7, { value: 21.5 }))).toEqual({
      response: { eventId: 'evt-7', status: 'normal' },
      effect: [
        { key: 'sensor#sensor-a#temperature', add: { readingCount: 1, valueSum: 21.5, outOfRangeCount: 0 } },
      ],
    });
  });

  it('counts a reading out of range, by the given limits', () => {
    expect(planReading(reading(7, { value: 99 }))).toEqual({
      response: { eventId: 'evt-7', status: 'out-of-range' },
      effect: [
        { key: 'sensor#sensor-a#temperature', add: { readingCount: 1, valueSum: 99, outOfRangeCount: 1 } },
      ],
    });
    const limits = { ...DEFAULT_LIMITS, temperature: { min: 0, max: 10 } };
    expect(planReading(reading(7, { value: 20 }), limits).effect[0].add.outOfRangeCount).toBe(1);
  });

  it('is pure: the same reading gives the same plan, and the reading is not changed', () => {
    const value = reading(3);
    const copy = structuredClone(value);
    expect(planReading(value)).toEqual(planReading(copy));
    expect(value).toEqual(copy);
  });
});
