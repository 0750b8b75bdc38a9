import { Stack, Token } from 'aws-cdk-lib';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { buildApp } from '../../lib/app';
import { testApp } from '../helpers/synth';

describe('buildApp', () => {
  it('composes one environment-agnostic stack per path, named after the stage', () => {
    const stacks = buildApp(testApp({ stage: 'dev' }), { nag: false });
    const all = [stacks.sqs, stacks.object, stacks.stream];
    expect(all.map((stack) => stack.stackName)).toEqual([
      'reliable-lambda-dev-sqs',
      'reliable-lambda-dev-object',
      'reliable-lambda-dev-stream',
    ]);
    for (const stack of all) {
      expect(Token.isUnresolved(stack.account)).toBe(true);
      expect(Token.isUnresolved(stack.region)).toBe(true);
    }
  });

  it('runs cdk-nag on synth: only the unacknowledged finding fails it, and the three stacks have none', () => {
    const app = testApp();
    buildApp(app);
    // One synth proves both: a queue with no DLQ and no TLS policy is reported, nothing of the real stacks is.
    new Queue(new Stack(app, 'Extra'), 'Unsafe');
    let report = '';
    try {
      app.synth();
    } catch (error) {
      report = (error as Error).message;
    }
    expect(report).toMatch(/AwsSolutions-SQS4/);
    expect(report).toMatch(/Extra\/Unsafe\/Resource/);
    const flaggedPaths = [...report.matchAll(/^\s+(\S+\/\S+) aws-cdk-lib/gm)].map((match) => match[1]);
    expect(new Set(flaggedPaths)).toEqual(new Set(['Extra/Unsafe/Resource']));
  });

  it('refuses a bad stage name before building anything', () => {
    expect(() => buildApp(testApp({ stage: 'Bad Stage' }))).toThrow(/Context "stage" must be/);
  });
});
