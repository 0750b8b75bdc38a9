import { z } from 'zod';
import {
  assertEventOf,
  InvalidPayloadError,
  WrongEventError,
  parseBase64JsonPayload,
  parseJsonPayload,
} from '../../../lambda/shared/parsing';

const schema = z.object({ orderId: z.string().min(1), quantity: z.number().int().positive() });

describe('parseJsonPayload', () => {
  it('returns the typed value for valid JSON', () => {
    expect(parseJsonPayload('{"orderId":"o-1","quantity":2}', schema)).toEqual({
      orderId: 'o-1',
      quantity: 2,
    });
  });

  it('rejects text that is not JSON', () => {
    expect(() => parseJsonPayload('not json', schema)).toThrow(InvalidPayloadError);
    expect(() => parseJsonPayload('not json', schema)).toThrow(/payload is not JSON/);
  });

  it('names every schema issue with its path', () => {
    try {
      parseJsonPayload('{"orderId":"","quantity":-1}', schema);
      throw new Error('expected a failure');
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidPayloadError);
      expect((error as InvalidPayloadError).issues).toEqual([
        expect.stringMatching(/^orderId: /),
        expect.stringMatching(/^quantity: /),
      ]);
    }
  });
});

describe('parseBase64JsonPayload', () => {
  it('decodes base64 before parsing', () => {
    const data = Buffer.from('{"orderId":"o-2","quantity":1}').toString('base64');
    expect(parseBase64JsonPayload(data, schema)).toEqual({ orderId: 'o-2', quantity: 1 });
  });
});

describe('assertEventOf', () => {
  const sqs = { Records: [{ eventSource: 'aws:sqs', messageId: 'm-1', body: '{}' }] };
  const kinesis = {
    Records: [
      { eventSource: 'aws:kinesis', eventID: 's:1', kinesis: { partitionKey: 'k', sequenceNumber: '1' } },
    ],
  };

  it('accepts a batch of the source whose records have the fields', () => {
    expect(() => assertEventOf(sqs, 'aws:sqs', ['messageId', 'body'])).not.toThrow();
    expect(() => assertEventOf(kinesis, 'aws:kinesis', ['eventID', 'kinesis.partitionKey'])).not.toThrow();
  });

  it('names what arrived instead: another source, a missing field, no Records at all', () => {
    expect(() => assertEventOf(kinesis, 'aws:sqs', ['messageId', 'body'])).toThrow(
      new WrongEventError(
        'not an aws:sqs event: record 0 has eventSource "aws:kinesis" and no messageId, body',
      ),
    );
    const noBody = { Records: [{ eventSource: 'aws:sqs', messageId: 'm-1' }] };
    expect(() => assertEventOf(noBody, 'aws:sqs', ['messageId', 'body'])).toThrow(
      'not an aws:sqs event: record 0 has eventSource "aws:sqs" and no body',
    );
    expect(() => assertEventOf({ hello: 1 }, 'aws:kinesis', [])).toThrow(
      'not an aws:kinesis event: it has no Records array',
    );
    expect(() => assertEventOf(null, 'aws:kinesis', [])).toThrow(WrongEventError);
  });
});
