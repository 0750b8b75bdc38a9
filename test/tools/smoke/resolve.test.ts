import {
  type DeployedResource,
  evaluateCondition,
  queueNameOfUrl,
  resolve,
  type ResolveContext,
  stackEnvironment,
  tryResolve,
  Unresolvable,
} from '../../../tools/smoke/resolve';

const STACK_ID = 'arn:aws:cloudformation:eu-west-1:111122223333:stack/app-dev-sqs/0a1b';

function context(
  resources: Omit<DeployedResource, 'status'>[],
  extra: Partial<ResolveContext> = {},
): ResolveContext {
  return {
    ...stackEnvironment(STACK_ID),
    stackName: 'app-dev-sqs',
    stackId: STACK_ID,
    urlSuffix: 'amazonaws.com',
    resources: new Map(
      resources.map((resource) => [resource.logicalId, { ...resource, status: 'CREATE_COMPLETE' }]),
    ),
    parameters: { BootstrapVersion: '30' },
    ...extra,
  };
}

const ctx = context([
  {
    logicalId: 'Queue',
    type: 'AWS::SQS::Queue',
    physicalId: 'https://sqs.eu-west-1.amazonaws.com/111122223333/app-Queue-AB12',
  },
  {
    logicalId: 'Dlq',
    type: 'AWS::SQS::Queue',
    physicalId: 'https://sqs.eu-west-1.amazonaws.com/111122223333/app-Dlq-CD34',
  },
  { logicalId: 'Fn', type: 'AWS::Lambda::Function', physicalId: 'app-Fn-EF56' },
  {
    logicalId: 'Topic',
    type: 'AWS::SNS::Topic',
    physicalId: 'arn:aws:sns:eu-west-1:111122223333:app-Topic-GH78',
  },
  { logicalId: 'Stream', type: 'AWS::Kinesis::Stream', physicalId: 'app-Stream-IJ90' },
  { logicalId: 'Bucket', type: 'AWS::S3::Bucket', physicalId: 'app-bucket-kl12' },
  { logicalId: 'Custom', type: 'Custom::Thing', physicalId: 'thing-1' },
  { logicalId: 'NoId', type: 'AWS::Lambda::Permission', physicalId: '' },
]);

