/**
 * The timeline of a run as one self-contained HTML page (`--html <file>`): inline CSS, SVG and a few lines of
 * script, nothing fetched, no build step. Drawn from the trace alone (engine/trace.ts):
 *
 * - one lane per shard (and parallelization slot), per queue, per FIFO message group, per asynchronous queue;
 * - in a lane, one column per invocation in the order they started, the records of the lane as rows: an
 *   invocation is a box over the rows of the records it carried (a batch of 10 is ten rows tall, its halves after a
 *   split five each), coloured by outcome, each record a cell (red where the function failed it);
 * - above a box, why it happened (split, retry n, redelivery…); each record that left without succeeding, a line
 *   from the last invocation that carried it to its dead-letter queue or destination (or "discarded", "expired");
 * - a tooltip (SVG `<title>`) on every box, cell, line and sink with the details.
 *
 * A FIFO invocation may carry several message groups: it is drawn in each group's lane, with that group's records.
 */
import type { SyncInvocationRecord } from './engine/http';
import type { Simulation } from './engine/simulation';
import type { InvocationRecord } from './engine/trace';
import type { RunResult } from './run';
import { OUTCOME_SYMBOL, SYMBOL_LEGEND } from './walkthrough';

export interface TimelineRun {
  readonly title: string;
  /** Settings that shaped the run, one phrase or line each. */
  readonly settings: readonly string[];
  readonly sim: Simulation;
  /** A FIFO record's message group (records of other paths: ignored). */
  readonly messageGroupOf?: (recordId: string) => string | undefined;
  /**
   * The http path (engine/http.ts): its synchronous invocations, kept apart from the trace, drawn in one lane (the
   * stage), a row per client; clients never accepted go to "not accepted".
   */
  readonly http?: {
    readonly label: string;
    readonly invocations: readonly SyncInvocationRecord[];
    readonly unaccepted: readonly { readonly id: string; readonly outcome: string }[];
  };
}

/** A scenario run as a timeline section: its trace, its FIFO groups from the catalog, its http path if any. */
export function scenarioTimelineRun(
  title: string,
  settings: readonly string[],
  result: Pick<RunResult, 'sim' | 'catalog' | 'report' | 'http'>,
): TimelineRun {
  const http = result.report.http;
  return {
    title,
    settings,
    sim: result.sim,
    messageGroupOf: (id) => result.catalog.records.get(id)?.messageGroupId,
    ...(result.http &&
      http && {
        http: {
          label: `${http.routeKey} on ${http.api}`,
          invocations: result.http.gateway.invoker.invocations,
          unaccepted: http.clients
            .filter((client) => client.outcome !== 'accepted')
            .map((client) => ({ id: client.id, outcome: client.outcome })),
        },
      }),
  };
}

/** What a box is drawn from: a Lambda invocation of the trace, or an http request's synchronous invocation. */
type DrawnInvocation = Pick<
  InvocationRecord,
  | 'seq'
  | 'recordIds'
  | 'itemIds'
  | 'outcome'
  | 'failedItemIds'
  | 'reason'
  | 'attempt'
  | 'startedAt'
  | 'endedAt'
  | 'error'
> & {
  /** Unique in the page section: the trace's `seq`, or `http-<seq>`. */
  readonly id: string;
};

export interface TimelineInput {
  readonly title: string;
  readonly runs: readonly TimelineRun[];
}

const LABEL_WIDTH = 210;
const LANE_GAP = 30;
/** Space above a lane's band for its name. */
const LANE_HEADER = 26;
const MIN_LANE_HEIGHT = 70;
const MAX_LANE_HEIGHT = 360;
const PREFERRED_ROW = 22;
const SINK_WIDTH = 190;
const SINK_GAP = 70;

const COLOURS = {
  success: '#2e9d57',
  failed: '#d64545',
  partial: '#e3a008',
} as const;

interface Segment {
  readonly invocation: DrawnInvocation;
  /** Indexes into the invocation's records that belong to this lane. */
  readonly recordIndexes: readonly number[];
}

