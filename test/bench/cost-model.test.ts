/**
 * The cost formulas against figures worked out by hand (the arithmetic is in each test's comments), with the
 * prices of bench/prices.json.
 */
import prices from '../../bench/prices.json';
import {
  type Assumptions,
  costPerMillionEvents,
  cpuScale,
  invocationCpuMs,
  invocationDurationMs,
  type PathAssumptions,
  type PathSettings,
  type Prices,
  transactionWriteUnits,
  writeUnits,
} from '../../bench/lib/cost-model';

const PRICES = prices as Prices;

const PATH: PathAssumptions = {
  processing: 'parallel',
  eventBytes: 200,
  // 30 ms for 10 records, 210 ms for 100: 10 ms + 2 ms per record in between.
  cpuMsPerRecordAtBatchSize: { '10': 3, '100': 2.1 },
  initMs: 100,
  logBytesPerRecord: 1024,
  idempotencyItemBytes: 300,
  effectItemBytes: 150,
};

const ASSUMPTIONS: Assumptions = {
  dynamoDbLatencyMs: 5,
  maxSockets: 50,
  coldStartRate: 0,
  redeliveryRate: 0,
  batchFill: 1,
  cpuSpeedFactor: 1,
  arm64CpuFactor: 1,
  platformLogBytesPerInvocation: 0,
  logCompressionRatio: 0.15,
  xraySampledFraction: 0.05,
  sqsSendBatchSize: 10,
  monthlyEvents: 1_000_000,
  idempotencyScheme: 'powertools',
  paths: {
    sqs: PATH,
    object: { ...PATH, processing: 'in-order', eventBytes: 1500 },
    stream: { ...PATH, processing: 'in-order', cpuMsPerRecordAtBatchSize: { '100': 1 } },
    fifo: { ...PATH, processing: 'in-order' },
    'table-stream': { ...PATH, processing: 'per-key', keysPerBatch: 10, eventBytes: 120 },
    // One request per invocation: 7 ms of CPU; no effect item; a 10 ms send; a 1 KB access log line.
    http: {
      ...PATH,
      processing: 'in-order',
      cpuMsPerRecordAtBatchSize: { '1': 7 },
      effectItemBytes: 0,
      sqsSendLatencyMs: 10,
      accessLogBytesPerRequest: 1024,
    },
  },
};

const SQS: PathSettings = {
  path: 'sqs',
  memoryMb: 1024,
  architecture: 'arm64',
  batchSize: 10,
  tracing: false,
  logRetentionDays: 30,
};

const cost = (settings: PathSettings, assumptions: Assumptions = ASSUMPTIONS) =>
  costPerMillionEvents(settings, assumptions, PRICES);
const line = (result: ReturnType<typeof cost>, service: string, item: RegExp) => {
  const found = result.items.find((entry) => entry.service === service && item.test(entry.item));
  if (!found) throw new Error(`no ${service} line matching ${item}`);
  return found;
};

