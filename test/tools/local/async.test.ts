/**
 * Asynchronous invocation (S3 → SNS → Lambda), checked against statements of the AWS documentation
 * ("How Lambda handles errors and retries with asynchronous invocation", "Retaining records of asynchronous
 * invocations") and the seeds. Each test quotes the statement it checks.
 */
import type { EventInvokeConfig, FunctionConfig } from '../../../tools/local/engine/config';
import { scriptedFunction, type ScriptedHandler } from '../../../tools/local/engine/functions';
import { Simulation } from '../../../tools/local/engine/simulation';
import { FaultPlan } from '../../../tools/local/faults';
import {
  ASYNC_ON_FAILURE_ARN,
  asyncConfig,
  BUCKET,
  SUBSCRIPTION_DLQ_ARN,
  TOPIC_ARN,
} from './config-fixtures';

async function run(
  handler: ScriptedHandler,
  options: {
    invoke?: Partial<EventInvokeConfig>;
    fn?: Partial<FunctionConfig>;
    faults?: FaultPlan;
    subscriptionDlq?: boolean;
  } = {},
) {
  const sim = new Simulation(
    asyncConfig(options.invoke, options.fn, { subscriptionDlq: options.subscriptionDlq }),
    {
      seed: 'async',
      duration: { baseMs: 100, perRecordMs: 0, jitter: 0 },
      ...(options.faults && { faults: options.faults }),
    },
  );
  const fn = scriptedFunction(handler);
  sim.setFunctionCode('object-consumer', fn);
  sim.putObject(BUCKET, 'uploads/report.csv', { recordId: 'o1', size: 2048 }, 0);
  await sim.run({ untilMs: 48 * 3_600_000 });
  return { sim, fn };
}

const fails: ScriptedHandler = () => ({
  throws: Object.assign(new Error('cannot classify'), { name: 'ClassificationError' }),
});

