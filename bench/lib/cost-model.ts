/**
 * The cost model behind `npm run cost`: what one million events cost on each path, line by line, from
 * - the synthesized settings of the path (memory, architecture, batch size, retries, tracing, stream mode...),
 *   read from the cloud assembly by bench/lib/template-settings.ts;
 * - prices (bench/prices.json: one region, one date);
 * - named assumptions (bench/cost-assumptions.json), each overridable on the command line.
 *
 * Pure functions of those three inputs: test/bench/cost-model.test.ts checks them against figures worked out
 * by hand.
 *
 * Lambda duration is modelled, not measured on Lambda: CPU time measured by `npm run bench` on one core,
 * scaled by the CPU share Lambda gives the configured memory (one vCPU at 1,769 MB), plus the DynamoDB round
 * trips a record waits for (two per record, one after the other: the claim or read, then the transaction that
 * completes the idempotency record and writes the effect; records of a parallel batch overlap, up to the SDK's
 * socket limit).
 *
 * Every path's business effect is a write to its effect table committed in one `TransactWriteItems` with the
 * completion of the idempotency record (exactly once). Transactional writes cost two write units per item (per
 * started KB), so that transaction costs 2 × (idempotency record + effect item) write units.
 *
 * The http path is the front door only (an event is one `POST` of an order, accepted): an HTTP API request, one
 * synchronous invocation per request, the Idempotency-Key's claim (a conditional PutItem) and completion (an
 * UpdateItem: the front door has no effect of its own, so no transaction), one `SendMessage`, and the access log
 * line. A client's retry is a re-delivery: another request and invocation, answered from the store (a failed
 * conditional put), nothing sent. The order is then applied by the SQS consumer behind it, priced as the sqs path
 * (its settings are read from the first stack that has one).
 */

export type IngestionPath = 'sqs' | 'object' | 'stream' | 'fifo' | 'table-stream' | 'http';
export type Architecture = 'arm64' | 'x86_64';
/**
 * How a handler runs a batch's records: all at once, one after the other, or one after the other per
 * partition key with the keys at once (the stream handler).
 */
export type Processing = 'parallel' | 'in-order' | 'per-key';
/**
 * How records are made idempotent, and what DynamoDB requests a record costs (the effect included):
 * - `powertools` (claim-then-complete, Powertools' default): a conditional PutItem that claims the key, then one
 *   TransactWriteItems of 2 items that completes the idempotency record and writes the effect;
 * - `read-then-complete`: a strongly consistent GetItem, then the same transaction (the stream handler's cheaper
 *   option, lambda/shared/serial-key-persistence.ts; sound only where a key is never processed concurrently);
 * - `put-only`: one conditional TransactWriteItems of 2 items, the completed idempotency record and the effect (a
 *   what-if: no in-progress state, not offered by the template);
 * - `none`: the effect alone, one plain UpdateItem per delivery (a what-if: duplicates apply it again).
 */
export type IdempotencyScheme = 'powertools' | 'read-then-complete' | 'put-only' | 'none';

/** The scheme a path runs with: the template's (`IDEMPOTENCY_SCHEME`) unless the assumption overrides it. */
export function schemeOf(settings: PathSettings, assumptions: Assumptions): IdempotencyScheme {
  return assumptions.idempotencyScheme === 'powertools'
    ? (settings.idempotencyScheme ?? 'powertools')
    : assumptions.idempotencyScheme;
}

/** What the synthesized templates say about a path (overridable). */
export interface PathSettings {
  readonly path: IngestionPath;
  readonly memoryMb: number;
  readonly architecture: Architecture;
  /** Records per invocation as configured (1 for the asynchronous object path: SNS sends one). */
  readonly batchSize: number;
  readonly tracing: boolean;
  readonly logRetentionDays: number;
  /** Kinesis only (a DynamoDB table's stream has no mode: it costs nothing to keep). */
  readonly streamMode?: 'ON_DEMAND' | 'PROVISIONED';
  readonly shardCount?: number;
  /** The function's `IDEMPOTENCY_SCHEME`, when it is not Powertools' default. */
  readonly idempotencyScheme?: IdempotencyScheme;
}

