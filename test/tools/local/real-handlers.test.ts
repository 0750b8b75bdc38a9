/**
 * The simulator with what deploys: the app synthesized (bundling on, as `cdk synth` does), its templates read by
 * the loader, and the handler bundles from the assembly's asset directories run against dynalite, with faults
 * injected in front of it. A few hundred records per path (each invocation is real I/O, ~15 ms); the 10,000
 * record runs use the model (properties.test.ts).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadCloudAssembly, type LoadedAssembly } from '../../../tools/local/cloudformation';
import { runScenario, type RunResult } from '../../../tools/local/run';
import { parseScenario } from '../../../tools/local/scenario';
import { sampleEvent } from '../../../tools/shared/sample-events';
import { bundledCloudAssembly } from '../../helpers/cloud-assembly';
import { context as cdkJsonContext } from '../../../cdk.json';
import { type IngestionPathName, stackNameOf } from '../../../lib/config';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..', '..');

/** The run's shared cloud assembly (read-only). */
let outdir: string;
/** This file's own files (the commands' scenario and report). */
let scratch: string;
let assembly: LoadedAssembly;
let templates: Record<
  string,
  { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> }
>;
let result: RunResult;
let commands: Promise<CommandOutputs>;
/** The "side effect done" lines: one per committed effect. */
interface SideEffectLine {
  readonly path: string;
  readonly effect: readonly { readonly key: string; readonly add: Readonly<Record<string, number>> }[];
}
const sideEffectLines: SideEffectLine[] = [];
const decimal = (value: number) => Number(value.toFixed(9));

beforeAll(async () => {
  // cdk.json's context (feature flags), bundling on: the assembly `cdk synth` writes.
  outdir = await bundledCloudAssembly();
  scratch = mkdtempSync(join(tmpdir(), 'local-simulator-'));
  // The commands run in processes of their own: started now, they run alongside the scenario below instead of
  // after it. Their test awaits them and makes its assertions there (a failure is reported by that test).
  commands = runCommands();
  commands.catch(() => undefined);
  assembly = loadCloudAssembly(outdir);
  // Each path's stack, by the name the app gives it (its artifact id): `<appName>-sandbox-<path>`.
  const stackName = (path: IngestionPathName) =>
    stackNameOf({ appName: cdkJsonContext.appName, stageName: 'sandbox' }, path);
  templates = {
    Sqs: JSON.parse(readFileSync(join(outdir, `${stackName('sqs')}.template.json`), 'utf8')),
    Object: JSON.parse(readFileSync(join(outdir, `${stackName('object')}.template.json`), 'utf8')),
    Stream: JSON.parse(readFileSync(join(outdir, `${stackName('stream')}.template.json`), 'utf8')),
    Fifo: JSON.parse(readFileSync(join(outdir, `${stackName('fifo')}.template.json`), 'utf8')),
    TableStream: JSON.parse(readFileSync(join(outdir, `${stackName('table-stream')}.template.json`), 'utf8')),
  };
  const scenario = parseScenario({
    name: 'real-handlers',
    seed: 11,
    maxDuration: '12h',
    // Two minutes of DynamoDB outage while the sqs and stream records arrive.
    dynamodbOutages: [{ from: '1s', to: '2m' }],
    paths: {
      sqs: {
        records: 120,
        ratePerSecond: 100,
        faults: {
          poison: 2,
          transient: { count: 4, failures: 2 },
          duplicates: { count: 5, after: '2s' },
          timeouts: { count: 1 },
        },
      },
      object: {
        records: 30,
        ratePerSecond: 50,
        faults: { poison: 1, transient: { count: 2, failures: 1 }, duplicates: { count: 2, after: '5s' } },
      },
      stream: {
        records: 120,
        ratePerSecond: 200,
        partitionKeys: 6,
        faults: { poison: 2, transient: { count: 4, failures: 1 }, duplicates: { count: 4, after: '1s' } },
      },
      // Six accounts (message groups); copies inside SQS's 5-minute deduplication interval (dropped) and past it
      // (answered from the idempotency store).
      fifo: {
        records: 120,
        ratePerSecond: 100,
        groups: 6,
        faults: {
          poison: 2,
          transient: { count: 4, failures: 1 },
          duplicates: { count: 4, after: ['2s', '6m'] },
        },
      },
      // Six items; four expirations by time to live (the mapping's filter keeps them from the function); a write
      // repeated changes nothing, so writes no stream record.
      'table-stream': {
        records: 120,
        ratePerSecond: 100,
        groups: 6,
        expirations: 4,
        faults: { poison: 2, transient: { count: 4, failures: 1 }, duplicates: { count: 2, after: '1s' } },
      },
    },
  });
  // The SDK's own retries (milliseconds apart) meet the same fault, since faults are decided per invocation:
  // one attempt saves real time and changes no outcome.
  result = await runScenario({
    scenario,
    config: assembly.config,
    functions: 'bundles',
    bundleEnvironment: { AWS_MAX_ATTEMPTS: '1', DYNAMODB_MAX_ATTEMPTS: '1' },
    onLog: (line) => {
      if (!line.includes('"side effect done"')) return;
      const json = JSON.parse(line) as SideEffectLine;
      sideEffectLines.push(json);
    },
  });
}, 120_000);