interface Lane {
  readonly key: string;
  readonly label: string;
  readonly segments: Segment[];
  /** Record ids of the lane, as rows, in record order. */
  rows: string[];
}

interface SinkGroup {
  readonly label: string;
  readonly detail: string;
  readonly kind: string;
  readonly entries: { readonly recordId: string; readonly tooltip: string }[];
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const compareIds = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

function clock(ms: number): string {
  const whole = Math.floor(ms);
  const s = Math.floor(whole / 1000);
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}.${pad(whole % 1000, 3)}`;
}

/** The lanes of a run: which lane each invocation's records are drawn in. */
function lanesOf(run: TimelineRun): Lane[] {
  const { sim } = run;
  const lanes = new Map<string, Lane>();
  const laneFor = (key: string, label: string) => {
    let lane = lanes.get(key);
    if (!lane) {
      lane = { key, label, segments: [], rows: [] };
      lanes.set(key, lane);
    }
    return lane;
  };
  const parallel = new Set(
    sim.trace.invocations.filter((i) => (i.lane ?? 0) > 0).map((i) => `${i.sourceId}|${i.shardId}`),
  );
  for (const invocation of sim.trace.invocations) {
    const all = invocation.recordIds.map((_, i) => i);
    if (invocation.shardId !== undefined) {
      const slot = parallel.has(`${invocation.sourceId}|${invocation.shardId}`)
        ? ` · slot ${invocation.lane ?? 0}`
        : '';
      laneFor(
        `${invocation.sourceId}|${invocation.shardId}|${invocation.lane ?? 0}`,
        `${invocation.path} · ${invocation.shardId}${slot}`,
      ).segments.push({ invocation: drawn(invocation), recordIndexes: all });
      continue;
    }
    const source = sourceName(sim, invocation);
    if (invocation.path === 'fifo' && run.messageGroupOf) {
      const byGroup = new Map<string, number[]>();
      invocation.recordIds.forEach((id, i) => {
        const group = run.messageGroupOf!(id) ?? '?';
        byGroup.set(group, [...(byGroup.get(group) ?? []), i]);
      });
      for (const [group, indexes] of byGroup)
        laneFor(`${invocation.sourceId}|${group}`, `fifo · ${source} · group ${group}`).segments.push({
          invocation: drawn(invocation),
          recordIndexes: indexes,
        });
      continue;
    }
    laneFor(invocation.sourceId, `${invocation.path} · ${source}`).segments.push({
      invocation: drawn(invocation),
      recordIndexes: all,
    });
  }
  if (run.http) {
    const lane = laneFor('http', `http · ${run.http.label}`);
    const attempts = new Map<string, number>();
    for (const invocation of run.http.invocations) {
      const attempt = (attempts.get(invocation.submissionId) ?? 0) + 1;
      attempts.set(invocation.submissionId, attempt);
      const accepted = invocation.status >= 200 && invocation.status < 300;
      lane.segments.push({
        invocation: {
          id: `http-${invocation.seq}`,
          seq: invocation.seq,
          recordIds: [invocation.submissionId],
          itemIds: [invocation.submissionId],
          outcome: accepted ? 'success' : invocation.outcome === 'timed-out' ? 'timeout' : 'function-error',
          failedItemIds: [],
          // Attempts the stage throttle refused (429) never reach the function: only invoked attempts count here.
          reason: attempt === 1 ? 'new' : 'retry',
          attempt,
          startedAt: invocation.startedAt,
          endedAt: invocation.endedAt,
          ...(!accepted && {
            error: { errorType: `HTTP ${invocation.status}`, errorMessage: invocation.outcome },
          }),
        },
        recordIndexes: [0],
      });
    }
  }
  for (const lane of lanes.values()) {
    const ids = new Set<string>();
    for (const s of lane.segments) for (const i of s.recordIndexes) ids.add(s.invocation.recordIds[i]);
    lane.rows = [...ids].sort(compareIds);
  }
  return [...lanes.values()].sort((a, b) => compareIds(a.label, b.label));
}

function drawn(invocation: InvocationRecord): DrawnInvocation {
  return { ...invocation, id: String(invocation.seq) };
}

/** The queue, subscription or mapping an invocation came from, by a short name. */
function sourceName(sim: Simulation, invocation: InvocationRecord): string {
  const mapping = sim.config.sqsEventSourceMappings.find((m) => m.id === invocation.sourceId);
  if (mapping) return sim.nameOf(mapping.queueArn);
  const subscription = sim.config.snsSubscriptions.find((s) => s.id === invocation.sourceId);
  if (subscription) return `${sim.nameOf(subscription.topicArn)} → asynchronous queue`;
  const id = invocation.sourceId;
  return id.includes('/') ? id.slice(id.indexOf('/') + 1) : id;
}

/** The failed or lost records, grouped by where they went. */
function sinksOf(run: TimelineRun): SinkGroup[] {
  const { sim } = run;
  const groups = new Map<string, SinkGroup>();
  const groupFor = (key: string, label: string, detail: string, kind: string) => {
    let group = groups.get(key);
    if (!group) {
      group = { label, detail, kind, entries: [] };
      groups.set(key, group);
    }
    return group;
  };
  for (const sink of sim.trace.sinks) {
    if (sink.kind === 'on-success-destination') continue;
    const name = sim.nameOf(sink.targetArn);
    const kind = sink.kind.replace(/-/g, ' ');
    const group = groupFor(sink.targetArn, name, kind, sink.kind);
    for (const recordId of new Set(sink.recordIds)) {
      group.entries.push({
        recordId,
        tooltip: `${recordId} → ${name} (${kind})${sink.condition ? `: ${sink.condition}` : ''} at ${clock(sink.at)}`,
      });
    }
  }
  for (const event of sim.trace.events) {
    if (event.kind !== 'discarded' && event.kind !== 'expired') continue;
    const label = event.kind === 'discarded' ? 'discarded (no destination)' : 'expired';
    const group = groupFor(event.kind, label, event.kind, event.kind);
    for (const recordId of new Set(event.recordIds))
      group.entries.push({ recordId, tooltip: `${recordId}: ${event.detail} at ${clock(event.at)}` });
  }
  for (const client of run.http?.unaccepted ?? []) {
    groupFor('http', 'not accepted', 'http clients', 'http').entries.push({
      recordId: client.id,
      tooltip: `${client.id}: ${client.outcome}`,
    });
  }
  return [...groups.values()];
}

function invocationTooltip(invocation: DrawnInvocation, recordIds: readonly string[]): string {
  const shown =
    recordIds.length <= 12
      ? recordIds.join(', ')
      : `${recordIds.slice(0, 10).join(', ')} … ${recordIds.at(-1)}`;
  const lines = [
    `invocation #${invocation.id}: ${invocation.recordIds.length} record${invocation.recordIds.length === 1 ? '' : 's'} ${OUTCOME_SYMBOL[invocation.outcome]} ${invocation.outcome}`,
    `why: ${invocation.reason}, attempt ${invocation.attempt}`,
    `records: ${shown}`,
    `started ${clock(invocation.startedAt)}, ran ${Math.round(invocation.endedAt - invocation.startedAt)} ms`,
  ];
  if (invocation.failedItemIds.length > 0)
    lines.push(`reported failed: ${invocation.failedItemIds.join(', ')}`);
  if (invocation.error) lines.push(`error: ${invocation.error.errorType}: ${invocation.error.errorMessage}`);
  return lines.join('\n');
}

