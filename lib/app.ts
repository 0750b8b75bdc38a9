import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { readStageConfig, StageConfig } from './config';

/** The stacks of one stage, each deployable and destroyable on its own. */
export interface ReliableLambdaStacks {
  readonly config: StageConfig;
}

/**
 * Composes the app: reads the stage configuration from context, adds one stack per ingestion path, and
 * registers cdk-nag (AwsSolutions and Serverless packs) through CDK's validation plugins, so `cdk synth`
 * fails while any finding is unacknowledged.
 */
export function buildApp(app: App, options: { nag?: boolean } = {}): ReliableLambdaStacks {
  const config = readStageConfig(app.node);
  if (options.nag ?? true) {
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  }
  return { config };
}
