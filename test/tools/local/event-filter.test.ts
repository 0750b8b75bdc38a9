/**
 * Lambda's event filter patterns (tools/local/engine/event-filter.ts), checked against the rows of the Lambda
 * developer guide's "Filter rule syntax" table, on a DynamoDB Streams record as Lambda builds it.
 */
import { eventFilter, FilterPatternError } from '../../../tools/local/engine/event-filter';

const record = {
  eventName: 'MODIFY',
  dynamodb: {
    Keys: { pk: { S: 'sku-7' } },
    NewImage: { pk: { S: 'sku-7' }, quantity: { N: '12' }, tags: { L: [{ S: 'a' }, { S: 'b' }] } },
    OldImage: { pk: { S: 'sku-7' }, quantity: { N: '10' } },
  },
  userIdentity: null,
  comment: '',
};

const passes = (...patterns: unknown[]) =>
  eventFilter(patterns.map((p) => JSON.stringify(p)))(record as Record<string, unknown>);

describe('Lambda event filter patterns', () => {
  it.each([
    ['Equals: "Name": [ "Alice" ]', { eventName: ['MODIFY'] }, true],
    ['Equals, another value', { eventName: ['INSERT'] }, false],
    ['Or: "PaymentType": [ "Credit", "Debit" ]', { eventName: ['INSERT', 'MODIFY'] }, true],
    [
      'And: every field must match',
      { eventName: ['MODIFY'], dynamodb: { Keys: { pk: { S: ['sku-1'] } } } },
      false,
    ],
    ['Nested: dynamodb.NewImage', { dynamodb: { NewImage: { quantity: { N: ['12'] } } } }, true],
    ['Null: "UserID": [ null ]', { userIdentity: [null] }, true],
    ['Empty: "LastName": [ "" ]', { comment: [''] }, true],
    ['Equals (ignore case)', { eventName: [{ 'equals-ignore-case': 'modify' }] }, true],
    ['Not: "anything-but"', { eventName: [{ 'anything-but': ['REMOVE'] }] }, true],
    ['Not, the value itself', { eventName: [{ 'anything-but': 'MODIFY' }] }, false],
    [
      'Numeric (range)',
      { dynamodb: { NewImage: { quantity: { N: [{ numeric: ['>', 10, '<=', 12] }] } } } },
      true,
    ],
    ['Numeric (equals)', { dynamodb: { OldImage: { quantity: { N: [{ numeric: ['=', 11] }] } } } }, false],
    ['Exists', { dynamodb: { OldImage: [{ exists: true }] } }, true],
    ['Does not exist', { dynamodb: { OldImage: [{ exists: false }] } }, false],
    ['Begins with', { dynamodb: { Keys: { pk: { S: [{ prefix: 'sku-' }] } } } }, true],
    ['Ends with', { dynamodb: { Keys: { pk: { S: [{ suffix: '-8' }] } } } }, false],
    [
      'A list field matches when one element does',
      { dynamodb: { NewImage: { tags: { L: { S: ['b'] } } } } },
      true,
    ],
    ['$or', { $or: [{ eventName: ['INSERT'] }, { dynamodb: { Keys: { pk: { S: ['sku-7'] } } } }] }, true],
  ])('%s', (_, pattern, expected) => {
    expect(passes(pattern)).toBe(expected);
  });

  it('"Your filters are logically ORed together": a record passes when one filter matches', () => {
    expect(passes({ eventName: ['INSERT'] }, { eventName: ['MODIFY'] })).toBe(true);
    expect(passes({ eventName: ['INSERT'] }, { eventName: ['REMOVE'] })).toBe(false);
  });

  it('refuses a pattern it cannot read, naming the field', () => {
    expect(() => eventFilter(['{"eventName": "MODIFY"}'])).toThrow(FilterPatternError);
    expect(() => eventFilter(['{"eventName": [{"wildcard": "M*"}]}'])).toThrow(
      /eventName: unknown condition/,
    );
  });
});
