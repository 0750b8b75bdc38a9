import {
  checkAlarm,
  checkBucket,
  checkBucketNotifications,
  type CheckContext,
  checkEventInvokeConfig,
  checkEventSourceMapping,
  checkFunction,
  checkHttpRoute,
  checkHttpStage,
  checkOutputs,
  checkQueue,
  checkSubscription,
  checkTable,
  EMULATOR_GAPS,
  sameValue,
} from '../../../tools/smoke/checks';
import {
  formatResult,
  isOtherStackOfStage,
  parseArguments,
  summaryLine,
  UsageError,
} from '../../../tools/smoke/cli';

const DLQ_ARN = 'arn:aws:sqs:eu-west-1:111122223333:app-Dlq';
const names: Record<string, string> = {
  [DLQ_ARN]: 'Dlq',
  'arn:aws:sns:eu-west-1:111122223333:alarms': 'AlarmTopic',
};
const onAws: CheckContext = {
  stack: 'app-dev-sqs',
  emulator: false,
  nameOf: (reference) => names[reference],
};
const onEmulator: CheckContext = { ...onAws, emulator: true };

describe('smoke checks (template vs what the AWS API returns)', () => {
  it('compares as the APIs answer: numbers as text, name lists in any order, objects by keys', () => {
    expect(sameValue(180, '180')).toBe(true);
    expect(sameValue(['a', 'b'], ['b', 'a'])).toBe(true);
    expect(sameValue(['a'], ['a', 'a'])).toBe(false);
    expect(sameValue({ a: 1, b: [1] }, { b: ['1'], a: '1' })).toBe(true);
    expect(sameValue({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(sameValue(undefined, 0)).toBe(false);
  });

  describe('an SQS queue', () => {
    const props = {
      VisibilityTimeout: 180,
      RedrivePolicy: { deadLetterTargetArn: DLQ_ARN, maxReceiveCount: 5 },
    };
    const deployed = {
      VisibilityTimeout: '180',
      MessageRetentionPeriod: '345600',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: DLQ_ARN, maxReceiveCount: 5 }),
    };

    it('passes with the visibility timeout and redrive policy of the template (defaults for what it leaves out)', () => {
      const result = checkQueue(onAws, 'Queue', props, deployed);
      expect(result.status).toBe('pass');
      expect(result.detail).toBe(
        'visibility timeout 180 s, retention 345600 s, redrive to Dlq after 5 receives (as in the template)',
      );
    });

    it('fails naming each difference', () => {
      const result = checkQueue(onAws, 'Queue', props, {
        ...deployed,
        VisibilityTimeout: '30',
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: 'arn:aws:sqs:eu-west-1:111122223333:other',
          maxReceiveCount: 10,
        }),
      });
      expect(result.status).toBe('fail');
      expect(result.detail).toBe(
        'VisibilityTimeout is 30, the template says 180; RedrivePolicy.maxReceiveCount is 10, the template says 5; ' +
          'RedrivePolicy.deadLetterTargetArn is arn:aws:sqs:eu-west-1:111122223333:other, the template says Dlq',
      );
    });

    it('fails when the redrive policy is gone', () => {
      const { RedrivePolicy: _, ...withoutRedrive } = deployed;
      expect(checkQueue(onAws, 'Queue', props, withoutRedrive).detail).toMatch(
        /maxReceiveCount is unset, the template says 5/,
      );
    });
  });

  it('an event source mapping: every setting the template gives, the function and the destination', () => {
    const props = {
      EventSourceArn: 'arn:aws:kinesis:eu-west-1:111122223333:stream/s',
      BatchSize: 100,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 2,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: 'arn:aws:sns:eu-west-1:111122223333:failures' } },
    };
    const mapping = {
      ...props,
      State: 'Enabled',
      FunctionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:fn',
    };
    const fn = 'arn:aws:lambda:eu-west-1:111122223333:function:fn';
    expect(checkEventSourceMapping(onAws, 'Esm', props, mapping, fn).status).toBe('pass');
    const drifted = checkEventSourceMapping(
      onAws,
      'Esm',
      props,
      { ...mapping, BatchSize: 10, DestinationConfig: {} },
      fn,
    );
    expect(drifted.status).toBe('fail');
    expect(drifted.detail).toMatch(/BatchSize is 10, the template says 100/);
    expect(drifted.detail).toMatch(/DestinationConfig.OnFailure.Destination is unset/);
    expect(
      checkEventSourceMapping(onAws, 'Esm', props, { ...mapping, State: 'Disabled' }, fn).detail,
    ).toMatch(/State is Disabled, the template says Enabled/);
  });

  it('an event source mapping’s filter criteria, pattern by pattern (JSON compared as values)', () => {
    const props = { FilterCriteria: { Filters: [{ Pattern: '{"eventName":["INSERT"]}' }] } };
    const mapping = {
      State: 'Enabled',
      FilterCriteria: { Filters: [{ Pattern: '{ "eventName": ["INSERT"] }' }] },
    };
    expect(checkEventSourceMapping(onAws, 'Esm', props, mapping, undefined).status).toBe('pass');
    expect(checkEventSourceMapping(onAws, 'Esm', props, { State: 'Enabled' }, undefined).detail).toMatch(
      /FilterCriteria is unset, the template says \[\{"eventName":\["INSERT"\]\}\]/,
    );
  });

  it('an event invoke config: retries, event age (defaults 2 and 6 h) and the on-failure destination', () => {
    const props = { MaximumRetryAttempts: 1, DestinationConfig: { OnFailure: { Destination: DLQ_ARN } } };
    expect(
      checkEventInvokeConfig(onAws, 'Eic', props, {
        MaximumRetryAttempts: 1,
        MaximumEventAgeInSeconds: 21600,
        DestinationConfig: props.DestinationConfig,
      }),
    ).toMatchObject({
      status: 'pass',
      detail: '1 retries, maximum event age 21600 s, on failure to Dlq (as in the template)',
    });
    expect(checkEventInvokeConfig(onAws, 'Eic', props, undefined)).toMatchObject({
      status: 'fail',
      detail: 'the function has no event invoke config',
    });
  });

  it('an SNS subscription: its DLQ and raw delivery', () => {
    const props = {
      TopicArn: 't',
      Protocol: 'lambda',
      Endpoint: 'f',
      RedrivePolicy: { deadLetterTargetArn: DLQ_ARN },
    };
    const attributes = {
      TopicArn: 't',
      Protocol: 'lambda',
      Endpoint: 'f',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: DLQ_ARN }),
    };
    expect(checkSubscription(onAws, 'Sub', props, attributes).detail).toBe(
      't -> lambda f, delivery failures to Dlq (as in the template)',
    );
    const { RedrivePolicy: _, ...noDlq } = attributes;
    expect(checkSubscription(onAws, 'Sub', props, noDlq)).toMatchObject({ status: 'fail' });
    expect(
      checkSubscription(onAws, 'Sub', { ...props, RawMessageDelivery: true }, attributes).detail,
    ).toMatch(/RawMessageDelivery is false, the template says true/);
  });

  describe('a DynamoDB table', () => {
    const props = {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    };
    const keys = { keySchema: props.KeySchema, billingMode: 'PAY_PER_REQUEST' };

    it('on AWS: TTL on the template attribute and point-in-time recovery', () => {
      const results = checkTable(onAws, 'Table', props, {
        ...keys,
        ttl: { status: 'ENABLED', attribute: 'expiration' },
        pitr: 'ENABLED',
      });
      expect(results.map((result) => result.status)).toEqual(['pass', 'pass', 'pass']);
      const off = checkTable(onAws, 'Table', props, {
        ...keys,
        ttl: { status: 'DISABLED' },
        pitr: 'DISABLED',
      });
      expect(off.map((result) => result.status)).toEqual(['pass', 'fail', 'fail']);
      expect(off[1].detail).toBe('TTL is DISABLED, the template says ENABLED on expiration');
    });

    it('on the emulator: TTL and point-in-time recovery are not checked, with the reason (never passed)', () => {
      const results = checkTable(onEmulator, 'Table', props, { ...keys, ttl: { status: 'DISABLED' } });
      expect(results.slice(1)).toEqual([
        expect.objectContaining({
          status: 'not-checked',
          detail: `not checked on the emulator: ${EMULATOR_GAPS.ttl}`,
        }),
        expect.objectContaining({
          status: 'not-checked',
          detail: `not checked on the emulator: ${EMULATOR_GAPS.pitr}`,
        }),
      ]);
    });

    it('the stream of a table that has one', () => {
      const withStream = { ...props, StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' } };
      expect(
        checkTable(onEmulator, 'T', withStream, { ...keys, streamViewType: 'NEW_AND_OLD_IMAGES' })[0].detail,
      ).toMatch(/stream NEW_AND_OLD_IMAGES \(as in the template\)$/);
      expect(checkTable(onEmulator, 'T', withStream, keys)[0].status).toBe('fail');
    });

    it('a table with no TTL in the template passes only with TTL off', () => {
      const { TimeToLiveSpecification: _, ...noTtl } = props;
      expect(checkTable(onEmulator, 'T', noTtl, { ...keys, ttl: { status: 'DISABLED' } })[1].status).toBe(
        'pass',
      );
      expect(
        checkTable(onAws, 'T', noTtl, {
          ...keys,
          ttl: { status: 'ENABLED', attribute: 'x' },
          pitr: 'ENABLED',
        })[1].status,
      ).toBe('fail');
    });
  });

  it('an alarm: metric, threshold, evaluation and its actions', () => {
    const props = {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: 'app-Dlq' }],
      Statistic: 'Maximum',
      Period: 60,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: ['arn:aws:sns:eu-west-1:111122223333:alarms'],
    };
    const deployed = { ...props, ActionsEnabled: true, OKActions: [], InsufficientDataActions: [] };
    expect(checkAlarm(onAws, 'Alarm', props, deployed).detail).toBe(
      'AWS/SQS ApproximateNumberOfMessagesVisible Maximum GreaterThanOrEqualToThreshold 1 over 1 x 60 s; ' +
        'alarm actions: AlarmTopic; OK actions: none (as in the template)',
    );
    expect(checkAlarm(onAws, 'Alarm', props, { ...deployed, AlarmActions: [] }).detail).toBe(
      'AlarmActions is [], the template says ["arn:aws:sns:eu-west-1:111122223333:alarms"]',
    );
    expect(checkAlarm(onAws, 'Alarm', props, undefined)).toMatchObject({
      status: 'fail',
      detail: 'no such alarm',
    });
  });

  it('bucket notifications: the topic and events of the template', () => {
    const props = {
      BucketName: 'b',
      NotificationConfiguration: {
        TopicConfigurations: [{ Events: ['s3:ObjectCreated:*'], TopicArn: 'topic' }],
      },
    };
    const found = { TopicConfigurations: [{ Id: 'x', TopicArn: 'topic', Events: ['s3:ObjectCreated:*'] }] };
    expect(checkBucketNotifications(onAws, 'N', props, found).detail).toBe(
      'bucket b notifies topic on s3:ObjectCreated:* (as in the template)',
    );
    expect(checkBucketNotifications(onAws, 'N', props, {}).status).toBe('fail');
  });

  it('a function: runtime, memory, timeout, environment; architecture and tracing only off the emulator', () => {
    const props = {
      Runtime: 'nodejs24.x',
      Handler: 'index.handler',
      MemorySize: 512,
      Timeout: 30,
      Environment: { Variables: { A: '1' } },
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
    };
    const configuration = { ...props, Environment: { Variables: { A: '1' } } };
    expect(checkFunction(onAws, 'Fn', props, configuration).map((result) => result.status)).toEqual([
      'pass',
      'pass',
    ]);
    const emulated = checkFunction(onEmulator, 'Fn', props, {
      ...configuration,
      Architectures: ['x86_64'],
      TracingConfig: { Mode: 'PassThrough' },
    });
    expect(emulated.map((result) => result.status)).toEqual(['pass', 'not-checked', 'not-checked']);
    expect(
      checkFunction(onAws, 'Fn', props, { ...configuration, Environment: { Variables: { A: '2' } } })[0]
        .status,
    ).toBe('fail');
  });

  it('an HTTP API route (its IAM authorization) and stage (its throttle)', () => {
    const route = { RouteKey: 'POST /orders', AuthorizationType: 'AWS_IAM', Target: 'integrations/abc' };
    expect(checkHttpRoute(onAws, 'Route', route, route).detail).toBe(
      'POST /orders with AWS_IAM authorization -> integrations/abc (as in the template)',
    );
    expect(checkHttpRoute(onAws, 'Route', route, { ...route, AuthorizationType: undefined }).detail).toBe(
      'AuthorizationType is NONE, the template says AWS_IAM',
    );
    const stage = {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingBurstLimit: 20, ThrottlingRateLimit: 10 },
      AccessLogSettings: { DestinationArn: 'arn:logs' },
    };
    expect(checkHttpStage(onAws, 'Stage', stage, stage).status).toBe('pass');
    const withSuffix = { ...stage, AccessLogSettings: { DestinationArn: 'arn:logs:*' } };
    expect(checkHttpStage(onAws, 'Stage', withSuffix, stage).status).toBe('pass');
    expect(
      checkHttpStage(onAws, 'Stage', stage, {
        ...stage,
        DefaultRouteSettings: { ThrottlingBurstLimit: 5000 },
      }).detail,
    ).toBe(
      'ThrottlingBurstLimit is 5000, the template says 20; ThrottlingRateLimit is unset, the template says 10',
    );
  });

  it('bucket versioning is not checked on the emulator, and checked on AWS', () => {
    const props = { VersioningConfiguration: { Status: 'Enabled' } };
    expect(checkBucket(onEmulator, 'B', props, undefined)?.status).toBe('not-checked');
    expect(checkBucket(onAws, 'B', props, 'Suspended')?.status).toBe('fail');
    expect(checkBucket(onAws, 'B', {}, undefined)).toBeUndefined();
  });

  it('the outputs: every one present, with the value the template resolves to where it can', () => {
    const expected = { QueueUrl: { value: 'https://q' }, Name: { unresolvable: 'custom' } };
    expect(checkOutputs(onAws, expected, { QueueUrl: 'https://q', Name: 'x' }).detail).toBe(
      '2 of 2 present, 1 with the value the template resolves to (Name: present, value not derivable here)',
    );
    expect(checkOutputs(onAws, expected, { Name: 'x' })).toMatchObject({
      status: 'fail',
      detail: 'QueueUrl is missing',
    });
    expect(checkOutputs(onAws, expected, { QueueUrl: 'https://other', Name: 'x' }).detail).toBe(
      'QueueUrl is https://other, the template resolves to https://q',
    );
  });
});

