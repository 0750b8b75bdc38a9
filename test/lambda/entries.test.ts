/**
 * Every consumer function's entry (lambda/<service>/index.ts) starts with exactly the environment its construct
 * gives it in the synthesized template: a construct and its handler that disagree (a variable the handler needs
 * and the construct does not set, a value the handler refuses) fail here, not at the first cold start in AWS.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../lib/app';
import { INGESTION_PATHS } from '../../lib/config';
import { testApp } from '../helpers/synth';

interface FunctionUnderTest {
  readonly service: string;
  readonly environment: Record<string, string>;
}

/** Each consumer function of the app with every path: its service (its folder under lambda/) and environment. */
function consumerFunctions(): FunctionUnderTest[] {
  const stacks = buildApp(testApp({ paths: [...INGESTION_PATHS] }), { nag: false });
  return INGESTION_PATHS.flatMap((path) =>
    Object.values(Template.fromStack(stacks[path]!).findResources('AWS::Lambda::Function')).flatMap((fn) => {
      const variables = (fn.Properties?.Environment?.Variables ?? {}) as Record<string, unknown>;
      const service = variables.POWERTOOLS_SERVICE_NAME;
      if (typeof service !== 'string') return []; // CDK's own helper functions
      // A table name is a reference in the template, resolved at deployment: any name stands in for it.
      const environment = Object.fromEntries(
        Object.entries(variables).map(([name, value]) => [
          name,
          typeof value === 'string' ? value : `${name}-value`,
        ]),
      );
      return [{ service, environment }];
    }),
  );
}

const functions = consumerFunctions();

describe('consumer entries', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('covers every path', () => {
    // The http path's stack has its ingress and an SQS consumer of its own (the sqs path's handler).
    const services = INGESTION_PATHS.flatMap((path) =>
      path === 'http' ? ['http-ingress', 'sqs-consumer'] : [`${path}-consumer`],
    );
    expect(functions.map((fn) => fn.service).sort()).toEqual(services.sort());
  });

  it.each(functions.map((fn) => [fn.service, fn] as const))(
    'lambda/%s/index.ts starts with the environment its construct sets',
    (service, fn) => {
      process.env = { ...saved, ...fn.environment };
      jest.isolateModules(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const entry = require(`../../lambda/${service}/index`) as { handler?: unknown };
        expect(typeof entry.handler).toBe('function');
      });
    },
  );
});