/** Per-path measurements (from `npm run bench`) and facts about the events. */
export interface PathAssumptions {
  /** How the handler runs a batch's records. */
  readonly processing: Processing;
  /** `per-key` only: distinct partition keys in a batch (their records' round trips overlap). */
  readonly keysPerBatch?: number;
  /** Size of one event as the source bills it (SQS body, SNS message, Kinesis record, the table item written). */
  readonly eventBytes: number;
  /**
   * Handler CPU per record on one full core, measured at some batch sizes (`{ "10": 5.1, "100": 3.2 }`). An
   * invocation of n records takes the measured total interpolated between the nearest batch sizes (below the
   * smallest: its per-record figure; above the largest: the last segment's slope). Warm CPU per record falls
   * as batches grow and the per-invocation work spreads over more records.
   */
  readonly cpuMsPerRecordAtBatchSize: Readonly<Record<string, number>>;
  /** Init phase (module load) on one full core. */
  readonly initMs: number;
  /** Log the handler writes per record (the "side effect done" line). */
  readonly logBytesPerRecord: number;
  /** http only: the `SendMessage` round trip of an accepted order, in the region. */
  readonly sqsSendLatencyMs?: number;
  /** http only: API Gateway's access log line per request (ACCESS_LOG_FIELDS as JSON). */
  readonly accessLogBytesPerRequest?: number;
  /** Size of one idempotency record as stored (key, status, expiry, the stored result). */
  readonly idempotencyItemBytes: number;
  /** Size of one effect item as written (its key and the running counters the business action adds to). */
  readonly effectItemBytes: number;
}

export interface Assumptions {
  /** One DynamoDB request (PutItem, GetItem, UpdateItem or the 2-item transaction), round trip, in the region. */
  readonly dynamoDbLatencyMs: number;
  /** Sockets the SDK opens per client (NodeHttpHandler's default `maxSockets`). */
  readonly maxSockets: number;
  /** Share of invocations that start a new execution environment. */
  readonly coldStartRate: number;
  /** Share of records delivered again (retries, duplicates): processed again, found done. */
  readonly redeliveryRate: number;
  /** How full batches are on average (1: every invocation gets `batchSize` records). */
  readonly batchFill: number;
  /** Lambda CPU time per bench-machine CPU ms (> 1: Lambda's vCPU is slower). */
  readonly cpuSpeedFactor: number;
  /** CPU time on arm64 relative to x86_64. */
  readonly arm64CpuFactor: number;
  /** START, END and REPORT lines Lambda writes per invocation (plus the X-Ray line when traced). */
  readonly platformLogBytesPerInvocation: number;
  /** Stored log size relative to ingested (CloudWatch bills stored logs compressed). */
  readonly logCompressionRatio: number;
  /** Share of invocations X-Ray records a trace for (default sampling: 1 per second, then 5 %). */
  readonly xraySampledFraction: number;
  /** Messages per SendMessageBatch from producers. */
  readonly sqsSendBatchSize: number;
  /** Events per month, to spread hourly charges (Kinesis stream or shard hours) over events. */
  readonly monthlyEvents: number;
  readonly idempotencyScheme: IdempotencyScheme;
  readonly paths: Readonly<Record<IngestionPath, PathAssumptions>>;
}

