import { RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Node } from 'constructs';

/**
 * Stage configuration, read once from CDK context (`cdk.json`, or `cdk synth -c stage=prod`) and validated
 * before any construct is built.
 */
export interface StageConfig {
  /**
   * The app's name: the first part of every stack name (`<appName>-<stage>-<path>`) and so of every resource name
   * CloudFormation derives from it. Set once, in cdk.json's context; a fork renames it there.
   */
  readonly appName: string;
  /** Short stage name, part of every stack name: `sandbox`, `dev`, `prod`... */
  readonly stageName: string;
  /** The ingestion paths the app deploys, one stack each, in the order of {@link INGESTION_PATHS}. */
  readonly paths: readonly IngestionPathName[];
  /**
   * Whether stateful resources (idempotency table, buckets, dead-letter queues, streams) survive `cdk destroy`.
   * A sandbox is thrown away cleanly; any other stage keeps its data unless told otherwise.
   */
  readonly retainData: boolean;
  /** How long function logs are kept. */
  readonly logRetention: RetentionDays;
  /**
   * The e-mail address subscribed to the stage's alarm topic (SNS sends a confirmation first); `undefined`: no
   * subscription (subscribe a pager, chat or other endpoint to the topic yourself).
   */
  readonly alarmEmail?: string;
}

/** The ingestion paths this template has, each a stack of its own. */
export const INGESTION_PATHS = ['sqs', 'object', 'stream', 'fifo', 'table-stream', 'http'] as const;
export type IngestionPathName = (typeof INGESTION_PATHS)[number];

/** Context keys this app reads, with their defaults. Documented in the README's "Settings" section. */
export const CONTEXT_KEYS = {
  appName: 'appName',
  stage: 'stage',
  paths: 'paths',
  retainData: 'retainData',
  logRetentionDays: 'logRetentionDays',
  alarmEmail: 'alarmEmail',
} as const;

/**
 * An e-mail address as SNS takes it for an `email` subscription: one `@`, no spaces, a dot in the domain. Not the
 * whole of RFC 5322, on purpose: what passes here SNS accepts, and a typo such as a missing domain fails synth.
 */
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const APP_NAME_PATTERN = /^[a-z][a-z0-9-]{0,29}$/;
const STAGE_NAME_PATTERN = /^[a-z][a-z0-9-]{0,19}$/;

/** Bad configuration: every problem found in the context, one per line. */
export class ContextError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      problems.length === 1
        ? problems[0]
        : `${problems.length} context values are wrong (fix them all before synthesizing again):\n${problems
            .map((problem) => `  - ${problem}`)
            .join('\n')}`,
    );
    this.name = 'ContextError';
  }
}

/**
 * Reads and validates the stage configuration from context. Every bad value is reported at once, in one
 * {@link ContextError}, so one failed synth shows everything there is to fix.
 */
export function readStageConfig(node: Node): StageConfig {
  const problems: string[] = [];
  const appName = node.tryGetContext(CONTEXT_KEYS.appName) as unknown;
  if (appName === undefined) {
    problems.push(
      `Context "${CONTEXT_KEYS.appName}" is missing: set it in cdk.json's "context" (the first part of every stack name).`,
    );
  } else if (typeof appName !== 'string' || !APP_NAME_PATTERN.test(appName)) {
    problems.push(
      `Context "${CONTEXT_KEYS.appName}" must be 1-30 lower-case letters, digits or dashes starting with a letter, got "${String(appName)}".`,
    );
  }
  const stageName = String(node.tryGetContext(CONTEXT_KEYS.stage) ?? 'sandbox');
  if (!STAGE_NAME_PATTERN.test(stageName)) {
    problems.push(
      `Context "${CONTEXT_KEYS.stage}" must be 1-20 lower-case letters, digits or dashes starting with a letter, got "${stageName}".`,
    );
  }
  const paths = readPaths(node.tryGetContext(CONTEXT_KEYS.paths), problems);
  const retainData = readBoolean(
    CONTEXT_KEYS.retainData,
    node.tryGetContext(CONTEXT_KEYS.retainData),
    stageName !== 'sandbox',
    problems,
  );
  const logRetentionDays = Number(node.tryGetContext(CONTEXT_KEYS.logRetentionDays) ?? 30);
  const validRetention = Object.values(RetentionDays).filter((v): v is number => typeof v === 'number');
  if (!validRetention.includes(logRetentionDays) || logRetentionDays === RetentionDays.INFINITE) {
    problems.push(
      `Context "${CONTEXT_KEYS.logRetentionDays}" must be one of CloudWatch's retention periods (${validRetention
        .filter((v) => v !== RetentionDays.INFINITE)
        .join(', ')}), got "${node.tryGetContext(CONTEXT_KEYS.logRetentionDays)}".`,
    );
  }
  const alarmEmail = node.tryGetContext(CONTEXT_KEYS.alarmEmail) as unknown;
  if (alarmEmail !== undefined && (typeof alarmEmail !== 'string' || !EMAIL_PATTERN.test(alarmEmail))) {
    problems.push(
      `Context "${CONTEXT_KEYS.alarmEmail}" must be an e-mail address (name@example.com) for the stage's alarm topic, ` +
        `got ${JSON.stringify(alarmEmail)}; leave it unset for no subscription.`,
    );
  }
  if (problems.length > 0) throw new ContextError(problems);
  return {
    appName: appName as string,
    stageName,
    paths,
    retainData,
    logRetention: logRetentionDays as RetentionDays,
    ...(alarmEmail !== undefined && { alarmEmail: alarmEmail as string }),
  };
}

