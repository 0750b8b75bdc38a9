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
    expect(
      handlerSpecs('t', ['fifo', 'table-stream']).map((spec) => [spec.name, spec.kind, spec.processing]),
    ).toEqual([
      ['floor', 'sqs', 'parallel'],
      ['floor-in-order', 'sqs', 'in-order'],
      ['fifo', 'fifo', 'in-order'],
      ['table-stream', 'table-stream', 'in-order per key'],
    ]);
  });
});
