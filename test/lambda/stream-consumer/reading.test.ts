import { Logger } from '@aws-lambda-powertools/logger';
import {
  classifyReading,
  DEFAULT_LIMITS,
  isKeyedBySensor,
  recordReading,
  SensorReadingSchema,
  sideEffectDetails,
} from '../../../lambda/stream-consumer/reading';
import { SIDE_EFFECT_LOG_MESSAGE } from '../../../lambda/shared/side-effect';
import { reading } from './kinesis-events';

const position = { shardId: 'shardId-000000000001', sequenceNumber: '4959', partitionKey: 'sensor-a' };

describe('SensorReadingSchema', () => {
  it('accepts a reading and drops unknown fields', () => {
    expect(SensorReadingSchema.parse({ ...reading(1), firmware: '1.2' })).toEqual(reading(1));
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

describe('isKeyedBySensor', () => {
  it('is true only when the partition key is the sensor id', () => {
    expect(isKeyedBySensor(reading(1, { sensorId: 's-1' }), 's-1')).toBe(true);
    expect(isKeyedBySensor(reading(1, { sensorId: 's-1' }), 's-2')).toBe(false);
  });
});

describe('recordReading', () => {
  it('writes exactly one side-effect line for the stream path, keyed by eventId, with the position', () => {
    const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
    const info = jest.spyOn(logger, 'info');
    recordReading(logger, reading(7, { value: 99 }), position);
    expect(info).toHaveBeenCalledTimes(1);
    expect(info).toHaveBeenCalledWith(SIDE_EFFECT_LOG_MESSAGE, {
      path: 'stream',
      recordKey: 'evt-7',
      ...sideEffectDetails(reading(7, { value: 99 }), position),
    });
    expect(sideEffectDetails(reading(7, { value: 99 }), position)).toEqual(
      expect.objectContaining({ status: 'out-of-range', shardId: position.shardId, sequenceNumber: '4959' }),
    );
  });
});
