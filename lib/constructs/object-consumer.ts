import * as path from 'node:path';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Alarm, Stats } from 'aws-cdk-lib/aws-cloudwatch';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { IKey, Key } from 'aws-cdk-lib/aws-kms';
import { IDestination } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  BucketNotificationDestinationConfig,
  BucketNotificationDestinationType,
  IBucket,
  IBucketNotificationDestination,
  IBucketRef,
  NotificationKeyFilter,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { LambdaSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  assertDurationAtLeastSum,
  assertDurationInRange,
  assertIntegerInRange,
  ConfigurationError,
  describeDuration,
  validateAll,
} from '../validation';
import { ageBelowCheck, ALARM_DEFAULTS, type AlarmOptions, alarmThresholdChecks, PathAlarms } from './alarms';
import { ConsumerFunction, consumerFunctionChecks, ConsumerFunctionOptions } from './consumer-function';
import { businessMetrics, line, type PathFlow } from './dashboard';
import { EffectTable } from './effect-table';
import { IdempotencyTable } from './idempotency-table';
import { denyTopicAccessWithoutTls } from './tls';

/** Lambda's limits for asynchronous invocation (AWS Lambda developer guide, "Configuring error handling"). */
export const ASYNC_MAX_RETRY_ATTEMPTS = 2;
export const ASYNC_MIN_EVENT_AGE = Duration.seconds(60);
export const ASYNC_MAX_EVENT_AGE = Duration.hours(6);
/** SQS message retention limits. */
export const SQS_MIN_RETENTION = Duration.minutes(1);
export const SQS_MAX_RETENTION = Duration.days(14);

/** Defaults of {@link ObjectConsumerProps}, exported so docs and tests name one source of truth. */
export const OBJECT_CONSUMER_DEFAULTS = {
  retryAttempts: 2,
  maxEventAge: Duration.hours(6),
  failedEventRetention: Duration.days(14),
  noncurrentVersionExpiration: Duration.days(30),
  accessLogsExpiration: Duration.days(90),
  serviceName: 'object-consumer',
} as const;

/**
 * The shortest idempotency expiry that covers every re-delivery of an object event: `maxEventAge` +
 * `failedEventRetention` (see {@link ObjectConsumerProps.idempotencyExpiry}); also its default.
 */
export function minimumObjectIdempotencyExpiry(
  maxEventAge: Duration,
  failedEventRetention: Duration,
): Duration {
  return maxEventAge.plus(failedEventRetention);
}

/** The handler this construct deploys unless told otherwise. */
export const OBJECT_CONSUMER_ENTRY = path.join(
  __dirname,
  '..',
  '..',
  'lambda',
  'object-consumer',
  'index.ts',
);

export interface ObjectConsumerProps extends ConsumerFunctionOptions, AlarmOptions {
  /** Where the handler's idempotency records go (one per object version); access is granted. */
  readonly idempotencyTable: IdempotencyTable;

  /**
   * The table the business action's effects are written to, in the same DynamoDB transaction as the
   * idempotency record (one item per object prefix); `UpdateItem` on it is granted.
   */
  readonly effectTable: EffectTable;

  /**
   * What happens to the stateful resources (the bucket and its objects, the access-log bucket, the topic's
   * key, the on-failure and subscription dead-letter queues) on `cdk destroy`. With `DESTROY` the buckets are
   * emptied first (`autoDeleteObjects`), which suits a sandbox only.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Only objects whose key starts with this prefix raise a notification.
   * @default - every object
   */
  readonly objectKeyPrefix?: string;

  /**
   * Only objects whose key ends with this suffix raise a notification (e.g. `.csv`).
   * @default - every object
   */
  readonly objectKeySuffix?: string;

  /**
   * Where the bucket's server access logs go (an existing, central log bucket, say).
   * @default - a new log bucket in this construct (S3-managed encryption, TLS only, no public access),
   *   whose logs expire after 90 days
   */
  readonly accessLogsBucket?: IBucket;

  /**
   * How long an overwritten (noncurrent) object version is kept. The bucket is versioned so that every
   * upload has its own identity and a retry hours later still reads the bytes its notification described;
   * this bounds what that costs.
   * @default Duration.days(30)
   */
  readonly noncurrentVersionExpiration?: Duration;

  /**
   * How many times Lambda retries an invocation that returned a function error (0–2). Retries come about
   * 1 minute, then 2 minutes, after the failure.
   * @default 2
   */
  readonly retryAttempts?: number;

