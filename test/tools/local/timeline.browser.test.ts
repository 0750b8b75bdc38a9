/**
 * The HTML timeline (`--html`), opened in a real headless Chromium (Debian's /usr/bin/chromium through
 * playwright-core): what is drawn, read from the page as the browser laid it out. `npm run test:browser`; not part
 * of `npm test`, which needs no browser.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openInChromium, type OpenedPage } from '../../../tools/local/browser';
import { runScenario } from '../../../tools/local/run';
import { parseScenario } from '../../../tools/local/scenario';
import { scenarioTimelineRun, timelineHtml } from '../../../tools/local/timeline-html';
import { runWalkthrough, SEED_WALKTHROUGH } from '../../../tools/local/walkthrough';
import { fifoConfig, httpConfig, kinesisConfig, sqsConfig } from './config-fixtures';

// What the test reads of the page's DOM inside page.evaluate (tsconfig has no DOM library; these run in Chromium).
interface SvgLength {
  readonly baseVal: { readonly value: number };
}
interface SvgRect {
  readonly x: SvgLength;
  readonly y: SvgLength;
  readonly width: SvgLength;
  readonly height: SvgLength;
}
interface SvgPath {
  getPointAtLength(length: number): { readonly x: number; readonly y: number };
  getTotalLength(): number;
}
declare const document: { querySelector(selector: string): unknown };
declare function getComputedStyle(element: unknown): { readonly fill: string };

const directory = mkdtempSync(join(tmpdir(), 'timeline-test-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

async function open(name: string, html: string): Promise<OpenedPage> {
  const file = join(directory, `${name}.html`);
  writeFileSync(file, html);
  return openInChromium(file);
}

describe("the walk-through's timeline in Chromium", () => {
  let opened: OpenedPage;
  let poisonId: string;
  beforeAll(async () => {
    const run = await runWalkthrough(SEED_WALKTHROUGH);
    poisonId = run.recordIds[2];
    opened = await open(
      'walkthrough',
      timelineHtml({
        title: 'walk-through',
        runs: [{ title: run.title, settings: run.settings, sim: run.sim }],
      }),
    );
  });
  afterAll(() => opened?.close());

  it('draws the nine invocations in one lane, in order, each box as tall as its batch', async () => {
    const { page } = opened;
    expect(await page.locator('.lane').count()).toBe(1);
    expect(await page.locator('.lane').getAttribute('data-lane')).toMatch(/^stream · shardId-0+$/);
    const boxes = page.locator('g.invocation');
    expect(await boxes.count()).toBe(9);
    expect(await boxes.evaluateAll((gs) => gs.map((g) => g.getAttribute('data-seq')))).toEqual([
      '1',
      '2',
      '3',
      '4',
      '5',
      '6',
      '7',
      '8',
      '9',
    ]);
    // Sized by its batch: the batch of 10 is ten times as tall as the record alone, the halves five times.
    const heights = await page
      .locator('g.invocation rect.box')
      .evaluateAll((rects) => rects.map((r) => r.getBoundingClientRect().height));
    const one = heights[4];
    expect(heights.map((h) => Math.round(h / one))).toEqual([10, 5, 2, 3, 1, 1, 1, 2, 5]);
    // And left to right in the order they started.
    const lefts = await page
      .locator('g.invocation rect.box')
      .evaluateAll((rects) => rects.map((r) => r.getBoundingClientRect().left));
    expect([...lefts].sort((a, b) => a - b)).toEqual(lefts);
  });

  it('colours the failed records red and the processed ones green', async () => {
    const { page } = opened;
    // 10 + 5 + 3 + 1 + 1 + 1 records handed to a failing invocation; 2 + 2 + 5 to a successful one.
    expect(await page.locator('g.invocation .cell.failed').count()).toBe(21);
    expect(await page.locator('g.invocation .cell:not(.failed)').count()).toBe(9);
    const fills = await page
      .locator('g.invocation[data-seq="3"] .cell')
      .evaluateAll((cells) => cells.map((c) => getComputedStyle(c).fill));
    expect(fills).toEqual(['rgb(46, 157, 87)', 'rgb(46, 157, 87)']);
  });

  it('traces the failed record from its last invocation to the on-failure destination', async () => {
    const { page } = opened;
    const paths = page.locator('.sink-path');
    expect(await paths.count()).toBe(1);
    expect(await paths.getAttribute('data-record')).toBe(poisonId);
    const sink = page.locator('.sink');
    expect(await sink.count()).toBe(1);
    expect(await sink.textContent()).toContain('walkthrough-on-failure');
    // In the SVG's coordinates: the line starts at the right edge of the last invocation that carried the record
    // (at the record's row) and ends at the sink's left edge.
    const geometry = await page.evaluate(() => {
      const path = document.querySelector('.sink-path') as SvgPath;
      const start = path.getPointAtLength(0);
      const end = path.getPointAtLength(path.getTotalLength());
      const box = document.querySelector('g.invocation[data-seq="7"] rect.box') as SvgRect;
      const sink = document.querySelector('.sink-box') as SvgRect;
      return {
        start: { x: start.x, y: start.y },
        end: { x: end.x, y: end.y },
        boxRight: box.x.baseVal.value + box.width.baseVal.value,
        boxTop: box.y.baseVal.value,
        boxBottom: box.y.baseVal.value + box.height.baseVal.value,
        sinkLeft: sink.x.baseVal.value,
        sinkTop: sink.y.baseVal.value,
        sinkBottom: sink.y.baseVal.value + sink.height.baseVal.value,
      };
    });
    expect(geometry.start.x).toBeCloseTo(geometry.boxRight, 3);
    expect(geometry.start.y).toBeGreaterThan(geometry.boxTop);
    expect(geometry.start.y).toBeLessThan(geometry.boxBottom);
    expect(geometry.end.x).toBeCloseTo(geometry.sinkLeft, 3);
    expect(geometry.end.y).toBeGreaterThan(geometry.sinkTop);
    expect(geometry.end.y).toBeLessThan(geometry.sinkBottom);
  });

  it('gives details on hover and lights every delivery of the hovered record', async () => {
    const { page } = opened;
    expect(await page.locator('g.invocation[data-seq="1"] > title').textContent()).toContain(
      'function-error',
    );
    expect(await page.locator('g.invocation[data-seq="6"] > title').textContent()).toContain(
      'retry, attempt 2',
    );
    await page.locator(`g.invocation[data-seq="5"] .cell[data-record="${poisonId}"]`).hover();
    // The poison record was in 6 invocations, and has one line to the destination.
    expect(await page.locator('.cell.lit').count()).toBe(6);
    expect(await page.locator('.sink-path.lit').count()).toBe(1);
  });
});

describe('a scenario run’s timeline in Chromium: lanes per shard, queue and message group', () => {
  let opened: OpenedPage;
  let httpInvocations = 0;
  let httpClients = 0;
  const expected: Record<string, { invocations: number; lanes: string[]; sunk: string[] }> = {};
  beforeAll(async () => {
    const runs = [];
    for (const [path, config] of [
      [
        'stream',
        kinesisConfig(
          {
            batchSize: 10,
            bisectBatchOnFunctionError: true,
            maximumRetryAttempts: 1,
            reportBatchItemFailures: true,
          },
          { shardCount: 2 },
        ),
      ],
      ['sqs', sqsConfig()],
      ['fifo', fifoConfig()],
    ] as const) {
      const scenario = parseScenario({
        path,
        records: 30,
        groups: 3,
        ratePerSecond: 50,
        functions: 'model',
        seed: 7,
        faults: { poison: { records: [4] } },
      });
      const result = await runScenario({ scenario, config, functions: 'model' });
      const { sim, catalog } = result;
      const invocations = sim.trace.invocations;
      expected[path] = {
        invocations: invocations.length,
        lanes: [
          ...new Set(
            invocations.flatMap((i) =>
              path === 'fifo'
                ? i.recordIds.map((id) => `group ${catalog.records.get(id)!.messageGroupId}`)
                : [i.shardId ?? sim.nameOf(config.sqsEventSourceMappings[0].queueArn)],
            ),
          ),
        ],
        sunk: [...new Set(sim.trace.sinks.flatMap((s) => s.recordIds))],
      };
      runs.push(scenarioTimelineRun(path, [], result));
    }
    // The http path: clients over a stage throttle (5/s, burst 5) that refuses most first attempts (429).
    const http = await runScenario({
      scenario: parseScenario({ seed: 3, paths: { http: { requests: 12, ratePerSecond: 40 } } }),
      config: httpConfig({ rateLimit: 5, burstLimit: 5 }),
      functions: 'model',
    });
    httpInvocations = http.http!.gateway.invoker.invocations.length;
    httpClients = new Set(http.http!.gateway.invoker.invocations.map((i) => i.submissionId)).size;
    runs.push(scenarioTimelineRun('http', [], http));
    opened = await open('scenario', timelineHtml({ title: 'scenario', runs }));
  });
  afterAll(() => opened?.close());

  it.each(['stream', 'sqs', 'fifo'])(
    '%s: one lane per shard / queue / group, every invocation drawn',
    async (path) => {
      const section = opened.page.locator(`section[data-run="${path}"]`);
      const lanes = await section
        .locator('.lane')
        .evaluateAll((gs) => gs.map((g) => g.getAttribute('data-lane')!));
      expect(lanes).toHaveLength(expected[path].lanes.length);
      for (const lane of expected[path].lanes)
        expect(lanes.some((l) => l.endsWith(lane) || l.includes(lane))).toBe(true);
      const seqs = await section
        .locator('g.invocation')
        .evaluateAll((gs) => new Set(gs.map((g) => g.getAttribute('data-seq'))).size);
      expect(seqs).toBe(expected[path].invocations);
    },
  );

  it.each(['stream', 'sqs', 'fifo'])(
    '%s: each record that left without succeeding has a line to where it went',
    async (path) => {
      const section = opened.page.locator(`section[data-run="${path}"]`);
      expect(expected[path].sunk.length).toBeGreaterThan(0);
      const traced = await section
        .locator('.sink-path')
        .evaluateAll((ps) => [...new Set(ps.map((p) => p.getAttribute('data-record')))].sort());
      expect(traced).toEqual([...expected[path].sunk].sort());
    },
  );

  it('http: one lane for the stage, a row per client, a box per invocation (429s never reach the function)', async () => {
    const section = opened.page.locator('section[data-run="http"]');
    expect(await section.locator('.lane').count()).toBe(1);
    expect(await section.locator('.lane').getAttribute('data-lane')).toMatch(/^http · POST /);
    expect(await section.locator('.lane').getAttribute('data-records')).toBe(String(httpClients));
    expect(await section.locator('g.invocation').count()).toBe(httpInvocations);
    expect(httpInvocations).toBeGreaterThan(0);
  });
});
