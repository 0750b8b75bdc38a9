/**
 * The smoke test's checks, as pure functions: each takes a resource's template properties (already resolved
 * against the deployed stack, tools/smoke/resolve.ts) and what the AWS API returns for it, and says pass or fail
 * and why, in one line. The API calls are in tools/smoke/inspect.ts; nothing here calls AWS.
 *
 * On the emulator (`--emulator`), a setting the emulator drops is reported as "not checked on the emulator" with
 * the reason ({@link EMULATOR_GAPS}), never passed.
 */

export type CheckStatus = 'pass' | 'fail' | 'not-checked';

export interface CheckResult {
  /** The stack (or path) the check is about. */
  readonly stack: string;
  /** What is checked: `queue SqsConsumerQueue`, `alarm …`. */
  readonly subject: string;
  readonly status: CheckStatus;
  /** Why: what was found, against what the template says. */
  readonly detail: string;
}

/**
 * What moto 5.2 drops when it creates these resources from a template (measured: /work/shared/FIELD-NOTES.md and
 * `npm run deploy:local`), so a check of it would test the emulator, not the deployment.
 */
export const EMULATOR_GAPS = {
  ttl: 'moto ignores TimeToLiveSpecification of AWS::DynamoDB::Table (TTL stays DISABLED)',
  pitr: 'moto ignores PointInTimeRecoverySpecification of AWS::DynamoDB::Table',
  architectures: 'moto ignores Architectures of AWS::Lambda::Function (reports x86_64)',
  tracing: 'moto ignores TracingConfig of AWS::Lambda::Function',
  streamMode: 'moto ignores StreamModeDetails and StreamEncryption of AWS::Kinesis::Stream',
  versioning: 'moto ignores VersioningConfiguration of AWS::S3::Bucket',
} as const;

export type EmulatorGap = keyof typeof EMULATOR_GAPS;

/** A check's context: the stack, whether it runs on the emulator, and names for ARNs and URLs (logical ids). */
export interface CheckContext {
  readonly stack: string;
  readonly emulator: boolean;
  /** The logical id of the stack's resource with this ARN, URL or name, for readable lines. */
  readonly nameOf: (reference: string) => string | undefined;
}

/** One field compared: what the template says, what is deployed. */
interface Field {
  readonly name: string;
  readonly expected: unknown;
  readonly actual: unknown;
  /** When the template leaves it out: the documented default. */
  readonly defaultValue?: unknown;
}

/** Compares as AWS APIs answer: numbers as text (SQS attributes), lists of names in any order, objects by keys. */
export function sameValue(expected: unknown, actual: unknown): boolean {
  if (expected === actual) return true;
  if (expected === undefined || expected === null || actual === undefined || actual === null) return false;
  if (typeof expected !== 'object' || typeof actual !== 'object') {
    return String(expected) === String(actual);
  }
  if (Array.isArray(expected) && Array.isArray(actual)) {
    if (expected.length !== actual.length) return false;
    const remaining = [...actual];
    return expected.every((item) => {
      const index = remaining.findIndex((candidate) => sameValue(item, candidate));
      if (index < 0) return false;
      remaining.splice(index, 1);
      return true;
    });
  }
  if (Array.isArray(expected) || Array.isArray(actual)) return false;
  const e = expected as Record<string, unknown>;
  const a = actual as Record<string, unknown>;
  const keys = new Set([...Object.keys(e), ...Object.keys(a)]);
  return [...keys].every((key) => sameValue(e[key], a[key]));
}

function show(value: unknown, ctx: CheckContext): string {
  if (value === undefined) return 'unset';
  if (typeof value === 'string') return ctx.nameOf(value) ?? value;
  return JSON.stringify(value);
}