  /**
   * How long Lambda keeps an event in its internal queue, retrying throttles and system errors, before it
   * gives up (60 seconds to 6 hours). Function errors stop earlier, at `retryAttempts`.
   * @default Duration.hours(6): Lambda's own default and maximum. A burst of uploads that throttles the
   *   function then drains without anyone re-driving it, and whatever still fails lands on the on-failure
   *   destination anyway (nothing is dropped); a shorter age only moves events there sooner.
   */
  readonly maxEventAge?: Duration;

  /**
   * How long an idempotency record protects an object version: at least `maxEventAge` +
   * `failedEventRetention` (a shorter value fails synth), within 1 minute to 365 days. Lambda retries an event
   * (or holds a duplicate notification) for up to `maxEventAge` before it hands it to the on-failure
   * destination, where an operator can re-drive it until it leaves after `failedEventRetention`; a re-driven
   * event whose object version's record expired by then would apply its effect a second time. Storage: an
   * idempotency record is ≈200 bytes, so 1 million objects a day kept 14 days 6 hours is ≈2.85 GB, ≈$0.71 a
   * month at DynamoDB's $0.25 per GB-month (us-east-1, standard table class).
   * @default maxEventAge + failedEventRetention: 14 days 6 hours with the defaults (6 hours + 14 days)
   */
  readonly idempotencyExpiry?: Duration;

  /**
   * Where Lambda sends an event whose retries or event age are exhausted: the invocation record (request
   * and response payloads, condition, attempt count). Any Lambda destination (an SQS queue, an SNS topic, an
   * EventBridge bus, a function or an S3 bucket from `aws-cdk-lib/aws-lambda-destinations`).
   * @default - a new SQS queue (SQS-managed encryption, TLS only, `failedEventRetention`), with an alarm
   */
  readonly onFailure?: IDestination;

  /**
   * Where Lambda sends the record of every successful invocation.
   * @default - none (a success needs no follow-up here; the side-effect log line records it)
   */
  readonly onSuccess?: IDestination;

  /**
   * How long the queues this construct creates (the on-failure queue and the subscription dead-letter
   * queue) keep a message (1 minute to 14 days), and so how long an operator can re-drive a failed event:
   * part of the minimum `idempotencyExpiry`. With your own `onFailure` destination this is still the retention
   * assumed for it (the construct cannot see how long your destination keeps events): set it to that
   * destination's retention, or to the longest time after which you would still re-drive from it.
   * @default Duration.days(14), the SQS maximum: the longest time for someone to look
   */
  readonly failedEventRetention?: Duration;

  /**
   * The handler's `index.ts`, for a fork with its own business action.
   * @default lambda/object-consumer/index.ts
   */
  readonly entry?: string;

  /**
   * `POWERTOOLS_SERVICE_NAME` of the function's logs.
   * @default 'object-consumer'
   */
  readonly serviceName?: string;
}

/** The alarms of an {@link ObjectConsumer}; each notifies the `alarmTopic`, when given. */
export interface ObjectConsumerAlarms {
  /** Events are on the default on-failure queue (retries or event age exhausted). Absent with `onFailure`. */
  readonly onFailureQueueNotEmpty?: Alarm;
  /** SNS could not deliver notifications to the function; they are on the subscription dead-letter queue. */
  readonly subscriptionDeadLetterQueueNotEmpty: Alarm;
  /** Lambda could not hand a failed event to the on-failure destination: the event is lost. */
  readonly destinationDeliveryFailures: Alarm;
  /** Every alarm of the path (lib/constructs/alarms.ts), the three above included. */
  readonly all: readonly Alarm[];
}

/**
 * The asynchronous path: objects created in an S3 bucket are announced on an SNS topic, and the topic invokes
 * a Lambda function asynchronously.
 *
 * Where each failure goes:
 * - a function error is retried `retryAttempts` times (about 1, then 2 minutes apart), then the event goes to
 *   the on-failure destination with condition `RetriesExhausted`;
 * - a throttle or system error is retried until `maxEventAge`, then `EventAgeExceeded` to the same place;
 * - a notification SNS cannot deliver to Lambda at all goes to the subscription dead-letter queue (this
 *   covers delivery failures only: function errors never reach it);
 * - a duplicate (S3 and SNS deliver at least once, and a retry repeats the whole event) is absorbed by the
 *   handler's idempotency record per object version.
 */
