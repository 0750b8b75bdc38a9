import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ConsumerFunction, ConsumerFunctionProps } from '../../../lib/constructs/consumer-function';
import { IdempotencyTable } from '../../../lib/constructs/idempotency-table';
import { nagFindings } from '../../helpers/nag';
import { testStack } from '../../helpers/synth';

function synthFunction(props: Partial<ConsumerFunctionProps> = {}) {
  const stack = testStack();
  const idempotencyTable = new IdempotencyTable(stack, 'Idempotency');
  const consumer = new ConsumerFunction(stack, 'Consumer', {
    entry: 'lambda/shared/side-effect.ts',
    serviceName: 'test-consumer',
    description: 'test',
    idempotencyTable,
    ...props,
  });
  return { stack, consumer, template: Template.fromStack(stack) };
}

describe('ConsumerFunction', () => {
  let template: Template;
  beforeAll(() => {
    template = synthFunction().template;
  });

  it('runs on the newest Node.js runtime on arm64 with explicit memory, timeout and tracing', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 256,
      Timeout: 30,
      TracingConfig: { Mode: 'Active' },
    });
  });

  it('passes the idempotency table and Powertools settings through the environment', () => {
    const [fn] = Object.values(template.findResources('AWS::Lambda::Function'));
    const variables = fn.Properties.Environment.Variables;
    expect(variables).toMatchObject({
      POWERTOOLS_SERVICE_NAME: 'test-consumer',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      IDEMPOTENCY_EXPIRY_SECONDS: '3600',
      NODE_OPTIONS: '--enable-source-maps',
    });
    expect(variables.IDEMPOTENCY_TABLE_NAME).toEqual({ Ref: expect.stringMatching(/^IdempotencyTable/) });
  });

  it('logs to its own log group with a retention', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('leaves no cdk-nag finding that every function shares unacknowledged', () => {
    const { stack } = synthFunction();
    // The only finding left is the path-specific one: whether a function DLQ makes sense depends on the path.
    expect(nagFindings(stack)).toEqual(['Serverless-LambdaDLQ on TestStack/Consumer/Function/Resource']);
  });

  it.each([
    [
      { timeout: Duration.minutes(16) },
      /Consumer: timeout must be from 1 second to 15 minutes, got 16 minutes/,
    ],
    [{ memorySize: 64 }, /Consumer: memorySize must be a whole number from 128 to 10240, got 64/],
    [
      { idempotencyExpiry: Duration.seconds(30) },
      /Consumer: idempotencyExpiry must be from 1 minute to 30 days/,
    ],
  ])('rejects %p with a clear message', (props, message) => {
    expect(() => synthFunction(props)).toThrow(message);
  });
});
