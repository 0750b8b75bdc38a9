/**
 * Settings overridden for a run (tools/local/overrides.ts): from a scenario's `settings` and `--set` flags, checked
 * against AWS's ranges (every bad value named at once), applied to the configuration the engine runs, and reported
 * with where each value came from.
 */
import { applySettings, readSetFlags, renderSettings, SettingsError } from '../../../tools/local/overrides';
import { runScenario } from '../../../tools/local/run';
import { parseScenario, PATHS, ScenarioError } from '../../../tools/local/scenario';
import { asyncConfig, httpConfig, kinesisConfig, sqsConfig } from './config-fixtures';

function messageOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected an error');
}

describe('reading overrides', () => {
  it('reads --set flags per path, on/off and numbers', () => {
    expect(
      readSetFlags(['stream.bisect=off', 'stream.retryAttempts=-1', 'sqs.failureMode=throw'], PATHS),
    ).toEqual({
      stream: { bisect: false, retryAttempts: -1 },
      sqs: { failureMode: 'throw' },
    });
  });

  it('names every bad flag at once, with the range AWS allows', () => {
    const message = messageOf(() =>
      readSetFlags(
        [
          'stream.parallelizationFactor=11',
          'stream.maxRecordAgeSeconds=59',
          'object.retryAttempts=3',
          'fifo.batchSize=11',
          'fifo.batchingWindowSeconds=1',
          'sqs.maximumConcurrency=1',
          'sqs.partialBatchResponses=maybe',
          'queue.batchSize=1',
        ],
        PATHS,
      ),
    );
    expect(message.split('\n').slice(1)).toEqual([
      '  --set queue.batchSize=1: queue is not a path (sqs, object, stream, fifo, table-stream)',
      '  --set stream.parallelizationFactor "11": must be a whole number from 1 to 10',
      '  --set stream.maxRecordAgeSeconds "59": must be −1 (no limit) or 60–604,800',
      '  --set object.retryAttempts "3": must be a whole number from 0 to 2',
      '  --set fifo.batchSize "11": must be a whole number from 1 to 10',
      expect.stringMatching(/^ {2}--set fifo\.batchingWindowSeconds: not a setting of the fifo path/),
      '  --set sqs.maximumConcurrency "1": must be a whole number from 2 to 1,000',
      '  --set sqs.partialBatchResponses "maybe": must be on or off (true or false)',
    ]);
  });

  it("names a scenario's bad settings with its other problems", () => {
    const error = messageOf(() =>
      parseScenario({
        path: 'stream',
        records: 5,
        faults: { poison: { records: [9] } },
        settings: { batchSize: 0, visibilityTimeoutSeconds: 30 },
      }),
    );
    expect(error).toContain('paths.stream.settings.batchSize 0: must be a whole number from 1 to 10,000');
    expect(error).toContain(
      'paths.stream.settings.visibilityTimeoutSeconds: not a setting of the stream path',
    );
    expect(error).toContain('paths.stream.faults.poison.records: record numbers go from 1 to 5, got 9');
    expect(() => parseScenario({ path: 'stream', records: 5, settings: { bisect: 'sometimes' } })).toThrow(
      ScenarioError,
    );
  });
});

describe('applying overrides', () => {
  it('applies them over the template and reports where each value came from', () => {
    const config = kinesisConfig({
      batchSize: 100,
      bisectBatchOnFunctionError: true,
      maximumRetryAttempts: 2,
    });
    const applied = applySettings(
      config,
      ['stream'],
      { stream: { batchSize: 10, retryAttempts: 5 } },
      { stream: { retryAttempts: 1, bisect: false } },
      'model',
    );
    expect(applied.config.kinesisEventSourceMappings[0]).toMatchObject({
      batchSize: 10,
      maximumRetryAttempts: 1,
      bisectBatchOnFunctionError: false,
    });
    // The template's configuration is left as it was.
    expect(config.kinesisEventSourceMappings[0].batchSize).toBe(100);
    const row = (name: string) => applied.rows.find((r) => r.name === name);
    expect(row('batchSize')).toMatchObject({ value: 10, source: 'scenario', templateValue: 100 });
    expect(row('retryAttempts')).toMatchObject({ value: 1, source: '--set', templateValue: 2 });
    expect(row('parallelizationFactor')).toEqual({
      path: 'stream',
      name: 'parallelizationFactor',
      value: 1,
      source: 'template',
    });
    expect(renderSettings(applied.rows)).toContain('retryAttempts 1 [--set; template 2]');
  });

  it('refuses, all at once, what Lambda or SQS would refuse with the rest of the template', () => {
    const config = sqsConfig({}, { redrivePolicy: undefined }, { timeoutSeconds: 60 });
    const error = messageOf(() =>
      applySettings(
        config,
        ['sqs'],
        {},
        { sqs: { batchSize: 50, visibilityTimeoutSeconds: 30, maxReceiveCount: 3, failureMode: 'throw' } },
        'bundles',
      ),
    );
    expect(error.split('\n').slice(1)).toEqual([
      expect.stringMatching(/^ {2}sqs\.failureMode \(--set\): the handler bundles fail as their code does/),
      '  sqs.batchSize (--set): a batch size above 10 needs a batching window of at least 1 s (batchSize 50, batchingWindowSeconds 0)',
      "  sqs.visibilityTimeoutSeconds (--set) 30: below the function's timeout (60 s), Lambda refuses the event source mapping",
      '  sqs.maxReceiveCount (--set): the queue orders has no dead-letter queue (RedrivePolicy)',
    ]);
    expect(() => applySettings(config, ['sqs'], {}, { stream: { bisect: false } }, 'model')).toThrow(
      SettingsError,
    );
  });
});

