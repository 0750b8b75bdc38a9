import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  createStreamOnFailureDestination,
  destinationNameOf,
  idempotencySchemeCheck,
  iteratorAgeAlarmThresholdCheck,
  resolveStreamSettings,
  STREAM_MAPPING_DEFAULTS,
  STREAM_MAPPING_LIMITS,
  streamEventSourceProps,
  streamMappingChecks,
  type StreamMappingCheckedProps,
  type StreamMappingProps,
  type StreamSourceRules,
} from '../../../lib/constructs/stream-rules';
import { ConfigurationError, validateAll } from '../../../lib/validation';
import { testStack } from '../../helpers/synth';

const DAY = Duration.hours(24);

/** A source like DynamoDB Streams: a fixed 24-hour retention, no AT_TIMESTAMP. */
const FIXED_RETENTION_SOURCE: StreamSourceRules = {
  name: 'Test Streams',
  startingPositions: [StartingPosition.TRIM_HORIZON, StartingPosition.LATEST],
  retentionName: "the test stream's fixed retention",
  retentionTerm: ['streamRetention', DAY],
  idempotencyExpiryWhy: 'the test says so.',
};

/** A source like Kinesis: every starting position. */
const EVERY_POSITION_SOURCE: StreamSourceRules = {
  ...FIXED_RETENTION_SOURCE,
  startingPositions: [StartingPosition.TRIM_HORIZON, StartingPosition.LATEST, StartingPosition.AT_TIMESTAMP],
};

function scope(): Construct {
  return new Construct(testStack(), 'Consumer');
}

/** Runs the mapping checks of `props` against `source` (24-hour retention); throws what they refuse. */
function check(
  props: StreamMappingProps & StreamMappingCheckedProps,
  source: StreamSourceRules = FIXED_RETENTION_SOURCE,
): void {
  const at = scope();
  const resolved = resolveStreamSettings(props, DAY, { kind: 'queue' });
  validateAll(at, [
    idempotencySchemeCheck(at, props.idempotencyScheme),
    ...streamMappingChecks(at, source, props, resolved),
    iteratorAgeAlarmThresholdCheck(at, resolved),
  ]);
}

describe('stream rules: the limits both stream sources share (AWS stream event source parameters)', () => {
  it('are the documented ranges', () => {
    const L = STREAM_MAPPING_LIMITS;
    expect([L.retryAttempts.min, L.retryAttempts.max]).toEqual([0, 10_000]);
    expect([L.maxRecordAge.min.toSeconds(), L.maxRecordAge.max.toSeconds()]).toEqual([60, 604_800]);
    expect([L.batchSize.min, L.batchSize.max]).toEqual([1, 10_000]);
    expect([L.maxBatchingWindow.min.toSeconds(), L.maxBatchingWindow.max.toSeconds()]).toEqual([0, 300]);
    expect([L.parallelizationFactor.min, L.parallelizationFactor.max]).toEqual([1, 10]);
    expect([L.failureRecordRetention.min.toSeconds(), L.failureRecordRetention.max.toDays()]).toEqual([
      60, 14,
    ]);
  });
});

describe('resolveStreamSettings', () => {
  it('applies the defaults; the idempotency expiry is the retention and the destination is the path default', () => {
    const resolved = resolveStreamSettings({}, DAY, { kind: 'queue' });
    expect(resolved).toMatchObject({
      retentionPeriod: DAY,
      retryAttempts: 2,
      startingPosition: StartingPosition.TRIM_HORIZON,
      idempotencyScheme: 'read-then-complete',
      onFailure: { kind: 'queue' },
    });
    expect(resolved.maxRecordAge.toSeconds()).toBe(3600);
    expect(resolved.idempotencyExpiry.toSeconds()).toBe(86_400);
    expect(resolved.failureRecordRetention.toDays()).toBe(14);
    expect(resolved.iteratorAgeAlarmThreshold.toSeconds()).toBe(300);
  });

  it('lowers the default IteratorAge threshold to half of a short record age, never below 1 second', () => {
    expect(
      resolveStreamSettings({ maxRecordAge: Duration.minutes(4) }, DAY, {
        kind: 'queue',
      }).iteratorAgeAlarmThreshold.toSeconds(),
    ).toBe(120);
    expect(
      resolveStreamSettings({ maxRecordAge: Duration.seconds(1) }, DAY, {
        kind: 'queue',
      }).iteratorAgeAlarmThreshold.toSeconds(),
    ).toBe(1);
  });

  it('keeps what is given', () => {
    const resolved = resolveStreamSettings(
      {
        maxRecordAge: Duration.hours(2),
        retryAttempts: 0,
        startingPosition: StartingPosition.LATEST,
        idempotencyExpiry: Duration.days(2),
        onFailure: { kind: 'bucket' },
      },
      DAY,
      { kind: 'queue' },
    );
    expect(resolved).toMatchObject({
      retryAttempts: 0,
      startingPosition: StartingPosition.LATEST,
      onFailure: { kind: 'bucket' },
    });
    expect(resolved.idempotencyExpiry.toDays()).toBe(2);
  });
});

