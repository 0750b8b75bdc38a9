/**
 * Where a handler's init time goes: each library the handlers load, bundled on its own with the shipped settings,
 * `require`d in a fresh process and timed (module load and the construction the handlers do at init), every part
 * once per round in a rotating order. An empty module is the baseline.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { ConsumerBundling } from '../../lib/constructs/consumer-function';
import { bundleHandler, PROJECT_ROOT } from './bundle';
import { BENCH_DIR } from './harness';
import { rotate, type Summary, summarise } from './stats';

const run = promisify(execFile);

/** What each part does at init, as the handlers do it. */
const PARTS: Readonly<Record<string, { readonly description: string; readonly source: string }>> = {
  empty: { description: 'an empty module (baseline)', source: 'export const nothing = 0;' },
  sdk: {
    description: 'AWS SDK DynamoDB client, created (the floor has this too)',
    source:
      "import { DynamoDBClient } from '@aws-sdk/client-dynamodb'; export const client = new DynamoDBClient({});",
  },
  logger: {
    description: 'Powertools Logger, created',
    source: "import { Logger } from '@aws-lambda-powertools/logger'; export const logger = new Logger();",
  },
  batch: {
    description: 'Powertools batch processor',
    source:
      "import { BatchProcessor, EventType } from '@aws-lambda-powertools/batch'; export const processor = new BatchProcessor(EventType.SQS);",
  },
  idempotency: {
    description: 'Powertools idempotency + DynamoDB persistence (JMESPath loaded by the library), created',
    source: [
      "import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';",
      "import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';",
      "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';",
      "const persistenceStore = new DynamoDBPersistenceLayer({ tableName: 't', awsSdkV3Client: new DynamoDBClient({}) });",
      // As the handlers build it: the key itself is the hashed argument, no eventKeyJmesPath.
      'export const once = makeIdempotent(async (_key: string, order: { orderId: string }) => order, { persistenceStore, config: new IdempotencyConfig({ throwOnNoIdempotencyKey: true }), dataIndexArgument: 0 });',
    ].join('\n'),
  },
  'zod-mini': {
    description: "the SQS path's domain (its zod/mini schema + English messages, its plan), as shipped",
    source: `import { domain, examples } from '${path.join(PROJECT_ROOT, 'lambda', 'sqs-consumer', 'domain')}';
import { parseJsonPayload } from '${path.join(PROJECT_ROOT, 'lambda', 'shared', 'parsing')}';
export const record = parseJsonPayload(JSON.stringify(examples.valid('o')), domain.schema);`,
  },
  'zod-classic': {
    description: 'the same schema in classic zod (`import * as z from "zod"`, before)',
    source: `import * as z from 'zod';
const Line = z.object({ sku: z.string().min(1).max(64), quantity: z.number().int().min(1).max(1000), unitPriceCents: z.number().int().min(0).max(100000000) });
const Order = z.object({ orderId: z.string().min(1).max(128), customerId: z.string().min(1).max(128), currency: z.string().regex(/^[A-Z]{3}$/), lines: z.array(Line).min(1).max(100) });
export const order = Order.safeParse({ orderId: 'o', customerId: 'c', currency: 'EUR', lines: [{ sku: 's', quantity: 1, unitPriceCents: 1 }] });`,
  },
};

export interface InitPart {
  readonly name: string;
  readonly description: string;
  readonly bytes: number;
  /** `require` of the bundle (module load + what it constructs), in a fresh process. */
  readonly requireMs: Summary;
  /** The same minus the empty module's, paired by round. */
  readonly netMs: Summary;
}

export async function measureInitParts(options: {
  readonly bundling: ConsumerBundling;
  readonly environment: Readonly<Record<string, string>>;
  readonly rounds: number;
}): Promise<InitPart[]> {
  const dir = path.join(BENCH_DIR, 'init-parts');
  mkdirSync(dir, { recursive: true });
  const built: Record<string, { file: string; bytes: number }> = {};
  for (const [name, part] of Object.entries(PARTS)) {
    const entry = path.join(dir, `${name}.ts`);
    writeFileSync(entry, `${part.source}\n`);
    const bundle = await bundleHandler(
      options.bundling,
      path.relative(PROJECT_ROOT, entry),
      path.join(dir, name),
    );
    built[name] = { file: bundle.file, bytes: bundle.bytes };
  }
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(PARTS).map((name) => [name, []]));
  const script =
    'const s=performance.now();require(process.argv[1]);process.stdout.write(String(performance.now()-s))';
  for (let round = 0; round < options.rounds; round += 1) {
    for (const name of rotate(Object.keys(PARTS), round)) {
      const { stdout } = await run(process.execPath, ['-e', script, built[name].file], {
        env: { PATH: process.env.PATH ?? '', ...options.environment },
      });
      times[name].push(Number(stdout));
    }
  }
  return Object.entries(PARTS).map(([name, part]) => ({
    name,
    description: part.description,
    bytes: built[name].bytes,
    requireMs: summarise(times[name]),
    netMs: summarise(times[name].map((value, round) => value - times.empty[round])),
  }));
}
