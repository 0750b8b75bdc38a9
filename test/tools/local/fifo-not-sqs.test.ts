/**
 * The app has a FIFO path now (its stack `<appName>-<stage>-fifo`), whose queue feeds its function through an SQS
 * event source mapping too. Until the simulator models message groups, the loader leaves that mapping out of the
 * sqs path's mappings, which every tool reads as the sqs path (`npm run local`'s entry points and report,
 * `npm run invoke -- sqs-consumer`): a FIFO queue must never be taken for the standard queue, whatever the order
 * of the stacks or the paths deployed.
 */
import { context as cdkJsonContext } from '../../../cdk.json';
import { stackNameOf } from '../../../lib/config';
import { loadCloudAssembly, type LoadedAssembly } from '../../../tools/local/cloudformation';
import { bundledCloudAssembly } from '../../helpers/cloud-assembly';

let assembly: LoadedAssembly;

beforeAll(async () => {
  assembly = loadCloudAssembly(await bundledCloudAssembly());
});

describe('the loader, with the fifo path in the assembly', () => {
  it("reads the standard queue's mapping as the sqs path's, and no FIFO queue's", () => {
    const { queues, sqsEventSourceMappings } = assembly.config;
    expect(queues.filter((queue) => queue.fifo)).toHaveLength(2);
    expect(sqsEventSourceMappings).toHaveLength(1);
    const [mapping] = sqsEventSourceMappings;
    const queue = queues.find((candidate) => candidate.queueArn === mapping.queueArn)!;
    expect(queue.fifo).toBe(false);
    const sqsStack = stackNameOf({ appName: cdkJsonContext.appName, stageName: 'sandbox' }, 'sqs');
    expect(mapping.functionId.startsWith(`${sqsStack}/`)).toBe(true);
  });

  it('says that the FIFO mapping is not simulated', () => {
    const fifoStack = stackNameOf({ appName: cdkJsonContext.appName, stageName: 'sandbox' }, 'fifo');
    expect(assembly.warnings).toContainEqual(
      expect.stringMatching(
        new RegExp(`^${fifoStack}/\\w+: event source mapping of a FIFO queue: not simulated\\.$`),
      ),
    );
  });
});