/** The prices (bench/prices.json). */
export interface Prices {
  readonly region: string;
  readonly asOf: string;
  readonly lambda: {
    readonly requestsPerMillion: number;
    readonly gbSecond: Readonly<Record<Architecture, number>>;
    readonly initBilled: boolean;
    readonly fullVcpuMemoryMb: number;
  };
  readonly sqs: {
    readonly standardRequestsPerMillion: number;
    /** FIFO queues' requests (send, receive, delete) cost more than a standard queue's. */
    readonly fifoRequestsPerMillion: number;
    readonly requestChunkBytes: number;
  };
  readonly sns: { readonly publishesPerMillion: number; readonly requestChunkBytes: number };
  readonly s3: { readonly putRequestsPerThousand: number };
  readonly apiGateway: {
    /** HTTP API requests, metered in increments of `httpApiRequestChunkBytes`. */
    readonly httpApiRequestsPerMillion: number;
    readonly httpApiRequestChunkBytes: number;
  };
  readonly kinesis: {
    readonly onDemand: {
      readonly streamHour: number;
      readonly ingestedGb: number;
      readonly retrievedGb: number;
      readonly recordRoundingBytes: number;
    };
    readonly provisioned: {
      readonly shardHour: number;
      readonly putPayloadUnitsPerMillion: number;
      readonly putPayloadUnitBytes: number;
    };
  };
  readonly dynamodb: {
    readonly onDemand: {
      readonly writeRequestUnitsPerMillion: number;
      readonly readRequestUnitsPerMillion: number;
    };
    readonly writeUnitBytes: number;
    /** DynamoDB Streams: `GetRecords` calls made by Lambda's event source mapping are not charged. */
    readonly streams: { readonly lambdaGetRecordsFree: boolean };
  };
  readonly cloudwatchLogs: { readonly ingestedGb: number; readonly storedGbMonth: number };
  readonly xray: { readonly tracesRecordedPerMillion: number };
  readonly hoursPerMonth: number;
}

export interface LineItem {
  readonly service: string;
  readonly item: string;
  /** Units per million events. */
  readonly quantity: number;
  readonly unit: string;
  /** USD per million events. */
  readonly cost: number;
}

export interface PathCost {
  readonly path: IngestionPath;
  readonly items: readonly LineItem[];
  /** USD per million events. */
  readonly total: number;
  /** The modelled duration of one invocation (billed, whole milliseconds). */
  readonly billedDurationMs: number;
  /** The modelled init phase of a cold start (billed, whole milliseconds). */
  readonly billedInitMs: number;
  readonly invocations: number;
}

const MILLION = 1_000_000;
const GIB = 1024 ** 3;

/** CPU time on Lambda per CPU ms measured on one full core of the bench machine. */
export function cpuScale(
  settings: Pick<PathSettings, 'memoryMb' | 'architecture'>,
  assumptions: Assumptions,
  prices: Prices,
): number {
  const share = Math.max(1, prices.lambda.fullVcpuMemoryMb / settings.memoryMb);
  return (
    share * assumptions.cpuSpeedFactor * (settings.architecture === 'arm64' ? assumptions.arm64CpuFactor : 1)
  );
}

/** CPU of one invocation of `records` records on one full core, from the measured curve. */
export function invocationCpuMs(curve: Readonly<Record<string, number>>, records: number): number {
  const points = Object.entries(curve)
    .map(([batchSize, perRecord]) => ({ batchSize: Number(batchSize), total: Number(batchSize) * perRecord }))
    .filter((point) => point.batchSize > 0 && Number.isFinite(point.total))
    .sort((a, b) => a.batchSize - b.batchSize);
  if (points.length === 0) throw new Error('no CPU measurements (cpuMsPerRecordAtBatchSize is empty)');
  const first = points[0];
  if (records <= first.batchSize || points.length === 1) return (first.total / first.batchSize) * records;
  let index = 1;
  while (index < points.length - 1 && records > points[index].batchSize) index += 1;
  const [low, high] = [points[index - 1], points[index]];
  return (
    low.total + ((records - low.batchSize) * (high.total - low.total)) / (high.batchSize - low.batchSize)
  );
}

/** The modelled billed duration of one invocation of `records` records. */
export function invocationDurationMs(
  settings: PathSettings,
  records: number,
  assumptions: Assumptions,
  prices: Prices,
): number {
  const own = assumptions.paths[settings.path];
  const cpu =
    invocationCpuMs(own.cpuMsPerRecordAtBatchSize, records) * cpuScale(settings, assumptions, prices);
  if (settings.path === 'http') {
    // One request per invocation, its calls one after the other: the claim, the send, the completion.
    return Math.ceil(cpu + 2 * assumptions.dynamoDbLatencyMs + (own.sqsSendLatencyMs ?? 0));
  }
  const scheme = schemeOf(settings, assumptions);
  // Round trips a record waits for: the claim (or read), then the transaction; a single transaction (put-only)
  // or a single effect write (none).
  const roundTripsPerRecord = scheme === 'powertools' || scheme === 'read-then-complete' ? 2 : 1;
  const lanes =
    own.processing === 'parallel'
      ? assumptions.maxSockets
      : own.processing === 'per-key'
        ? Math.min(own.keysPerBatch ?? 1, assumptions.maxSockets)
        : 1;
  const rounds = Math.ceil(records / lanes);
  return Math.ceil(cpu + roundTripsPerRecord * assumptions.dynamoDbLatencyMs * rounds);
}