describe('npm run smoke: arguments and report', () => {
  it('reads the options; records default to on against AWS and off on the emulator (decided when it runs)', () => {
    const options = parseArguments(['--stage', 'dev', '--emulator', '--timeout', '90'], '/p');
    expect(options).toMatchObject({ stage: 'dev', emulator: true, timeoutSeconds: 90 });
    expect(options).not.toHaveProperty('records');
    expect(parseArguments(['--no-records'], '/p')).toMatchObject({ records: false, emulator: false });
    expect(parseArguments(['-h'], '/p')).toBe('help');
    expect(() => parseArguments(['--stage'], '/p')).toThrow(UsageError);
    expect(() => parseArguments(['--timeout', '0'], '/p')).toThrow(/above 0/);
    expect(() => parseArguments(['--what'], '/p')).toThrow(/Unknown argument --what/);
    expect(() => parseArguments(['--records', '--no-records'], '/p')).toThrow(/not both/);
  });

  it('checks the stage’s other stacks too (monitoring), never another stage’s', () => {
    expect(isOtherStackOfStage('app-dev-monitoring', 'app', 'dev')).toBe(true);
    expect(isOtherStackOfStage('app-dev-sqs', 'app', 'dev')).toBe(false); // a path stack, read as such
    expect(isOtherStackOfStage('app-dev-team-sqs', 'app', 'dev')).toBe(false); // stage dev-team's
    expect(isOtherStackOfStage('app-prod-monitoring', 'app', 'dev')).toBe(false);
    expect(isOtherStackOfStage('CDKToolkit', 'app', 'dev')).toBe(false);
  });

  it('prints one line per check, and a tally', () => {
    expect(formatResult({ stack: 's', subject: 'queue Q', status: 'not-checked', detail: 'why' })).toBe(
      'NOT CHECKED s  queue Q: why',
    );
    expect(formatResult({ stack: 's', subject: 'queue Q', status: 'fail', detail: 'why' })).toBe(
      'FAIL        s  queue Q: why',
    );
    expect(summaryLine({ results: [], stacks: [], passed: 3, failed: 1, notChecked: 2 })).toBe(
      'smoke: 3 passed, 1 failed (2 not checked)',
    );
  });
});
