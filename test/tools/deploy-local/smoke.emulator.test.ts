/**
 * `npm run smoke` and deploy:local's resource check against a real deployment on the emulator (moto, Python):
 * not part of `npm test`. `npm run deploy:local` runs this file against the deployment it made
 * (DEPLOY_LOCAL_ENDPOINT, DEPLOY_LOCAL_STAGE); `npm run test:deploy-local` alone starts the emulator, deploys
 * and destroys by itself.
 *
 * Each drift test changes one setting of the deployment behind CloudFormation's back, shows the smoke test
 * fails on it with a line that names it, and puts the setting back.
 */
import { DescribeAlarmsCommand, type MetricAlarm, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import {
  DeleteFunctionEventInvokeConfigCommand,
  GetEventSourceMappingCommand,
  GetFunctionEventInvokeConfigCommand,
  PutFunctionEventInvokeConfigCommand,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import { GetSubscriptionAttributesCommand, SetSubscriptionAttributesCommand } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { join, resolve } from 'node:path';
import { prepareAssembly } from '../../../tools/local/assembly';
import { verifyDeployment } from '../../../tools/deploy-local/deploy';
import {
  type AssemblyStack,
  assemblyStacks,
  bootstrapArgs,
  cdkBinary,
  deployArgs,
  destroyArgs,
  runCommand,
  stageOf,
} from '../../../tools/deploy-local/deploy';
import { type Emulator, startEmulator } from '../../../tools/deploy-local/emulator';
import {
  type Clients,
  createClients,
  destroyClients,
  type DeployedStack,
  readStack,
} from '../../../tools/smoke/aws';
import { appContext, runSmoke, type SmokeSummary } from '../../../tools/smoke/cli';

const projectDir = resolve(__dirname, '../../..');
const assemblyDir = join(projectDir, 'cdk.out');
const appName = appContext(projectDir).appName!;

let emulator: Emulator | undefined;
let endpoint: string;
let stage: string;
let stacks: AssemblyStack[];
let clients: Clients;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  if (process.env.DEPLOY_LOCAL_ENDPOINT) {
    endpoint = process.env.DEPLOY_LOCAL_ENDPOINT;
    env = process.env;
  } else {
    // On its own: an emulator and a deployment of this file's own.
    emulator = await startEmulator({ projectDir });
    endpoint = emulator.endpoint;
    env = emulator.env;
    prepareAssembly({
      projectDir,
      assemblyDir,
      synth: 'auto',
      needsBundles: true,
      progress: () => undefined,
    });
    for (const args of [
      bootstrapArgs(assemblyDir),
      deployArgs(assemblyDir, assemblyStacks(assemblyDir).length),
    ]) {
      const result = await runCommand(cdkBinary(projectDir), args, { cwd: projectDir, env });
      if (result.code !== 0) throw new Error(`cdk ${args[0]} failed:\n${result.output}`);
    }
  }
  stacks = assemblyStacks(assemblyDir);
  stage =
    process.env.DEPLOY_LOCAL_STAGE ??
    stageOf(
      appName,
      stacks.map((stack) => stack.stackName),
    )!;
  clients = createClients({ emulator: true, endpoint, region: 'us-east-1' });
}, 300_000);

afterAll(async () => {
  if (clients) destroyClients(clients);
  if (emulator) {
    await runCommand(cdkBinary(projectDir), destroyArgs(assemblyDir), { cwd: projectDir, env });
    await emulator.stop();
  }
}, 120_000);