afterAll(async () => {
  // Never leave the commands' processes writing into a removed directory.
  await commands?.catch(() => undefined);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

interface CommandOutputs {
  readonly invoked: { readonly stdout: string; readonly stderr: string };
  readonly local: { readonly stdout: string; readonly stderr: string };
  readonly jsonFile: string;
}

/** `npm run invoke` on the SQS bundle and `npm run local` on a small scenario file, both on the assembly. */
async function runCommands(): Promise<CommandOutputs> {
  const tsx = join(ROOT, 'node_modules', '.bin', 'tsx');
  const scenarioFile = join(scratch, 'tiny.json');
  writeFileSync(scenarioFile, JSON.stringify({ path: 'sqs', records: 20, seed: 3, faults: { poison: 1 } }));
  const jsonFile = join(scratch, 'report.json');
  const [invoked, local] = await Promise.all([
    run(tsx, ['tools/local/invoke.ts', 'sqs-consumer', '--cdk-out', outdir, '--no-synth'], { cwd: ROOT }),
    run(
      tsx,
      [
        'tools/local/cli.ts',
        scenarioFile,
        '--model',
        '--cdk-out',
        outdir,
        '--no-synth',
        '--quiet',
        '--json',
        jsonFile,
      ],
      { cwd: ROOT },
    ),
  ]);
  return { invoked, local, jsonFile };
}

function resourceOf(stack: string, type: string) {
  const [logicalId, resource] = Object.entries(templates[stack].Resources).find(([, r]) => r.Type === type)!;
  return { logicalId, props: resource.Properties };
}

describe('the loader reads what the templates deploy', () => {
  it('finds each path and its function bundle in the asset directories', () => {
    const entry = result.sim.entryPoints();
    for (const path of ['sqs', 'object', 'stream', 'fifo', 'table-stream'] as const) {
      const fn = assembly.config.functions.find((f) => f.id === entry[path]!.functionId)!;
      expect(existsSync(join(fn.code!.directory, 'index.js'))).toBe(true);
      expect(fn.code!.directory.startsWith(outdir)).toBe(true);
      // The table name is a token in the template: a local name stands in for it.
      expect(fn.environment.IDEMPOTENCY_TABLE_NAME).toMatch(
        new RegExp(`^${cdkJsonContext.appName}-\\w+-[\\w-]+-IdempotencyTable`),
      );
    }
  });

  it('takes the settings from AWS::SQS::Queue, AWS::Lambda::EventSourceMapping, EventInvokeConfig and the Kinesis mapping', () => {
    const [sqsMapping] = assembly.config.sqsEventSourceMappings;
    const esm = resourceOf('Sqs', 'AWS::Lambda::EventSourceMapping').props;
    expect(sqsMapping.batchSize).toBe(esm.BatchSize ?? 10);
    expect(sqsMapping.maximumConcurrency).toBe(
      (esm.ScalingConfig as { MaximumConcurrency?: number })?.MaximumConcurrency,
    );
    const queue = assembly.config.queues.find((q) => q.queueArn === sqsMapping.queueArn)!;
    const source = Object.values(templates.Sqs.Resources).find(
      (r) => r.Type === 'AWS::SQS::Queue' && r.Properties.RedrivePolicy,
    )!;
    expect(queue.visibilityTimeoutSeconds).toBe(source.Properties.VisibilityTimeout);
    expect(queue.redrivePolicy?.maxReceiveCount).toBe(
      (source.Properties.RedrivePolicy as { maxReceiveCount: number }).maxReceiveCount,
    );

    const invoke = resourceOf('Object', 'AWS::Lambda::EventInvokeConfig').props;
    expect(assembly.config.eventInvokeConfigs[0]).toMatchObject({
      maximumRetryAttempts: invoke.MaximumRetryAttempts,
      maximumEventAgeSeconds: invoke.MaximumEventAgeInSeconds,
    });
    expect(assembly.config.snsSubscriptions[0].deadLetterTargetArn).toBeDefined();

    const kinesis = resourceOf('Stream', 'AWS::Lambda::EventSourceMapping').props;
    expect(assembly.config.kinesisEventSourceMappings[0]).toMatchObject({
      batchSize: kinesis.BatchSize,
      bisectBatchOnFunctionError: kinesis.BisectBatchOnFunctionError ?? false,
      maximumRetryAttempts: kinesis.MaximumRetryAttempts ?? -1,
      maximumRecordAgeSeconds: kinesis.MaximumRecordAgeInSeconds ?? -1,
      reportBatchItemFailures: ((kinesis.FunctionResponseTypes as string[]) ?? []).includes(
        'ReportBatchItemFailures',
      ),
    });
    expect(assembly.config.kinesisEventSourceMappings[0].onFailureDestinationArn).toBeDefined();

    const fifoMapping = assembly.config.sqsEventSourceMappings.find(
      (m) => m.id === result.sim.entryPoints().fifo!.mappingId,
    )!;
    const fifoEsm = resourceOf('Fifo', 'AWS::Lambda::EventSourceMapping').props;
    expect(fifoMapping).toMatchObject({
      batchSize: fifoEsm.BatchSize,
      maximumConcurrency: (fifoEsm.ScalingConfig as { MaximumConcurrency?: number }).MaximumConcurrency,
      maximumBatchingWindowSeconds: 0,
    });
    const fifoSource = Object.values(templates.Fifo.Resources).find(
      (r) => r.Type === 'AWS::SQS::Queue' && r.Properties.RedrivePolicy,
    )!;
    expect(assembly.config.queues.find((q) => q.queueArn === fifoMapping.queueArn)).toMatchObject({
      fifo: true,
      visibilityTimeoutSeconds: fifoSource.Properties.VisibilityTimeout,
      contentBasedDeduplication: fifoSource.Properties.ContentBasedDeduplication,
      redrivePolicy: {
        maxReceiveCount: (fifoSource.Properties.RedrivePolicy as { maxReceiveCount: number }).maxReceiveCount,
      },
    });

    // DynamoDB Streams: the table's stream and key, and the mapping with its filter criteria.
    const tableEsm = resourceOf('TableStream', 'AWS::Lambda::EventSourceMapping').props;
    const [tableMapping] = assembly.config.dynamoDbEventSourceMappings;
    expect(tableMapping).toMatchObject({
      batchSize: tableEsm.BatchSize,
      bisectBatchOnFunctionError: tableEsm.BisectBatchOnFunctionError,
      maximumRetryAttempts: tableEsm.MaximumRetryAttempts,
      maximumRecordAgeSeconds: tableEsm.MaximumRecordAgeInSeconds,
      parallelizationFactor: tableEsm.ParallelizationFactor,
      reportBatchItemFailures: true,
      filters: (tableEsm.FilterCriteria as { Filters: { Pattern: string }[] }).Filters.map((f) => f.Pattern),
    });
    expect(tableMapping.onFailureDestinationArn).toBeDefined();
    const sourceTable = Object.values(templates.TableStream.Resources).find(
      (r) => r.Type === 'AWS::DynamoDB::Table' && r.Properties.StreamSpecification,
    )!;
    expect(assembly.config.tables.find((t) => t.streamArn === tableMapping.streamArn)).toMatchObject({
      keyAttributes: ['pk'],
      streamViewType: (sourceTable.Properties.StreamSpecification as { StreamViewType: string })
        .StreamViewType,
    });
  });
});

describe('the real handlers under faults', () => {
  it('keep every invariant on every path', () => {
    for (const path of result.report.paths) {
      for (const invariant of path.invariants)
        expect(`${path.path}: ${invariant.name}: ${invariant.holds ? 'holds' : invariant.detail}`).toBe(
          `${path.path}: ${invariant.name}: holds`,
        );
    }
    expect(result.report.paths.map((p) => p.path)).toEqual([
      'sqs',
      'object',
      'stream',
      'fifo',
      'table-stream',
    ]);
    expect(result.sim.trace.unattributedSideEffects).toEqual([]);
    expect(result.unattributedClaims).toBe(0);
  });

  it('apply every record at most once, poison records never, and the rest unless it is in a sink', () => {
    for (const record of result.report.records) {
      // Poison: never. Not in a sink: exactly once (never lost). In a sink: at most once (a completed record can
      // ride to the dead-letter queue with a batch that timed out).
      // An expiration by time to live has nothing to apply (the mapping's filter keeps it from the function).
      const nothing = record.poison || record.faults.includes('expiration');
      const allowed = nothing ? [0] : record.sinks.length === 0 ? [1] : [0, 1];
      expect([record.id, allowed.includes(record.sideEffects)]).toEqual([record.id, true]);
    }
    // A table write repeated changes nothing: DynamoDB writes no second stream record, so it is handed once.
    const duplicates = result.report.records.filter(
      (r) => r.faults.includes('duplicate') && !r.poison && r.path !== 'table-stream',
    );
    expect(duplicates.length).toBeGreaterThan(0);
    expect(duplicates.every((r) => r.sideEffects === 1 && r.handed >= 2)).toBe(true);
    const rewritten = result.report.records.filter(
      (r) => r.path === 'table-stream' && r.faults.includes('duplicate') && !r.poison,
    );
    expect(rewritten.length).toBeGreaterThan(0);
    expect(rewritten.every((r) => r.sideEffects === 1)).toBe(true);
  });

  it('send poison records where each path sends failures, after the retries the settings allow', () => {
    const poison = result.report.records.filter((r) => r.poison);
    const kinds = Object.fromEntries(poison.map((r) => [r.path, [...new Set(r.sinks.map((s) => s.kind))]]));
    expect(kinds).toEqual({
      sqs: ['queue-dead-letter-queue'],
      object: ['on-failure-destination'],
      stream: ['on-failure-destination'],
      fifo: ['queue-dead-letter-queue'],
      'table-stream': ['on-failure-destination'],
    });
    const maxReceiveCount = assembly.config.queues.find(
      (q) => q.queueArn === result.sim.entryPoints().sqs!.queueArn,
    )!.redrivePolicy!.maxReceiveCount;
    for (const r of poison.filter((p) => p.path === 'sqs')) expect(r.handed).toBe(maxReceiveCount);
    // FIFO: maxReceiveCount receives per copy delivered (a copy past the deduplication interval is another message).
    const fifoMaxReceiveCount = assembly.config.queues.find(
      (q) => q.queueArn === result.sim.entryPoints().fifo!.queueArn,
    )!.redrivePolicy!.maxReceiveCount;
    for (const r of poison.filter((p) => p.path === 'fifo'))
      expect(r.handed).toBe(fifoMaxReceiveCount * r.sinks.length);
    for (const r of poison.filter((p) => p.path === 'object')) {
      expect(r.handed).toBe(1 + assembly.config.eventInvokeConfigs[0].maximumRetryAttempts);
      expect(r.sinks[0].condition).toBe('RetriesExhausted');
    }
  });

  it('FIFO: a copy inside the 5-minute deduplication interval is never delivered, one past it is answered from the idempotency store', () => {
    const fifoDuplicates = result.report.records.filter(
      (r) => r.path === 'fifo' && r.faults.includes('duplicate'),
    );
    expect(fifoDuplicates).toHaveLength(4);
    const deduplicated = result.sim.trace.events.filter(
      (e) => e.path === 'fifo' && e.kind === 'deduplicated',
    );
    expect(deduplicated.map((e) => e.recordIds[0]).sort()).toEqual(fifoDuplicates.map((r) => r.id).sort());
    // The copy 6 minutes later is a new message: handed again, applied once in all.
    for (const record of fifoDuplicates.filter((r) => !r.poison)) {
      expect([record.id, record.handed >= 2, record.sideEffects]).toEqual([record.id, true, 1]);
    }
  });

  it('leave in each effect table exactly the effects their "side effect done" lines report: the durable data', () => {
    // The sum, per item and attribute, of the effects the handlers logged as committed.
    const logged: Record<string, Record<string, Record<string, number>>> = {};
    for (const line of sideEffectLines) {
      const items = (logged[line.path] ??= {});
      for (const { key, add } of line.effect) {
        const item = (items[key] ??= {});
        for (const [attribute, amount] of Object.entries(add)) {
          // DynamoDB adds decimals exactly; binary floats do not (448.00000000000006): compare to 9 places.
          item[attribute] = decimal((item[attribute] ?? 0) + amount);
        }
      }
    }
    const stored = Object.fromEntries(
      Object.entries(result.effects ?? {}).map(([path, items]) => [
        path,
        Object.fromEntries(
          Object.entries(items).map(([key, attributes]) => [
            key,
            Object.fromEntries(
              Object.entries(attributes).map(([name, value]) => [name, decimal(Number(value))]),
            ),
          ]),
        ),
      ]),
    );
    expect(Object.keys(stored).sort()).toEqual(['fifo', 'object', 'sqs', 'stream', 'table-stream']);
    expect(stored).toEqual(logged);
  });

  it('fail records through the fault layer in front of dynalite (outage, transient claims), and do them later', () => {
    expect(result.dynamoDb!.failed.get('PutItem')).toBeGreaterThan(0);
    const transient = result.report.records.filter((r) => r.faults.includes('transient'));
    expect(transient.length).toBe(18);
    // Retried until they succeed (or, on the stream, possibly discarded with a batch: then in the destination).
    expect(transient.every((r) => r.handed >= 2 && (r.sideEffects === 1 || r.sinks.length > 0))).toBe(true);
    const failedDuringOutage = result.sim.trace.invocations.filter(
      (i) => i.startedAt < 120_000 && i.outcome !== 'success',
    );
    expect(failedDuringOutage.length).toBeGreaterThan(0);
  });
});

describe('the commands', () => {
  it('npm run invoke runs one bundle and prints its response; npm run local runs a scenario file', async () => {
    const { invoked, local, jsonFile } = await commands;
    // The last record of the sample event is invalid: reported in batchItemFailures.
    const response = JSON.parse(invoked.stdout);
    const event = sampleEvent('sqs') as { Records: { messageId: string }[] };
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records.at(-1)!.messageId }] });
    expect(invoked.stderr).toContain('"message":"side effect done"');

    expect(local.stdout).toContain('SQS path');
    const json = JSON.parse(readFileSync(jsonFile, 'utf8'));
    expect(json.records).toHaveLength(20);
    expect(json.invocations.length).toBeGreaterThan(0);
    expect(json.invocations[0]).toEqual(
      expect.objectContaining({
        seq: 1,
        recordIds: expect.any(Array),
        itemIds: expect.any(Array),
        outcome: expect.any(String),
      }),
    );
  }, 60_000);
});