export class ObjectConsumer extends Construct {
  /** The bucket whose created objects are processed (versioned, private, encrypted, TLS only). */
  readonly bucket: Bucket;
  /** Where the bucket's server access logs go. */
  readonly accessLogsBucket: IBucket;
  /** The customer-managed key the topic is encrypted with (its policy lets S3 publish). */
  readonly topicKey: Key;
  /** The topic S3 publishes object-created notifications to. */
  readonly objectCreatedTopic: Topic;
  /** Notifications SNS could not deliver to the function (delivery failures, not function errors). */
  readonly subscriptionDeadLetterQueue: Queue;
  /** The consumer function. */
  readonly function: NodejsFunction;
  /** Where failed events go (the `onFailure` prop, or a `SqsDestination` on {@link onFailureQueue}). */
  readonly onFailureDestination: IDestination;
  /** The on-failure queue this construct created; `undefined` when `onFailure` was given. */
  readonly onFailureQueue?: Queue;
  /** The alarms; each notifies the `alarmTopic`, when given. */
  readonly alarms: ObjectConsumerAlarms;
  /** The path's row of the stage dashboard (lib/constructs/dashboard.ts). */
  readonly flow: PathFlow;
  /** The resolved settings of asynchronous invocation and idempotency. */
  readonly retryAttempts: number;
  readonly maxEventAge: Duration;
  readonly idempotencyExpiry: Duration;

