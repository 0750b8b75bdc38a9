/**
 * The sizes the cost model prices that depend on a path's business, measured on its domain module's examples
 * (lambda/<path>-consumer/domain.ts) instead of assumed: a fork's own messages, responses and effect items are
 * priced without editing bench/cost-assumptions.json.
 *
 * - `eventBytes`: the JSON of a valid example (the SQS body, the FIFO body, the Kinesis data; on the table stream the
 *   item the producer writes, the change's new image). Not on the object path, whose event is S3's notification (an
 *   assumption).
 * - `idempotencyItemBytes`: DynamoDB's size of a completed idempotency record: attribute names and values, with the
 *   plan's response stored in `data`.
 * - `effectItemBytes`: DynamoDB's size of an effect item after a record: `pk`, the key and each counter.
 */
import { randomUUID } from 'node:crypto';
import * as fifoDomain from '../../lambda/fifo-consumer/domain';
import { ACCEPTED_ID_FIELD, HTTP_KEY_PREFIX } from '../../lambda/http-ingress/handler';
import * as objectDomain from '../../lambda/object-consumer/domain';
import type { Domain, DomainExamples } from '../../lambda/shared/domain';
import * as sqsDomain from '../../lambda/sqs-consumer/domain';
import * as streamDomain from '../../lambda/stream-consumer/domain';
import * as tableStreamDomain from '../../lambda/table-stream-consumer/domain';
import type { IngestionPath } from './cost-model';

export interface DomainSizes {
  readonly eventBytes?: number;
  readonly idempotencyItemBytes: number;
  readonly effectItemBytes: number;
}

/** How many examples the averages are taken over. */
const SAMPLE = 100;

/** DynamoDB's size of a number: about one byte per two significant digits, plus one. */
function numberBytes(value: number): number {
  const digits = String(Math.abs(value))
    .replace(/[^0-9]/g, '')
    .replace(/^0+/, '').length;
  return Math.ceil(Math.max(digits, 1) / 2) + 1;
}

/**
 * A completed idempotency record (Powertools' attributes and this project's payload hash): `id` (the prefix, `#`
 * and a 24-character base64 MD5), `status` COMPLETED, `expiration` and `in_progress_expiration` (epoch numbers),
 * `validation` (the payload hash, 24 characters) and `data` (the response's JSON).
 */
function idempotencyItemBytes(keyPrefix: string, response: unknown): number {
  const epoch = numberBytes(Math.floor(Date.now() / 1000));
  return (
    'id'.length +
    keyPrefix.length +
    1 +
    24 +
    'status'.length +
    'COMPLETED'.length +
    'expiration'.length +
    epoch +
    'in_progress_expiration'.length +
    epoch +
    'validation'.length +
    24 +
    'data'.length +
    JSON.stringify(response).length
  );
}

function effectItemBytes(key: string, add: Readonly<Record<string, number>>): number {
  return (
    'pk'.length +
    key.length +
    Object.entries(add).reduce((sum, [name, value]) => sum + name.length + numberBytes(value), 0)
  );
}

/** `eventOf`: what the source bills as the event (the message itself by default); `false`: not measured. */
function sizesOf<M>(
  domain: Domain<M, unknown>,
  examples: DomainExamples<M>,
  eventOf: ((message: M) => unknown) | false = (message) => message,
): DomainSizes {
  const messages = Array.from({ length: SAMPLE }, (_, i) =>
    examples.valid(`cost-${i}`, { group: 1 + (i % 50), variant: i }),
  );
  const average = (values: readonly number[]) =>
    Math.round(values.reduce((a, b) => a + b, 0) / values.length);
  const plans = messages.map((message) => domain.plan(message));
  return {
    ...(eventOf && {
      eventBytes: average(messages.map((message) => JSON.stringify(eventOf(message)).length)),
    }),
    idempotencyItemBytes: average(plans.map((plan) => idempotencyItemBytes(domain.keyPrefix, plan.response))),
    effectItemBytes: average(
      plans.flatMap((plan) => plan.effect.map((item) => effectItemBytes(item.key, item.add))),
    ),
  };
}

/**
 * The http path's front door: the event is the order's JSON (the request body and the message sent), the
 * idempotency record stores the `202` body under the Idempotency-Key; there is no effect item (the consumer behind
 * it writes that, priced as the sqs path).
 */
function httpSizes(): DomainSizes {
  const orders = Array.from({ length: SAMPLE }, (_, i) =>
    sqsDomain.examples.valid(`cost-${i}`, { group: 1 + (i % 50), variant: i }),
  );
  const average = (values: readonly number[]) =>
    Math.round(values.reduce((a, b) => a + b, 0) / values.length);
  return {
    eventBytes: average(orders.map((order) => JSON.stringify(order).length)),
    idempotencyItemBytes: average(
      orders.map((order) =>
        idempotencyItemBytes(HTTP_KEY_PREFIX, {
          status: 'accepted',
          [ACCEPTED_ID_FIELD]: sqsDomain.domain.idempotencyKey(order),
          messageId: randomUUID(),
        }),
      ),
    ),
    effectItemBytes: 0,
  };
}

/** The sizes of each path's domain. */
export function domainSizes(path: IngestionPath): DomainSizes {
  switch (path) {
    case 'sqs':
      return sizesOf(sqsDomain.domain, sqsDomain.examples);
    case 'fifo':
      return sizesOf(fifoDomain.domain, fifoDomain.examples);
    case 'stream':
      return sizesOf(streamDomain.domain, streamDomain.examples);
    case 'table-stream':
      return sizesOf(tableStreamDomain.domain, tableStreamDomain.examples, (change) => change.newItem);
    case 'object':
      return sizesOf(objectDomain.domain, objectDomain.examples, false);
    case 'http':
      return httpSizes();
  }
}