describe('streamMappingChecks against a source', () => {
  it('passes the defaults and the edges of every range', () => {
    expect(() => check({})).not.toThrow();
    expect(() =>
      check({
        retryAttempts: 10_000,
        maxRecordAge: DAY,
        batchSize: 10_000,
        maxBatchingWindow: Duration.seconds(300),
        parallelizationFactor: 10,
        idempotencyExpiry: DAY,
      }),
    ).not.toThrow();
  });

  it('names the source and the positions it accepts when the starting position is not one of them', () => {
    expect(() => check({ startingPosition: StartingPosition.AT_TIMESTAMP })).toThrow(
      /^TestStack\/Consumer: startingPosition must be TRIM_HORIZON or LATEST for a Test Streams event source mapping, got AT_TIMESTAMP/,
    );
  });

  it('asks for a timestamp with AT_TIMESTAMP only where the source accepts AT_TIMESTAMP', () => {
    expect(() => check({ startingPosition: StartingPosition.AT_TIMESTAMP }, EVERY_POSITION_SOURCE)).toThrow(
      /startingPositionTimestamp is required with StartingPosition.AT_TIMESTAMP/,
    );
    expect(() => check({ startingPositionTimestamp: 1_700_000_000 }, EVERY_POSITION_SOURCE)).toThrow(
      /startingPositionTimestamp only applies with StartingPosition.AT_TIMESTAMP/,
    );
    expect(() =>
      check(
        { startingPosition: StartingPosition.AT_TIMESTAMP, startingPositionTimestamp: 1_700_000_000 },
        EVERY_POSITION_SOURCE,
      ),
    ).not.toThrow();
  });

  it("bounds the record age by the source's retention, named as the source names it", () => {
    expect(() => check({ maxRecordAge: Duration.seconds(86_401) })).toThrow(
      "TestStack/Consumer: maxRecordAge must not exceed the test stream's fixed retention (1 day), got 1 day 1 second",
    );
  });

  it("holds the idempotency expiry to the source's retention term, with the source's reason", () => {
    expect(() => check({ idempotencyExpiry: Duration.hours(23) })).toThrow(
      'TestStack/Consumer: idempotencyExpiry must be at least streamRetention = 1 day (86400 seconds), got 23 hours ' +
        '(82800 seconds): the test says so.',
    );
  });

  it('refuses infinite retries, an unknown scheme and an alarm past the record age, all at once', () => {
    let error: unknown;
    try {
      check({
        retryAttempts: -1,
        idempotencyScheme: 'nope' as never,
        maxRecordAge: Duration.minutes(5),
        iteratorAgeAlarmThreshold: Duration.minutes(5),
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    const { errors } = error as { errors: ConfigurationError[] };
    expect(errors.map((each) => each.message.split(' ')[1])).toEqual([
      'idempotencyScheme',
      'retryAttempts',
      'iteratorAgeAlarmThreshold',
    ]);
  });
});

describe('streamEventSourceProps', () => {
  it('always reports batch item failures, bisects and polls unless told, and passes the resolved settings', () => {
    const at = scope();
    const queue = new Queue(at, 'Q');
    const resolved = resolveStreamSettings({}, DAY, { kind: 'queue' });
    const props = streamEventSourceProps({}, resolved, new SqsDlq(queue));
    expect(props).toMatchObject({
      startingPosition: StartingPosition.TRIM_HORIZON,
      batchSize: STREAM_MAPPING_DEFAULTS.batchSize,
      parallelizationFactor: 1,
      bisectBatchOnError: true,
      retryAttempts: 2,
      reportBatchItemFailures: true,
      enabled: true,
    });
    expect(props.maxRecordAge!.toSeconds()).toBe(3600);
    expect(props.maxBatchingWindow!.toSeconds()).toBe(0);
    expect(
      streamEventSourceProps({ bisectBatchOnError: false, enabled: false }, resolved, new SqsDlq(queue)),
    ).toMatchObject({ bisectBatchOnError: false, enabled: false, reportBatchItemFailures: true });
  });
});

describe('destinationNameOf', () => {
  it.each(['topic', 'queue', 'bucket'] as const)('names the %s itself', (kind) => {
    const at = scope();
    const destination = createStreamOnFailureDestination(
      at,
      { kind },
      Duration.days(14),
      RemovalPolicy.DESTROY,
    );
    const expected = {
      topic: destination.topic?.topicName,
      queue: destination.queue?.queueName,
      bucket: destination.bucket?.bucketName,
    }[kind];
    expect(Stack.of(at).resolve(destinationNameOf(destination))).toEqual(Stack.of(at).resolve(expected));
  });
});