describe('asynchronous invocation', () => {
  it('"If the function returns an error, by default Lambda attempts to run it two more times, with a one-minute wait between the first two attempts, and two minutes between the second and third attempts"', async () => {
    const { sim } = await run(fails);
    const attempts = sim.trace.invocations;
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
    // Each wait starts when the previous attempt ends (100 ms later here).
    expect(attempts[1].startedAt - attempts[0].endedAt).toBe(60_000);
    expect(attempts[2].startedAt - attempts[1].endedAt).toBe(120_000);
    // The three attempts are one request: the request id stays the same.
    expect(new Set(attempts.map((a) => a.requestId)).size).toBe(1);
  });

  it('sends the invocation record to the on-failure destination with "condition": "RetriesExhausted"', async () => {
    const { sim, fn } = await run(fails);
    expect(sim.trace.sinks).toHaveLength(1);
    const [sink] = sim.trace.sinks;
    expect(sink).toMatchObject({
      kind: 'on-failure-destination',
      targetArn: ASYNC_ON_FAILURE_ARN,
      recordIds: ['o1'],
    });
    expect(sink.message).toEqual({
      version: '1.0',
      timestamp: new Date(Date.UTC(2025, 0, 1) + sim.trace.invocations[2].endedAt).toISOString(),
      requestContext: {
        requestId: sim.trace.invocations[0].requestId,
        functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:object-consumer:$LATEST',
        condition: 'RetriesExhausted',
        approximateInvokeCount: 3,
      },
      requestPayload: fn.calls[0].event,
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: { errorType: 'ClassificationError', errorMessage: 'cannot classify', trace: [] },
    });
    // The payload is the SNS event whose Message is S3's notification.
    const sns = (
      fn.calls[0].event as { Records: { EventSource: string; Sns: { TopicArn: string; Message: string } }[] }
    ).Records[0];
    expect(sns.EventSource).toBe('aws:sns');
    expect(sns.Sns.TopicArn).toBe(TOPIC_ARN);
    expect(JSON.parse(sns.Sns.Message).Records[0]).toMatchObject({
      eventSource: 'aws:s3',
      eventName: 'ObjectCreated:Put',
      s3: { bucket: { name: BUCKET }, object: { key: 'uploads/report.csv', size: 2048 } },
    });
  });

  it('"You can configure this retry value between 0 and 2": with 0, one attempt only', async () => {
    const { sim } = await run(fails, { invoke: { maximumRetryAttempts: 0 } });
    expect(sim.trace.invocations).toHaveLength(1);
    expect(sim.trace.sinks[0].message).toMatchObject({ requestContext: { approximateInvokeCount: 1 } });
  });

  it('"When an event expires ... Lambda discards the event": EventAgeExceeded when the next retry is past the maximum age', async () => {
    const { sim } = await run(fails, { invoke: { maximumEventAgeSeconds: 60 } });
    // The first retry would come 60 s after the first attempt ends: older than 60 s by then.
    expect(sim.trace.invocations).toHaveLength(1);
    expect(sim.trace.sinks).toHaveLength(1);
    expect(sim.trace.sinks[0]).toMatchObject({ condition: 'EventAgeExceeded' });
    expect(sim.trace.sinks[0].message).toMatchObject({
      requestContext: { condition: 'EventAgeExceeded', approximateInvokeCount: 1 },
    });
  });

  it('"Function errors include ... errors returned by the function\'s runtime, such as timeouts"', async () => {
    const faults = new FaultPlan().addHang('o1', 1);
    const { sim } = await run((i) => ({ returns: undefined, sideEffects: i.recordIds }), { faults });
    expect(sim.trace.invocations.map((i) => i.outcome)).toEqual(['timeout', 'success']);
    expect(sim.trace.invocations[1].startedAt - sim.trace.invocations[0].endedAt).toBe(60_000);
  });

  it('"For throttling errors (429) ... Lambda returns the event to the queue and attempts to run the function again", backing off "from 1 second ... to a maximum of 5 minutes", without using a retry attempt', async () => {
    const faults = new FaultPlan().addThrottle({
      functionId: 'object-consumer',
      fromMs: 0,
      toMs: 20 * 60_000,
      concurrency: 0,
    });
    const { sim } = await run((i) => ({ returns: 'done', sideEffects: i.recordIds }), { faults });
    const throttles = sim.trace.events.filter((e) => e.kind === 'throttled').map((e) => e.at);
    const gaps = throttles.slice(1).map((t, i) => t - throttles[i]);
    expect(gaps.slice(0, 5)).toEqual([1000, 2000, 4000, 8000, 16_000]);
    expect(Math.max(...gaps)).toBe(300_000);
    // Once the throttling is over, the event runs once, as its first attempt.
    expect(sim.trace.invocations).toHaveLength(1);
    expect(sim.trace.invocations[0]).toMatchObject({ attempt: 1, outcome: 'success' });
    expect(sim.trace.invocations[0].startedAt).toBeGreaterThanOrEqual(20 * 60_000);
  });

  it('throttled past the maximum event age: "EventAgeExceeded" without a single invocation', async () => {
    const faults = new FaultPlan().addThrottle({
      functionId: 'object-consumer',
      fromMs: 0,
      toMs: 10 * 3_600_000,
      concurrency: 0,
    });
    const { sim } = await run(fails, { faults, invoke: { maximumEventAgeSeconds: 3600 } });
    expect(sim.trace.invocations).toHaveLength(0);
    expect(sim.trace.sinks).toHaveLength(1);
    expect(sim.trace.sinks[0].message).toMatchObject({
      requestContext: { condition: 'EventAgeExceeded', approximateInvokeCount: 0 },
    });
    expect(sim.trace.sinks[0].message).not.toHaveProperty('responseContext');
    // Accepted 70 ms after the upload (S3 → SNS → Lambda hand-offs), discarded when one hour old.
    expect(sim.trace.sinks[0].at).toBe(70 + 3_600_000);
  });

  it('sends successes to the on-success destination with the response payload', async () => {
    const onSuccess = 'arn:aws:sqs:us-east-1:123456789012:object-on-success';
    const { sim } = await run(() => ({ returns: { classified: 'data' } }), {
      invoke: { onSuccessDestinationArn: onSuccess },
    });
    expect(sim.trace.sinks).toHaveLength(1);
    expect(sim.trace.sinks[0]).toMatchObject({
      kind: 'on-success-destination',
      targetArn: onSuccess,
      condition: 'Success',
    });
    expect(sim.trace.sinks[0].message).toMatchObject({
      requestContext: { condition: 'Success', approximateInvokeCount: 1 },
      responseContext: { statusCode: 200, executedVersion: '$LATEST' },
      responsePayload: { classified: 'data' },
    });
    expect(sim.trace.sinks[0].message).not.toHaveProperty('responseContext.functionError');
  });

  it('"An SNS subscription DLQ covers delivery failures only, not function errors" (FIELD-NOTES)', async () => {
    const faults = new FaultPlan().addDeliveryFailure({
      subscriptionId: 'Subscription',
      fromMs: 0,
      toMs: 1000,
      kind: 'client-error',
    });
    const delivered = await run(fails, { faults });
    expect(delivered.sim.trace.invocations).toHaveLength(0);
    expect(delivered.sim.trace.sinks).toHaveLength(1);
    expect(delivered.sim.trace.sinks[0]).toMatchObject({
      kind: 'subscription-dead-letter-queue',
      targetArn: SUBSCRIPTION_DLQ_ARN,
    });
    const body = JSON.parse((delivered.sim.trace.sinks[0].message as { body: string }).body);
    expect(body).toMatchObject({ Type: 'Notification', TopicArn: TOPIC_ARN });

    const failing = await run(fails);
    expect(failing.sim.trace.sinks.map((s) => s.kind)).toEqual(['on-failure-destination']);
  });

  it("server-side delivery errors are retried with SNS's delivery policy, then delivered", async () => {
    const faults = new FaultPlan().addDeliveryFailure({
      subscriptionId: 'Subscription',
      fromMs: 0,
      toMs: 60_000,
      kind: 'server-error',
    });
    const { sim } = await run((i) => ({ returns: null, sideEffects: i.recordIds }), { faults });
    expect(sim.trace.invocations).toHaveLength(1);
    expect(sim.trace.invocations[0].startedAt).toBeGreaterThanOrEqual(60_000);
    expect(sim.trace.sinks).toHaveLength(0);
  });

  it('"configure a dead-letter queue on the function" for events that fail: the event with RequestID, ErrorCode and ErrorMessage', async () => {
    const dlq = 'arn:aws:sqs:us-east-1:123456789012:object-function-dlq';
    const { sim, fn } = await run(fails, {
      fn: { deadLetterTargetArn: dlq },
      invoke: { onFailureDestinationArn: undefined },
    });
    expect(sim.trace.sinks).toHaveLength(1);
    const { message } = sim.trace.sinks[0] as {
      message: { body: string; messageAttributes: Record<string, string> };
    };
    expect(sim.trace.sinks[0]).toMatchObject({ kind: 'function-dead-letter-queue', targetArn: dlq });
    expect(JSON.parse(message.body)).toEqual(fn.calls[0].event);
    expect(message.messageAttributes).toEqual({
      RequestID: sim.trace.invocations[0].requestId,
      ErrorCode: '200',
      ErrorMessage: 'cannot classify',
    });
  });
});
