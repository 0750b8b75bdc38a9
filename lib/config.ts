import { RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Node } from 'constructs';

/**
 * Stage configuration, read once from CDK context (`cdk.json`, or `cdk synth -c stage=prod`) and validated
 * before any construct is built.
 */
export interface StageConfig {
  /** Short stage name, part of every stack name: `sandbox`, `dev`, `prod`... */
  readonly stageName: string;
  /**
   * Whether stateful resources (idempotency table, buckets, dead-letter queues, streams) survive `cdk destroy`.
   * A sandbox is thrown away cleanly; any other stage keeps its data unless told otherwise.
   */
  readonly retainData: boolean;
  /** How long function logs are kept. */
  readonly logRetention: RetentionDays;
}

/** Context keys this app reads, with their defaults. Documented in the README's "Settings" section. */
export const CONTEXT_KEYS = {
  stage: 'stage',
  retainData: 'retainData',
  logRetentionDays: 'logRetentionDays',
} as const;

const STAGE_NAME_PATTERN = /^[a-z][a-z0-9-]{0,19}$/;

/** Reads and validates the stage configuration from context. Throws with a clear message on bad input. */
export function readStageConfig(node: Node): StageConfig {
  const stageName = String(node.tryGetContext(CONTEXT_KEYS.stage) ?? 'sandbox');
  if (!STAGE_NAME_PATTERN.test(stageName)) {
    throw new Error(
      `Context "${CONTEXT_KEYS.stage}" must be 1-20 lower-case letters, digits or dashes starting with a letter, got "${stageName}".`,
    );
  }
  const retainData = parseBoolean(node.tryGetContext(CONTEXT_KEYS.retainData), stageName !== 'sandbox');
  const logRetentionDays = Number(node.tryGetContext(CONTEXT_KEYS.logRetentionDays) ?? 30);
  const validRetention = Object.values(RetentionDays).filter((v): v is number => typeof v === 'number');
  if (!validRetention.includes(logRetentionDays) || logRetentionDays === RetentionDays.INFINITE) {
    throw new Error(
      `Context "${CONTEXT_KEYS.logRetentionDays}" must be one of CloudWatch's retention periods (${validRetention
        .filter((v) => v !== RetentionDays.INFINITE)
        .join(', ')}), got "${node.tryGetContext(CONTEXT_KEYS.logRetentionDays)}".`,
    );
  }
  return { stageName, retainData, logRetention: logRetentionDays as RetentionDays };
}

/** The removal policy for stateful resources of a stage. */
export function removalPolicyFor(config: Pick<StageConfig, 'retainData'>): RemovalPolicy {
  return config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
}

function parseBoolean(value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new Error(`Context "${CONTEXT_KEYS.retainData}" must be true or false, got "${String(value)}".`);
}
