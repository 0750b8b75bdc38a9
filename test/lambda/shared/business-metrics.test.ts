/**
 * The business metrics (issue 16): a handler wired as its `index.ts` wires it (`flushMetricsAfter` around the
 * handler, the same `RecordMetrics` in its dependencies) writes one line in CloudWatch's embedded metric format per
 * invocation on stdout, counting what apply-record.ts logged: records applied, duplicates answered from the
 * idempotency store, invalid payloads. Against dynalite, with the SQS handler and its domain's own records.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSEvent } from 'aws-lambda';
import {
  BUSINESS_METRICS,
  createIdempotencyDependencies,
  flushMetricsAfter,
  RecordMetrics,
} from '../../../lambda/shared/powertools';
import { createSqsConsumerHandler } from '../../../lambda/sqs-consumer/handler';
import { examples } from '../../../lambda/sqs-consumer/domain';
import { useFaultyDynamoDb } from '../../helpers/dynamodb';
import { invalidJsonBody } from '../../helpers/domain';
import { lambdaContext, sqsEvent, sqsRecord } from '../sqs-consumer/events';
import { captureLogs, type LogCapture } from './log-capture';

const db = useFaultyDynamoDb();

/** The EMF lines among the captured ones: those with CloudWatch's `_aws` metadata. */
function emfLines(logs: LogCapture): Record<string, unknown>[] {
  return logs.lines.filter((line) => '_aws' in line);
}

/** The SQS handler as its index.ts wires it, with the test's DynamoDB; `invoke` runs one invocation. */
function handlerWithMetrics(): { invoke: (event: SQSEvent) => Promise<unknown> } {
  const metrics = new RecordMetrics(
    new Metrics({ namespace: 'reliable-lambda/test', serviceName: 'sqs-consumer' }),
  );
  const handler = flushMetricsAfter(
    createSqsConsumerHandler({
      ...createIdempotencyDependencies({
        tableName: db.tableName,
        effectTableName: db.effectTableName,
        expiresAfterSeconds: 3600,
        client: db.dynamo.client,
      }),
      dependencyRetryDelaysMs: [],
      logger: new Logger({ serviceName: 'sqs-consumer', logLevel: 'SILENT' }),
      metrics,
    }),
    metrics,
  );
  return { invoke: (event) => handler(event, lambdaContext()) };
}

describe('business metrics in embedded metric format', () => {
  let logs: LogCapture;
  beforeEach(() => {
    logs = captureLogs();
  });
  afterEach(() => logs.restore());

  it('counts applied records and invalid payloads, then duplicates on a re-delivery: one EMF line per invocation', async () => {
    const { invoke } = handlerWithMetrics();
    const valid = [sqsRecord(examples.valid('m-1')), sqsRecord(examples.valid('m-2'))];
    const invalid = sqsRecord(invalidJsonBody(examples, 'm-3'));
    await invoke(sqsEvent(...valid, invalid));
    await invoke(sqsEvent(valid[0]));

    const lines = emfLines(logs);
    expect(lines).toHaveLength(2);
    const [first, second] = lines;
    expect(first).toMatchObject({
      service: 'sqs-consumer',
      [BUSINESS_METRICS.applied]: 2,
      [BUSINESS_METRICS.duplicate]: 0,
      [BUSINESS_METRICS.invalid]: 1,
    });
    expect(second).toMatchObject({
      [BUSINESS_METRICS.applied]: 0,
      [BUSINESS_METRICS.duplicate]: 1,
      [BUSINESS_METRICS.invalid]: 0,
    });
    const directive = (first._aws as { CloudWatchMetrics: Record<string, unknown>[] }).CloudWatchMetrics[0];
    expect(directive).toMatchObject({
      Namespace: 'reliable-lambda/test',
      Dimensions: [['service']],
    });
    expect((directive.Metrics as { Name: string; Unit: string }[]).map((m) => [m.Name, m.Unit])).toEqual([
      ['RecordsApplied', 'Count'],
      ['DuplicateRecords', 'Count'],
      ['InvalidPayloads', 'Count'],
    ]);
  });

  it('writes the line even when the invocation fails as a whole (every record invalid)', async () => {
    const { invoke } = handlerWithMetrics();
    await expect(invoke(sqsEvent(sqsRecord(invalidJsonBody(examples, 'm-9'))))).rejects.toThrow();
    expect(emfLines(logs)).toEqual([expect.objectContaining({ [BUSINESS_METRICS.invalid]: 1 })]);
  });

  it('writes nothing, and warns nothing, for an invocation that counted no record', () => {
    const metrics = new RecordMetrics(new Metrics({ namespace: 'reliable-lambda/test', serviceName: 'x' }));
    metrics.flush();
    expect(logs.lines).toEqual([]);
  });
});