  constructor(scope: Construct, id: string, props: ObjectConsumerProps) {
    super(scope, id);

    // --- settings, validated before anything is built; every broken rule is reported at once --------------
    this.retryAttempts = props.retryAttempts ?? OBJECT_CONSUMER_DEFAULTS.retryAttempts;
    this.maxEventAge = props.maxEventAge ?? OBJECT_CONSUMER_DEFAULTS.maxEventAge;
    const failedEventRetention = props.failedEventRetention ?? OBJECT_CONSUMER_DEFAULTS.failedEventRetention;
    this.idempotencyExpiry =
      props.idempotencyExpiry ?? minimumObjectIdempotencyExpiry(this.maxEventAge, failedEventRetention);
    const noncurrentVersionExpiration =
      props.noncurrentVersionExpiration ?? OBJECT_CONSUMER_DEFAULTS.noncurrentVersionExpiration;
    validateAll(this, [
      () =>
        assertIntegerInRange(
          this,
          'retryAttempts',
          this.retryAttempts,
          0,
          ASYNC_MAX_RETRY_ATTEMPTS,
          'Lambda retries a failed asynchronous invocation at most twice',
        ),
      () =>
        assertDurationInRange(
          this,
          'maxEventAge',
          this.maxEventAge,
          ASYNC_MIN_EVENT_AGE,
          ASYNC_MAX_EVENT_AGE,
          "Lambda's limits for the maximum age of an asynchronous event",
        ),
      () =>
        assertDurationInRange(
          this,
          'failedEventRetention',
          failedEventRetention,
          SQS_MIN_RETENTION,
          SQS_MAX_RETENTION,
          "SQS's message retention limits",
        ),
      () =>
        assertDurationAtLeastSum(
          this,
          'idempotencyExpiry',
          this.idempotencyExpiry,
          [
            ['maxEventAge', this.maxEventAge],
            ['failedEventRetention', failedEventRetention],
          ],
          'Lambda retries an event (and holds a duplicate notification) for up to maxEventAge before it hands it ' +
            'to the on-failure destination, and an operator can re-drive it from there until it leaves after ' +
            'failedEventRetention (the retention assumed for an onFailure destination of your own too); an object ' +
            'version whose idempotency record expired by then applies its effect twice. Raise idempotencyExpiry ' +
            '(or leave it unset to derive it), or lower maxEventAge or failedEventRetention.',
        ),
      ...consumerFunctionChecks(this, { ...props, idempotencyExpiry: this.idempotencyExpiry }),
      ...alarmThresholdChecks(this, props.alarmThresholds),
      ageBelowCheck(
        this,
        'alarmThresholds.failureStoreMessageAge',
        props.alarmThresholds?.failureStoreMessageAge,
        failedEventRetention,
        'failedEventRetention',
      ),
      ageBelowCheck(
        this,
        'alarmThresholds.asyncEventAge',
        props.alarmThresholds?.asyncEventAge,
        this.maxEventAge,
        'maxEventAge',
      ),
      () =>
        assertDurationInRange(
          this,
          'noncurrentVersionExpiration',
          noncurrentVersionExpiration,
          Duration.days(1),
          Duration.days(36500),
          'S3 lifecycle rules count whole days',
        ),
      () => {
        if (
          !noncurrentVersionExpiration.isUnresolved() &&
          noncurrentVersionExpiration.toSeconds() % 86400 !== 0
        ) {
          throw new ConfigurationError(
            this,
            'noncurrentVersionExpiration',
            `must be a whole number of days, got ${describeDuration(noncurrentVersionExpiration)}.`,
          );
        }
      },
      ...(
        [
          ['objectKeyPrefix', props.objectKeyPrefix],
          ['objectKeySuffix', props.objectKeySuffix],
        ] as const
      ).map(([property, value]) => () => {
        if (value !== undefined && (value.length === 0 || value.length > 1024)) {
          throw new ConfigurationError(
            this,
            property,
            `must be 1 to 1024 characters (an S3 notification filter rule), got ${value.length}; omit it to match every object.`,
          );
        }
      }),
    ]);

    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const destroy = removalPolicy === RemovalPolicy.DESTROY;

    // --- the bucket ----------------------------------------------------------------------------------------
    if (props.accessLogsBucket) {
      this.accessLogsBucket = props.accessLogsBucket;
    } else {
      const accessLogsBucket = new Bucket(this, 'AccessLogsBucket', {
        blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
        // Server access logs can only be delivered to SSE-S3 buckets.
        encryption: BucketEncryption.S3_MANAGED,
        enforceSSL: true,
        // Object ownership is left to CDK: with @aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy (cdk.json)
        // logs are delivered through the bucket policy; without it CDK needs ACLs (ObjectWriter).
        lifecycleRules: [{ expiration: OBJECT_CONSUMER_DEFAULTS.accessLogsExpiration }],
        removalPolicy,
        autoDeleteObjects: destroy,
      });
      Validations.of(accessLogsBucket).acknowledge({
        id: 'AwsSolutions-S1',
        reason:
          'This is the access-log bucket itself; logging its own access would log the log deliveries, endlessly.',
      });
      this.accessLogsBucket = accessLogsBucket;
    }

    this.bucket = new Bucket(this, 'Bucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Versioned: every upload gets its own version id, which is the idempotency key (an overwrite of the
      // same key is new work, a duplicate notification of the same upload is not), and the exact bytes a
      // notification described stay readable while Lambda retries it for up to maxEventAge.
      versioned: true,
      lifecycleRules: [
        { noncurrentVersionExpiration, abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ],
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: `${this.node.path}/`,
      removalPolicy,
      autoDeleteObjects: destroy,
    });

    // --- the topic -----------------------------------------------------------------------------------------
    // SSE-KMS with a customer-managed key: S3 must be allowed to use the key to publish, which the
    // AWS-managed SNS key cannot allow. The notification destination below adds that statement to this key's policy.
    this.topicKey = new Key(this, 'TopicKey', {
      description: `Encrypts the object-created topic of ${this.node.path}`,
      enableKeyRotation: true,
      removalPolicy,
    });
    // Every action without TLS is denied, not only publishing (`enforceSSL` covers sns:Publish alone).
    this.objectCreatedTopic = new Topic(this, 'ObjectCreatedTopic', { masterKey: this.topicKey });
    denyTopicAccessWithoutTls(this.objectCreatedTopic);
    const filter: NotificationKeyFilter = {
      ...(props.objectKeyPrefix !== undefined && { prefix: props.objectKeyPrefix }),
      ...(props.objectKeySuffix !== undefined && { suffix: props.objectKeySuffix }),
    };
    this.bucket.addObjectCreatedNotification(
      new BucketOnlySnsDestination(this.objectCreatedTopic, this.topicKey),
      ...(Object.keys(filter).length > 0 ? [filter] : []),
    );
    acknowledgeBucketNotificationsHandler(this);

    // --- the function --------------------------------------------------------------------------------------
    const consumer = new ConsumerFunction(this, 'Consumer', {
      entry: props.entry ?? OBJECT_CONSUMER_ENTRY,
      serviceName: props.serviceName ?? OBJECT_CONSUMER_DEFAULTS.serviceName,
      description: 'Processes objects created in the bucket (S3 -> SNS -> asynchronous Lambda), idempotently',
      idempotencyTable: props.idempotencyTable,
      effectTable: props.effectTable,
      timeout: props.timeout,
      memorySize: props.memorySize,
      idempotencyExpiry: this.idempotencyExpiry,
      logLevel: props.logLevel,
      logRetention: props.logRetention,
      metricsNamespace: props.metricsNamespace,
    });
    this.function = consumer.function;
    Validations.of(this.function).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason:
        'Failed asynchronous invocations go to the on-failure destination (EventInvokeConfig DestinationConfig.OnFailure), the alternative to a function DLQ that the seeds name; its invocation record also carries the condition (RetriesExhausted, EventAgeExceeded), the attempt count and the response, which a DLQ message lacks.',
    });

    // --- SNS -> Lambda, with a dead-letter queue for deliveries SNS cannot make ----------------------------
    this.subscriptionDeadLetterQueue = new Queue(this, 'SubscriptionDeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: failedEventRetention,
      removalPolicy,
    });
    acknowledgeDeadLetterQueue(
      this.subscriptionDeadLetterQueue,
      'the dead-letter queue of the SNS subscription (RedrivePolicy of the subscription)',
    );
    this.objectCreatedTopic.addSubscription(
      new LambdaSubscription(this.function, { deadLetterQueue: this.subscriptionDeadLetterQueue }),
    );

    // --- asynchronous invocation: retries, event age, destinations -----------------------------------------
    if (props.onFailure) {
      this.onFailureDestination = props.onFailure;
    } else {
      this.onFailureQueue = new Queue(this, 'OnFailureQueue', {
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: failedEventRetention,
        removalPolicy,
      });
      acknowledgeDeadLetterQueue(
        this.onFailureQueue,
        "the on-failure destination of the function's asynchronous invocations",
      );
      this.onFailureDestination = new SqsDestination(this.onFailureQueue);
    }
    this.function.configureAsyncInvoke({
      retryAttempts: this.retryAttempts,
      maxEventAge: this.maxEventAge,
      onFailure: this.onFailureDestination,
      ...(props.onSuccess && { onSuccess: props.onSuccess }),
    });

    // --- alarms and the dashboard row (lib/constructs/alarms.ts, dashboard.ts) --------------------------------
    const alarms = new PathAlarms(this, props);
    const onFailureQueue = this.onFailureQueue
      ? alarms.failureStore('OnFailureQueue', this.onFailureQueue, {
          name: 'the on-failure queue',
          why:
            'Object events failed after all retries or exceeded the maximum event age; their invocation records are ' +
            'there (docs/object-path.md to read and re-drive them).',
          retention: failedEventRetention,
          arrivals: true,
          messagesAlarmId: 'OnFailureQueueNotEmptyAlarm',
        })
      : undefined;
    const subscriptionDeadLetterQueue = alarms.failureStore(
      'SubscriptionDeadLetterQueue',
      this.subscriptionDeadLetterQueue,
      {
        name: 'the subscription dead-letter queue',
        why:
          'SNS could not deliver object-created notifications to the function (permissions, function deleted, KMS); ' +
          'they are there.',
        retention: failedEventRetention,
        arrivals: true,
        messagesAlarmId: 'SubscriptionDeadLetterQueueNotEmptyAlarm',
      },
    );
    const destinationDeliveryFailures = alarms.destinationDeliveryFailures(
      this.function,
      'the event is lost unless the object is uploaded (or its notification re-sent) again.',
    );
    alarms.snsDeliveryFailures(
      'ObjectCreatedTopic',
      this.objectCreatedTopic,
      'they are retried by SNS, then kept on the subscription dead-letter queue.',
    );
    alarms.asyncInvocation(this.function, this.maxEventAge);
    alarms.functionAlarms(this.function, {
      timeout: consumer.timeout,
      concurrencyCap: ALARM_DEFAULTS.accountConcurrency,
      capName: "the account's concurrency quota (Lambda's default), which asynchronous invocations share",
    });
    alarms.tableThrottles('IdempotencyTable', props.idempotencyTable.table, 'the idempotency table');
    alarms.tableThrottles('EffectTable', props.effectTable.table, 'the effect table');
    this.alarms = {
      ...(onFailureQueue && { onFailureQueueNotEmpty: onFailureQueue.messages }),
      subscriptionDeadLetterQueueNotEmpty: subscriptionDeadLetterQueue.messages,
      destinationDeliveryFailures,
      all: alarms.all,
    };

    const fn = this.function;
    this.flow = {
      title: 'S3 → SNS → asynchronous Lambda (ObjectConsumer)',
      summary:
        "Objects created in the bucket, announced on the topic, queued in Lambda's asynchronous queue; an event that " +
        'keeps failing goes to the on-failure destination, a notification SNS cannot deliver to the subscription DLQ.',
      in: [
        line(this.objectCreatedTopic.metricNumberOfMessagesPublished(), 'notifications published'),
        line(fn.metric('AsyncEventsReceived'), 'events queued by Lambda'),
      ],
      processed: [line(fn.metricInvocations(), 'invocations')],
      failed: [
        line(fn.metricErrors(), 'invocations failed'),
        line(fn.metricThrottles(), 'throttles'),
        line(this.objectCreatedTopic.metricNumberOfNotificationsFailed(), 'SNS deliveries failed'),
      ],
      failureStores: [
        ...(this.onFailureQueue
          ? [
              line(
                this.onFailureQueue.metricApproximateNumberOfMessagesVisible(),
                'on the on-failure queue',
                Stats.MAXIMUM,
              ),
            ]
          : []),
        line(
          this.subscriptionDeadLetterQueue.metricApproximateNumberOfMessagesVisible(),
          'on the subscription DLQ',
          Stats.MAXIMUM,
        ),
        line(fn.metric('AsyncEventsDropped'), 'events dropped'),
      ],
      age: [line(fn.metric('AsyncEventAge'), 'asynchronous event age (ms)', Stats.MAXIMUM)],
      business: businessMetrics(consumer.metricsNamespace, consumer.serviceName),
    };
  }
}

