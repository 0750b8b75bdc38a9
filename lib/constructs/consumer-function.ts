import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { PolicyDocument, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, QueryDefinition, QueryString, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct, IConstruct } from 'constructs';
import { DYNAMODB_BUDGET_ENVIRONMENT, dynamoDbCallBudget } from '../../lambda/shared/deadlines';
import { SIDE_EFFECT_LOG_MESSAGE } from '../../lambda/shared/side-effect';
import { bundledCode, type EsbuildSettings } from '../bundling';
import { assertDurationInRange, assertIntegerInRange, type Check, validateAll } from '../validation';
import { EffectTable } from './effect-table';
import { IdempotencyTable } from './idempotency-table';

/** Lambda's own limits (AWS Lambda quotas). */
export const LAMBDA_MAX_TIMEOUT = Duration.minutes(15);
export const LAMBDA_MIN_MEMORY_MB = 128;
export const LAMBDA_MAX_MEMORY_MB = 10240;
/** Every consumer's memory unless set (see {@link ConsumerFunctionOptions.memorySize}). */
export const DEFAULT_MEMORY_MB = 512;
/**
 * The range of {@link ConsumerFunctionOptions.idempotencyExpiry}: from a minute up to 365 days, the longest a
 * Kinesis stream retains a record (and so the longest re-delivery window any path here can have).
 */
export const MIN_IDEMPOTENCY_EXPIRY = Duration.minutes(1);
export const MAX_IDEMPOTENCY_EXPIRY = Duration.days(365);

/** The esbuild settings of {@link CONSUMER_BUNDLING}: the ones that decide what the bundle contains. */
export type ConsumerBundling = EsbuildSettings;

/**
 * How every consumer is bundled (esbuild's API in the synth process, lib/bundling.ts; esbuild is a
 * devDependency: no Docker). Exported so the benchmark (`npm run bench`, bench/lib/bundle.ts) builds exactly
 * what deploys, with the same translation to esbuild's options, and checks that its bundle is byte for byte
 * the asset `cdk synth` stages. Each choice is measured there (docs/performance.md, cold starts):
 * - CommonJS, not ESM: with the AWS SDK external, an ESM bundle makes Node load the SDK's ESM build (many small
 *   modules through the slower ESM loader): +15 % wall time. The local simulator (tools/local) also loads the
 *   bundles as CommonJS.
 * - The AWS SDK v3 stays external: the runtime provides it, and a bundled DynamoDB client (≈530 KB minified)
 *   loaded slower than the runtime's copy (+11 %).
 * - Minified: 2.7× fewer bytes to read and parse.
 * - Source maps without the sources (`sourcesContent: false`): stack traces still name the TypeScript file and
 *   line (`NODE_OPTIONS=--enable-source-maps`), but the map Node reads and parses at load is 5× smaller, which
 *   took 4 % off a cold start.
 */
export const CONSUMER_BUNDLING: ConsumerBundling = {
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  target: 'node24',
  format: OutputFormat.CJS,
  externalModules: ['@aws-sdk/*'],
};

/** `NODE_OPTIONS` of every consumer: map stack traces in the logs back to the TypeScript sources. */
export const CONSUMER_NODE_OPTIONS = '--enable-source-maps';

/**
 * The CloudWatch namespace of the business metrics (`RecordsApplied`, `DuplicateRecords`, `InvalidPayloads`) unless
 * set: the stacks set `<appName>/<stage>` (lib/config.ts, `metricsNamespaceOf`).
 */
export const DEFAULT_METRICS_NAMESPACE = 'ReliableLambda';

/** What the record-journey query looks for: replace it with the key (or message id) of the record to follow. */
export const RECORD_KEY_PLACEHOLDER = 'REPLACE-WITH-THE-RECORD-KEY';

/** A function's timeout unless set (see {@link ConsumerFunctionOptions.timeout}). */
export const DEFAULT_TIMEOUT = Duration.seconds(30);
/** Powertools' default expiry, for a `ConsumerFunction` used without a path construct deriving one. */
const DEFAULT_IDEMPOTENCY_EXPIRY = Duration.hours(1);

/**
 * The checks of the settings every consumer shares (timeout, memory, idempotency expiry range), for a path
 * construct to run together with its own so that one synth reports every broken rule (`validateAll`); the
 * function runs them again itself. `scope` is the construct whose props they are.
 */
export function consumerFunctionChecks(scope: IConstruct, options: ConsumerFunctionOptions): Check[] {
  return [
    () => assertDurationInRange(scope, 'timeout', options.timeout, Duration.seconds(1), LAMBDA_MAX_TIMEOUT),
    () =>
      assertIntegerInRange(
        scope,
        'memorySize',
        options.memorySize,
        LAMBDA_MIN_MEMORY_MB,
        LAMBDA_MAX_MEMORY_MB,
      ),
    () =>
      assertDurationInRange(
        scope,
        'idempotencyExpiry',
        options.idempotencyExpiry,
        MIN_IDEMPOTENCY_EXPIRY,
        MAX_IDEMPOTENCY_EXPIRY,
        'a record must outlive every re-delivery it protects against, and no source here re-delivers after 365 days',
      ),
  ];
}

