// The chart panel: one metric of the selected host over the last 5 minutes,
// grouped by one of its labels (POST /api/v1/query every 2 s), drawn with
// uPlot (or, for fn heatmap, heatmap.js), and its top groups in a table.
// Counts are drawn per second; gauges and distributions with a chosen query
// function (average, p99, ...), as `andonctl query --fn` takes it.
//
// Test hooks: state.lastQuery, state.seriesCount, state.nonZero,
// state.latestPointMs; document.body.dataset mirrors them and chartMetric,
// chartBy, chartFn; rows of #top carry data-key.

import uPlot from 'uplot';
import { api, errorText } from './api.js';
import { $, el, poller, showBanner } from './dom.js';
import { formatClock, formatCount, formatValue, parseTimestamp } from './format.js';
import { drawHeatmap, heatmapData } from './heatmap.js';
import { toPlotData } from './query_series.js';

const kQueryPeriodMs = 2000;
const kRangeMs = 5 * 60 * 1000;
const kStepSeconds = 1;
const kTopN = 10;
export const kDefaultChart = { metric: 'syscalls', by: 'comm', fn: '' };

// Tableau-like palette, readable on a light background.
const kPalette = [
  '#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f',
  '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#7f7f7f',
  '#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#17becf',
];

// What a metric of each kind can be drawn as: [fn, label] (fn as the query
// API spells it, common/query_fn.h). The first is the default; '' is the
// kind's default function (count of events per 1 s bucket, or the average of
// a gauge).
const kFns = {
  COUNTER: [['', 'count / s'], ['rate', 'rate'], ['topk(10)', 'top 10']],
  TOP_K: [['', 'count / s'], ['rate', 'rate'], ['topk(10)', 'top 10 keys']],
  GAUGE: [['avg', 'average'], ['max', 'max'], ['min', 'min'], ['last', 'last'], ['topk(10)', 'top 10']],
  DISTRIBUTION: [['quantile(0.99)', 'p99'], ['quantile(0.9)', 'p90'], ['quantile(0.5)', 'p50'],
    ['avg', 'average'], ['max', 'max'], ['heatmap', 'heatmap'], ['count', 'count / s'],
    ['rate', 'rate'], ['topk(10)', 'top 10']],
};