/** Compares fields, one result line: pass with a summary, or fail naming each difference. */
function compare(
  ctx: CheckContext,
  subject: string,
  fields: readonly Field[],
  summary: (shown: (name: string) => string) => string,
): CheckResult {
  const differences: string[] = [];
  const values = new Map<string, unknown>();
  for (const field of fields) {
    const expected = field.expected === undefined ? field.defaultValue : field.expected;
    values.set(field.name, field.actual);
    if (expected === undefined && (field.actual === undefined || sameValue([], field.actual))) continue;
    if (!sameValue(expected, field.actual)) {
      differences.push(
        `${field.name} is ${show(field.actual, ctx)}, the template says ${show(expected, ctx)}`,
      );
    }
  }
  if (differences.length > 0) {
    return { stack: ctx.stack, subject, status: 'fail', detail: differences.join('; ') };
  }
  return {
    stack: ctx.stack,
    subject,
    status: 'pass',
    detail: `${summary((name) => show(values.get(name), ctx))} (as in the template)`,
  };
}

function notChecked(ctx: CheckContext, subject: string, gap: EmulatorGap): CheckResult {
  return {
    stack: ctx.stack,
    subject,
    status: 'not-checked',
    detail: `not checked on the emulator: ${EMULATOR_GAPS[gap]}`,
  };
}

export function failure(ctx: Pick<CheckContext, 'stack'>, subject: string, detail: string): CheckResult {
  return { stack: ctx.stack, subject, status: 'fail', detail };
}

type Props = Readonly<Record<string, unknown>>;