describe('the smoke test resolver (deployed template → values)', () => {
  it('takes account, region and partition from the stack id', () => {
    expect(stackEnvironment(STACK_ID)).toEqual({
      partition: 'aws',
      region: 'eu-west-1',
      accountId: '111122223333',
    });
    expect(() => stackEnvironment('app-dev-sqs')).toThrow(/Not a CloudFormation stack id/);
  });

  it('resolves Ref to the physical id, pseudo parameters and parameters', () => {
    expect(resolve({ Ref: 'Fn' }, ctx)).toBe('app-Fn-EF56');
    expect(resolve({ Ref: 'AWS::Region' }, ctx)).toBe('eu-west-1');
    expect(resolve({ Ref: 'BootstrapVersion' }, ctx)).toBe('30');
    expect(resolve({ A: { Ref: 'AWS::NoValue' }, B: 1 }, ctx)).toEqual({ B: 1 });
  });

  it('derives Fn::GetAtt from the physical id by the type (queue ARN and name from its URL, function and stream ARNs)', () => {
    expect(resolve({ 'Fn::GetAtt': ['Queue', 'Arn'] }, ctx)).toBe(
      'arn:aws:sqs:eu-west-1:111122223333:app-Queue-AB12',
    );
    expect(resolve({ 'Fn::GetAtt': 'Dlq.QueueName' }, ctx)).toBe('app-Dlq-CD34');
    expect(resolve({ 'Fn::GetAtt': ['Fn', 'Arn'] }, ctx)).toBe(
      'arn:aws:lambda:eu-west-1:111122223333:function:app-Fn-EF56',
    );
    expect(resolve({ 'Fn::GetAtt': ['Stream', 'Arn'] }, ctx)).toBe(
      'arn:aws:kinesis:eu-west-1:111122223333:stream/app-Stream-IJ90',
    );
    expect(resolve({ 'Fn::GetAtt': ['Topic', 'TopicName'] }, ctx)).toBe('app-Topic-GH78');
    expect(resolve({ 'Fn::GetAtt': ['Bucket', 'Arn'] }, ctx)).toBe('arn:aws:s3:::app-bucket-kl12');
  });

  it('resolves nested Fn::Join, Fn::Sub (with and without variables), Fn::Select and Fn::Split', () => {
    expect(resolve({ 'Fn::Join': ['', [{ 'Fn::GetAtt': ['Bucket', 'Arn'] }, '/*']] }, ctx)).toBe(
      'arn:aws:s3:::app-bucket-kl12/*',
    );
    expect(
      resolve({ 'Fn::Sub': 'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:x/${Fn}' }, ctx),
    ).toBe('arn:aws:logs:eu-west-1:111122223333:x/app-Fn-EF56');
    expect(resolve({ 'Fn::Sub': ['${Name}-${Queue.QueueName}', { Name: { Ref: 'Fn' } }] }, ctx)).toBe(
      'app-Fn-EF56-app-Queue-AB12',
    );
    expect(resolve({ 'Fn::Select': [1, { 'Fn::Split': ['-', 'a-b-c'] }] }, ctx)).toBe('b');
  });

  it('evaluates conditions (CDK metadata is region-dependent) and Fn::If', () => {
    const conditional = context([], {
      conditions: {
        InEurope: {
          'Fn::Or': [{ 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'eu-west-1'] }, { 'Fn::Equals': ['a', 'b'] }],
        },
        NotInEurope: { 'Fn::Not': [{ Condition: 'InEurope' }] },
      },
    });
    expect(evaluateCondition('InEurope', conditional)).toBe(true);
    expect(evaluateCondition('NotInEurope', conditional)).toBe(false);
    expect(resolve({ 'Fn::If': ['InEurope', 'yes', 'no'] }, conditional)).toBe('yes');
    expect(() => evaluateCondition('Missing', conditional)).toThrow(Unresolvable);
  });

  it('says what it cannot resolve instead of guessing', () => {
    expect(tryResolve({ 'Fn::GetAtt': ['Custom', 'Value'] }, ctx)).toEqual({
      unresolvable: expect.stringMatching(/no rule for Fn::GetAtt Custom.Value/),
    });
    expect(tryResolve({ Ref: 'Gone' }, ctx)).toEqual({
      unresolvable: expect.stringMatching(/no such resource/),
    });
    expect(tryResolve({ Ref: 'NoId' }, ctx)).toEqual({
      unresolvable: expect.stringMatching(/no physical id/),
    });
    expect(tryResolve({ 'Fn::ImportValue': 'x' }, ctx)).toEqual({
      unresolvable: expect.stringMatching(/ImportValue/),
    });
  });

  it('takes an attribute read from the service where a name does not give it (a table’s stream ARN)', () => {
    const withStream = context(
      [{ logicalId: 'Table', type: 'AWS::DynamoDB::Table', physicalId: 'app-Table' }],
      {
        attributes: new Map([
          ['Table', { StreamArn: 'arn:aws:dynamodb:eu-west-1:111122223333:table/app-Table/stream/2026' }],
        ]),
      },
    );
    expect(resolve({ 'Fn::GetAtt': ['Table', 'StreamArn'] }, withStream)).toMatch(/stream\/2026$/);
    expect(
      tryResolve(
        { 'Fn::GetAtt': ['Table', 'StreamArn'] },
        context([{ logicalId: 'Table', type: 'AWS::DynamoDB::Table', physicalId: 'app-Table' }]),
      ),
    ).toEqual({
      unresolvable: expect.stringMatching(/no rule for Fn::GetAtt Table.StreamArn/),
    });
  });

  it('reads a queue name off its URL', () => {
    expect(queueNameOfUrl('http://localhost:4566/000000000000/q-1/')).toBe('q-1');
  });
});
