/**
 * The http path with what deploys (`npm run test:heavy`): the app synthesized with its bundles, the HTTP API read
 * from the template, and the real ingress bundle run by the simulator against dynalite, its `SendMessage` answered
 * by the local SQS. The http-overload scenario: the stage's 429s, the lost answers replayed by the handler's
 * idempotency, the queue outage's 503s with the handler's Retry-After, one enqueue per order.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RETRY_AFTER_SECONDS } from '../../../lambda/http-ingress/handler';
import { MODEL_RETRY_AFTER_SECONDS } from '../../../tools/local/http-path';
import { loadCloudAssembly, type LoadedAssembly } from '../../../tools/local/cloudformation';
import { HTTP_INVARIANT_NAMES } from '../../../tools/local/http-report';
import { runScenario, type RunResult } from '../../../tools/local/run';
import { parseScenario } from '../../../tools/local/scenario';
import { bundledCloudAssembly } from '../../helpers/cloud-assembly';

let assembly: LoadedAssembly;
let result: RunResult;
const overload = parseScenario(
  JSON.parse(readFileSync(join(__dirname, '../../../tools/local/scenarios/http-overload.json'), 'utf8')),
);

beforeAll(async () => {
  assembly = loadCloudAssembly(await bundledCloudAssembly());
  result = await runScenario({ scenario: overload, config: assembly.config, functions: 'bundles' });
}, 180_000);

it("reads the HTTP API from the template: the stage's throttle and the route to the ingress function", () => {
  const [api] = assembly.config.httpApis ?? [];
  expect(api).toMatchObject({ stageName: '$default', rateLimit: 10, burstLimit: 20 });
  expect(api.routes.map((r) => r.routeKey)).toEqual(['POST /orders']);
  const fn = assembly.config.functions.find((f) => f.id === api.routes[0].functionId)!;
  expect(fn).toMatchObject({ reservedConcurrency: 50, timeoutSeconds: 3 });
  expect(fn.code).toBeDefined();
});

it('rides out the overload with the real handler: every order enqueued once and accepted in time', () => {
  const http = result.report.http!;
  expect(Object.fromEntries(http.invariants.map((i) => [i.name, i.holds]))).toEqual({
    [HTTP_INVARIANT_NAMES.againOnlyAfterDeath]: true,
    [HTTP_INVARIANT_NAMES.oneEffect]: true,
    [HTTP_INVARIANT_NAMES.inTime]: true,
  });
  expect(http.totals.stageThrottles).toBeGreaterThan(0);
  expect(http.totals.enqueues).toBe(overload.paths.http!.requests);
});

it("answers a lost answer's retry with the stored 202 (Idempotent-Replayed), and a queue outage with 503", () => {
  const http = result.report.http!;
  const timedOut = http.clients.filter((c) => c.timeouts > 0);
  expect(timedOut).toHaveLength(Number(overload.paths.http!.faults.lostAnswers));
  expect(timedOut.every((c) => c.replayed && c.enqueues === 1)).toBe(true);
  expect(http.totals.statuses['503']).toBeGreaterThan(0);
  // A 503 kept nothing as done under the key: the retry that got through enqueued (not a replay).
  const unavailable = http.clients.filter((c) => c.unavailable > 0 && c.timeouts === 0);
  expect(unavailable.length).toBeGreaterThan(0);
  expect(unavailable.every((c) => c.outcome === 'accepted' && !c.replayed && c.enqueues === 1)).toBe(true);
});

it("the model's Retry-After is the handler's (the model and the bundle answer a 503 and a 409 alike)", () => {
  expect(MODEL_RETRY_AFTER_SECONDS).toEqual(RETRY_AFTER_SECONDS);
});