function parseJson(text: unknown): unknown {
  if (typeof text !== 'string' || text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The stack's outputs: each one the template declares is there, with the value the template resolves to. */
export function checkOutputs(
  ctx: CheckContext,
  expected: Readonly<Record<string, { value?: unknown; unresolvable?: string }>>,
  deployed: Readonly<Record<string, string>>,
): CheckResult {
  const problems: string[] = [];
  const unresolved: string[] = [];
  for (const [key, output] of Object.entries(expected)) {
    const actual = deployed[key];
    if (actual === undefined || actual === '') problems.push(`${key} is missing`);
    else if (output.unresolvable !== undefined) unresolved.push(key);
    else if (!sameValue(output.value, actual)) {
      problems.push(`${key} is ${actual}, the template resolves to ${show(output.value, ctx)}`);
    }
  }
  const count = Object.keys(expected).length;
  if (problems.length > 0) return failure(ctx, 'outputs', problems.join('; '));
  return {
    stack: ctx.stack,
    subject: 'outputs',
    status: 'pass',
    detail:
      `${count} of ${count} present` +
      (unresolved.length < count
        ? `, ${count - unresolved.length} with the value the template resolves to`
        : '') +
      (unresolved.length > 0 ? ` (${unresolved.join(', ')}: present, value not derivable here)` : ''),
  };
}

/** SQS queue attributes (GetQueueAttributes All) against AWS::SQS::Queue. */
export function checkQueue(
  ctx: CheckContext,
  logicalId: string,
  props: Props,
  attributes: Readonly<Record<string, string>>,
): CheckResult {
  const redrive = props.RedrivePolicy as
    { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown } | undefined;
  const deployed = parseJson(attributes.RedrivePolicy) as
    { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown } | undefined;
  return compare(
    ctx,
    `queue ${logicalId}`,
    [
      {
        name: 'VisibilityTimeout',
        expected: props.VisibilityTimeout,
        defaultValue: 30,
        actual: attributes.VisibilityTimeout,
      },
      {
        name: 'MessageRetentionPeriod',
        expected: props.MessageRetentionPeriod,
        defaultValue: 345600,
        actual: attributes.MessageRetentionPeriod,
      },
      {
        name: 'RedrivePolicy.maxReceiveCount',
        expected: redrive?.maxReceiveCount,
        actual: deployed?.maxReceiveCount,
      },
      {
        name: 'RedrivePolicy.deadLetterTargetArn',
        expected: redrive?.deadLetterTargetArn,
        actual: deployed?.deadLetterTargetArn,
      },
    ],
    (shown) =>
      `visibility timeout ${shown('VisibilityTimeout')} s, retention ${shown('MessageRetentionPeriod')} s` +
      (redrive
        ? `, redrive to ${shown('RedrivePolicy.deadLetterTargetArn')} after ${shown('RedrivePolicy.maxReceiveCount')} receives`
        : ', no redrive policy'),
  );
}

/** GetEventSourceMapping against AWS::Lambda::EventSourceMapping. */
export function checkEventSourceMapping(
  ctx: CheckContext,
  logicalId: string,
  props: Props,
  mapping: Readonly<Record<string, unknown>>,
  functionArn: string | undefined,
): CheckResult {
  const destination = (props.DestinationConfig as { OnFailure?: { Destination?: unknown } } | undefined)
    ?.OnFailure?.Destination;
  const deployedDestination = (
    mapping.DestinationConfig as { OnFailure?: { Destination?: unknown } } | undefined
  )?.OnFailure?.Destination;
  const enabled = props.Enabled === undefined || props.Enabled === true || props.Enabled === 'true';
  const state = String(mapping.State ?? '');
  const fields: Field[] = [
    { name: 'EventSourceArn', expected: props.EventSourceArn, actual: mapping.EventSourceArn },
    { name: 'FunctionArn', expected: functionArn, actual: mapping.FunctionArn },
    {
      name: 'State',
      expected: enabled ? 'Enabled' : 'Disabled',
      actual: enabled ? state.replace(/^(Enabling|Creating|Updating)$/, 'Enabled') : state,
    },
    { name: 'DestinationConfig.OnFailure.Destination', expected: destination, actual: deployedDestination },
  ];
  const simple = [
    'BatchSize',
    'MaximumBatchingWindowInSeconds',
    'FunctionResponseTypes',
    'BisectBatchOnFunctionError',
    'MaximumRetryAttempts',
    'MaximumRecordAgeInSeconds',
    'ParallelizationFactor',
    'StartingPosition',
    'TumblingWindowInSeconds',
  ];
  for (const name of simple) {
    if (props[name] !== undefined) fields.push({ name, expected: props[name], actual: mapping[name] });
  }
  const concurrency = (props.ScalingConfig as { MaximumConcurrency?: unknown } | undefined)
    ?.MaximumConcurrency;
  if (concurrency !== undefined) {
    fields.push({
      name: 'ScalingConfig.MaximumConcurrency',
      expected: concurrency,
      actual: (mapping.ScalingConfig as { MaximumConcurrency?: unknown } | undefined)?.MaximumConcurrency,
    });
  }
  const filters = (props.FilterCriteria as { Filters?: { Pattern?: unknown }[] } | undefined)?.Filters;
  if (filters !== undefined) {
    const patterns = (list: { Pattern?: unknown }[] | undefined) =>
      list?.map((filter) => parseJson(filter.Pattern));
    fields.push({
      name: 'FilterCriteria',
      expected: patterns(filters),
      actual: patterns(
        (mapping.FilterCriteria as { Filters?: { Pattern?: unknown }[] } | undefined)?.Filters,
      ),
    });
  }
  const metrics = (props.MetricsConfig as { Metrics?: unknown } | undefined)?.Metrics;
  if (metrics !== undefined) {
    fields.push({
      name: 'MetricsConfig.Metrics',
      expected: metrics,
      actual: (mapping.MetricsConfig as { Metrics?: unknown } | undefined)?.Metrics,
    });
  }
  return compare(ctx, `event source mapping ${logicalId}`, fields, (shown) => {
    const parts = [`${shown('EventSourceArn')} -> ${shown('FunctionArn')}`, shown('State')];
    for (const field of fields.slice(4)) parts.push(`${field.name} ${shown(field.name)}`);
    if (destination !== undefined)
      parts.push(`on failure to ${shown('DestinationConfig.OnFailure.Destination')}`);
    return parts.join(', ');
  });
}

/** GetFunctionEventInvokeConfig against AWS::Lambda::EventInvokeConfig. */
export function checkEventInvokeConfig(
  ctx: CheckContext,
  logicalId: string,
  props: Props,
  config: Readonly<Record<string, unknown>> | undefined,
): CheckResult {
  const subject = `event invoke config ${logicalId}`;
  if (!config) return failure(ctx, subject, 'the function has no event invoke config');
  type Destinations =
    { OnFailure?: { Destination?: unknown }; OnSuccess?: { Destination?: unknown } } | undefined;
  const expected = props.DestinationConfig as Destinations;
  const actual = config.DestinationConfig as Destinations;
  return compare(
    ctx,
    subject,
    [
      {
        name: 'MaximumRetryAttempts',
        expected: props.MaximumRetryAttempts,
        defaultValue: 2,
        actual: config.MaximumRetryAttempts,
      },
      {
        name: 'MaximumEventAgeInSeconds',
        expected: props.MaximumEventAgeInSeconds,
        defaultValue: 21600,
        actual: config.MaximumEventAgeInSeconds,
      },
      {
        name: 'OnFailure',
        expected: expected?.OnFailure?.Destination,
        actual: actual?.OnFailure?.Destination,
      },
      {
        name: 'OnSuccess',
        expected: expected?.OnSuccess?.Destination,
        actual: actual?.OnSuccess?.Destination,
      },
    ],
    (shown) =>
      `${shown('MaximumRetryAttempts')} retries, maximum event age ${shown('MaximumEventAgeInSeconds')} s, on failure to ${shown('OnFailure')}` +
      (expected?.OnSuccess ? `, on success to ${shown('OnSuccess')}` : ''),
  );
}

/** GetSubscriptionAttributes against AWS::SNS::Subscription. */
export function checkSubscription(
  ctx: CheckContext,
  logicalId: string,
  props: Props,
  attributes: Readonly<Record<string, string>> | undefined,
): CheckResult {
  const subject = `subscription ${logicalId}`;
  if (!attributes) return failure(ctx, subject, 'no such subscription');
  const redrive = props.RedrivePolicy as { deadLetterTargetArn?: unknown } | undefined;
  const deployed = parseJson(attributes.RedrivePolicy) as { deadLetterTargetArn?: unknown } | undefined;
  const raw = props.RawMessageDelivery;
  return compare(
    ctx,
    subject,
    [
      { name: 'TopicArn', expected: props.TopicArn, actual: attributes.TopicArn },
      { name: 'Protocol', expected: props.Protocol, actual: attributes.Protocol },
      { name: 'Endpoint', expected: props.Endpoint, actual: attributes.Endpoint },
      {
        name: 'RawMessageDelivery',
        expected: raw === undefined ? undefined : String(raw),
        defaultValue: 'false',
        actual: attributes.RawMessageDelivery ?? 'false',
      },
      {
        name: 'RedrivePolicy.deadLetterTargetArn',
        expected: redrive?.deadLetterTargetArn,
        actual: deployed?.deadLetterTargetArn,
      },
      { name: 'FilterPolicy', expected: props.FilterPolicy, actual: parseJson(attributes.FilterPolicy) },
    ],
    (shown) =>
      `${shown('TopicArn')} -> ${shown('Protocol')} ${shown('Endpoint')}` +
      (raw !== undefined ? `, raw delivery ${shown('RawMessageDelivery')}` : '') +
      (redrive
        ? `, delivery failures to ${shown('RedrivePolicy.deadLetterTargetArn')}`
        : ', no subscription DLQ'),
  );
}

/** DescribeTable, DescribeTimeToLive and DescribeContinuousBackups against AWS::DynamoDB::Table. */
export function checkTable(
  ctx: CheckContext,
  logicalId: string,
  props: Props,
  deployed: {
    readonly keySchema?: unknown;
    readonly billingMode?: string;
    readonly ttl?: { status?: string; attribute?: string };
    readonly pitr?: string;
    /** The stream's view type, when the table has a stream. */
    readonly streamViewType?: string;
  },
): CheckResult[] {
  const subject = `table ${logicalId}`;
  const stream = (props.StreamSpecification as { StreamViewType?: unknown } | undefined)?.StreamViewType;
  const results: CheckResult[] = [
    compare(
      ctx,
      subject,
      [
        { name: 'KeySchema', expected: props.KeySchema, actual: deployed.keySchema },
        {
          name: 'BillingMode',
          expected: props.BillingMode,
          defaultValue: 'PROVISIONED',
          actual: deployed.billingMode,
        },
        { name: 'StreamSpecification.StreamViewType', expected: stream, actual: deployed.streamViewType },
      ],
      (shown) =>
        `key ${shown('KeySchema')}, billing ${shown('BillingMode')}` +
        (stream !== undefined ? `, stream ${shown('StreamSpecification.StreamViewType')}` : ''),
    ),
  ];
  const ttl = props.TimeToLiveSpecification as { AttributeName?: unknown; Enabled?: unknown } | undefined;
  const ttlWanted = ttl?.Enabled === true || ttl?.Enabled === 'true';
  if (ctx.emulator && ttlWanted) {
    results.push(notChecked(ctx, `${subject} TTL`, 'ttl'));
  } else {
    const enabled = deployed.ttl?.status === 'ENABLED' || deployed.ttl?.status === 'ENABLING';
    results.push(
      ttlWanted
        ? enabled && deployed.ttl?.attribute === ttl?.AttributeName
          ? {
              stack: ctx.stack,
              subject: `${subject} TTL`,
              status: 'pass',
              detail: `on attribute ${String(ttl?.AttributeName)} (${deployed.ttl?.status}, as in the template)`,
            }
          : failure(
              ctx,
              `${subject} TTL`,
              `TTL is ${deployed.ttl?.status ?? 'unknown'}${deployed.ttl?.attribute ? ` on ${deployed.ttl.attribute}` : ''}, the template says ENABLED on ${String(ttl?.AttributeName)}`,
            )
        : enabled
          ? failure(
              ctx,
              `${subject} TTL`,
              `TTL is ${deployed.ttl?.status} on ${deployed.ttl?.attribute}, the template sets none`,
            )
          : {
              stack: ctx.stack,
              subject: `${subject} TTL`,
              status: 'pass',
              detail: 'none (as in the template)',
            },
    );
  }
  const pitr = (
    props.PointInTimeRecoverySpecification as { PointInTimeRecoveryEnabled?: unknown } | undefined
  )?.PointInTimeRecoveryEnabled;
  const pitrWanted = pitr === true || pitr === 'true';
  if (pitrWanted) {
    if (ctx.emulator) results.push(notChecked(ctx, `${subject} point-in-time recovery`, 'pitr'));
    else
      results.push(
        deployed.pitr === 'ENABLED'
          ? {
              stack: ctx.stack,
              subject: `${subject} point-in-time recovery`,
              status: 'pass',
              detail: 'ENABLED (as in the template)',
            }
          : failure(
              ctx,
              `${subject} point-in-time recovery`,
              `is ${deployed.pitr ?? 'unknown'}, the template says ENABLED`,
            ),
      );
  }
  return results;
}

/** DescribeAlarms against AWS::CloudWatch::Alarm: the metric, threshold and evaluation, and the actions. */
export function checkAlarm(
  ctx: CheckContext,
  logicalId: string,
  props: Props,
  alarm: Readonly<Record<string, unknown>> | undefined,
): CheckResult {
  const subject = `alarm ${logicalId}`;
  if (!alarm) return failure(ctx, subject, 'no such alarm');
  const dimensions = (list: unknown) =>
    Array.isArray(list)
      ? list.map((d: { Name?: unknown; Value?: unknown }) => ({ Name: d.Name, Value: d.Value }))
      : undefined;
  const fields: Field[] = [
    { name: 'Namespace', expected: props.Namespace, actual: alarm.Namespace },
    { name: 'MetricName', expected: props.MetricName, actual: alarm.MetricName },
    { name: 'Dimensions', expected: dimensions(props.Dimensions), actual: dimensions(alarm.Dimensions) },
    { name: 'Statistic', expected: props.Statistic, actual: alarm.Statistic },
    { name: 'Period', expected: props.Period, actual: alarm.Period },
    { name: 'EvaluationPeriods', expected: props.EvaluationPeriods, actual: alarm.EvaluationPeriods },
    { name: 'DatapointsToAlarm', expected: props.DatapointsToAlarm, actual: alarm.DatapointsToAlarm },
    { name: 'ComparisonOperator', expected: props.ComparisonOperator, actual: alarm.ComparisonOperator },
    { name: 'Threshold', expected: props.Threshold, actual: alarm.Threshold },
    {
      name: 'TreatMissingData',
      expected: props.TreatMissingData,
      defaultValue: 'missing',
      actual: alarm.TreatMissingData ?? 'missing',
    },
    {
      name: 'ActionsEnabled',
      expected: props.ActionsEnabled,
      defaultValue: true,
      actual: alarm.ActionsEnabled,
    },
    { name: 'AlarmActions', expected: props.AlarmActions ?? [], actual: alarm.AlarmActions ?? [] },
    { name: 'OKActions', expected: props.OKActions ?? [], actual: alarm.OKActions ?? [] },
    {
      name: 'InsufficientDataActions',
      expected: props.InsufficientDataActions ?? [],
      actual: alarm.InsufficientDataActions ?? [],
    },
  ];
  const actions = (name: string) => {
    const list = (alarm[name] as unknown[] | undefined) ?? [];
    return list.length === 0 ? 'none' : list.map((action) => show(action, ctx)).join(', ');
  };
  return compare(
    ctx,
    subject,
    fields,
    (shown) =>
      `${shown('Namespace')} ${shown('MetricName')} ${shown('Statistic')} ${shown('ComparisonOperator')} ${shown('Threshold')} ` +
      `over ${shown('EvaluationPeriods')} x ${shown('Period')} s; alarm actions: ${actions('AlarmActions')}; OK actions: ${actions('OKActions')}`,
  );
}

/** GetBucketNotificationConfiguration against CDK's Custom::S3BucketNotifications. */
export function checkBucketNotifications(
  ctx: CheckContext,
  logicalId: string,
  props: Props,
  configuration: Readonly<Record<string, unknown>> | undefined,
): CheckResult {
  const wanted = (props.NotificationConfiguration ?? {}) as Record<string, unknown>;
  const normalise = (config: Record<string, unknown> | undefined, list: string, arn: string) =>
    ((config?.[list] as Record<string, unknown>[] | undefined) ?? []).map((item) => ({
      arn: item[arn],
      events: item.Events,
      filter: (item.Filter as { Key?: { FilterRules?: unknown } } | undefined)?.Key?.FilterRules,
    }));
  const fields: Field[] = (
    [
      ['TopicConfigurations', 'TopicArn'],
      ['QueueConfigurations', 'QueueArn'],
      ['LambdaFunctionConfigurations', 'LambdaFunctionArn'],
    ] as const
  ).map(([list, arn]) => ({
    name: list,
    expected: normalise(wanted, list, arn),
    actual: normalise(configuration as Record<string, unknown> | undefined, list, arn),
  }));
  const targets = fields.flatMap((field) =>
    (field.actual as { arn: unknown; events: unknown }[]).map(
      (item) => `${show(item.arn, ctx)} on ${(item.events as string[] | undefined)?.join(', ')}`,
    ),
  );
  return compare(
    ctx,
    `bucket notifications ${logicalId}`,
    fields,
    () => `bucket ${show(props.BucketName, ctx)} notifies ${targets.join('; ') || 'nothing'}`,
  );
}

/** GetFunctionConfiguration against AWS::Lambda::Function. */
export function checkFunction(
  ctx: CheckContext,
  logicalId: string,
  props: Props,
  configuration: Readonly<Record<string, unknown>> | undefined,
): CheckResult[] {
  const subject = `function ${logicalId}`;
  if (!configuration) return [failure(ctx, subject, 'no such function')];
  const environment = (props.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables;
  const results = [
    compare(
      ctx,
      subject,
      [
        { name: 'Runtime', expected: props.Runtime, actual: configuration.Runtime },
        { name: 'Handler', expected: props.Handler, actual: configuration.Handler },
        {
          name: 'MemorySize',
          expected: props.MemorySize,
          defaultValue: 128,
          actual: configuration.MemorySize,
        },
        { name: 'Timeout', expected: props.Timeout, defaultValue: 3, actual: configuration.Timeout },
        {
          name: 'Environment',
          expected: environment ?? {},
          actual:
            (configuration.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ??
            {},
        },
      ],
      (shown) =>
        `${shown('Runtime')}, ${shown('MemorySize')} MB, timeout ${shown('Timeout')} s, ${Object.keys(environment ?? {}).length} environment variables`,
    ),
  ];
  const architectures = (props.Architectures as string[] | undefined) ?? ['x86_64'];
  const tracing = (props.TracingConfig as { Mode?: unknown } | undefined)?.Mode ?? 'PassThrough';
  if (ctx.emulator) {
    if (props.Architectures !== undefined)
      results.push(notChecked(ctx, `${subject} architecture`, 'architectures'));
    if (props.TracingConfig !== undefined) results.push(notChecked(ctx, `${subject} tracing`, 'tracing'));
  } else {
    results.push(
      compare(
        ctx,
        `${subject} architecture and tracing`,
        [
          { name: 'Architectures', expected: architectures, actual: configuration.Architectures },
          {
            name: 'TracingConfig.Mode',
            expected: tracing,
            actual: (configuration.TracingConfig as { Mode?: unknown } | undefined)?.Mode,
          },
        ],
        (shown) => `${shown('Architectures')}, tracing ${shown('TracingConfig.Mode')}`,
      ),
    );
  }
  return results;
}

/** DescribeLogGroups against AWS::Logs::LogGroup: the retention. */
export function checkLogGroup(
  ctx: CheckContext,
  logicalId: string,
  props: Props,
  group: Readonly<Record<string, unknown>> | undefined,
): CheckResult {
  const subject = `log group ${logicalId}`;
  if (!group) return failure(ctx, subject, 'no such log group');
  return compare(
    ctx,
    subject,
    [{ name: 'RetentionInDays', expected: props.RetentionInDays, actual: group.retentionInDays }],
    (shown) => `retention ${shown('RetentionInDays')} days`,
  );
}

/** DescribeStreamSummary against AWS::Kinesis::Stream: capacity mode, encryption, retention. */
export function checkStream(
  ctx: CheckContext,
  logicalId: string,
  props: Props,
  summary: Readonly<Record<string, unknown>> | undefined,
): CheckResult[] {
  const subject = `stream ${logicalId}`;
  if (!summary) return [failure(ctx, subject, 'no such stream')];
  const results = [
    compare(
      ctx,
      subject,
      [
        {
          name: 'RetentionPeriodHours',
          expected: props.RetentionPeriodHours,
          defaultValue: 24,
          actual: summary.RetentionPeriodHours,
        },
      ],
      (shown) => `retention ${shown('RetentionPeriodHours')} h`,
    ),
  ];
  if (ctx.emulator) {
    if (props.StreamModeDetails !== undefined || props.StreamEncryption !== undefined) {
      results.push(notChecked(ctx, `${subject} capacity mode and encryption`, 'streamMode'));
    }
    return results;
  }
  const encryption = props.StreamEncryption as { EncryptionType?: unknown } | undefined;
  results.push(
    compare(
      ctx,
      `${subject} capacity mode and encryption`,
      [
        {
          name: 'StreamMode',
          expected: (props.StreamModeDetails as { StreamMode?: unknown } | undefined)?.StreamMode,
          defaultValue: 'PROVISIONED',
          actual: (summary.StreamModeDetails as { StreamMode?: unknown } | undefined)?.StreamMode,
        },
        {
          name: 'EncryptionType',
          expected: encryption?.EncryptionType,
          defaultValue: 'NONE',
          actual: summary.EncryptionType,
        },
      ],
      (shown) => `${shown('StreamMode')}, encryption ${shown('EncryptionType')}`,
    ),
  );
  return results;
}

/** GetBucketVersioning against AWS::S3::Bucket. */
export function checkBucket(
  ctx: CheckContext,
  logicalId: string,
  props: Props,
  versioning: string | undefined,
): CheckResult | undefined {
  const wanted = (props.VersioningConfiguration as { Status?: unknown } | undefined)?.Status;
  if (wanted === undefined) return undefined;
  const subject = `bucket ${logicalId} versioning`;
  if (ctx.emulator) return notChecked(ctx, subject, 'versioning');
  return compare(ctx, subject, [{ name: 'Status', expected: wanted, actual: versioning }], (shown) =>
    shown('Status'),
  );
}

/** GetRoute against AWS::ApiGatewayV2::Route: the route key, its authorization and its target. */
export function checkHttpRoute(
  ctx: CheckContext,
  logicalId: string,
  props: Props,
  route: Readonly<Record<string, unknown>> | undefined,
): CheckResult {
  const subject = `route ${logicalId}`;
  if (!route) return failure(ctx, subject, 'no such route');
  return compare(
    ctx,
    subject,
    [
      { name: 'RouteKey', expected: props.RouteKey, actual: route.RouteKey },
      {
        name: 'AuthorizationType',
        expected: props.AuthorizationType,
        defaultValue: 'NONE',
        actual: route.AuthorizationType ?? 'NONE',
      },
      { name: 'Target', expected: props.Target, actual: route.Target },
    ],
    (shown) => `${shown('RouteKey')} with ${shown('AuthorizationType')} authorization -> ${shown('Target')}`,
  );
}

/** GetStage against AWS::ApiGatewayV2::Stage: auto-deploy, the default throttle, where access logs go. */
export function checkHttpStage(
  ctx: CheckContext,
  logicalId: string,
  props: Props,
  stage: Readonly<Record<string, unknown>> | undefined,
): CheckResult {
  const subject = `stage ${logicalId}`;
  if (!stage) return failure(ctx, subject, 'no such stage');
  type Throttle = { ThrottlingBurstLimit?: unknown; ThrottlingRateLimit?: unknown } | undefined;
  const wanted = props.DefaultRouteSettings as Throttle;
  const found = stage.DefaultRouteSettings as Throttle;
  // A log group's ARN with or without its `:*` suffix (CloudFormation's GetAtt gives it; not every service keeps it).
  const logs = (value: unknown) => {
    const arn = (value as { DestinationArn?: unknown } | undefined)?.DestinationArn;
    return typeof arn === 'string' ? arn.replace(/:\*$/, '') : arn;
  };
  return compare(
    ctx,
    subject,
    [
      {
        name: 'AutoDeploy',
        expected: props.AutoDeploy,
        defaultValue: false,
        actual: stage.AutoDeploy ?? false,
      },
      {
        name: 'ThrottlingBurstLimit',
        expected: wanted?.ThrottlingBurstLimit,
        actual: found?.ThrottlingBurstLimit,
      },
      {
        name: 'ThrottlingRateLimit',
        expected: wanted?.ThrottlingRateLimit,
        actual: found?.ThrottlingRateLimit,
      },
      {
        name: 'AccessLogSettings.DestinationArn',
        expected: logs(props.AccessLogSettings),
        actual: logs(stage.AccessLogSettings),
      },
    ],
    (shown) =>
      `${String(props.StageName)}: auto-deploy ${shown('AutoDeploy')}, throttle burst ${shown('ThrottlingBurstLimit')} ` +
      `rate ${shown('ThrottlingRateLimit')}/s, access logs to ${shown('AccessLogSettings.DestinationArn')}`,
  );
}