export function createChart(state, { onChange }) {
  state.chart = { ...kDefaultChart };
  state.metrics = new Map(); // name -> MetricInfo
  state.lastQuery = null;     // {host, chart, request, response, receivedAt}
  state.queryError = null;
  state.seriesCount = 0;
  state.nonZero = false;
  state.latestPointMs = 0;
  const poll = poller(refresh, kQueryPeriodMs);

  // ------------------------------------------------------------ controls

  function info(name) {
    return state.metrics.get(name) || { name, kind: '', labels: [], help: '', unit: '' };
  }

  function fnsFor(kind) {
    return kFns[kind] || [['', 'default']];
  }

  // The by/fn a metric is first shown with; provisional until the metric's
  // descriptor is known.
  function defaults(metric) {
    const m = info(metric);
    const labels = (m.labels || []).filter((l) => l !== 'host');
    return { metric, by: labels[0] || '', fn: fnsFor(m.kind)[0][0], provisional: !state.metrics.has(metric) };
  }

  // Shows chart.metric grouped by chart.by with chart.fn (both optional:
  // the metric's defaults). Returns whether anything changed.
  function apply(chart) {
    const { provisional, ...given } = chart;
    const explicit = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
    const next = { ...defaults(chart.metric), ...explicit };
    if (explicit.by !== undefined || explicit.fn !== undefined) next.provisional = false;
    const c = state.chart;
    if (next.metric === c.metric && next.by === c.by && next.fn === c.fn) {
      c.provisional = next.provisional;
      return false;
    }
    state.chart = next;
    state.lastQuery = null;
    state.queryError = null;
    renderControls();
    render();
    poll.now();
    return true;
  }

  function choose(chart) {
    if (apply(chart)) onChange(state.chart);
  }

  let controlsKey = '';
  function renderControls() {
    const c = state.chart;
    const m = info(c.metric);
    const names = [...state.metrics.keys()];
    if (!state.metrics.has(c.metric)) names.push(c.metric);
    const labels = (m.labels || []).filter((l) => l !== 'host');
    if (c.by && !labels.includes(c.by)) labels.push(c.by);
    const fns = fnsFor(m.kind);
    if (!fns.some(([f]) => f === c.fn)) fns.push([c.fn, c.fn || 'default']);
    const key = JSON.stringify([names, c, labels, fns, m.help]);
    if (key === controlsKey) return;
    controlsKey = key;

    const bySource = new Map();
    for (const n of names.sort()) {
      const src = info(n).source || 'other';
      if (!bySource.has(src)) bySource.set(src, []);
      bySource.get(src).push(n);
    }
    $('chart-metric').replaceChildren(...[...bySource].map(([src, list]) =>
      el('optgroup', { label: src }, list.map((n) => el('option', { value: n }, n)))));
    $('chart-metric').value = c.metric;
    $('chart-by').replaceChildren(el('option', { value: '' }, '(total)'),
      ...labels.map((l) => el('option', { value: l }, l)));
    $('chart-by').value = c.by;
    $('chart-fn').replaceChildren(...fns.map(([f, label]) => el('option', { value: f }, label)));
    $('chart-fn').value = c.fn;
    $('chart-fn-wrap').hidden = fns.length < 2;
    $('chart-help').textContent = m.help ? `${m.name}: ${m.help}` + (m.source ? ` (from ${m.source})` : '') : '';
    document.body.dataset.chartMetric = c.metric;
    document.body.dataset.chartBy = c.by;
  }

  // Merges metric descriptors (from /api/v1/metrics, the catalog or probe
  // configurations); `authoritative` ones replace what was known.
  function addMetrics(list, authoritative) {
    for (const m of list) {
      if (authoritative || !state.metrics.has(m.name)) state.metrics.set(m.name, m);
    }
    // A metric picked before its descriptor arrived gets its real defaults.
    if (state.chart.provisional && state.metrics.has(state.chart.metric)) {
      if (apply({ metric: state.chart.metric })) onChange(state.chart);
    }
    renderControls();
  }

  $('chart-metric').addEventListener('change', () => choose({ metric: $('chart-metric').value }));
  $('chart-by').addEventListener('change', () => choose({ ...state.chart, by: $('chart-by').value }));
  $('chart-fn').addEventListener('change', () => choose({ ...state.chart, fn: $('chart-fn').value }));

  // ------------------------------------------------------------ query

  function buildQuery(host) {
    // Whole seconds, so buckets line up with the agents' 1 s windows.
    const end = Math.floor(Date.now() / 1000) * 1000;
    const c = state.chart;
    const q = {
      metric: c.metric,
      matchers: [{ name: 'host', op: 'EQ', value: host }],
      groupBy: c.by ? [c.by] : [],
      start: new Date(end - kRangeMs).toISOString(),
      end: new Date(end).toISOString(),
      step: `${kStepSeconds}s`,
      limit: kTopN,
    };
    if (c.fn) q.fn = c.fn;
    return q;
  }

  async function refresh() {
    const host = state.selectedHost;
    if (!host) return;
    const chart = state.chart;
    const request = buildQuery(host);
    const current = () => state.selectedHost === host && state.chart === chart;
    try {
      const response = await api('/api/v1/query', request);
      if (!current()) return; // selection changed while in flight
      state.lastQuery = { host, chart, request, response, receivedAt: Date.now() };
      state.queryError = null;
    } catch (e) {
      if (!current()) return;
      state.queryError = errorText(e);
    }
    render();
  }

  function setHost() {
    // Drop the previous host's chart at once rather than showing it under a new title.
    state.lastQuery = null;
    state.queryError = null;
    render();
    poll.now();
  }

  // ------------------------------------------------------------ drawing

  // Counting functions: each point is the events of a 1 s bucket (or the
  // server's per-second rate), drawn per second with empty buckets as 0.
  function isCounting(kind, fn) {
    if (kind === 'GAUGE') return false;
    return fn === '' || fn === 'count' || fn === 'rate' || fn.startsWith('topk(');
  }

  function fnLabel(kind, fn) {
    const f = fnsFor(kind).find(([x]) => x === fn);
    return f ? f[1] : fn || 'value';
  }

  function fnTitle(kind, fn) {
    if (!isCounting(kind, fn)) return fnLabel(kind, fn);
    if (fn === 'rate') return 'rate per second';
    if (fn.startsWith('topk(')) return `per second, ${fnLabel(kind, fn)}`;
    return 'per second';
  }

  const colors = new Map();
  // A group keeps its colour across refreshes; the groups on screen get
  // distinct colours (the palette is larger than the top-N).
  function assignColors(names) {
    const used = new Set();
    const keep = new Set();
    for (const n of names) {
      const c = colors.get(n);
      if (c && !used.has(c)) { used.add(c); keep.add(n); }
    }
    for (const n of names) {
      if (keep.has(n)) continue;
      const c = kPalette.find((p) => !used.has(p)) || kPalette[used.size % kPalette.length];
      used.add(c);
      colors.set(n, c);
    }
  }
  const colorFor = (name) => colors.get(name) || kPalette[0];

  let plot = null;
  let plotKey = '';
  let plotNames = [];
  let xRange = [0, 1];
  let heatmap = null; // {data, opts} of the heatmap on screen

  function chartSize() {
    return { width: Math.max(320, $('chart-wrap').clientWidth), height: 280 };
  }

  function dropPlot() {
    if (plot) plot.destroy();
    plot = null;
    plotKey = '';
    plotNames = [];
    heatmap = null;
    $('chart').replaceChildren();
  }

  // The indices of values with no value beside them.
  function isolatedPoints(u, si) {
    const col = u.data[si];
    const out = [];
    for (let i = 0; i < col.length; i++) {
      if (col[i] == null) continue;
      if ((i === 0 || col[i - 1] == null) && (i === col.length - 1 || col[i + 1] == null)) {
        out.push(i);
      }
    }
    return out;
  }

  function makePlot(names, data, fmt, axisLabel, key) {
    dropPlot();
    assignColors(names);
    const opts = {
      ...chartSize(),
      cursor: { drag: { x: false, y: false } },
      // The x axis always spans the queried range, so the chart scrolls
      // smoothly and a host with little history does not stretch.
      scales: { x: { time: true, range: () => xRange }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: [
        {
          stroke: '#555', grid: { stroke: '#eee' }, ticks: { stroke: '#ddd' }, space: 70,
          values: (u, splits) => splits.map(formatClock),
        },
        {
          stroke: '#555', grid: { stroke: '#eee' }, ticks: { stroke: '#ddd' },
          label: axisLabel, size: 76,
          values: (u, vals) => vals.map(fmt),
        },
      ],
      legend: { live: true },
      series: [
        { label: 'time' },
        ...names.map((name) => ({
          label: name,
          stroke: colorFor(name),
          width: 1.5,
          // A value with no neighbour draws no line: a dot shows it (a
          // burst within one second, or a gauge between gaps).
          points: { show: true, size: 6, fill: colorFor(name), filter: isolatedPoints },
          // Away from the cursor the legend shows the newest value.
          value: (u, v, si, idx) => {
            if (idx == null) {
              const col = u.data[si];
              v = col && col.length ? col[col.length - 1] : null;
            }
            return v == null ? '–' : fmt(v);
          },
        })),
      ],
    };
    plot = new uPlot(opts, data, $('chart'));
    plotKey = key;
    plotNames = names;
  }

  // Follows the panel's width (not the chart's own box, which uPlot resizes).
  let lastWidth = 0;
  new ResizeObserver(() => {
    const size = chartSize();
    if (size.width === lastWidth) return;
    lastWidth = size.width;
    requestAnimationFrame(() => {
      if (plot) plot.setSize(chartSize());
      if (heatmap) drawHeatmap($('chart'), heatmap.data, heatmap.opts);
    });
  }).observe($('chart-wrap'));

  function title(host) {
    const c = state.chart;
    const m = info(c.metric);
    const what = `${c.metric} ${fnTitle(m.kind, c.fn)}` + (c.by ? ` by ${c.by}` : '');
    return host ? `${what} — ${host}` : what;
  }

  // Numbers of a counting answer: per second, in bytes when the metric counts bytes.
  function countFormat(unit) {
    return unit.startsWith('bytes') ? (v) => formatValue(v, 'bytes') : formatCount;
  }

  function render() {
    const host = state.selectedHost;
    const c = state.chart;
    $('chart-title').textContent = title(host);
    showBanner('query-error', state.queryError ? `Query failed: ${state.queryError}` : null);

    const q = state.lastQuery;
    const empty = $('chart-empty');
    if (!q) {
      state.seriesCount = 0;
      state.nonZero = false;
      state.latestPointMs = 0;
      dropPlot();
      empty.textContent = !host ? `Select a host to see its ${c.metric}.`
        : state.queryError ? 'No data: the query failed (see above).' : 'Loading…';
      empty.hidden = false;
      renderTop(null);
      publish();
      return;
    }

    const kind = q.response.kind || info(c.metric).kind;
    const unit = q.response.unit || '';
    const counting = isCounting(kind, c.fn);
    const countFmt = countFormat(unit);
    const fmt = counting ? (v) => countFmt(v) + '/s' : (v) => formatValue(v, unit);
    const { series, latest, data } = toPlotData(q, counting, kStepSeconds);
    const startMs = parseTimestamp(q.request.start);
    const endMs = parseTimestamp(q.request.end);
    xRange = [startMs / 1000, endMs / 1000];
    state.seriesCount = series.length;
    state.latestPointMs = latest;
    state.nonZero = series.some((s) => s.points.some(([, v]) => v > 0));
    $('chart').classList.toggle('stale', Boolean(state.queryError));

    if (!data) {
      dropPlot();
      empty.textContent = `No ${c.metric} data for ${host} in the last 5 minutes yet. ` +
        `Is its agent connected and a probe configuration producing ${c.metric} applied to it (see Probes)?`;
      empty.hidden = false;
    } else if (c.fn === 'heatmap') {
      empty.hidden = true;
      if (plot) dropPlot();
      heatmap = {
        data: heatmapData(q.response),
        opts: { startMs, endMs, stepMs: kStepSeconds * 1000, unit },
      };
      drawHeatmap($('chart'), heatmap.data, heatmap.opts);
    } else {
      empty.hidden = true;
      const names = series.map((s) => s.name);
      // Recreate only when the set of groups changes, so the legend and
      // cursor do not jump on every refresh.
      const key = JSON.stringify([c, unit, counting, names.slice().sort()]);
      if (!plot || key !== plotKey) {
        makePlot(names, data, fmt, counting ? 'per second' : fnLabel(kind, c.fn), key);
      } else {
        const byName = new Map(names.map((n, i) => [n, data[i + 1]]));
        plot.setData([data[0], ...plotNames.map((n) => byName.get(n))]);
      }
    }
    // A heatmap's series totals are event counts, like a count's.
    const mode = c.fn === 'rate' ? 'rate' : counting || c.fn === 'heatmap' ? 'count' : 'value';
    renderTop(q, series, mode, mode === 'value' ? fmt : countFmt);
    publish();
  }

  // The top table: per group its total over the range ('count': events,
  // their average per second and share; 'rate': the average rate and share;
  // 'value': the function over the whole range).
  function renderTop(q, series = [], mode = 'count', fmt = formatCount) {
    const c = state.chart;
    const kind = q ? q.response.kind || info(c.metric).kind : info(c.metric).kind;
    const shares = mode !== 'value';
    const isHeatmap = c.fn === 'heatmap'; // its groups have no colour of their own
    const errors = series.some((s) => s.error > 0);
    const keyed = series.some((s) => s.keyed);
    $('top-title').textContent = keyed ? 'Top keys' : c.by ? `Top ${c.by}` : 'Total';
    $('top').tHead.rows[0].replaceChildren(...[
      el('th', { class: 'swatch-col' }),
      el('th', {}, keyed ? (c.by ? `key (${c.by})` : 'key') : c.by || 'series'),
      mode === 'count' ? el('th', { class: 'num' }, 'count') : null,
      errors ? el('th', { class: 'num', title: 'the true count is at most this much lower' }, '± error') : null,
      mode === 'value' ? el('th', { class: 'num' }, fnLabel(kind, c.fn)) : el('th', { class: 'num' }, 'avg / s'),
      shares ? el('th', { class: 'share-col' }, 'share') : null,
    ].filter(Boolean));
    const rangeS = q ? (parseTimestamp(q.request.end) - parseTimestamp(q.request.start)) / 1000 : 0;
    const sum = series.reduce((acc, s) => acc + s.total, 0);
    const max = series.reduce((acc, s) => Math.max(acc, s.total), 0);
    const rows = series.map((s) => {
      const share = sum > 0 ? s.total / sum : 0;
      const rel = max > 0 ? s.total / max : 0;
      const perSecond = mode === 'rate' ? s.total : rangeS > 0 ? s.total / rangeS : NaN;
      return el('tr', { data: { key: s.name } },
        el('td', { class: 'swatch-col' }, isHeatmap ? null : el('span', { class: 'swatch', style: `background:${colorFor(s.name)}` })),
        el('td', { class: 'mono name-col', title: s.full }, s.name),
        mode === 'count' ? el('td', { class: 'num' },
          fmt === formatCount ? Math.round(s.total).toLocaleString('en-US') : fmt(s.total)) : null,
        errors ? el('td', { class: 'num' }, s.error ? formatCount(s.error) : '0') : null,
        el('td', { class: 'num' }, mode === 'value' ? fmt(s.total) : Number.isFinite(perSecond) ? fmt(perSecond) : '–'),
        shares ? el('td', { class: 'share-col' },
          el('span', { class: 'bar-track' },
            el('span', { class: 'bar', style: `width:${(rel * 100).toFixed(1)}%;background:${isHeatmap ? '#6baed6' : colorFor(s.name)}` })),
          el('span', { class: 'share-text' }, `${(share * 100).toFixed(1)}%`)) : null,
      );
    });
    $('top').tBodies[0].replaceChildren(...rows);
    const r = q ? q.response : {};
    const notes = [];
    const truncated = Number(r.seriesTruncated) || 0;
    if (truncated > 0) notes.push(`${truncated} more not shown (top ${series.length} by total).`);
    if (Number(r.unlistedBound) > 0) notes.push(`A key not listed has at most ${formatCount(Number(r.unlistedBound))}.`);
    if (r.partial) notes.push(`Partial answer: ${[...(r.missing || []), ...(r.warnings || [])].join('; ')}`);
    if (isHeatmap && c.by && series.length > 1) {
      notes.push(truncated > 0
        ? `The heatmap sums the ${series.length} groups listed; by (total) shows all events.`
        : `The heatmap sums all ${series.length} groups.`);
    }
    if (q && series.length === 0) notes.push('Nothing in this range.');
    $('top-note').textContent = notes.join(' ');
  }

  // Mirrors scalars into data attributes for tests and debugging.
  function publish() {
    const d = document.body.dataset;
    d.seriesCount = String(state.seriesCount);
    d.nonZero = String(state.nonZero);
    d.latestPointMs = String(state.latestPointMs);
    d.queryError = state.queryError || '';
    d.chartFn = state.chart.fn;
  }

  renderControls();
  render();
  return { apply, choose, addMetrics, setHost, poll };
}
