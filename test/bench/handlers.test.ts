import { handlerSpecs } from '../../bench/lib/handlers';

describe('handlerSpecs', () => {
  it('measures the floors and the handlers of the deployed paths only', () => {
    expect(handlerSpecs('t', ['stream']).map((spec) => spec.name)).toEqual([
      'floor',
      'floor-in-order',
      'stream',
    ]);
    expect(handlerSpecs('t', ['sqs', 'object']).map((spec) => spec.name)).toEqual([
      'floor',
      'floor-in-order',
      'sqs',
      'sqs-no-info-log',
      'object',
    ]);
  });
});
