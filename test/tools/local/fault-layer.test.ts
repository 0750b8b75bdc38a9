/**
 * The fault layer in front of dynalite: it must recognise which record a Powertools idempotency claim is for
 * (Powertools' own key hashing, reproduced) and fail claims and requests exactly as the fault plan says.
 */
import { IdempotencyConfig } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FaultPlan } from '../../../tools/local/faults';
import { KEY_HINTS } from '../../../tools/local/run';
import { FaultLayer } from '../../../tools/local/runtime/fault-layer';
import { candidateHashes, hashOfKey } from '../../../tools/local/runtime/idempotency-keys';

/** The key Powertools computes for `data` with `eventKeyJmesPath`. */
function powertoolsKey(eventKeyJmesPath: string, data: unknown): string {
  const layer = new DynamoDBPersistenceLayer({
    tableName: 'idempotency',
    awsSdkV3Client: new DynamoDBClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    }),
  });
  layer.configure({ config: new IdempotencyConfig({ eventKeyJmesPath }), keyPrefix: 'prefix' });
  return (layer as unknown as { getHashedIdempotencyKey(data: unknown): string }).getHashedIdempotencyKey(
    data,
  );
}

const order = {
  orderId: 'order-sqs-000001',
  customerId: 'c-1',
  currency: 'EUR',
  lines: [{ sku: 'A', quantity: 1, unitPriceCents: 5 }],
};
const sqsRecord = { messageId: 'm-1', body: JSON.stringify(order), eventSource: 'aws:sqs' };
const reading = {
  eventId: 'stream-000001',
  sensorId: 'sensor-001',
  recordedAt: '2025-01-01T00:00:00Z',
  metric: 'humidity',
  value: 5,
};
const kinesisRecord = {
  kinesis: {
    partitionKey: 'sensor-001',
    sequenceNumber: '49',
    data: Buffer.from(JSON.stringify(reading)).toString('base64'),
  },
  eventSource: 'aws:kinesis',
};

describe('idempotency keys', () => {
  it("finds a key selected from the payload (the SQS handler's orderId) among the record's values", () => {
    const key = powertoolsKey('orderId', order);
    expect(candidateHashes(sqsRecord).has(hashOfKey(key))).toBe(true);
  });

  it("finds a derived key (the stream handler's event:<eventId>) through the path's key hint", () => {
    const key = powertoolsKey('idempotencyKey', { idempotencyKey: `event:${reading.eventId}`, reading });
    expect(candidateHashes(kinesisRecord).has(hashOfKey(key))).toBe(false);
    expect(candidateHashes(kinesisRecord, KEY_HINTS.stream).has(hashOfKey(key))).toBe(true);
  });
});

describe('fault layer', () => {
  // Powertools' claim: the conditional PutItem of an INPROGRESS record (the fault layer fails only claims).
  const claim = (key: string) => ({ Item: { id: { S: key }, status: { S: 'INPROGRESS' } } });

  it('fails a record\'s claim in its first N invocations ("fail N times then succeed"), whatever the SDK retries', () => {
    const layer = new FaultLayer(new FaultPlan().addTransient('sqs-000001', 2));
    const key = powertoolsKey('orderId', order);
    const outcomes: boolean[] = [];
    for (const seq of [1, 2, 3]) {
      layer.enter({
        seq,
        at: 0,
        recordIds: ['sqs-000001', 'sqs-000002'],
        eventRecords: [sqsRecord, { body: '{}' }],
      });
      // Two SDK attempts within one invocation get the same answer.
      const first = layer.decide('PutItem', claim(key));
      expect(layer.decide('PutItem', claim(key))).toEqual(first);
      outcomes.push(first !== undefined);
      layer.leave();
    }
    expect(outcomes).toEqual([true, true, false]);
  });

  it('fails every request while DynamoDB is unavailable, and none outside an invocation', () => {
    const layer = new FaultLayer(new FaultPlan().addDynamoDbOutage({ fromMs: 1000, toMs: 2000 }));
    layer.enter({ seq: 1, at: 1500, recordIds: ['a'], eventRecords: [{}] });
    expect(layer.decide('GetItem', {})).toMatchObject({ status: 500, code: 'InternalServerError' });
    layer.leave();
    expect(layer.decide('GetItem', {})).toBeUndefined();
    layer.enter({ seq: 2, at: 2000, recordIds: ['a'], eventRecords: [{}] });
    expect(layer.decide('PutItem', claim('x#y'))).toBeUndefined();
  });
});