async function smoke(options: { stage?: string } = {}): Promise<SmokeSummary & { lines: string[] }> {
  const lines: string[] = [];
  const summary = await runSmoke(
    { projectDir, stage: options.stage ?? stage, emulator: true, print: (line) => lines.push(line) },
    clients,
  );
  return { ...summary, lines };
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function deployed(path: string): Promise<DeployedStack> {
  const stack = await readStack(clients, `${appName}-${stage}-${path}`);
  if (!stack) throw new Error(`${appName}-${stage}-${path} is not deployed`);
  return stack;
}

/** The physical id of the first resource of a type in a deployed stack (optionally with a property set). */
function physicalIdOf(
  stack: DeployedStack,
  type: string,
  where: (props: Record<string, unknown>) => boolean = () => true,
) {
  for (const [logicalId, resource] of Object.entries(stack.template.Resources ?? {})) {
    if (resource.Type === type && where(resource.Properties ?? {})) {
      return { logicalId, physicalId: stack.resources.get(logicalId)!.physicalId };
    }
  }
  throw new Error(`no ${type} in ${stack.stackName}`);
}

/** Runs `change`, expects smoke to fail with exactly the lines matching `expected`, then `restore`s and expects a pass. */
async function expectDrift(
  change: () => Promise<unknown>,
  restore: () => Promise<unknown>,
  expected: RegExp[],
) {
  await change();
  try {
    const drifted = await smoke();
    const failing = drifted.lines.filter((line) => line.startsWith('FAIL'));
    expect(failing).toHaveLength(expected.length);
    for (const pattern of expected) expect(failing.some((line) => pattern.test(line))).toBe(true);
  } finally {
    await restore();
  }
  expect((await smoke()).failed).toBe(0);
}

describe('npm run smoke against the emulated deployment', () => {
  it('passes on the fresh deployment, with a line for each kind of wiring, and says what the emulator cannot show', async () => {
    const result = await smoke();
    expect(result.lines.filter((line) => line.startsWith('FAIL'))).toEqual([]);
    expect(result.failed).toBe(0);
    expect([...result.stacks].sort()).toEqual(stacks.map((stack) => stack.stackName).sort());
    const text = result.lines.join('\n');
    for (const kind of [
      'outputs',
      'queue',
      'event source mapping',
      'event invoke config',
      'subscription',
      'alarm',
      'bucket notifications',
      'log group',
    ]) {
      expect(text).toMatch(new RegExp(`^PASS .*  ${kind}`, 'm'));
    }
    expect(text).toMatch(
      /^NOT CHECKED .* TTL: not checked on the emulator: moto ignores TimeToLiveSpecification/m,
    );
    expect(text).toMatch(/^NOT CHECKED records: no function runs on the emulator/m);
  });

  it('fails when a queue’s visibility timeout or redrive policy differs from the template', async () => {
    const stack = await deployed('sqs');
    const { logicalId, physicalId: queueUrl } = physicalIdOf(
      stack,
      'AWS::SQS::Queue',
      (props) => props.RedrivePolicy !== undefined,
    );
    const { Attributes = {} } = await clients.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        // moto's SetQueueAttributes drops a Policy it is not given (SQS keeps it): sent back each time.
        AttributeNames: ['VisibilityTimeout', 'RedrivePolicy', 'Policy'],
      }),
    );
    const redrive = JSON.parse(Attributes.RedrivePolicy!) as { maxReceiveCount: number };
    await expectDrift(
      () =>
        clients.sqs.send(
          new SetQueueAttributesCommand({
            QueueUrl: queueUrl,
            Attributes: {
              ...Attributes,
              VisibilityTimeout: '31',
              RedrivePolicy: JSON.stringify({ ...redrive, maxReceiveCount: 1 }),
            },
          }),
        ),
      () => clients.sqs.send(new SetQueueAttributesCommand({ QueueUrl: queueUrl, Attributes })),
      [
        new RegExp(
          `queue ${logicalId}: VisibilityTimeout is 31, the template says ${Attributes.VisibilityTimeout}; RedrivePolicy.maxReceiveCount is 1, the template says ${redrive.maxReceiveCount}`,
        ),
      ],
    );
  });

  it('fails when an event source mapping’s batch size differs', async () => {
    const stack = await deployed('stream');
    const { logicalId, physicalId: uuid } = physicalIdOf(stack, 'AWS::Lambda::EventSourceMapping');
    const { BatchSize } = await clients.lambda.send(new GetEventSourceMappingCommand({ UUID: uuid }));
    await expectDrift(
      () => clients.lambda.send(new UpdateEventSourceMappingCommand({ UUID: uuid, BatchSize: 7 })),
      () => clients.lambda.send(new UpdateEventSourceMappingCommand({ UUID: uuid, BatchSize })),
      [new RegExp(`event source mapping ${logicalId}: BatchSize is 7, the template says ${BatchSize}`)],
    );
  });

  it('fails when the asynchronous invocation has lost its event invoke config (retries, destination)', async () => {
    const stack = await deployed('object');
    const { logicalId } = physicalIdOf(stack, 'AWS::Lambda::EventInvokeConfig');
    const functionName = stack.outputs.ConsumerFunctionName;
    const config = await clients.lambda.send(
      new GetFunctionEventInvokeConfigCommand({ FunctionName: functionName }),
    );
    await expectDrift(
      () => clients.lambda.send(new DeleteFunctionEventInvokeConfigCommand({ FunctionName: functionName })),
      () =>
        clients.lambda.send(
          new PutFunctionEventInvokeConfigCommand({
            FunctionName: functionName,
            MaximumRetryAttempts: config.MaximumRetryAttempts,
            MaximumEventAgeInSeconds: config.MaximumEventAgeInSeconds,
            DestinationConfig: config.DestinationConfig,
          }),
        ),
      [new RegExp(`event invoke config ${logicalId}: the function has no event invoke config`)],
    );
  });

  it('fails when the SNS subscription has lost its dead-letter queue', async () => {
    const stack = await deployed('object');
    const { logicalId, physicalId: arn } = physicalIdOf(
      stack,
      'AWS::SNS::Subscription',
      (props) => props.RedrivePolicy !== undefined,
    );
    const { Attributes = {} } = await clients.sns.send(
      new GetSubscriptionAttributesCommand({ SubscriptionArn: arn }),
    );
    await expectDrift(
      () =>
        clients.sns.send(
          new SetSubscriptionAttributesCommand({
            SubscriptionArn: arn,
            AttributeName: 'RedrivePolicy',
            AttributeValue: '',
          }),
        ),
      () =>
        clients.sns.send(
          new SetSubscriptionAttributesCommand({
            SubscriptionArn: arn,
            AttributeName: 'RedrivePolicy',
            AttributeValue: Attributes.RedrivePolicy,
          }),
        ),
      [
        new RegExp(
          `subscription ${logicalId}: RedrivePolicy.deadLetterTargetArn is unset, the template says`,
        ),
      ],
    );
  });

  it('fails when an alarm’s threshold or actions differ', async () => {
    const stack = await deployed('sqs');
    const { logicalId, physicalId: name } = physicalIdOf(stack, 'AWS::CloudWatch::Alarm');
    const { MetricAlarms = [] } = await clients.cloudwatch.send(
      new DescribeAlarmsCommand({ AlarmNames: [name] }),
    );
    const alarm = MetricAlarms[0];
    const put = (changes: Partial<MetricAlarm>) => {
      const merged = { ...alarm, ...changes };
      return clients.cloudwatch.send(
        new PutMetricAlarmCommand({
          AlarmName: merged.AlarmName,
          AlarmDescription: merged.AlarmDescription,
          Namespace: merged.Namespace,
          MetricName: merged.MetricName,
          Dimensions: merged.Dimensions,
          Statistic: merged.Statistic,
          Period: merged.Period,
          EvaluationPeriods: merged.EvaluationPeriods,
          DatapointsToAlarm: merged.DatapointsToAlarm,
          Threshold: merged.Threshold,
          ComparisonOperator: merged.ComparisonOperator,
          TreatMissingData: merged.TreatMissingData,
          ActionsEnabled: merged.ActionsEnabled,
          AlarmActions: merged.AlarmActions,
          OKActions: merged.OKActions,
          InsufficientDataActions: merged.InsufficientDataActions,
        }),
      );
    };
    const topic = `arn:aws:sns:us-east-1:123456789012:someone-elses-topic`;
    await expectDrift(
      () => put({ Threshold: 99, AlarmActions: [topic] }),
      () => put({}),
      [
        new RegExp(
          escape(
            `alarm ${logicalId}: Threshold is 99, the template says ${alarm.Threshold}; ` +
              `AlarmActions is ${JSON.stringify([topic])}, the template says ${JSON.stringify(alarm.AlarmActions ?? [])}`,
          ),
        ),
      ],
    );
  });

  it('fails, naming the stacks it looked for, when no stack of the stage is deployed', async () => {
    const result = await smoke({ stage: 'nowhere' });
    expect(result.failed).toBe(1);
    expect(result.lines.at(-1)).toMatch(
      new RegExp(
        `^FAIL .* stacks: no stack of stage "nowhere" is deployed \\(looked for ${appName}-nowhere-sqs`,
      ),
    );
  });

  it('as a command: exit code 0 on the deployment, 1 on a stage with no stack, 2 on bad usage', async () => {
    const run = (args: string[]) =>
      runCommand('npm', ['run', '-s', 'smoke', '--', ...args], {
        cwd: projectDir,
        env: { ...env, AWS_ENDPOINT_URL: endpoint },
      });
    const [passing, missing, usage] = await Promise.all([
      run(['--stage', stage, '--emulator']),
      run(['--stage', 'nowhere', '--emulator']),
      run(['--stage']),
    ]);
    expect(passing.code).toBe(0);
    expect(passing.output).toMatch(/^smoke: \d+ passed, 0 failed \(\d+ not checked\)$/m);
    expect(missing.code).toBe(1);
    expect(usage.code).toBe(2);
    expect(usage.output).toMatch(/--stage needs a value/);
  });
});