/** Settings every consumer function shares; each path construct exposes these through its own props. */
export interface ConsumerFunctionOptions {
  /**
   * How long one invocation may run. Each path derives its retry timings from this (for SQS the queue's
   * visibility timeout), so keep it close to the real worst case.
   * @default Duration.seconds(30)
   */
  readonly timeout?: Duration;
  /**
   * Memory in MB; CPU is allocated in proportion (one full vCPU at 1,769 MB). Raise it with the batch size: a
   * batch's records are held in memory together.
   * @default 512: measured (`npm run bench`, `npm run cost`, docs/performance.md), the handlers peak at
   *   105–260 MB (a parallel SQS batch of 1,000 records at 259 MB, over 256 MB), and 512 MB is the largest size
   *   that costs at most 1 % more per event than 256 MB on every path (+0.2 to +0.7 %) while it halves init and
   *   batch CPU time (1.6–1.9× the records per second per instance)
   */
  readonly memorySize?: number;
  /**
   * How long an idempotency record protects against a re-delivery: 1 minute to 365 days. Must outlast every way
   * the source can re-deliver a record (retries, dead-letter queues and destinations an operator re-drives,
   * replays from a stream), or a late duplicate applies its effect again: each path derives its default from
   * its source and refuses a shorter value at synth time (see the path's own `idempotencyExpiry`).
   * @default derived by each path from its source; `Duration.hours(1)` (Powertools' default) for a
   *   `ConsumerFunction` used on its own
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
  /**
   * The CloudWatch namespace of the handler's business metrics (`POWERTOOLS_METRICS_NAMESPACE`); the `service`
   * dimension is the function's service name.
   * @default 'ReliableLambda' (the stacks set `<appName>/<stage>`)
   */
  readonly metricsNamespace?: string;
}

export interface ConsumerFunctionProps extends ConsumerFunctionOptions {
  /** Path of the handler's `index.ts` (its `handler` export is the entry point). */
  readonly entry: string;
  /** Service name in logs and metrics (`POWERTOOLS_SERVICE_NAME`). */
  readonly serviceName: string;
  /** The table the handler's idempotency records go to; read and write access is granted. */
  readonly idempotencyTable: IdempotencyTable;
  /**
   * The table the business action's effects are written to, in the same DynamoDB transaction as the
   * idempotency record (`EFFECT_TABLE_NAME`); `UpdateItem` on it is granted.
   * @default none: a function whose plans write no effect (the http path's ingress), with no access to any
   */
  readonly effectTable?: EffectTable;
  /** What the function does, shown in the console. */
  readonly description: string;
  /** Extra environment variables for the handler. */
  readonly environment?: Record<string, string>;
  /** Removal policy of the log group. @default RemovalPolicy.DESTROY */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * A Lambda function as every path of this template ships it: newest Node.js runtime on arm64, bundled by
 * esbuild in the synth process (no Docker, no npx), X-Ray tracing, its own log group with a retention,
 * Powertools configured through the environment, and least-privilege access to the idempotency table and the
 * effect table.
 */
export class ConsumerFunction extends Construct {
  /** The function. */
  readonly function: NodejsFunction;
  /** The function's timeout, resolved from the props (used by the paths to derive their retry timings). */
  readonly timeout: Duration;
  /** The service name: the `service` dimension of the business metrics. */
  readonly serviceName: string;
  /** The namespace of the business metrics. */
  readonly metricsNamespace: string;
  /** The saved Logs Insights queries on the function's log group (see {@link createSavedQueries}). */
  readonly queries: SavedQueries;

  constructor(scope: Construct, id: string, props: ConsumerFunctionProps) {
    super(scope, id);
    this.timeout = props.timeout ?? DEFAULT_TIMEOUT;
    this.serviceName = props.serviceName;
    this.metricsNamespace = props.metricsNamespace ?? DEFAULT_METRICS_NAMESPACE;
    const idempotencyExpiry = props.idempotencyExpiry ?? DEFAULT_IDEMPOTENCY_EXPIRY;
    validateAll(this, consumerFunctionChecks(this, { ...props, idempotencyExpiry }));

    const budget = dynamoDbCallBudget(this.timeout.toMilliseconds());

    const logGroup = new LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });

