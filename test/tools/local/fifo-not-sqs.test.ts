/**
 * The app has a FIFO path (its stack `<appName>-<stage>-fifo`), whose queue feeds its function through an SQS event
 * source mapping too. The loader reads both mappings; the queue's `fifo` flag tells the sqs path (a standard queue)
 * from the fifo path, which every tool reads through the entry points (`npm run local`'s workload and report,
 * `npm run invoke -- sqs-consumer` / `fifo-consumer`): a FIFO queue must never be taken for the standard queue, nor
 * the other way round, whatever the order of the stacks or the paths deployed. The same assembly's http stack: the
 * loader reads its HTTP API (stage throttle, route, function) for the synchronous model.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { context as cdkJsonContext } from '../../../cdk.json';
import { stackNameOf } from '../../../lib/config';
import { loadCloudAssembly, type LoadedAssembly } from '../../../tools/local/cloudformation';
import { Simulation } from '../../../tools/local/engine/simulation';
import { httpEntryPoint } from '../../../tools/local/http-path';
import { templateCloudAssembly } from '../../helpers/cloud-assembly';

let assembly: LoadedAssembly;
let outdir: string;

beforeAll(async () => {
  outdir = await templateCloudAssembly();
  assembly = loadCloudAssembly(outdir);
});

const stackOf = (path: 'sqs' | 'fifo') =>
  stackNameOf({ appName: cdkJsonContext.appName, stageName: 'sandbox' }, path);

describe('the loader, with the fifo path in the assembly', () => {
  it("takes the standard queue's mapping for the sqs path and the FIFO queue's for the fifo path", () => {
    const { queues, sqsEventSourceMappings } = assembly.config;
    expect(queues.filter((queue) => queue.fifo)).toHaveLength(2);
    // The sqs stack's and the fifo stack's; the http stack's own SQS consumer has a third, which the simulator does
    // not drive (its synchronous model captures the ingress function's enqueues): the sqs entry point is the sqs stack's.
    const httpStack = stackNameOf({ appName: cdkJsonContext.appName, stageName: 'sandbox' }, 'http');
    expect(sqsEventSourceMappings.filter((m) => !m.functionId.startsWith(`${httpStack}/`))).toHaveLength(2);
    const entry = new Simulation(assembly.config, { seed: 1 }).entryPoints();
    const queueOf = (arn: string) => queues.find((candidate) => candidate.queueArn === arn)!;
    expect(queueOf(entry.sqs!.queueArn).fifo).toBe(false);
    expect(entry.sqs!.functionId.startsWith(`${stackOf('sqs')}/`)).toBe(true);
    expect(queueOf(entry.fifo!.queueArn).fifo).toBe(true);
    expect(entry.fifo!.functionId.startsWith(`${stackOf('fifo')}/`)).toBe(true);
  });

  it("reads the FIFO queue's deduplication settings and no longer says it is not simulated", () => {
    const entry = new Simulation(assembly.config, { seed: 1 }).entryPoints();
    const queue = assembly.config.queues.find((q) => q.queueArn === entry.fifo!.queueArn)!;
    expect(queue).toMatchObject({ contentBasedDeduplication: true, deduplicationScope: 'queue' });
    expect(queue.redrivePolicy?.maxReceiveCount).toBeGreaterThan(0);
    expect(assembly.warnings.filter((w) => /FIFO/.test(w))).toEqual([]);
  });
});

describe('the loader, with the http path in the assembly', () => {
  type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
  const onlyOf = (resources: Resources, type: string) => {
    const found = Object.entries(resources).filter(([, r]) => r.Type === type);
    expect(found).toHaveLength(1);
    return found[0][1].Properties;
  };

  it("reads the stage's throttle and the route to the ingress function (the synchronous model's)", () => {
    const httpStack = stackNameOf({ appName: cdkJsonContext.appName, stageName: 'sandbox' }, 'http');
    const { Resources: resources } = JSON.parse(
      readFileSync(join(outdir, `${httpStack}.template.json`), 'utf8'),
    ) as { Resources: Resources };
    const stage = onlyOf(resources, 'AWS::ApiGatewayV2::Stage');
    const throttle = stage.DefaultRouteSettings as {
      ThrottlingRateLimit: number;
      ThrottlingBurstLimit: number;
    };
    const entry = httpEntryPoint(assembly.config)!;
    expect(entry.api).toMatchObject({
      stageName: stage.StageName,
      rateLimit: throttle.ThrottlingRateLimit,
      burstLimit: throttle.ThrottlingBurstLimit,
    });
    expect(entry.routeKey).toBe(onlyOf(resources, 'AWS::ApiGatewayV2::Route').RouteKey);
    const uri = onlyOf(resources, 'AWS::ApiGatewayV2::Integration').IntegrationUri as {
      'Fn::GetAtt': string[];
    };
    const functionLogicalId = uri['Fn::GetAtt'][0];
    expect(entry.functionId).toBe(`${httpStack}/${functionLogicalId}`);
    const fn = assembly.config.functions.find((f) => f.id === entry.functionId)!;
    expect(fn.reservedConcurrency).toBe(resources[functionLogicalId].Properties.ReservedConcurrentExecutions);
    expect(fn.reservedConcurrency).toBeGreaterThan(0);
  });
});