describe('the price file', () => {
  it('names its region and date', () => {
    expect(PRICES.region).toBe('us-east-1');
    expect(PRICES.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });
});

describe('Lambda duration', () => {
  it('scales CPU by the share of a vCPU the memory buys (one full vCPU at 1,769 MB), never below one', () => {
    expect(cpuScale({ memoryMb: 1024, architecture: 'arm64' }, ASSUMPTIONS, PRICES)).toBeCloseTo(
      1769 / 1024,
      12,
    );
    expect(cpuScale({ memoryMb: 3538, architecture: 'x86_64' }, ASSUMPTIONS, PRICES)).toBe(1);
  });

  it('adds two round trips per record (claim, then the transaction): overlapped in a parallel batch, one after the other in order', () => {
    // 30 ms × 1769/1024 = 51.83 ms of CPU; 2 × 5 ms of writes → 61.83 → billed 62 ms.
    expect(invocationDurationMs(SQS, 10, ASSUMPTIONS, PRICES)).toBe(62);
    // In order, 100 records at 128 MB: 100 × 1 ms × 1769/128 = 1382.03 ms; 2 × 5 ms × 100 = 1000 ms → 2383.
    const stream: PathSettings = { ...SQS, path: 'stream', memoryMb: 128, batchSize: 100 };
    expect(invocationDurationMs(stream, 100, ASSUMPTIONS, PRICES)).toBe(2383);
    // 120 parallel records: 210 + 20 × 2 = 250 ms × 1.7275 = 431.88; ⌈120 / 50⌉ = 3 rounds of writes: + 30 → 462.
    expect(invocationDurationMs(SQS, 120, ASSUMPTIONS, PRICES)).toBe(462);
    // Per key, 10 keys: the same 100 records' writes in ⌈100 / 10⌉ = 10 rounds: 1382.03 + 2 × 5 × 10 → 1483.
    const perKey = {
      ...ASSUMPTIONS,
      paths: {
        ...ASSUMPTIONS.paths,
        stream: { ...ASSUMPTIONS.paths.stream, processing: 'per-key' as const, keysPerBatch: 10 },
      },
    };
    expect(invocationDurationMs(stream, 100, perKey, PRICES)).toBe(1483);
    // One key is in order again; more keys than sockets are capped at the SDK's 50 sockets (2 rounds).
    const keys = (keysPerBatch: number) => ({
      ...perKey,
      paths: { ...perKey.paths, stream: { ...perKey.paths.stream, keysPerBatch } },
    });
    expect(invocationDurationMs(stream, 100, keys(1), PRICES)).toBe(2383);
    expect(invocationDurationMs(stream, 100, keys(500), PRICES)).toBe(1403);
  });

  it('adds one round trip per record for the single-request what-ifs (put-only, none)', () => {
    // 51.83 ms of CPU + 1 × 5 ms → 56.83 → billed 57 ms.
    for (const idempotencyScheme of ['put-only', 'none'] as const) {
      expect(invocationDurationMs(SQS, 10, { ...ASSUMPTIONS, idempotencyScheme }, PRICES)).toBe(57);
    }
    expect(
      invocationDurationMs(SQS, 10, { ...ASSUMPTIONS, idempotencyScheme: 'read-then-complete' }, PRICES),
    ).toBe(62);
  });
});

describe('SQS path, one million events', () => {
  const result = cost(SQS);

  it('prices Lambda requests and GB-seconds', () => {
    // 1,000,000 / 10 = 100,000 invocations × $0.20 per million = $0.02.
    expect(result.invocations).toBe(100_000);
    expect(line(result, 'Lambda', /^requests/).cost).toBeCloseTo(0.02, 10);
    // 100,000 × 1 GB × 0.062 s = 6,200 GB-s × $0.0000133334 = $0.08266708.
    expect(line(result, 'Lambda', /^duration/).quantity).toBeCloseTo(6200, 6);
    expect(line(result, 'Lambda', /^duration/).cost).toBeCloseTo(0.08266708, 10);
  });

  it('prices SQS sends (batches of 10), receives and deletes (10 per request)', () => {
    // 100,000 requests each × $0.40 per million = $0.04 each.
    for (const item of [/^SendMessageBatch/, /^ReceiveMessage/, /^DeleteMessageBatch/]) {
      expect(line(result, 'SQS', item).quantity).toBe(100_000);
      expect(line(result, 'SQS', item).cost).toBeCloseTo(0.04, 10);
    }
  });

  it('prices claim-then-complete: a conditional PutItem (1 WRU) and a 2-item transaction (2 × 2 = 4 WRU) per record', () => {
    // 1,000,000 WRU × $0.625 per million = $0.625 for the claims.
    expect(line(result, 'DynamoDB', /^idempotency claims \(conditional PutItem, 1 WRU/).quantity).toBe(
      1_000_000,
    );
    expect(line(result, 'DynamoDB', /^idempotency claims/).cost).toBeCloseTo(0.625, 10);
    // 4,000,000 WRU × $0.625 per million = $2.50 for the transactions.
    const transaction = line(result, 'DynamoDB', /^completion with the effect \(TransactWriteItems/);
    expect(transaction.item).toContain(': 4 WRU per record');
    expect(transaction.quantity).toBe(4_000_000);
    expect(transaction.cost).toBeCloseTo(2.5, 10);
    // Nothing else: no read, no re-delivery (redeliveryRate 0).
    const dynamoDb = result.items.filter((entry) => entry.service === 'DynamoDB');
    expect(dynamoDb.reduce((sum, entry) => sum + entry.quantity, 0)).toBe(5_000_000);
    expect(dynamoDb.every((entry) => entry.unit === 'WRU')).toBe(true);
  });

  it('prices log ingestion and compressed storage', () => {
    // 1,000,000 × 1 KiB = 0.95367 GiB × $0.50 = $0.47684; stored: × 0.15 × 1 month × $0.03 = $0.0042915.
    expect(line(result, 'CloudWatch Logs', /^ingestion/).cost).toBeCloseTo(0.476837158203125, 12);
    expect(line(result, 'CloudWatch Logs', /^storage/).cost).toBeCloseTo(0.004291534423828125, 12);
  });

  it('adds up to the hand-computed total, with no init (no cold starts) and no X-Ray (tracing off)', () => {
    // 0.02 + 0.08266708 + 3 × 0.04 + 0.625 + 2.5 + 0.476837158203125 + 0.004291534423828125
    expect(result.total).toBeCloseTo(3.828795772626953, 10);
    expect(result.items.some((entry) => entry.service === 'X-Ray')).toBe(false);
    expect(line(result, 'Lambda', /^init/).cost).toBe(0);
  });

  it('bills the init phase of cold starts like invocation time', () => {
    // 1 % of 100,000 = 1,000 cold starts × 1 GB × ⌈100 × 1.7275⌉ = 173 ms = 173 GB-s × $0.0000133334.
    const withColdStarts = cost(SQS, { ...ASSUMPTIONS, coldStartRate: 0.01 });
    expect(withColdStarts.billedInitMs).toBe(173);
    expect(line(withColdStarts, 'Lambda', /^init/).cost).toBeCloseTo(173 * 0.0000133334, 12);
  });

  it('charges re-deliveries their invocations and a failed conditional put each, and no effect', () => {
    // 1 % re-delivered: 1,010,000 deliveries / 10 = 101,000 invocations; 10,000 failed puts × 1 WRU.
    const redelivered = cost(SQS, { ...ASSUMPTIONS, redeliveryRate: 0.01 });
    expect(redelivered.invocations).toBeCloseTo(101_000, 6);
    expect(line(redelivered, 'DynamoDB', /^failed conditional puts/).quantity).toBeCloseTo(10_000, 6);
    expect(line(redelivered, 'DynamoDB', /^idempotency claims/).quantity).toBe(1_000_000);
    expect(line(redelivered, 'DynamoDB', /^completion with the effect/).quantity).toBe(4_000_000);
    expect(line(redelivered, 'SQS', /^ReceiveMessage/).quantity).toBeCloseTo(101_000, 6);
  });

  it('moves with the idempotency scheme: one conditional transaction per record, or the effect alone', () => {
    const redelivered = { ...ASSUMPTIONS, redeliveryRate: 0.01 };
    // put-only: 1,000,000 transactions × 4 WRU; each of the 10,000 re-deliveries' cancelled one, assumed billed.
    const putOnly = cost(SQS, { ...redelivered, idempotencyScheme: 'put-only' });
    expect(line(putOnly, 'DynamoDB', /^conditional put of the record with the effect/).quantity).toBe(
      4_000_000,
    );
    expect(line(putOnly, 'DynamoDB', /^cancelled transactions/).quantity).toBeCloseTo(40_000, 6);
    // none: no idempotency record, the effect written once per delivery (1 WRU): duplicates apply it again.
    const none = cost(SQS, { ...redelivered, idempotencyScheme: 'none' });
    const dynamoDb = none.items.filter((entry) => entry.service === 'DynamoDB');
    expect(dynamoDb).toHaveLength(1);
    expect(dynamoDb[0].item).toMatch(/^effect writes without idempotency/);
    expect(dynamoDb[0].quantity).toBeCloseTo(1_010_000, 6);
  });

  it('prices read-then-complete as a read per delivery (1 RRU) and the 2-item transaction per record (4 WRU), from the template or as a what-if', () => {
    const fromTemplate = cost(
      { ...SQS, idempotencyScheme: 'read-then-complete' },
      { ...ASSUMPTIONS, redeliveryRate: 0.01 },
    );
    const asWhatIf = cost(SQS, {
      ...ASSUMPTIONS,
      redeliveryRate: 0.01,
      idempotencyScheme: 'read-then-complete',
    });
    for (const result of [fromTemplate, asWhatIf]) {
      expect(line(result, 'DynamoDB', /^idempotency reads/).quantity).toBeCloseTo(1_010_000, 6);
      expect(line(result, 'DynamoDB', /^completion with the effect/).quantity).toBe(4_000_000);
      expect(
        result.items.some((entry) => /idempotency claims|failed conditional puts/.test(entry.item)),
      ).toBe(false);
    }
    // Against claim-then-complete (a claim, the transaction, and a failed put per re-delivery): 1,010,000 RRU +
    // 4,000,000 WRU instead of 5,010,000 WRU.
    const dynamoDb = (result: ReturnType<typeof cost>) =>
      result.items
        .filter((entry) => entry.service === 'DynamoDB')
        .reduce((sum, entry) => sum + entry.cost, 0);
    const rru = PRICES.dynamodb.onDemand.readRequestUnitsPerMillion;
    const wru = PRICES.dynamodb.onDemand.writeRequestUnitsPerMillion;
    expect(dynamoDb(fromTemplate)).toBeCloseTo(1.01 * rru + 4 * wru, 9);
    expect(dynamoDb(cost(SQS, { ...ASSUMPTIONS, redeliveryRate: 0.01 }))).toBeCloseTo(5.01 * wru, 9);
  });

  it('charges x86_64 the higher GB-second price', () => {
    // 6,200 GB-s × $0.0000166667.
    expect(line(cost({ ...SQS, architecture: 'x86_64' }), 'Lambda', /^duration/).cost).toBeCloseTo(
      6200 * 0.0000166667,
      10,
    );
  });

  it('samples X-Ray traces when tracing is active', () => {
    // 100,000 invocations × 5 % = 5,000 traces × $5 per million = $0.025.
    expect(line(cost({ ...SQS, tracing: true }), 'X-Ray', /traces/).cost).toBeCloseTo(0.025, 10);
  });
});

describe('object path, one million events', () => {
  const result = cost({ ...SQS, path: 'object', batchSize: 1 });

  it('is one invocation per event, one S3 PUT and one SNS publish; deliveries to Lambda are free', () => {
    expect(result.invocations).toBe(1_000_000);
    // $0.005 per 1,000 PUTs = $5; $0.50 per million publishes.
    expect(line(result, 'S3', /^PUT/).cost).toBeCloseTo(5, 10);
    expect(line(result, 'SNS', /^publishes/).cost).toBeCloseTo(0.5, 10);
    expect(line(result, 'SNS', /^deliveries/).cost).toBe(0);
  });
});

describe('stream path, one million events', () => {
  const stream: PathSettings = {
    ...SQS,
    path: 'stream',
    memoryMb: 128,
    batchSize: 100,
    streamMode: 'ON_DEMAND',
  };
  const result = cost(stream);

  it('rounds each on-demand record up to 1 KB for ingestion and retrieval', () => {
    // 1,000,000 × 1 KiB = 0.95367 GiB: × $0.08 ingested, × $0.04 retrieved.
    expect(line(result, 'Kinesis', /^data ingested/).cost).toBeCloseTo(0.0762939453125, 12);
    expect(line(result, 'Kinesis', /^data retrieved/).cost).toBeCloseTo(0.03814697265625, 12);
  });

  it('spreads the stream hours of a month over its events', () => {
    // 730 hours × $0.04 for 1,000,000 events a month.
    expect(line(result, 'Kinesis', /stream hours/).cost).toBeCloseTo(29.2, 10);
    expect(
      line(cost(stream, { ...ASSUMPTIONS, monthlyEvents: 10_000_000 }), 'Kinesis', /stream hours/).cost,
    ).toBeCloseTo(2.92, 10);
  });

  it('prices shard hours and 25 KB PUT payload units for a provisioned stream', () => {
    const provisioned = cost({ ...stream, streamMode: 'PROVISIONED', shardCount: 2 });
    // 730 × 2 shard-hours × $0.015 = $21.90; 1,000,000 units × $0.014 per million.
    expect(line(provisioned, 'Kinesis', /^shard hours/).cost).toBeCloseTo(21.9, 10);
    expect(line(provisioned, 'Kinesis', /^PUT payload units/).cost).toBeCloseTo(0.014, 10);
  });
});

describe('FIFO path, one million events', () => {
  const FIFO: PathSettings = { ...SQS, path: 'fifo' };

  it('prices the same SQS requests as a standard queue at the FIFO rate ($0.50 per million, not $0.40)', () => {
    // 100,000 SendMessageBatch, 100,000 receives, 100,000 deletes (10 messages each) × $0.50 per million.
    const fifo = cost(FIFO);
    for (const item of [/^SendMessageBatch/, /^ReceiveMessage/, /^DeleteMessageBatch/]) {
      const found = line(fifo, 'SQS FIFO', item);
      expect(found.quantity).toBeCloseTo(100_000, 6);
      expect(found.cost).toBeCloseTo(0.05, 9);
      expect(line(cost(SQS), 'SQS', item).cost).toBeCloseTo(0.04, 9);
    }
    expect(PRICES.sqs.fifoRequestsPerMillion).toBe(0.5);
  });

  it('runs a batch in order: its round trips do not overlap', () => {
    // 10 records × 2 round trips × 5 ms one after the other, plus 30 ms of CPU × 1769 / 1024.
    expect(invocationDurationMs(FIFO, 10, ASSUMPTIONS, PRICES)).toBe(Math.ceil(30 * (1769 / 1024) + 100));
  });
});

describe('DynamoDB Streams path, one million events', () => {
  const TABLE_STREAM: PathSettings = {
    ...SQS,
    path: 'table-stream',
    batchSize: 100,
    idempotencyScheme: 'read-then-complete',
  };

  it("prices the producer's write of the source item and no stream reads: Lambda's GetRecords are free", () => {
    const result = cost(TABLE_STREAM);
    // 1,000,000 writes of a 120-byte item: 1 WRU each × $0.625 per million.
    const source = line(result, 'DynamoDB', /^source table writes/);
    expect(source.quantity).toBe(1_000_000);
    expect(source.cost).toBeCloseTo(0.625, 9);
    const reads = line(
      result,
      'DynamoDB Streams',
      /^GetRecords by the event source mapping \(free for Lambda\)/,
    );
    expect(reads.quantity).toBeCloseTo(10_000, 6);
    expect(reads.cost).toBe(0);
    expect(PRICES.dynamodb.streams.lambdaGetRecordsFree).toBe(true);
    // No Kinesis lines: a table's stream has no hours or ingestion to pay.
    expect(result.items.some((entry) => entry.service === 'Kinesis')).toBe(false);
  });

  it("prices the template's read-then-complete idempotency: 1 RRU per delivery and the 4 WRU transaction", () => {
    const result = cost(TABLE_STREAM);
    expect(line(result, 'DynamoDB', /^idempotency reads/).quantity).toBe(1_000_000);
    expect(line(result, 'DynamoDB', /^completion with the effect/).quantity).toBe(4_000_000);
  });
});

describe('http path (the front door), one million accepted requests', () => {
  const HTTP: PathSettings = { ...SQS, path: 'http', batchSize: 1 };

  it('waits for the claim, the send and the completion one after the other', () => {
    // 7 ms of CPU × 1769 / 1024 = 12.09 ms, + 2 × 5 ms (claim, completion) + 10 ms (SendMessage): 32.09 → 33 ms.
    expect(invocationDurationMs(HTTP, 1, ASSUMPTIONS, PRICES)).toBe(33);
  });

  it('prices an HTTP API request and an invocation per request, one send per order, and the key claimed then completed without a transaction', () => {
    const result = cost(HTTP);
    // 1,000,000 requests × $1.00 per million (each under 512 KB); 1,000,000 invocations × $0.20 per million.
    const requests = line(result, 'API Gateway', /^HTTP API requests/);
    expect(requests.quantity).toBe(1_000_000);
    expect(requests.cost).toBeCloseTo(1, 9);
    expect(line(result, 'Lambda', /^requests/).cost).toBeCloseTo(0.2, 9);
    // 1,000,000 × 1 GB × 0.033 s = 33,000 GB-s × $0.0000133334.
    expect(line(result, 'Lambda', /^duration \(33 ms/).cost).toBeCloseTo(33_000 * 0.0000133334, 9);
    // 1,000,000 SendMessage × $0.40 per million.
    expect(line(result, 'SQS', /^SendMessage of each accepted order/).cost).toBeCloseTo(0.4, 9);
    // The 300-byte record: 1 WRU to claim, 1 WRU to complete (an UpdateItem: no effect, so no transaction).
    expect(line(result, 'DynamoDB', /^Idempotency-Key claims/).quantity).toBe(1_000_000);
    expect(line(result, 'DynamoDB', /^completion with the stored answer \(UpdateItem/).quantity).toBe(
      1_000_000,
    );
    expect(result.items.some((entry) => /TransactWriteItems/.test(entry.item))).toBe(false);
    // Logs: 1,000,000 × (1,024 handler + 1,024 access log) bytes = 1.9073 GB × $0.50, stored 30 days compressed.
    const gb = (1_000_000 * 2048) / 1024 ** 3;
    expect(line(result, 'CloudWatch Logs', /^ingestion .*API access log lines/).cost).toBeCloseTo(
      gb * 0.5,
      9,
    );
    // $0.20 + $0.44 + $1.00 + $0.40 + 2 × $0.625 + $0.95367 + $0.00858 ≈ $4.25.
    expect(result.total).toBeCloseTo(
      0.2 + 33_000 * 0.0000133334 + 1 + 0.4 + 0.625 * 2 + gb * 0.5 + gb * 0.15 * 0.03,
      9,
    );
  });

  it("charges a client's retry another request and invocation and a failed conditional put, and sends nothing more", () => {
    const result = cost(HTTP, { ...ASSUMPTIONS, redeliveryRate: 0.1 });
    expect(line(result, 'API Gateway', /^HTTP API requests/).quantity).toBeCloseTo(1_100_000, 6);
    expect(line(result, 'Lambda', /^requests/).quantity).toBeCloseTo(1_100_000, 6);
    expect(line(result, 'SQS', /^SendMessage/).quantity).toBe(1_000_000);
    expect(line(result, 'DynamoDB', /^failed conditional puts/).quantity).toBeCloseTo(100_000, 6);
  });
});

describe('writeUnits', () => {
  it('is one unit per started KB of item', () => {
    expect(writeUnits(300, PRICES)).toBe(1);
    expect(writeUnits(1024, PRICES)).toBe(1);
    expect(writeUnits(1025, PRICES)).toBe(2);
  });
});

describe('transactionWriteUnits', () => {
  it('is two units per started KB of each item of the transaction', () => {
    // The idempotency record and the effect, each under 1 KB: 2 + 2.
    expect(transactionWriteUnits([300, 150], PRICES)).toBe(4);
    // A 1,025-byte record takes 2 KB: 4 + 2.
    expect(transactionWriteUnits([1025, 150], PRICES)).toBe(6);
    expect(transactionWriteUnits([], PRICES)).toBe(0);
  });
});

describe('invocationCpuMs', () => {
  // Totals: 10 records 40 ms, 100 records 220 ms, 1,000 records 2,020 ms.
  const curve = { '1000': 2.02, '10': 4, '100': 2.2 };

  it('is the measured total at a measured batch size', () => {
    expect(invocationCpuMs(curve, 10)).toBeCloseTo(40, 9);
    expect(invocationCpuMs(curve, 1000)).toBeCloseTo(2020, 9);
  });

  it('interpolates between measured batch sizes and extends the last segment beyond them', () => {
    // 40 + 45 × (220 − 40) / 90 = 130; 2,020 + 1,000 × (2,020 − 220) / 900 = 4,020.
    expect(invocationCpuMs(curve, 55)).toBeCloseTo(130, 9);
    expect(invocationCpuMs(curve, 2000)).toBeCloseTo(4020, 9);
  });

  it('keeps the per-record figure of the smallest batch size below it', () => {
    expect(invocationCpuMs(curve, 5)).toBeCloseTo(20, 9);
    expect(invocationCpuMs({ '100': 1.5 }, 300)).toBeCloseTo(450, 9);
  });
});