describe('overrides change what the engine does', () => {
  it("a scenario's stream settings: batches of at most batchSize, the function throwing on any failure", async () => {
    const scenario = parseScenario({
      path: 'stream',
      records: 40,
      groups: 1,
      ratePerSecond: 1000,
      functions: 'model',
      faults: { poison: { records: [5] } },
      settings: {
        batchSize: 3,
        batchingWindowSeconds: 1,
        failureMode: 'throw',
        partialBatchResponses: false,
      },
    });
    const result = await runScenario({
      scenario,
      config: kinesisConfig({ batchSize: 100, reportBatchItemFailures: true, maximumRetryAttempts: 1 }),
    });
    const sizes = result.sim.trace.invocations.map((i) => i.recordIds.length);
    expect(Math.max(...sizes)).toBe(3);
    // Throwing: the batch with the poison record fails as a whole (no partial response to read).
    const withPoison = result.sim.trace.invocations.filter((i) => i.recordIds.includes('stream-000005'));
    expect(withPoison.map((i) => i.outcome)).toEqual(['function-error', 'function-error']);
    expect(result.settings.filter((r) => r.source === 'scenario').map((r) => r.name)).toEqual([
      'batchSize',
      'batchingWindowSeconds',
      'partialBatchResponses',
      'failureMode',
    ]);
  });

  it('asynchronous retry attempts from a flag: a poison event is tried 1 + retryAttempts times', async () => {
    const scenario = parseScenario({
      path: 'object',
      records: 3,
      functions: 'model',
      faults: { poison: { records: [2] } },
    });
    const attempts = async (retryAttempts?: number) => {
      const result = await runScenario({
        scenario,
        config: asyncConfig({ maximumRetryAttempts: 2 }),
        ...(retryAttempts !== undefined && { settings: { object: { retryAttempts } } }),
      });
      return result.sim.trace.invocations.filter((i) => i.recordIds.includes('object-000002')).length;
    };
    expect(await attempts()).toBe(3);
    expect(await attempts(0)).toBe(1);
  });

  it("the http path's stage throttle and the function's concurrency from flags: what the gateway and Lambda refuse", async () => {
    // 40 requests in about a second against a stage of 10 a second, burst 20.
    const scenario = parseScenario({
      functions: 'model',
      paths: { http: { requests: 40, ratePerSecond: 40 } },
    });
    const run = async (settings?: Record<string, number>) => {
      const result = await runScenario({
        scenario,
        config: httpConfig(),
        ...(settings && { settings: { http: settings } }),
      });
      return { result, gateway: result.http!.gateway };
    };
    const template = await run();
    expect(template.gateway.stageThrottles).toBeGreaterThan(0);
    // Each limit alone: a rate that refills the bucket faster than requests come, a burst that holds them all.
    const fastRefill = await run({ throttleRateLimit: 1000 });
    expect(fastRefill.gateway.stageThrottles).toBe(0);
    const bigBurst = await run({ throttleRateLimit: 1, throttleBurstLimit: 100 });
    expect(bigBurst.gateway.stageThrottles).toBe(0);
    const roomy = await run({ throttleRateLimit: 1000, throttleBurstLimit: 1000 });
    expect(renderSettings(roomy.result.settings)).toContain(
      'http: throttleRateLimit 1000 [--set; template 10], throttleBurstLimit 1000 [--set; template 20], reservedConcurrency 50',
    );
    // A stage that lets everything through to a function allowed one execution at a time: Lambda refuses the rest.
    const narrow = await run({ throttleRateLimit: 1000, throttleBurstLimit: 1000, reservedConcurrency: 1 });
    expect(narrow.gateway.invoker.throttles).toBeGreaterThan(0);
    expect(roomy.gateway.invoker.throttles).toBe(0);
  });
});
