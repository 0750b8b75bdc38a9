import { Annotations, App, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import {
  CONTEXT_KEYS,
  type IngestionPathName,
  monitoringStackNameOf,
  readStageConfig,
  stackNameOf,
  StageConfig,
  unknownContextKeys,
} from './config';
import { FifoIngestionStack, type FifoIngestionStackProps } from './stacks/fifo-ingestion-stack';
import { HttpIngestionStack, type HttpIngestionStackProps } from './stacks/http-ingestion-stack';
import { MonitoringStack } from './stacks/monitoring-stack';
import { ObjectIngestionStack, type ObjectIngestionStackProps } from './stacks/object-ingestion-stack';
import { SqsIngestionStack, type SqsIngestionStackProps } from './stacks/sqs-ingestion-stack';
import { StreamIngestionStack, type StreamIngestionStackProps } from './stacks/stream-ingestion-stack';
import {
  TableStreamIngestionStack,
  type TableStreamIngestionStackProps,
} from './stacks/table-stream-ingestion-stack';
import { ConfigurationError, ConfigurationErrors } from './validation';
import type { PathFlow } from './constructs/dashboard';

/** The stacks of one stage, each deployable and destroyable on its own; a path not in `config.paths` has none. */
export interface ReliableLambdaStacks {
  readonly config: StageConfig;
  readonly sqs?: SqsIngestionStack;
  readonly object?: ObjectIngestionStack;
  readonly stream?: StreamIngestionStack;
  readonly fifo?: FifoIngestionStack;
  readonly 'table-stream'?: TableStreamIngestionStack;
  readonly http?: HttpIngestionStack;
  /** The stage's alarm topic and dashboard (`<appName>-<stage>-monitoring`). */
  readonly monitoring: MonitoringStack;
}

/** Settings of a path's stack beyond the stage's (its consumer's batch size, timeouts...), per path. */
export interface StackOverrides {
  readonly sqs?: Omit<SqsIngestionStackProps, 'config'>;
  readonly object?: Omit<ObjectIngestionStackProps, 'config'>;
  readonly stream?: Omit<StreamIngestionStackProps, 'config'>;
  readonly fifo?: Omit<FifoIngestionStackProps, 'config'>;
  readonly 'table-stream'?: Omit<TableStreamIngestionStackProps, 'config'>;
  readonly http?: Omit<HttpIngestionStackProps, 'config'>;
}

export interface BuildAppOptions {
  /** Run cdk-nag on synth. @default true */
  readonly nag?: boolean;
  /** Per-path stack settings, e.g. `{ sqs: { consumer: { batchSize: 50 } } }`. @default none */
  readonly overrides?: StackOverrides;
}

const STACK_OF_PATH = {
  sqs: SqsIngestionStack,
  object: ObjectIngestionStack,
  stream: StreamIngestionStack,
  fifo: FifoIngestionStack,
  'table-stream': TableStreamIngestionStack,
  http: HttpIngestionStack,
} satisfies Record<IngestionPathName, unknown>;

/**
 * Composes the app: reads the stage configuration from context, adds one stack per configured ingestion path
 * (context `paths`), and registers cdk-nag (AwsSolutions and Serverless packs) through CDK's validation plugins,
 * so `cdk synth` fails while any finding is unacknowledged.
 *
 * A stack's construct id is its name (`<appName>-<stage>-<path>`), so the name a user reads in the README and in
 * the console is the one `cdk deploy <name>` selects. Every broken rule of every stack is reported at once.
 */
export function buildApp(app: App, options: BuildAppOptions = {}): ReliableLambdaStacks {
  const config = readStageConfig(app.node);
  if (options.nag ?? true) {
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  }
  const stacks: Partial<Record<IngestionPathName, Stack>> = {};
  const errors: ConfigurationError[] = [];
  for (const path of config.paths) {
    const name = stackNameOf(config, path);
    try {
      const Path = STACK_OF_PATH[path] as new (
        scope: App,
        id: string,
        props:
          | SqsIngestionStackProps
          | ObjectIngestionStackProps
          | StreamIngestionStackProps
          | FifoIngestionStackProps
          | TableStreamIngestionStackProps
          | HttpIngestionStackProps,
      ) => Stack;
      stacks[path] = new Path(app, name, { stackName: name, ...options.overrides?.[path], config });
    } catch (error) {
      // Keep building the other stacks, so one synth reports every broken rule of the app.
      if (!(error instanceof ConfigurationError)) throw error;
      errors.push(...(error instanceof ConfigurationErrors ? error.errors : [error]));
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new ConfigurationErrors(app, errors);

  // The stage's alarm topic and dashboard. It depends on the path stacks (the dashboard reads their resources), and
  // they reach its topic by name only, so each path stack still deploys and destroys on its own.
  const monitoringName = monitoringStackNameOf(config);
  // One dashboard row per deployed path whose stack says what its flow is (lib/constructs/dashboard.ts); a stack
  // of two parts (the http path: its front door and the queue behind it) gives a row for each.
  const flows = config.paths.flatMap((path) => {
    const stack = stacks[path] as
      { readonly flow?: PathFlow; readonly flows?: readonly PathFlow[] } | undefined;
    return stack?.flows ?? (stack?.flow ? [stack.flow] : []);
  });
  const monitoring = new MonitoringStack(app, monitoringName, { stackName: monitoringName, config, flows });

  const unknown = unknownContextKeys(app.node.getAllContext());
  const first = Object.values(stacks)[0];
  if (unknown.length > 0 && first) {
    Annotations.of(first).addWarningV2(
      'reliable-lambda:unknown-context',
      `Context ${unknown.map((key) => `"${key}"`).join(', ')} is not a setting of this app and is ignored ` +
        `(a typo? the settings are ${Object.values(CONTEXT_KEYS).join(', ')}; README, "Settings").`,
    );
  }
  return { config, ...(stacks as Omit<ReliableLambdaStacks, 'config' | 'monitoring'>), monitoring };
}
