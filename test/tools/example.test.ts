import * as fifoDomain from '../../lambda/fifo-consumer/domain';
import * as objectDomain from '../../lambda/object-consumer/domain';
import { parseJsonPayload, validatePayload } from '../../lambda/shared/parsing';
import * as sqsDomain from '../../lambda/sqs-consumer/domain';
import * as streamDomain from '../../lambda/stream-consumer/domain';
import * as tableStreamDomain from '../../lambda/table-stream-consumer/domain';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { exampleOutput } from '../../tools/example';

describe('npm run example', () => {
  it('prints a valid SQS body, and the effect item it lands on', () => {
    const body = exampleOutput(['sqs', '--id', 'o-7']);
    const message = parseJsonPayload(body, sqsDomain.domain.schema);
    expect(sqsDomain.domain.idempotencyKey(message)).toContain('o-7');
    expect(exampleOutput(['sqs', '--id', 'o-7', '--effect-key'])).toBe(
      sqsDomain.domain.plan(message).effect[0].key,
    );
  });

  it('prints stream data with its partition key, and an invalid record that fails validation', () => {
    const message = parseJsonPayload(exampleOutput(['stream']), streamDomain.domain.schema);
    expect(exampleOutput(['stream', '--partition-key'])).toBe(streamDomain.domain.partitionKey(message));
    expect(() =>
      parseJsonPayload(exampleOutput(['stream', '--invalid']), streamDomain.domain.schema),
    ).toThrow();
    expect(() => parseJsonPayload(exampleOutput(['sqs', '--invalid']), sqsDomain.domain.schema)).toThrow();
  });

  it('prints an object key, and the effect item in the given bucket', () => {
    const key = exampleOutput(['object']);
    expect(key).toBe(objectDomain.examples.valid('example-1').key);
    expect(exampleOutput(['object', '--effect-key', '--bucket', 'my-bucket'])).toMatch(/my-bucket/);
  });

  it('prints a FIFO body with the message group to send it with', () => {
    const message = parseJsonPayload(exampleOutput(['fifo', '--id', 'e-3']), fifoDomain.domain.schema);
    expect(fifoDomain.domain.idempotencyKey(message)).toContain('e-3');
    expect(exampleOutput(['fifo', '--id', 'e-3', '--group'])).toBe(fifoDomain.domain.messageGroupId(message));
  });

  it('prints a table item in DynamoDB JSON for put-item, its key, the effect item it lands on, and an invalid item under the same key', () => {
    const output = (...options: string[]) => exampleOutput(['table-stream', '--id', 'c-1', ...options]);
    const item = unmarshall(JSON.parse(output()));
    expect(() => validatePayload(item, tableStreamDomain.domain.itemSchema)).not.toThrow();
    expect(JSON.parse(output('--plain'))).toEqual(item);
    expect(unmarshall(JSON.parse(output('--key')))).toEqual({ pk: item.pk });
    const change = tableStreamDomain.examples.valid('c-1');
    expect(output('--effect-key')).toBe(tableStreamDomain.domain.plan(change).effect[0].key);
    const invalid = unmarshall(JSON.parse(output('--invalid')));
    expect(invalid.pk).toBe(item.pk);
    expect(() => validatePayload(invalid, tableStreamDomain.domain.itemSchema)).toThrow();
  });

  it('names the paths when given none or another', () => {
    expect(() => exampleOutput([])).toThrow(
      'Give a path: sqs, fifo, object, stream or table-stream (got none).',
    );
    expect(() => exampleOutput(['kafka'])).toThrow('(got "kafka")');
  });
});
