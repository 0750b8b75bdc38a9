import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { readStageConfig, StageConfig } from './config';
import { ObjectIngestionStack } from './stacks/object-ingestion-stack';
import { SqsIngestionStack } from './stacks/sqs-ingestion-stack';
import { StreamIngestionStack } from './stacks/stream-ingestion-stack';

/** The stacks of one stage, each deployable and destroyable on its own. */
export interface ReliableLambdaStacks {
  readonly config: StageConfig;
  readonly sqs: SqsIngestionStack;
  readonly object: ObjectIngestionStack;
  readonly stream: StreamIngestionStack;
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
  const sqs = new SqsIngestionStack(app, 'Sqs', {
    stackName: `reliable-lambda-${config.stageName}-sqs`,
    config,
  });
  const object = new ObjectIngestionStack(app, 'Object', {
    stackName: `reliable-lambda-${config.stageName}-object`,
    config,
  });
  const stream = new StreamIngestionStack(app, 'Stream', {
    stackName: `reliable-lambda-${config.stageName}-stream`,
    config,
  });
  return { config, sqs, object, stream };
}