    // The function's own role, so that CDK attaches no AWS-managed AWSLambdaBasicExecutionRole to it: that policy
    // lets a function create log groups and write to every log group of the account. This role may only write to
    // the function's own log group (an inline policy; the log group's ARN ends in `:*`, its log streams). Tracing
    // and the table grants below add their statements to the role's default policy.
    const role = new Role(this, 'ServiceRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      inlinePolicies: {
        OwnLogGroup: new PolicyDocument({
          statements: [
            new PolicyStatement({
              actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              resources: [logGroup.logGroupArn],
            }),
          ],
        }),
      },
    });

    // A NodejsFunction given its code, so it bundles nothing itself: `.function` keeps its type for the path
    // constructs, while the bundle comes from esbuild's API in this process instead of `npx esbuild`, which
    // spent ≈0.6 s per function starting npm (lib/bundling.ts). `index.handler`: esbuild writes index.js.
    this.function = new NodejsFunction(this, 'Function', {
      code: bundledCode(props.entry, CONSUMER_BUNDLING),
      handler: 'index.handler',
      description: props.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      timeout: this.timeout,
      memorySize: props.memorySize ?? DEFAULT_MEMORY_MB,
      tracing: Tracing.ACTIVE,
      logGroup,
      role,
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_LOG_LEVEL: props.logLevel ?? 'INFO',
        // The business metrics (embedded metric format): their namespace; the service name is their dimension.
        POWERTOOLS_METRICS_NAMESPACE: this.metricsNamespace,
        IDEMPOTENCY_TABLE_NAME: props.idempotencyTable.table.tableName,
        IDEMPOTENCY_EXPIRY_SECONDS: String(idempotencyExpiry.toSeconds()),
        ...(props.effectTable && { EFFECT_TABLE_NAME: props.effectTable.table.tableName }),
        // Every DynamoDB call's request timeout and attempts, sized from the function timeout
        // (lambda/shared/deadlines.ts), so a hung call cannot hold the invocation to its timeout.
        [DYNAMODB_BUDGET_ENVIRONMENT.requestTimeoutMs]: String(budget.requestTimeoutMs),
        [DYNAMODB_BUDGET_ENVIRONMENT.maxAttempts]: String(budget.maxAttempts),
        NODE_OPTIONS: CONSUMER_NODE_OPTIONS,
        ...props.environment,
      },
    });
    props.idempotencyTable.grantIdempotencyAccess(this.function);
    props.effectTable?.grantEffectWrites(this.function);
    this.queries = createSavedQueries(this, logGroup, props.serviceName);

    // The cdk-nag finding that every consumer shares, acknowledged for its specific finding only.
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray tracing (Tracing.ACTIVE): xray:PutTraceSegments and xray:PutTelemetryRecords do not support resource-level permissions.',
    });
  }
}

/** The saved Logs Insights queries of a consumer's log group. */
export interface SavedQueries {
  /** Side effects per record key, most first: a count above 1 is a duplicate effect (never expected). */
  readonly sideEffectsPerRecordKey: QueryDefinition;
  /** Invalid payloads, counted by the line's message and reason. */
  readonly invalidPayloadsByReason: QueryDefinition;
  /** Failed records (ERROR and WARN lines), counted by message and error. */
  readonly failedRecordsByError: QueryDefinition;
  /** Every line about one record, oldest first: replace the placeholder with its key (or message id). */
  readonly recordJourney: QueryDefinition;
}

/**
 * The four saved queries on a consumer's log group, in the console's folder `<stack>/<service>` (Logs Insights,
 * "Saved queries"). They read the handlers' structured lines (lambda/shared/apply-record.ts, side-effect.ts): the
 * `message` of each outcome, `recordKey`, `reason` and `error`.
 */
export function createSavedQueries(scope: Construct, logGroup: LogGroup, serviceName: string): SavedQueries {
  const folder = `${Stack.of(scope).stackName}/${serviceName}`;
  const query = (id: string, name: string, queryString: QueryString) =>
    new QueryDefinition(scope, id, {
      queryDefinitionName: `${folder}/${name}`,
      queryString,
      logGroups: [logGroup],
    });
  return {
    sideEffectsPerRecordKey: query(
      'SideEffectsPerRecordKeyQuery',
      'side effects per record key (a count above 1 is a duplicate)',
      new QueryString({
        fields: ['@timestamp', 'recordKey'],
        filterStatements: [`message = "${SIDE_EFFECT_LOG_MESSAGE}"`],
        statsStatements: [
          'count(*) as sideEffects, earliest(@timestamp) as first, latest(@timestamp) as last by recordKey',
        ],
        sort: 'sideEffects desc',
        limit: 100,
      }),
    ),
    invalidPayloadsByReason: query(
      'InvalidPayloadsByReasonQuery',
      'invalid payloads by reason',
      new QueryString({
        filterStatements: ['message like /^invalid/'],
        statsStatements: ['count(*) as records by message, reason'],
        sort: 'records desc',
        limit: 100,
      }),
    ),
    failedRecordsByError: query(
      'FailedRecordsByErrorQuery',
      'failed records by error',
      new QueryString({
        filterStatements: ['level = "ERROR" or level = "WARN"'],
        statsStatements: ['count(*) as lines by message, error.name, error.code'],
        sort: 'lines desc',
        limit: 100,
      }),
    ),
    recordJourney: query(
      'RecordJourneyQuery',
      "one record's journey (replace the key)",
      new QueryString({
        fields: [
          '@timestamp',
          'level',
          'message',
          'recordKey',
          'function_request_id',
          'cold_start',
          'error.message',
        ],
        filterStatements: [`@message like "${RECORD_KEY_PLACEHOLDER}"`],
        sort: '@timestamp asc',
        limit: 1000,
      }),
    ),
  };
}