describe('deploy:local resource check against the emulated deployment', () => {
  it('finds every resource of every template, through its own API', async () => {
    const reports = await verifyDeployment(clients, stacks);
    expect(reports.filter((report) => report.failed)).toEqual([]);
    expect(reports.length).toBe(
      stacks.reduce((count, stack) => count + Object.keys(stack.template.Resources ?? {}).length, 0),
    );
  });

  it('fails a resource CloudFormation lists but the service no longer has (an alarm deleted behind its back)', async () => {
    const stack = await deployed('stream');
    const { logicalId, physicalId: name } = physicalIdOf(stack, 'AWS::CloudWatch::Alarm');
    const { MetricAlarms = [] } = await clients.cloudwatch.send(
      new DescribeAlarmsCommand({ AlarmNames: [name] }),
    );
    const alarm = MetricAlarms[0];
    const { DeleteAlarmsCommand } = await import('@aws-sdk/client-cloudwatch');
    await clients.cloudwatch.send(new DeleteAlarmsCommand({ AlarmNames: [name] }));
    try {
      const reports = await verifyDeployment(
        clients,
        stacks.filter((candidate) => candidate.stackName === stack.stackName),
      );
      expect(reports.filter((report) => report.failed)).toEqual([
        expect.objectContaining({ logicalId, lookup: 'DescribeAlarms finds no alarm of that name' }),
      ]);
    } finally {
      await clients.cloudwatch.send(
        new PutMetricAlarmCommand({
          AlarmName: alarm.AlarmName,
          AlarmDescription: alarm.AlarmDescription,
          Namespace: alarm.Namespace,
          MetricName: alarm.MetricName,
          Dimensions: alarm.Dimensions,
          Statistic: alarm.Statistic,
          Period: alarm.Period,
          EvaluationPeriods: alarm.EvaluationPeriods,
          DatapointsToAlarm: alarm.DatapointsToAlarm,
          Threshold: alarm.Threshold,
          ComparisonOperator: alarm.ComparisonOperator,
          TreatMissingData: alarm.TreatMissingData,
        }),
      );
    }
  });

  it('fails a template resource the deployment does not have (what moto skips without a model)', async () => {
    const [first] = stacks;
    const withExtra: AssemblyStack = {
      stackName: first.stackName,
      template: {
        ...first.template,
        Resources: { ...first.template.Resources, Extra: { Type: 'AWS::Pipes::Pipe' } },
      },
    };
    const reports = await verifyDeployment(clients, [withExtra]);
    expect(reports.filter((report) => report.failed)).toEqual([
      expect.objectContaining({
        logicalId: 'Extra',
        status: 'missing',
        detail: expect.stringMatching(/^not created by the emulator/),
      }),
    ]);
  });
});
