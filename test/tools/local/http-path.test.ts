/**
 * The http path in a simulator run (tools/local/http-path.ts, run.ts): the named overload scenario ridden out by
 * backoff, a deployment whose reserved concurrency is below what the stage throttle admits (Lambda throttles, API
 * Gateway answers 500, which the client must not retry), and a deployment without the http path. With the model
 * of the handler (fast); the real bundle runs in test/tools/local/http-bundle.test.ts (`npm run test:heavy`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { domain } from '../../../lambda/sqs-consumer/domain';
import { httpEntryPoint } from '../../../tools/local/http-path';
import { HTTP_INVARIANT_NAMES } from '../../../tools/local/http-report';
import { renderReport } from '../../../tools/local/report';
import { runScenario } from '../../../tools/local/run';
import { parseScenario } from '../../../tools/local/scenario';
import { httpConfig, sqsConfig } from './config-fixtures';

const overload = parseScenario(
  JSON.parse(readFileSync(join(__dirname, '../../../tools/local/scenarios/http-overload.json'), 'utf8')),
);

const holds = (invariants: readonly { name: string; holds: boolean }[]) =>
  Object.fromEntries(invariants.map((i) => [i.name, i.holds]));

describe('the http-overload scenario (model)', () => {
  const run = async () =>
    (await runScenario({ scenario: overload, config: httpConfig(), functions: 'model' })).report;
  let report: Awaited<ReturnType<typeof run>>;
  beforeAll(async () => {
    report = await run();
  });

  it('rides out a burst beyond the stage throttle by backoff: every order accepted once, in time', () => {
    const http = report.http!;
    expect(holds(http.invariants)).toEqual({
      [HTTP_INVARIANT_NAMES.againOnlyAfterDeath]: true,
      [HTTP_INVARIANT_NAMES.oneEffect]: true,
      [HTTP_INVARIANT_NAMES.inTime]: true,
    });
    const spec = overload.paths.http!;
    expect(http.clients).toHaveLength(spec.requests);
    // The overload was one: the stage refused requests, clients met 429s and still got through.
    expect(http.totals.stageThrottles).toBeGreaterThan(0);
    expect(http.clients.some((c) => c.throttled > 0 && c.outcome === 'accepted')).toBe(true);
    // ...and so were the faults: lost answers replayed, 503s during the queue outage, no Lambda throttle.
    expect(http.totals.answersLost).toBe(spec.faults.lostAnswers);
    expect(http.clients.filter((c) => c.timeouts > 0).every((c) => c.replayed && c.enqueues === 1)).toBe(
      true,
    );
    expect(http.totals.statuses['503']).toBeGreaterThan(0);
    expect(http.totals.lambdaThrottles).toBe(0);
    expect(http.totals.enqueues).toBe(spec.requests);
    const text = renderReport(report);
    expect(text).toContain('━━ HTTP path: POST /orders on orders → http-ingress');
    expect(text).toMatch(/http-000001 +0\.00 s +1 +0 +0 +0 +accepted after/);
  });

  it('is a pure function of its seed', async () => {
    expect((await run()).http).toEqual(report.http);
  });
});

describe('a reserved concurrency below what the stage throttle admits', () => {
  it("makes Lambda throttle: API Gateway's 500s, which the clients retry with the same key, at the price of more attempts", async () => {
    const scenario = parseScenario({
      seed: 3,
      paths: { http: { requests: 30, ratePerSecond: 1000 } },
      invocationDuration: { baseMs: 500, perRecordMs: 0, jitter: 0 },
    });
    const { report } = await runScenario({
      scenario,
      config: httpConfig({ rateLimit: 10, burstLimit: 20 }, { reservedConcurrency: 5 }),
      functions: 'model',
    });
    const http = report.http!;
    expect(http.totals.lambdaThrottles).toBeGreaterThan(0);
    // Every throttled request was retried: no client stopped at a 500, every order was enqueued once.
    expect(http.clients.filter((c) => c.outcome !== 'accepted')).toEqual([]);
    expect(http.clients.map((c) => c.enqueues)).toEqual(http.clients.map(() => 1));
    expect(Object.values(holds(http.invariants)).every(Boolean)).toBe(true);
    // The 500s cost attempts: more attempts than the 429s alone account for.
    const attempts = http.clients.reduce((sum, c) => sum + c.attempts, 0);
    const throttled = http.clients.reduce((sum, c) => sum + c.throttled, 0);
    expect(attempts).toBeGreaterThanOrEqual(http.clients.length + throttled + http.totals.lambdaThrottles);
  });
});

describe('paths.http.faults.diesAfterSend: the function dies between its send and the completion of the key', () => {
  const scenario = parseScenario({
    seed: 4,
    paths: { http: { requests: 6, ratePerSecond: 5, faults: { diesAfterSend: { records: [2] } } } },
  });

  it("enqueues that order twice, the client accepted once after API Gateway's 500 and 409s; every invariant holds", async () => {
    const { report } = await runScenario({ scenario, config: httpConfig(), functions: 'model' });
    const http = report.http!;
    expect(holds(http.invariants)).toEqual({
      [HTTP_INVARIANT_NAMES.oneEffect]: true,
      [HTTP_INVARIANT_NAMES.againOnlyAfterDeath]: true,
      [HTTP_INVARIANT_NAMES.inTime]: true,
    });
    expect(http.clients.map((c) => c.enqueues)).toEqual([1, 2, 1, 1, 1, 1]);
    expect(http.totals.enqueues).toBe(7);
    const died = http.clients[1];
    expect(died).toMatchObject({ outcome: 'accepted', replayed: false, last: '202' });
    expect(http.totals.statuses).toMatchObject({ '500': 1, '202': 6 });
    expect(http.totals.statuses['409']).toBeGreaterThan(0);
    expect(renderReport(report)).toContain(
      `✔ ${HTTP_INVARIANT_NAMES.againOnlyAfterDeath}: 6 ${domain.recordName}s: 1 enqueued more than once, 0 of them without a death`,
    );
  });

  it('is refused with the real bundles, before anything starts: it needs --model', async () => {
    await expect(runScenario({ scenario, config: httpConfig(), functions: 'bundles' })).rejects.toThrow(
      /paths\.http\.faults\.diesAfterSend needs --model/,
    );
  });
});

describe('the route the clients submit to', () => {
  it('is the POST route to a function, whatever other routes the API has before it', () => {
    const config = httpConfig();
    const [api] = config.httpApis!;
    const withRead = {
      ...config,
      httpApis: [
        {
          ...api,
          routes: [{ routeKey: 'GET /orders/{id}', functionId: 'http-reader' }, ...api.routes],
        },
      ],
    };
    expect(httpEntryPoint(withRead)).toMatchObject({ routeKey: 'POST /orders', functionId: 'http-ingress' });
  });
});

describe('a deployment without the http path', () => {
  it('runs the other paths and names the http path as not deployed', async () => {
    const scenario = parseScenario({
      seed: 1,
      paths: { sqs: { records: 5 }, http: { requests: 5 } },
    });
    const { report } = await runScenario({ scenario, config: sqsConfig(), functions: 'model' });
    expect(report.scenario.skippedPaths).toEqual(['http']);
    expect(report.http).toBeUndefined();
    expect(renderReport(report)).toContain('Not deployed, so not run: the http path of the scenario');
  });
});

describe('paths.http in a scenario file', () => {
  it("takes the retry policy over the client's and refuses what it does not know, naming the field", () => {
    const scenario = parseScenario({ paths: { http: { requests: 3, retry: { maxAttempts: 12 } } } });
    expect(scenario.paths.http).toMatchObject({ requests: 3, ratePerSecond: 5, retry: { maxAttempts: 12 } });
    expect(() =>
      parseScenario({
        paths: { http: { requests: 3, faults: { queueOutages: [{ from: '3s', to: '1s' }] } } },
      }),
    ).toThrow(/paths\.http\.faults\.queueOutages\.0: "to" must be after "from"/);
    expect(() => parseScenario({ paths: { http: { requests: 3, faults: { lostAnswer: 1 } } } })).toThrow(
      /paths\.http\.faults: Unrecognized key: "lostAnswer"/,
    );
  });
});