/**
 * S3 -> SNS notifications to an encrypted topic, as `SnsDestination` (aws-s3-notifications) writes them but with
 * confused-deputy protection: S3 may publish to the topic and use its key only on behalf of the notifying bucket
 * (`aws:SourceArn`, the bucket's ARN, which S3 sends as the source) in the bucket's account (`aws:SourceAccount`).
 * `SnsDestination` conditions the topic policy on the bucket's ARN only, and adds the key statement with no condition
 * at all (and only under the feature flag `@aws-cdk/s3-notifications:addS3TrustKeyPolicyForSnsSubscriptions`);
 * here both statements carry both conditions, with or without the flag. A bucket ARN names no account, so a bucket
 * of that name in another account would match `aws:SourceArn` alone.
 */
export class BucketOnlySnsDestination implements IBucketNotificationDestination {
  constructor(
    private readonly topic: ITopic,
    private readonly key: IKey,
  ) {}

  bind(_scope: Construct, bucket: IBucketRef): BucketNotificationDestinationConfig {
    const s3 = new ServicePrincipal('s3.amazonaws.com');
    const fromThisBucket = {
      ArnLike: { 'aws:SourceArn': bucket.bucketRef.bucketArn },
      StringEquals: { 'aws:SourceAccount': bucket.env.account },
    };
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowThisBucketToPublish',
        principals: [s3],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: fromThisBucket,
      }),
    );
    // In a key policy, `*` is this key. SNS calls KMS on S3's behalf with S3's source in the request context: AWS
    // documents the same aws:SourceArn condition in key policies for other services that publish to encrypted
    // topics (e.g. GameLift's FlexMatch notifications). Not yet proven by a deploy from here: `npm run smoke` on a
    // real sandbox, whose upload reaches the function only if S3 may use the key, is what shows it.
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowThisBucketToPublishToTheEncryptedTopic',
        principals: [s3],
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: ['*'],
        conditions: fromThisBucket,
      }),
    );
    return {
      arn: this.topic.topicArn,
      type: BucketNotificationDestinationType.TOPIC,
      dependencies: [this.topic],
    };
  }
}

/** A queue that is itself where failures end up: cdk-nag's rules for source queues do not apply. */
function acknowledgeDeadLetterQueue(queue: Queue, role: string): void {
  const reason = `This queue is ${role}: it is where failed events end up, so a dead-letter queue of its own would have nothing to catch. Its alarm and long retention cover it instead.`;
  Validations.of(queue).acknowledge(
    { id: 'AwsSolutions-SQS3', reason },
    { id: 'Serverless-SQSRedrivePolicy', reason },
  );
}

/**
 * The function CDK adds once per stack to write bucket notification configurations (a custom resource):
 * its role uses the AWS-managed basic execution policy.
 */
function acknowledgeBucketNotificationsHandler(scope: Construct): void {
  for (const child of Stack.of(scope).node.children) {
    if (!child.node.id.startsWith('BucketNotificationsHandler')) continue;
    Validations.of(child).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        "CDK's own bucket-notifications custom resource handler (one per stack, runs at deployment only): the AWS-managed policy only lets it write its CloudWatch logs.",
    });
  }
}
