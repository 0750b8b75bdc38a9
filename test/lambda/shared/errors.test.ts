/** Errors as a log line shows them: the whole cause chain, with what AWS says about each link. */
import { IdempotencyPersistenceLayerError } from '@aws-lambda-powertools/idempotency';
import { ThrottlingException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { isTransientDependencyError, describeError, findInChain } from '../../../lambda/shared/errors';

const metadata = { httpStatusCode: 400, requestId: 'REQ-1', attempts: 3, totalRetryDelay: 120 };

describe('describeError', () => {
  it('describes a plain error by its name and message only', () => {
    expect(describeError(new TypeError('bad'))).toEqual({ name: 'TypeError', message: 'bad' });
  });

  it('describes anything else thrown by its type and text', () => {
    expect(describeError('text')).toEqual({ name: 'string', message: 'text' });
    expect(describeError(undefined)).toEqual({ name: 'undefined', message: 'undefined' });
    expect(describeError({ code: 1 })).toEqual({ name: 'object', message: '[object Object]' });
  });

  it('gives an AWS error its code, HTTP status, request id and attempts', () => {
    const throttled = new ThrottlingException({ message: 'slow down', $metadata: metadata });
    expect(describeError(throttled)).toEqual({
      name: 'ThrottlingException',
      message: 'slow down',
      code: 'ThrottlingException',
      httpStatusCode: 400,
      requestId: 'REQ-1',
      attempts: 3,
    });
  });

  it('lists the cancellation reasons of a cancelled transaction, one per item', () => {
    const cancelled = new TransactionCanceledException({
      message: 'Transaction cancelled',
      $metadata: metadata,
      CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }, {}],
    });
    expect(describeError(cancelled)).toEqual(
      expect.objectContaining({
        code: 'TransactionCanceledException',
        cancellationReasons: ['ConditionalCheckFailed', 'None', 'None'],
      }),
    );
  });

  it("follows the cause chain: Powertools' wrapper, then the AWS error behind it", () => {
    const throttled = new ThrottlingException({ message: 'slow down', $metadata: metadata });
    const wrapped = new IdempotencyPersistenceLayerError(
      'Failed to update success record to idempotency store',
      {
        cause: throttled,
      },
    );
    expect(describeError(wrapped)).toEqual({
      name: 'IdempotencyPersistenceLayerError',
      message: 'Failed to update success record to idempotency store',
      cause: {
        name: 'ThrottlingException',
        message: 'slow down',
        code: 'ThrottlingException',
        httpStatusCode: 400,
        requestId: 'REQ-1',
        attempts: 3,
      },
    });
  });

  it('describes the errors of an AggregateError', () => {
    const aggregate = new AggregateError([new Error('a'), 'b'], 'two failed');
    expect(describeError(aggregate)).toEqual({
      name: 'AggregateError',
      message: 'two failed',
      errors: [
        { name: 'Error', message: 'a' },
        { name: 'string', message: 'b' },
      ],
    });
  });

  it('stops five links deep, so a cycle or a very deep chain still makes a finite line', () => {
    const cyclic = new Error('loop');
    cyclic.cause = cyclic;
    const depthOf = (description: { cause?: unknown }): number =>
      description.cause ? 1 + depthOf(description.cause as { cause?: unknown }) : 1;
    expect(depthOf(describeError(cyclic))).toBe(5);
    expect(() => JSON.stringify(describeError(cyclic))).not.toThrow();
  });
});

describe('findInChain', () => {
  class Marker extends Error {}

  it('finds the error itself or a cause, the first that matches', () => {
    const marker = new Marker('inner');
    const outer = new Error('outer', { cause: new Error('middle', { cause: marker }) });
    expect(findInChain(outer, (link) => link instanceof Marker)).toBe(marker);
    expect(findInChain(marker, (link) => link instanceof Marker)).toBe(marker);
    expect(findInChain(outer, (link) => link.message.startsWith('m'))?.message).toBe('middle');
  });

  it('finds nothing in a chain without a match, in something that is not an error, or deeper than five links', () => {
    expect(
      findInChain(new Error('a', { cause: new Error('b') }), (link) => link instanceof Marker),
    ).toBeUndefined();
    expect(findInChain('not an error', () => true)).toBeUndefined();
    let deep: Error = new Marker('deepest');
    for (let i = 0; i < 5; i += 1) deep = new Error(`level ${i}`, { cause: deep });
    expect(findInChain(deep, (link) => link instanceof Marker)).toBeUndefined();
  });
});

describe('isTransientDependencyError', () => {
  const aws = (name: string, httpStatusCode: number, extra: Record<string, unknown> = {}) =>
    Object.assign(new Error(name), { name, $metadata: { httpStatusCode }, ...extra });

  it('is true for an outage, throttling, a timeout or a dropped connection, at any depth of the chain', () => {
    expect(isTransientDependencyError(aws('InternalServerError', 500))).toBe(true);
    expect(isTransientDependencyError(aws('SomethingNew', 503))).toBe(true);
    expect(isTransientDependencyError(aws('ThrottlingException', 400))).toBe(true);
    expect(isTransientDependencyError(aws('ProvisionedThroughputExceededException', 400))).toBe(true);
    expect(isTransientDependencyError(Object.assign(new Error('timed out'), { name: 'TimeoutError' }))).toBe(
      true,
    );
    expect(isTransientDependencyError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBe(
      true,
    );
    const wrapped = new Error('Failed to update success record', { cause: aws('ThrottlingException', 400) });
    expect(isTransientDependencyError(wrapped)).toBe(true);
  });

  it('is true for a transaction cancelled by throttling or a conflict, false when a condition failed', () => {
    const cancelled = (...codes: string[]) =>
      aws('TransactionCanceledException', 400, { CancellationReasons: codes.map((Code) => ({ Code })) });
    expect(isTransientDependencyError(cancelled('None', 'TransactionConflict'))).toBe(true);
    expect(isTransientDependencyError(cancelled('ThrottlingError', 'None'))).toBe(true);
    expect(isTransientDependencyError(cancelled('ConditionalCheckFailed', 'None'))).toBe(false);
    expect(isTransientDependencyError(cancelled('ConditionalCheckFailed', 'TransactionConflict'))).toBe(
      false,
    );
  });

  it('is false for what a later try cannot change', () => {
    expect(isTransientDependencyError(aws('ValidationException', 400))).toBe(false);
    expect(isTransientDependencyError(aws('ConditionalCheckFailedException', 400))).toBe(false);
    expect(isTransientDependencyError(new Error('payload does not match the schema'))).toBe(false);
    expect(isTransientDependencyError('a string')).toBe(false);
  });
});