/** Whether the function failed this record in this invocation. */
function recordFailed(invocation: DrawnInvocation, index: number): boolean {
  if (invocation.outcome === 'success') return false;
  if (invocation.outcome !== 'partial-failure') return true;
  return invocation.failedItemIds.includes(invocation.itemIds[index]);
}

function outcomeColour(invocation: DrawnInvocation): string {
  if (invocation.outcome === 'success') return COLOURS.success;
  return invocation.outcome === 'partial-failure' ? COLOURS.partial : COLOURS.failed;
}

function reasonLabel(invocation: DrawnInvocation): string {
  switch (invocation.reason) {
    case 'new':
      return '';
    case 'retry':
      return `retry ${invocation.attempt - 1}`;
    case 'after-partial-failure':
      return 'rest';
    case 'throttle-retry':
      return 'after 429';
    default:
      return invocation.reason;
  }
}

/** One run's SVG: its lanes, boxes, cells, sinks and the lines to them. */
function runSvg(run: TimelineRun, runIndex: number): string {
  const lanes = lanesOf(run);
  const sinks = sinksOf(run);
  const columns = Math.max(1, ...lanes.map((l) => l.segments.length));
  const columnWidth = columns <= 40 ? 52 : Math.max(6, Math.floor(2600 / columns));
  const boxWidth = Math.max(4, columnWidth - (columnWidth > 20 ? 14 : 2));
  const sinksX = LABEL_WIDTH + columns * columnWidth + SINK_GAP;
  const width = sinksX + SINK_WIDTH + 20;
  const parts: string[] = [];
  /** Where each record was last drawn, per lane: the start of its line to a sink. */
  const lastSeen = new Map<string, { x: number; y: number }>();
  let top = 44;

  for (const [laneIndex, lane] of lanes.entries()) {
    const rows = lane.rows.length;
    const height = Math.min(MAX_LANE_HEIGHT, Math.max(MIN_LANE_HEIGHT, rows * PREFERRED_ROW));
    const row = height / rows;
    const rowOf = new Map(lane.rows.map((id, i) => [id, i]));
    // The lane's name above its band, so it never covers the record names at the band's left.
    parts.push(
      `<g class="lane" data-lane="${escapeHtml(lane.label)}" data-records="${rows}">`,
      `<text class="lane-label" x="8" y="${top}">${escapeHtml(lane.label)}<tspan class="lane-sub" dx="10">${rows} record${rows === 1 ? '' : 's'}, ${lane.segments.length} invocation${lane.segments.length === 1 ? '' : 's'}</tspan></text>`,
    );
    top += LANE_HEADER;
    parts.push(
      `<rect class="lane-band" x="0" y="${top}" width="${sinksX - SINK_GAP / 2}" height="${height}"/>`,
    );
    if (rows <= 40) {
      for (const [i, id] of lane.rows.entries())
        parts.push(
          `<text class="row-label" x="${LABEL_WIDTH - 6}" y="${top + (i + 0.5) * row + 4}" text-anchor="end">${escapeHtml(id)}</text>`,
        );
    }
    for (const [column, segment] of lane.segments.entries()) {
      const { invocation } = segment;
      const x = LABEL_WIDTH + column * columnWidth + (columnWidth - boxWidth) / 2;
      const ids = segment.recordIndexes.map((i) => invocation.recordIds[i]);
      const rowIndexes = ids.map((id) => rowOf.get(id)!);
      const first = Math.min(...rowIndexes);
      const last = Math.max(...rowIndexes);
      const boxTop = top + first * row;
      const boxHeight = (last - first + 1) * row;
      const reason = reasonLabel(invocation);
      parts.push(
        `<g class="invocation outcome-${invocation.outcome} reason-${invocation.reason}" data-seq="${invocation.id}" data-outcome="${invocation.outcome}" data-size="${invocation.recordIds.length}" data-records="${escapeHtml(ids.join(' '))}">`,
        `<title>${escapeHtml(invocationTooltip(invocation, ids))}</title>`,
        `<rect class="box" x="${x}" y="${boxTop}" width="${boxWidth}" height="${boxHeight}" rx="3" stroke="${outcomeColour(invocation)}"/>`,
      );
      for (const [k, index] of segment.recordIndexes.entries()) {
        const failed = recordFailed(invocation, index);
        parts.push(
          `<rect class="cell${failed ? ' failed' : ''}" data-record="${escapeHtml(ids[k])}" x="${x + 2}" y="${top + rowIndexes[k] * row + 1}" width="${Math.max(1, boxWidth - 4)}" height="${Math.max(0.5, row - 2)}" fill="${failed ? COLOURS.failed : COLOURS.success}"/>`,
        );
        lastSeen.set(`${laneIndex}|${ids[k]}`, { x: x + boxWidth, y: top + (rowIndexes[k] + 0.5) * row });
      }
      if (boxHeight >= 16 && columnWidth >= 30)
        parts.push(
          `<text class="box-label" x="${x + boxWidth / 2}" y="${boxTop + boxHeight / 2 + 4}" text-anchor="middle">${invocation.recordIds.length}${OUTCOME_SYMBOL[invocation.outcome]}</text>`,
        );
      if (reason && columnWidth >= 30)
        parts.push(
          `<text class="reason" x="${x + boxWidth / 2}" y="${boxTop - 3}" text-anchor="middle">${escapeHtml(reason)}</text>`,
        );
      parts.push('</g>');
    }
    parts.push('</g>');
    top += height + LANE_GAP;
  }

  // Sinks: one box each, stacked on the right; a line from each failed record's last box to its sink.
  const sinkTop = 44 + LANE_HEADER;
  const sinkSpace = Math.max(top - LANE_GAP - sinkTop, sinks.length * 60);
  const sinkHeight = sinks.length === 0 ? 0 : Math.min(90, sinkSpace / sinks.length - 12);
  for (const [i, sink] of sinks.entries()) {
    const y = sinkTop + i * (sinkHeight + 12);
    const targetY = y + sinkHeight / 2;
    const records = [...new Set(sink.entries.map((e) => e.recordId))];
    parts.push(
      `<g class="sink sink-${escapeHtml(sink.kind)}" data-sink="${escapeHtml(sink.label)}" data-records="${escapeHtml(records.join(' '))}">`,
      `<title>${escapeHtml(`${sink.label} (${sink.detail}): ${records.length} record${records.length === 1 ? '' : 's'}\n${records.slice(0, 20).join(', ')}${records.length > 20 ? ' …' : ''}`)}</title>`,
      `<rect class="sink-box" x="${sinksX}" y="${y}" width="${SINK_WIDTH}" height="${sinkHeight}" rx="6"/>`,
      `<text class="sink-label" x="${sinksX + 10}" y="${y + 20}">${escapeHtml(truncate(sink.label, 26))}</text>`,
      `<text class="sink-sub" x="${sinksX + 10}" y="${y + 36}">${escapeHtml(sink.detail)}</text>`,
      `<text class="sink-sub" x="${sinksX + 10}" y="${y + 52}">${records.length} record${records.length === 1 ? '' : 's'}</text>`,
      '</g>',
    );
    const drawn = new Set<string>();
    for (const entry of sink.entries) {
      if (drawn.has(entry.recordId)) continue;
      drawn.add(entry.recordId);
      for (const laneIndex of lanes.keys()) {
        const from = lastSeen.get(`${laneIndex}|${entry.recordId}`);
        if (!from) continue;
        const bend = (from.x + sinksX) / 2;
        parts.push(
          `<path class="sink-path" data-record="${escapeHtml(entry.recordId)}" data-sink="${escapeHtml(sink.label)}" d="M ${from.x} ${from.y} C ${bend} ${from.y}, ${bend} ${targetY}, ${sinksX} ${targetY}" marker-end="url(#arrow-${runIndex})"><title>${escapeHtml(entry.tooltip)}</title></path>`,
        );
      }
    }
  }

  const height = Math.max(top, sinkTop + sinks.length * (sinkHeight + 12)) + 10;
  return [
    `<svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<defs><marker id="arrow-${runIndex}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="${COLOURS.failed}"/></marker></defs>`,
    `<text class="axis" x="${LABEL_WIDTH}" y="24">invocations in the order they started →</text>`,
    sinks.length > 0 ? `<text class="axis" x="${sinksX}" y="24">where failed records went</text>` : '',
    ...parts,
    '</svg>',
  ].join('\n');
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #1f2328; background: #fff; }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 28px 0 4px; }
.settings, .legend, .summary { margin: 2px 0; color: #444; }
.sequence { font: 15px ui-monospace, SFMono-Regular, Menlo, monospace; margin: 6px 0 10px; }
.scroll { overflow-x: auto; border: 1px solid #d0d7de; border-radius: 6px; }
.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px; vertical-align: -1px; margin: 0 3px 0 10px; }
svg text { font: 12px system-ui, sans-serif; fill: #1f2328; pointer-events: none; }
.lane-band { fill: #f6f8fa; }
.lane-label { font-weight: 600; }
.lane-sub, .sink-sub, .axis, .reason { fill: #57606a; font-size: 11px; }
.row-label { fill: #57606a; font-size: 10px; }
.box { fill: #fff; stroke-width: 2; }
.reason-split .box, .reason-after-partial-failure .box { stroke-dasharray: 5 3; }
.cell { opacity: 0.85; }
.cell.failed { opacity: 1; }
.box-label { font-weight: 700; fill: #fff; paint-order: stroke; stroke: #1f2328; stroke-width: 2.5px; }
.sink-box { fill: #fff1f0; stroke: ${COLOURS.failed}; stroke-width: 1.5; }
.sink-label { font-weight: 600; }
.sink-path { fill: none; stroke: ${COLOURS.failed}; stroke-width: 1.5; stroke-dasharray: 4 3; opacity: 0.8; }
.highlight .cell:not(.lit), .highlight .sink-path:not(.lit) { opacity: 0.15; }
.lit { stroke: #0969da; stroke-width: 2; opacity: 1; }
`;

/** Hovering a record's cell lights every cell and line of that record (the rest fades). */
const SCRIPT = `
document.querySelectorAll('svg.timeline').forEach(function (svg) {
  svg.addEventListener('mouseover', function (event) {
    var record = event.target.getAttribute && event.target.getAttribute('data-record');
    if (!record) return;
    svg.classList.add('highlight');
    svg.querySelectorAll('[data-record]').forEach(function (el) {
      el.classList.toggle('lit', el.getAttribute('data-record') === record);
    });
  });
  svg.addEventListener('mouseout', function () {
    svg.classList.remove('highlight');
    svg.querySelectorAll('.lit').forEach(function (el) { el.classList.remove('lit'); });
  });
});
`;

/** The page: a section per run (the walk-through with `--partial on` has two, side by side in order). */
export function timelineHtml(input: TimelineInput): string {
  const sections = input.runs.map((run, i) => {
    const invocations = [...run.sim.trace.invocations, ...(run.http?.invocations ?? [])];
    const sequence = run.sim.trace.invocations.map(
      (inv) => `${inv.recordIds.length}${OUTCOME_SYMBOL[inv.outcome]}`,
    );
    const shown = sequence.length <= 80 ? sequence.join(' ') : `${sequence.slice(0, 80).join(' ')} …`;
    return [
      `<section class="run" data-run="${escapeHtml(run.title)}" data-invocations="${invocations.length}">`,
      `<h2>${escapeHtml(run.title)}</h2>`,
      `<p class="settings">${escapeHtml(run.settings.join(' · '))}</p>`,
      `<p class="summary">${invocations.length} invocation${invocations.length === 1 ? '' : 's'}, ${run.sim.trace.sinks.length} message${run.sim.trace.sinks.length === 1 ? '' : 's'} to a dead-letter queue or destination</p>`,
      `<p class="sequence">${escapeHtml(shown)}</p>`,
      `<div class="scroll">${runSvg(run, i)}</div>`,
      '</section>',
    ].join('\n');
  });
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(input.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(input.title)}</h1>
<p class="legend">${escapeHtml(SYMBOL_LEGEND)}<span class="swatch" style="background:${COLOURS.success}"></span>record processed<span class="swatch" style="background:${COLOURS.failed}"></span>record failed<span class="swatch" style="background:${COLOURS.partial}"></span>box: batch with reported failures · dashed box: after a split · hover for details</p>
${sections.join('\n')}
<script>${SCRIPT}</script>
</body>
</html>
`;
}