/** Write request units of one (standard) write of an item of `bytes` bytes. */
export function writeUnits(bytes: number, prices: Prices): number {
  return Math.max(1, Math.ceil(bytes / prices.dynamodb.writeUnitBytes));
}

/**
 * Write request units of one TransactWriteItems writing items of these sizes: two units per started KB of each
 * item (DynamoDB prepares and commits every item of a transaction).
 */
export function transactionWriteUnits(itemBytes: readonly number[], prices: Prices): number {
  return itemBytes.reduce((sum, bytes) => sum + 2 * writeUnits(bytes, prices), 0);
}

/** Cost of one million events on a path, line by line. */
export function costPerMillionEvents(
  settings: PathSettings,
  assumptions: Assumptions,
  prices: Prices,
): PathCost {
  const own = assumptions.paths[settings.path];
  const items: LineItem[] = [];
  const add = (service: string, item: string, quantity: number, unit: string, unitPrice: number): void => {
    items.push({ service, item, quantity, unit, cost: quantity * unitPrice });
  };

  const events = MILLION;
  const deliveries = events * (1 + assumptions.redeliveryRate);
  // The object path gets one notification per invocation, the http path one request.
  const recordsPerInvocation =
    settings.path === 'object' || settings.path === 'http'
      ? 1
      : Math.max(1, settings.batchSize * assumptions.batchFill);
  const invocations = deliveries / recordsPerInvocation;
  const memoryGb = settings.memoryMb / 1024;

  // --- Lambda -----------------------------------------------------------------------------------------------
  const billedDurationMs = invocationDurationMs(settings, recordsPerInvocation, assumptions, prices);
  const billedInitMs = Math.ceil(own.initMs * cpuScale(settings, assumptions, prices));
  const gbSecond = prices.lambda.gbSecond[settings.architecture];
  add('Lambda', 'requests', invocations, 'requests', prices.lambda.requestsPerMillion / MILLION);
  add(
    'Lambda',
    `duration (${billedDurationMs} ms × ${settings.memoryMb} MB, ${settings.architecture})`,
    (invocations * memoryGb * billedDurationMs) / 1000,
    'GB-s',
    gbSecond,
  );
  if (prices.lambda.initBilled) {
    const coldStarts = invocations * assumptions.coldStartRate;
    add(
      'Lambda',
      `init (${billedInitMs} ms per cold start)`,
      (coldStarts * memoryGb * billedInitMs) / 1000,
      'GB-s',
      gbSecond,
    );
  }

  // --- the source -------------------------------------------------------------------------------------------
  if (settings.path === 'http') {
    // Every request is billed, a client's retry included; an order is sent once (a retry is answered from the store).
    const chunks = Math.ceil(own.eventBytes / prices.apiGateway.httpApiRequestChunkBytes);
    add(
      'API Gateway',
      'HTTP API requests (a retry is another request)',
      deliveries * chunks,
      'requests',
      prices.apiGateway.httpApiRequestsPerMillion / MILLION,
    );
    const sendChunks = Math.ceil(own.eventBytes / prices.sqs.requestChunkBytes);
    add(
      'SQS',
      'SendMessage of each accepted order (to the consumer behind, priced as the sqs path)',
      events * sendChunks,
      'requests',
      prices.sqs.standardRequestsPerMillion / MILLION,
    );
  } else if (settings.path === 'sqs' || settings.path === 'fifo') {
    // FIFO queues' requests are priced apart (bench/prices.json); the same requests otherwise.
    const fifo = settings.path === 'fifo';
    const price =
      (fifo ? prices.sqs.fifoRequestsPerMillion : prices.sqs.standardRequestsPerMillion) / MILLION;
    const queue = fifo ? 'SQS FIFO' : 'SQS';
    const sendChunks = Math.ceil(
      (assumptions.sqsSendBatchSize * own.eventBytes) / prices.sqs.requestChunkBytes,
    );
    add(
      queue,
      `SendMessageBatch (${assumptions.sqsSendBatchSize} per request)`,
      (events / assumptions.sqsSendBatchSize) * sendChunks,
      'requests',
      price,
    );
    // Lambda's pollers receive and delete at most 10 messages per request.
    const perRequest = Math.min(10, recordsPerInvocation);
    add(queue, 'ReceiveMessage (by the event source mapping)', deliveries / perRequest, 'requests', price);
    add(
      queue,
      'DeleteMessageBatch (by the event source mapping)',
      deliveries / perRequest,
      'requests',
      price,
    );
  } else if (settings.path === 'table-stream') {
    // The event is a change of an item of the source table: the producer's write makes it (its write units are
    // the item's size, `eventBytes`); the stream costs nothing to keep, and Lambda's reads of it are free.
    const sourceUnits = writeUnits(own.eventBytes, prices);
    add(
      'DynamoDB',
      `source table writes (the change that makes the event, ${sourceUnits} WRU each)`,
      events * sourceUnits,
      'WRU',
      prices.dynamodb.onDemand.writeRequestUnitsPerMillion / MILLION,
    );
    add(
      'DynamoDB Streams',
      `GetRecords by the event source mapping (${prices.dynamodb.streams.lambdaGetRecordsFree ? 'free for Lambda' : 'billed'})`,
      deliveries / recordsPerInvocation,
      'requests',
      0,
    );
  } else if (settings.path === 'object') {
    add(
      'S3',
      'PUT (the upload that creates the event)',
      events,
      'requests',
      prices.s3.putRequestsPerThousand / 1000,
    );
    const chunks = Math.ceil(own.eventBytes / prices.sns.requestChunkBytes);
    add(
      'SNS',
      'publishes (S3 event notifications)',
      events * chunks,
      'requests',
      prices.sns.publishesPerMillion / MILLION,
    );
    add('SNS', 'deliveries to Lambda (free)', events, 'deliveries', 0);
  } else {
    // Kinesis Data Streams.
    const hoursPerMillion = (prices.hoursPerMonth * MILLION) / assumptions.monthlyEvents;
    if ((settings.streamMode ?? 'ON_DEMAND') === 'ON_DEMAND') {
      const rounded =
        Math.ceil(own.eventBytes / prices.kinesis.onDemand.recordRoundingBytes) *
        prices.kinesis.onDemand.recordRoundingBytes;
      add(
        'Kinesis',
        'on-demand stream hours (spread over monthly events)',
        hoursPerMillion,
        'stream-hours',
        prices.kinesis.onDemand.streamHour,
      );
      add(
        'Kinesis',
        'data ingested (records rounded up to 1 KB)',
        (events * rounded) / GIB,
        'GB',
        prices.kinesis.onDemand.ingestedGb,
      );
      add(
        'Kinesis',
        'data retrieved by the event source mapping',
        (deliveries * rounded) / GIB,
        'GB',
        prices.kinesis.onDemand.retrievedGb,
      );
    } else {
      const shards = settings.shardCount ?? 1;
      add(
        'Kinesis',
        `shard hours (${shards} shards, spread over monthly events)`,
        hoursPerMillion * shards,
        'shard-hours',
        prices.kinesis.provisioned.shardHour,
      );
      const units = Math.ceil(own.eventBytes / prices.kinesis.provisioned.putPayloadUnitBytes);
      add(
        'Kinesis',
        'PUT payload units (25 KB)',
        events * units,
        'units',
        prices.kinesis.provisioned.putPayloadUnitsPerMillion / MILLION,
      );
    }
  }

  // --- DynamoDB (idempotency and the effect) ------------------------------------------------------------------
  const units = writeUnits(own.idempotencyItemBytes, prices);
  const effectUnits = writeUnits(own.effectItemBytes, prices);
  const transactionUnits = transactionWriteUnits([own.idempotencyItemBytes, own.effectItemBytes], prices);
  const wruPrice = prices.dynamodb.onDemand.writeRequestUnitsPerMillion / MILLION;
  const rruPrice = prices.dynamodb.onDemand.readRequestUnitsPerMillion / MILLION;
  const scheme = schemeOf(settings, assumptions);
  const transaction = `TransactWriteItems of 2 items at 2 WRU per KB: ${transactionUnits} WRU per record`;
  if (settings.path === 'http') {
    // The Idempotency-Key: claimed, then completed with the stored 202 (no effect, so no transaction).
    add(
      'DynamoDB',
      `Idempotency-Key claims (conditional PutItem, ${units} WRU per request)`,
      events * units,
      'WRU',
      wruPrice,
    );
    add(
      'DynamoDB',
      `completion with the stored answer (UpdateItem, ${units} WRU per request)`,
      events * units,
      'WRU',
      wruPrice,
    );
    add(
      'DynamoDB',
      "failed conditional puts of clients' retries (answered from the store)",
      (deliveries - events) * units,
      'WRU',
      wruPrice,
    );
  } else if (scheme === 'powertools') {
    add(
      'DynamoDB',
      `idempotency claims (conditional PutItem, ${units} WRU per record)`,
      events * units,
      'WRU',
      wruPrice,
    );
    add(
      'DynamoDB',
      `completion with the effect (${transaction})`,
      events * transactionUnits,
      'WRU',
      wruPrice,
    );
    // A re-delivered record's conditional put fails, which consumes the write units all the same; the record is
    // then found completed and nothing else is written.
    add(
      'DynamoDB',
      'failed conditional puts of re-deliveries',
      (deliveries - events) * units,
      'WRU',
      wruPrice,
    );
  } else if (scheme === 'read-then-complete') {
    // A strongly consistent read of an item under 4 KB is one read unit; every delivery reads, only first
    // deliveries write (a re-delivery finds the completed key and stops there).
    add(
      'DynamoDB',
      'idempotency reads (1 strongly consistent RRU per delivery)',
      deliveries,
      'RRU',
      rruPrice,
    );
    add(
      'DynamoDB',
      `completion with the effect (${transaction})`,
      events * transactionUnits,
      'WRU',
      wruPrice,
    );
  } else if (scheme === 'put-only') {
    add(
      'DynamoDB',
      `conditional put of the record with the effect (${transaction})`,
      events * transactionUnits,
      'WRU',
      wruPrice,
    );
    // Assumed to consume its write units like a failed conditional put does.
    add(
      'DynamoDB',
      'cancelled transactions of re-deliveries (assumed billed in full)',
      (deliveries - events) * transactionUnits,
      'WRU',
      wruPrice,
    );
  } else {
    add(
      'DynamoDB',
      `effect writes without idempotency (UpdateItem, ${effectUnits} WRU per delivery: duplicates apply again)`,
      deliveries * effectUnits,
      'WRU',
      wruPrice,
    );
  }

  // --- CloudWatch Logs, X-Ray ---------------------------------------------------------------------------------
  const logGb =
    (deliveries * (own.logBytesPerRecord + (own.accessLogBytesPerRequest ?? 0)) +
      invocations * assumptions.platformLogBytesPerInvocation) /
    GIB;
  add(
    'CloudWatch Logs',
    own.accessLogBytesPerRequest
      ? 'ingestion (handler lines + START/END/REPORT + API access log lines)'
      : 'ingestion (handler lines + START/END/REPORT)',
    logGb,
    'GB',
    prices.cloudwatchLogs.ingestedGb,
  );
  const retentionMonths = settings.logRetentionDays / 30;
  add(
    'CloudWatch Logs',
    `storage (${settings.logRetentionDays} days, compressed)`,
    logGb * assumptions.logCompressionRatio * retentionMonths,
    'GB-months',
    prices.cloudwatchLogs.storedGbMonth,
  );
  if (settings.tracing) {
    add(
      'X-Ray',
      'traces recorded (active tracing, sampled)',
      invocations * assumptions.xraySampledFraction,
      'traces',
      prices.xray.tracesRecordedPerMillion / MILLION,
    );
  }

  return {
    path: settings.path,
    items,
    total: items.reduce((sum, line) => sum + line.cost, 0),
    billedDurationMs,
    billedInitMs,
    invocations,
  };
}