/**
 * The stage's monitoring stack: `<appName>-<stage>-monitoring` (the alarm topic and the dashboard), next to the path
 * stacks `<appName>-<stage>-<path>`.
 */
export function monitoringStackNameOf(config: Pick<StageConfig, 'appName' | 'stageName'>): string {
  return `${config.appName}-${config.stageName}-monitoring`;
}

/** The stage's alarm topic, `<appName>-<stage>-alarms`: every alarm of every path stack notifies it. */
export function alarmTopicNameOf(config: Pick<StageConfig, 'appName' | 'stageName'>): string {
  return `${config.appName}-${config.stageName}-alarms`;
}

/** The CloudWatch namespace of the stage's business metrics: `<appName>/<stage>`. */
export function metricsNamespaceOf(config: Pick<StageConfig, 'appName' | 'stageName'>): string {
  return `${config.appName}/${config.stageName}`;
}

/** The name of a path's stack: `<appName>-<stage>-<path>`, also its construct id, so `cdk deploy <name>` finds it. */
export function stackNameOf(
  config: Pick<StageConfig, 'appName' | 'stageName'>,
  path: IngestionPathName,
): string {
  return `${config.appName}-${config.stageName}-${path}`;
}

/**
 * The `paths` context: a JSON list in cdk.json (`["sqs", "stream"]`) or a comma-separated string on the command
 * line (`-c paths=sqs,stream`). Absent: every path.
 */
export function readPaths(value: unknown, problems: string[]): IngestionPathName[] {
  if (value === undefined) return [...INGESTION_PATHS];
  const names =
    typeof value === 'string'
      ? value
          .split(',')
          .map((name) => name.trim())
          .filter((name) => name !== '')
      : value;
  const expected = `a list of one or more of ${INGESTION_PATHS.join(', ')} (in cdk.json: ["sqs"]; on the command line: -c paths=sqs,stream)`;
  if (!Array.isArray(names) || names.length === 0) {
    problems.push(`Context "${CONTEXT_KEYS.paths}" must be ${expected}, got ${JSON.stringify(value)}.`);
    return [];
  }
  const unknown = names.filter((name) => !(INGESTION_PATHS as readonly unknown[]).includes(name));
  if (unknown.length > 0) {
    problems.push(
      `Context "${CONTEXT_KEYS.paths}" names ${unknown.map((name) => JSON.stringify(name)).join(', ')}: it must be ${expected}.`,
    );
  }
  const duplicates = names.filter((name, index) => names.indexOf(name) !== index);
  if (duplicates.length > 0) {
    problems.push(`Context "${CONTEXT_KEYS.paths}" names ${JSON.stringify(duplicates[0])} twice.`);
  }
  return INGESTION_PATHS.filter((path) => names.includes(path));
}

/**
 * Context keys that look like a setting of this app but are not one (a typo such as `-c stag=prod`): CDK ignores
 * unknown keys, so without this warning the mistyped value is silently not used. Keys of CDK itself (feature flags
 * `@aws-cdk/…`, `aws:cdk:…`, `cdk-…` lookups, `acknowledged-issue-numbers`) are not the app's and are left alone.
 */
export function unknownContextKeys(context: Readonly<Record<string, unknown>>): string[] {
  const known = new Set<string>(Object.values(CONTEXT_KEYS));
  return Object.keys(context).filter(
    (key) =>
      !known.has(key) &&
      !key.startsWith('@aws-cdk') &&
      !key.startsWith('aws:') &&
      !key.startsWith('aws-cdk:') &&
      !key.startsWith('cdk') &&
      !key.includes(':') &&
      key !== 'acknowledged-issue-numbers',
  );
}

/** The removal policy for stateful resources of a stage. */
export function removalPolicyFor(config: Pick<StageConfig, 'retainData'>): RemovalPolicy {
  return config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
}

function readBoolean(key: string, value: unknown, fallback: boolean, problems: string[]): boolean {
  if (value === undefined) return fallback;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  problems.push(`Context "${key}" must be true or false, got "${String(value)}".`);
  return fallback;
}
