import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { assertDurationInRange, assertIntegerInRange } from '../validation';
import { IdempotencyTable } from './idempotency-table';

/** Lambda's own limits (AWS Lambda quotas). */
export const LAMBDA_MAX_TIMEOUT = Duration.minutes(15);
export const LAMBDA_MIN_MEMORY_MB = 128;
export const LAMBDA_MAX_MEMORY_MB = 10240;

/** Settings every consumer function shares; each path construct exposes these through its own props. */
export interface ConsumerFunctionOptions {
  /**
   * How long one invocation may run. Each path derives its retry timings from this (for SQS the queue's
   * visibility timeout), so keep it close to the real worst case.
   * @default Duration.seconds(30)
   */
  readonly timeout?: Duration;
  /**
   * Memory in MB; CPU is allocated in proportion.
   * @default 256
   */
  readonly memorySize?: number;
  /**
   * How long an idempotency record protects against a re-delivery. Must outlast every way the source can
   * re-deliver (retries, visibility timeouts, record age), or a late duplicate runs again.
   * @default Duration.hours(1) (Powertools' default)
   */
  readonly idempotencyExpiry?: Duration;
  /**
   * Log level of the Powertools Logger (`DEBUG`, `INFO`, `WARN`, `ERROR`).
   * @default 'INFO'
   */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /**
   * How long function logs are kept.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
}

export interface ConsumerFunctionProps extends ConsumerFunctionOptions {
  /** Path of the handler's `index.ts` (its `handler` export is the entry point). */
  readonly entry: string;
  /** Service name in logs and metrics (`POWERTOOLS_SERVICE_NAME`). */
  readonly serviceName: string;
  /** The table the handler's idempotency records go to; read and write access is granted. */
  readonly idempotencyTable: IdempotencyTable;
  /** What the function does, shown in the console. */
  readonly description: string;
  /** Extra environment variables for the handler. */
  readonly environment?: Record<string, string>;
  /** Removal policy of the log group. @default RemovalPolicy.DESTROY */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * A Lambda function as every path of this template ships it: newest Node.js runtime on arm64, bundled locally
 * by esbuild (no Docker), X-Ray tracing, its own log group with a retention, Powertools configured through
 * the environment, and least-privilege access to the idempotency table.
 */
export class ConsumerFunction extends Construct {
  /** The function. */
  readonly function: NodejsFunction;
  /** The function's timeout, resolved from the props (used by the paths to derive their retry timings). */
  readonly timeout: Duration;

  constructor(scope: Construct, id: string, props: ConsumerFunctionProps) {
    super(scope, id);
    this.timeout = props.timeout ?? Duration.seconds(30);
    assertDurationInRange(this, 'timeout', this.timeout, Duration.seconds(1), LAMBDA_MAX_TIMEOUT);
    assertIntegerInRange(this, 'memorySize', props.memorySize, LAMBDA_MIN_MEMORY_MB, LAMBDA_MAX_MEMORY_MB);
    const idempotencyExpiry = props.idempotencyExpiry ?? Duration.hours(1);
    assertDurationInRange(
      this,
      'idempotencyExpiry',
      idempotencyExpiry,
      Duration.minutes(1),
      Duration.days(30),
      'a record must outlive every re-delivery it protects against',
    );

    const logGroup = new LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });

    this.function = new NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: 'handler',
      description: props.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      timeout: this.timeout,
      memorySize: props.memorySize ?? 256,
      tracing: Tracing.ACTIVE,
      logGroup,
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_LOG_LEVEL: props.logLevel ?? 'INFO',
        IDEMPOTENCY_TABLE_NAME: props.idempotencyTable.table.tableName,
        IDEMPOTENCY_EXPIRY_SECONDS: String(idempotencyExpiry.toSeconds()),
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        // Local esbuild (a devDependency): no Docker. The AWS SDK v3 ships with the runtime and stays external.
        forceDockerBundling: false,
        minify: true,
        sourceMap: true,
        target: 'node24',
        format: OutputFormat.CJS,
        externalModules: ['@aws-sdk/*'],
      },
    });
    props.idempotencyTable.grantIdempotencyAccess(this.function);

    // cdk-nag findings that every consumer shares, each acknowledged for its specific finding only.
    Validations.of(this).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason:
          'AWS-maintained policy that only lets the function write its own CloudWatch logs; CDK attaches it to every function role.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'X-Ray tracing (Tracing.ACTIVE): xray:PutTraceSegments and xray:PutTelemetryRecords do not support resource-level permissions.',
      },
    );
  }
}
