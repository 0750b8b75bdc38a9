import { App, RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { readStageConfig, removalPolicyFor } from '../../lib/config';

function configFrom(context: Record<string, unknown>) {
  return readStageConfig(new App({ context }).node);
}

describe('readStageConfig', () => {
  it('defaults to a sandbox that is destroyed cleanly and keeps logs a month', () => {
    const config = configFrom({});
    expect(config).toEqual({
      stageName: 'sandbox',
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
  ])('rejects %j with a clear message', (context, message) => {
    expect(() => configFrom(context)).toThrow(message);
  });
});
