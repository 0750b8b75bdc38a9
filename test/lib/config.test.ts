import { App, RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { readStageConfig, removalPolicyFor, unknownContextKeys } from '../../lib/config';

function configFrom(context: Record<string, unknown>) {
  return readStageConfig(new App({ context: { appName: 'acme', ...context } }).node);
}

describe('readStageConfig', () => {
  it('defaults to a sandbox that is destroyed cleanly and keeps logs a month', () => {
    const config = configFrom({});
    expect(config).toEqual({
      appName: 'acme',
      stageName: 'sandbox',
      paths: ['sqs', 'object', 'stream', 'fifo', 'table-stream', 'http'],
      retainData: false,
      logRetention: RetentionDays.ONE_MONTH,
    });
    expect(removalPolicyFor(config)).toBe(RemovalPolicy.DESTROY);
  });

  it('keeps data for any other stage unless told otherwise', () => {
    expect(configFrom({ stage: 'prod' }).retainData).toBe(true);
    expect(removalPolicyFor(configFrom({ stage: 'prod' }))).toBe(RemovalPolicy.RETAIN);
    expect(configFrom({ stage: 'prod', retainData: 'false' }).retainData).toBe(false);
    expect(configFrom({ stage: 'sandbox', retainData: true }).retainData).toBe(true);
  });

  it('reads the log retention as CloudWatch days', () => {
    expect(configFrom({ logRetentionDays: '7' }).logRetention).toBe(RetentionDays.ONE_WEEK);
  });

  it.each([
    [{ stage: 'Prod' }, /Context "stage" must be 1-20 lower-case letters/],
    [{ stage: '1st' }, /Context "stage" must be/],
    [{ stage: 'a'.repeat(21) }, /Context "stage" must be/],
    [{ retainData: 'yes' }, /Context "retainData" must be true or false, got "yes"/],
    [
      { logRetentionDays: 10 },
      /Context "logRetentionDays" must be one of CloudWatch's retention periods .*got "10"/,
    ],
    [{ logRetentionDays: 9999 }, /Context "logRetentionDays" must be one of/],
    [{ appName: undefined }, /Context "appName" is missing: set it in cdk.json/],
    [{ appName: 'Acme Payments' }, /Context "appName" must be 1-30 lower-case letters/],
    [{ paths: [] }, /Context "paths" must be a list of one or more of sqs, object, stream/],
    [{ paths: 'sqs,kafka' }, /Context "paths" names "kafka"/],
    [{ paths: ['sqs', 'sqs'] }, /Context "paths" names "sqs" twice/],
    [{ paths: 3 }, /Context "paths" must be a list/],
  ])('rejects %j with a clear message', (context, message) => {
    expect(() => configFrom(context)).toThrow(message);
  });
});

describe('paths', () => {
  it('reads a list from cdk.json or a comma-separated list from the command line, in the template order', () => {
    expect(configFrom({ paths: ['stream', 'sqs'] }).paths).toEqual(['sqs', 'stream']);
    expect(configFrom({ paths: 'stream, object' }).paths).toEqual(['object', 'stream']);
  });
});

describe('unknownContextKeys', () => {
  it("names keys that are not the app's settings, and leaves CDK's own keys alone", () => {
    expect(
      unknownContextKeys({
        stag: 'prod',
        stage: 'prod',
        appName: 'a',
        paths: 'sqs',
        retainData: true,
        logRetentionDays: 7,
        '@aws-cdk/core:newStyleStackSynthesis': true,
        'aws:cdk:bundling-stacks': [],
        'availability-zones:account=1:region=r': [],
        'cdk-default-something': 1,
        'acknowledged-issue-numbers': [],
      }),
    ).toEqual(['stag']);
  });
});
