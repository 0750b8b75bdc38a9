import { z } from 'zod';
import {
  InvalidPayloadError,
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
