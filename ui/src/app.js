// Andon web UI: a thin page over the controller's JSON API (protobuf JSON
// mapping of proto/andon/v1). Hosts are polled every 3 s, the selected host's
// syscall rates every 2 s. Every failure is shown as text on the page.
//
// Test hooks: window.andonState holds the latest API results, and
// document.body.dataset mirrors a few scalars (selectedHost, hostCount,
// seriesCount, nonZero, latestPointMs) for browser tests.

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './style.css';

const kHostsPeriodMs = 3000;
const kQueryPeriodMs = 2000;
const kRequestTimeoutMs = 10000;
const kRangeMs = 5 * 60 * 1000;
const kStepSeconds = 1;
const kTopN = 10;

// Tableau-like palette, readable on a light background.
const kPalette = [
  '#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f',
  '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#7f7f7f',
  '#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#17becf',
];

const state = {
  hosts: [],            // Host JSON objects, sorted by host id
  hostsError: null,
  hostsFetchedAt: 0,
  aggregators: [],
  selectedHost: null,   // host id (the "host" label of the metrics)
  lastQuery: null,      // {host, request, response, receivedAt}
  queryError: null,
  seriesCount: 0,
  nonZero: false,
  latestPointMs: 0,
};
window.andonState = state;

const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------- API

class ApiError extends Error {
  constructor(message, code, httpStatus) {
    super(message);
    this.code = code;
    this.httpStatus = httpStatus;
  }
}

// Fetches JSON from the controller. Throws ApiError with the server's
// {"error", "code"} message, or a network/timeout description.
async function api(path, body) {
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), kRequestTimeoutMs);
  let resp;
  try {
    resp = await fetch(path, {
      method: body === undefined ? 'GET' : 'POST',
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: ctrl.signal,
      cache: 'no-store',
    });
  } catch (e) {
    const why = e.name === 'AbortError' ? `timed out after ${kRequestTimeoutMs / 1000}s` : e.message;
    throw new ApiError(`cannot reach the controller (${path}): ${why}`, 'UNAVAILABLE', 0);
  } finally {
    clearTimeout(timer);
  }
  const text = await resp.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    // Fall through: reported below with the raw text.
  }
  if (!resp.ok) {
    if (json && typeof json.error === 'string') {
      throw new ApiError(json.error, json.code || `HTTP ${resp.status}`, resp.status);
    }
    throw new ApiError(`${path}: HTTP ${resp.status} ${snippet(text)}`, `HTTP ${resp.status}`, resp.status);
  }
  if (json === null) {
    throw new ApiError(`${path}: response is not JSON: ${snippet(text)}`, 'BAD_RESPONSE', resp.status);
  }
  return json;
}

function snippet(text) {
  const t = (text || '').trim().replace(/\s+/g, ' ');
  return t.length > 160 ? t.slice(0, 160) + '…' : t;
}

// ---------------------------------------------------------------- formatting

// RFC3339 with up to nanosecond fractions ("2026-01-02T03:04:05.123456789Z")
// to unix ms; NaN when absent or malformed.
function parseTimestamp(ts) {
  if (!ts) return NaN;
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(ts);
  if (!m) return Date.parse(ts);
  const ms = m[2] ? '.' + (m[2] + '00').slice(0, 3) : '';
  return Date.parse(m[1] + ms + m[3]);
}

function relativeTime(ms, now) {
  if (!Number.isFinite(ms) || ms <= 0) return 'never';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

function formatCount(v) {
  if (!Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  if (a >= 1e9) return (v / 1e9).toFixed(a >= 1e10 ? 1 : 2) + 'G';
  if (a >= 1e6) return (v / 1e6).toFixed(a >= 1e7 ? 1 : 2) + 'M';
  if (a >= 1e4) return (v / 1e3).toFixed(a >= 1e5 ? 0 : 1) + 'k';
  if (a >= 100 || Number.isInteger(v)) return Math.round(v).toLocaleString('en-US');
  return v.toFixed(1);
}

function formatClock(sec) {
  const d = new Date(sec * 1000);
  const p = (n) => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function hostId(h) {
  return (h.info && h.info.hostId) || '';
}

// A process keeps its colour across refreshes; the processes on screen get
// distinct colours (the palette is larger than the top-N).
const colors = new Map();

function assignColors(names) {
  const used = new Set();
  const keep = [];
  for (const n of names) {
    const c = colors.get(n);
    if (c && !used.has(c)) { used.add(c); keep.push(n); }
  }
  for (const n of names) {
    if (keep.includes(n)) continue;
    const c = kPalette.find((p) => !used.has(p)) || kPalette[used.size % kPalette.length];
    used.add(c);
    colors.set(n, c);
  }
}

function colorFor(name) {
  return colors.get(name) || kPalette[0];
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') node.className = v;
    else if (k === 'data') Object.assign(node.dataset, v);
    else if (k === 'style') node.style.cssText = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) {
    if (c !== null && c !== undefined) node.append(c);
  }
  return node;
}

function showBanner(id, message) {
  const b = $(id);
  if (message) {
    b.textContent = message;
    b.hidden = false;
  } else {
    b.hidden = true;
    b.textContent = '';
  }
}

function errorText(e) {
  if (e instanceof ApiError) return e.code ? `${e.message} [${e.code}]` : e.message;
  return String(e && e.message ? e.message : e);
}

// ---------------------------------------------------------------- selection

function hostFromHash() {
  const params = new URLSearchParams(location.hash.replace(/^#/, ''));
  return params.get('host') || null;
}

function selectHost(id, { replace = false } = {}) {
  const hash = '#host=' + encodeURIComponent(id);
  if (location.hash !== hash) {
    if (replace) history.replaceState(null, '', hash);
    else location.hash = hash; // fires hashchange -> applySelection
  }
  applySelection(id);
}

function applySelection(id) {
  if (state.selectedHost === id) return;
  state.selectedHost = id;
  document.body.dataset.selectedHost = id || '';
  // Drop the previous host's chart at once rather than showing it under a new title.
  state.lastQuery = null;
  state.queryError = null;
  renderHosts();
  renderChart();
  pollQuery.now();
}

window.addEventListener('hashchange', () => {
  const id = hostFromHash();
  if (id) applySelection(id);
});

// ---------------------------------------------------------------- hosts

async function refreshHosts() {
  const [hosts, aggs] = await Promise.allSettled([
    api('/api/v1/hosts'),
    api('/api/v1/aggregators'),
  ]);
  if (hosts.status === 'fulfilled') {
    state.hosts = (hosts.value.hosts || []).slice().sort((a, b) => hostId(a).localeCompare(hostId(b)));
    state.hostsError = null;
    state.hostsFetchedAt = Date.now();
  } else {
    state.hostsError = errorText(hosts.reason);
  }
  if (aggs.status === 'fulfilled') {
    state.aggregators = aggs.value.aggregators || [];
  } else if (hosts.status === 'fulfilled') {
    // Hosts worked: the aggregator list alone failed; say so without hiding the hosts.
    state.hostsError = 'aggregators: ' + errorText(aggs.reason);
  }
  if (!state.selectedHost && state.hosts.length > 0) {
    selectHost(hostFromHash() || hostId(state.hosts[0]), { replace: true });
  }
  document.body.dataset.hostCount = String(state.hosts.length);
  renderSummary();
  renderHosts();
}

function renderSummary() {
  const connected = state.hosts.filter((h) => h.connected).length;
  const live = state.aggregators.filter((a) => a.live).length;
  $('sum-hosts').textContent = String(state.hosts.length);
  $('sum-connected').textContent = String(connected);
  $('sum-aggregators').textContent = `${live} / ${state.aggregators.length}`;
}

// Rows rendered at most; a large fleet is narrowed with the filter box.
const kMaxHostRows = 300;

function hostMatches(h, needle) {
  if (!needle) return true;
  const info = h.info || {};
  const hay = [hostId(h), info.hostname, info.kernelRelease, h.aggregatorId,
    ...Object.entries(info.labels || {}).map(([k, v]) => `${k}=${v}`)].join(' ').toLowerCase();
  return needle.split(/\s+/).every((w) => hay.includes(w));
}

function renderHosts() {
  showBanner('hosts-error', state.hostsError);
  const now = Date.now();
  const tbody = $('hosts').tBodies[0];
  const needle = $('host-filter').value.trim().toLowerCase();
  const matching = state.hosts.filter((h) => hostMatches(h, needle));
  let shown = matching.slice(0, kMaxHostRows);
  if (matching.length > shown.length && !shown.some((h) => hostId(h) === state.selectedHost)) {
    const sel = matching.find((h) => hostId(h) === state.selectedHost);
    if (sel) shown = [sel, ...shown.slice(0, kMaxHostRows - 1)];
  }
  $('host-count').textContent = matching.length === state.hosts.length
    ? (shown.length < matching.length ? `showing ${shown.length} of ${matching.length}; filter to narrow` : '')
    : `${matching.length} of ${state.hosts.length} match` +
      (shown.length < matching.length ? ` (showing ${shown.length})` : '');
  const rows = shown.map((h) => {
    const info = h.info || {};
    const id = hostId(h);
    const labels = Object.entries(info.labels || {})
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => el('span', { class: 'chip' }, `${k}=${v}`));
    const seen = parseTimestamp(h.lastSeen);
    const tr = el('tr', { data: { hostId: id }, class: id === state.selectedHost ? 'selected' : '' },
      el('td', { class: 'dot-col' },
        el('span', { class: 'dot ' + (h.connected ? 'on' : 'off'), title: h.connected ? 'connected' : 'not connected' })),
      el('td', { class: 'mono' }, id),
      el('td', {}, info.hostname || ''),
      el('td', { class: 'mono' }, info.kernelRelease || ''),
      el('td', { class: 'num' }, info.numCpus ? String(info.numCpus) : ''),
      el('td', {}, ...labels),
      el('td', { class: 'mono' }, h.aggregatorId || el('span', { class: 'muted' }, 'none')),
      el('td', { class: 'num', data: { ts: String(seen) }, title: h.lastSeen || '' }, relativeTime(seen, now)),
    );
    tr.addEventListener('click', () => selectHost(id));
    return tr;
  });
  tbody.replaceChildren(...rows);
  const empty = $('hosts-empty');
  if (state.hosts.length === 0) {
    empty.textContent = state.hostsFetchedAt
      ? 'No hosts have registered yet. Start andon-agent with --controller pointing here.'
      : 'Waiting for the host list…';
    empty.hidden = false;
  } else if (shown.length === 0) {
    empty.textContent = 'No host matches the filter.';
    empty.hidden = false;
  } else {
    empty.hidden = true;
  }
}

// Keeps "last seen" fresh between host refreshes.
function tickRelativeTimes() {
  const now = Date.now();
  for (const td of document.querySelectorAll('#hosts td[data-ts]')) {
    td.textContent = relativeTime(Number(td.dataset.ts), now);
  }
  const status = $('status');
  const parts = [];
  if (state.hostsFetchedAt) parts.push(`hosts ${relativeTime(state.hostsFetchedAt, now)}`);
  if (state.lastQuery) parts.push(`chart ${relativeTime(state.lastQuery.receivedAt, now)}`);
  status.textContent = parts.length ? 'updated: ' + parts.join(', ') : 'loading…';
}

// ---------------------------------------------------------------- query + chart

function buildQuery(host) {
  // Whole seconds, so buckets line up with the agents' 1 s windows.
  const end = Math.floor(Date.now() / 1000) * 1000;
  return {
    metric: 'syscalls',
    matchers: [{ name: 'host', op: 'EQ', value: host }],
    groupBy: ['comm'],
    start: new Date(end - kRangeMs).toISOString(),
    end: new Date(end).toISOString(),
    step: `${kStepSeconds}s`,
    limit: kTopN,
  };
}

async function refreshQuery() {
  const host = state.selectedHost;
  if (!host) return;
  const request = buildQuery(host);
  try {
    const response = await api('/api/v1/query', request);
    if (state.selectedHost !== host) return; // selection changed while in flight
    state.lastQuery = { host, request, response, receivedAt: Date.now() };
    state.queryError = null;
  } catch (e) {
    if (state.selectedHost !== host) return;
    state.queryError = errorText(e);
  }
  renderChart();
}

function seriesName(s) {
  const labels = s.labels || [];
  const comm = labels.find((l) => l.name === 'comm');
  if (comm) return comm.value || '(empty)';
  return labels.map((l) => `${l.name}=${l.value}`).join(',') || '(all)';
}

// Turns a QueryResponse into uPlot's columnar data: a 1 s grid from the
// oldest to the newest bucket any series has; buckets missing from a series
// had no events (counter) and are drawn as 0. Before the first bucket nothing
// is drawn: no data is not the same as zero syscalls.
function toPlotData(request, response) {
  const series = (response.series || []).map((s) => ({
    name: seriesName(s),
    total: Number(s.total) || 0,
    points: (s.points || []).map((p) => [Number(p.timeMs), Number(p.value) || 0]),
  }));
  const startMs = parseTimestamp(request.start);
  const stepMs = kStepSeconds * 1000;
  let latest = 0;
  for (const s of series) for (const [t] of s.points) latest = Math.max(latest, t);
  if (series.length === 0 || latest === 0) return { series, latest: 0, data: null };
  let first = Infinity;
  for (const s of series) for (const [t] of s.points) first = Math.min(first, t);
  if (first < startMs) first = startMs;
  const n = Math.floor((latest - first) / stepMs) + 1;
  const xs = new Array(n);
  for (let i = 0; i < n; i++) xs[i] = (first + i * stepMs) / 1000;
  const ys = series.map((s) => {
    const col = new Array(n).fill(0);
    for (const [t, v] of s.points) {
      const i = Math.round((t - first) / stepMs);
      if (i >= 0 && i < n) col[i] += v / kStepSeconds;
    }
    return col;
  });
  return { series, latest, data: [xs, ...ys] };
}

let plot = null;
let plotKey = '';
let xRange = [0, 1];

function chartSize() {
  return { width: Math.max(320, $('chart-wrap').clientWidth), height: 280 };
}

function makePlot(names, data) {
  if (plot) plot.destroy();
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
        label: 'syscalls / s', size: 60,
        values: (u, vals) => vals.map(formatCount),
      },
    ],
    legend: { live: true },
    series: [
      { label: 'time' },
      ...names.map((name) => ({
        label: name,
        stroke: colorFor(name),
        width: 1.5,
        points: { show: false },
        // Away from the cursor the legend shows the newest value.
        value: (u, v, si, idx) => {
          if (idx == null) {
            const col = u.data[si];
            v = col && col.length ? col[col.length - 1] : null;
          }
          return v == null ? '–' : formatCount(v) + '/s';
        },
      })),
    ],
  };
  plot = new uPlot(opts, data, $('chart'));
  plotKey = names.join('\u0000');
}

// Follows the panel's width (not the chart's own box, which uPlot resizes).
let lastWidth = 0;
new ResizeObserver(() => {
  const size = chartSize();
  if (plot && size.width !== lastWidth) {
    lastWidth = size.width;
    requestAnimationFrame(() => plot && plot.setSize(chartSize()));
  }
}).observe($('chart-wrap'));

function renderChart() {
  const host = state.selectedHost;
  $('chart-title').textContent = host
    ? `Syscalls per second by process — ${host}`
    : 'Syscalls per second by process';
  showBanner('query-error', state.queryError ? `Query failed: ${state.queryError}` : null);

  const q = state.lastQuery;
  const empty = $('chart-empty');
  const chartDiv = $('chart');
  if (!q) {
    state.seriesCount = 0;
    state.nonZero = false;
    state.latestPointMs = 0;
    if (plot) { plot.destroy(); plot = null; plotKey = ''; }
    empty.textContent = !host ? 'Select a host to see its syscalls.'
      : state.queryError ? 'No data: the query failed (see above).' : 'Loading…';
    empty.hidden = false;
    renderTop(null);
    publish();
    return;
  }

  const { series, latest, data } = toPlotData(q.request, q.response);
  xRange = [parseTimestamp(q.request.start) / 1000, parseTimestamp(q.request.end) / 1000];
  state.seriesCount = series.length;
  state.latestPointMs = latest;
  state.nonZero = series.some((s) => s.points.some(([, v]) => v > 0));
  chartDiv.classList.toggle('stale', Boolean(state.queryError));

  if (!data) {
    if (plot) { plot.destroy(); plot = null; plotKey = ''; }
    empty.textContent = `No syscall data for ${host} in the last 5 minutes yet. ` +
      'Is its agent connected and the syscalls probe running?';
    empty.hidden = false;
  } else {
    empty.hidden = true;
    const names = series.map((s) => s.name);
    // Recreate only when the set of processes changes, so the legend and
    // cursor do not jump on every refresh.
    const key = names.slice().sort().join('\u0000');
    if (!plot || key !== plotKey.split('\u0000').sort().join('\u0000')) {
      makePlot(names, data);
    } else {
      const order = plotKey.split('\u0000');
      const byName = new Map(names.map((n, i) => [n, data[i + 1]]));
      plot.setData([data[0], ...order.map((n) => byName.get(n))]);
    }
  }
  renderTop(q, series);
  publish();
}

function renderTop(q, series = []) {
  const tbody = $('top').tBodies[0];
  const rangeS = q ? (parseTimestamp(q.request.end) - parseTimestamp(q.request.start)) / 1000 : 0;
  const sum = series.reduce((acc, s) => acc + s.total, 0);
  const max = series.reduce((acc, s) => Math.max(acc, s.total), 0);
  const rows = series.map((s) => {
    const share = sum > 0 ? s.total / sum : 0;
    const rel = max > 0 ? s.total / max : 0;
    return el('tr', { data: { comm: s.name } },
      el('td', { class: 'swatch-col' }, el('span', { class: 'swatch', style: `background:${colorFor(s.name)}` })),
      el('td', { class: 'mono' }, s.name),
      el('td', { class: 'num' }, Math.round(s.total).toLocaleString('en-US')),
      el('td', { class: 'num' }, rangeS > 0 ? formatCount(s.total / rangeS) : '–'),
      el('td', { class: 'share-col' },
        el('span', { class: 'bar-track' },
          el('span', { class: 'bar', style: `width:${(rel * 100).toFixed(1)}%;background:${colorFor(s.name)}` })),
        el('span', { class: 'share-text' }, `${(share * 100).toFixed(1)}%`)),
    );
  });
  tbody.replaceChildren(...rows);
  const truncated = q ? Number(q.response.seriesTruncated) || 0 : 0;
  $('top-note').textContent = truncated > 0
    ? `${truncated} more process${truncated === 1 ? '' : 'es'} not shown (top ${kTopN} by total).`
    : q && series.length === 0 ? 'No processes in this range.' : '';
}

// Mirrors scalars into data attributes for tests and debugging.
function publish() {
  const d = document.body.dataset;
  d.seriesCount = String(state.seriesCount);
  d.nonZero = String(state.nonZero);
  d.latestPointMs = String(state.latestPointMs);
  d.queryError = state.queryError || '';
}

// ---------------------------------------------------------------- polling

// Runs fn every periodMs without overlapping calls; now() runs it at once.
function poller(fn, periodMs) {
  let timer = null;
  let running = false;
  let again = false;
  async function run() {
    clearTimeout(timer);
    if (running) { again = true; return; }
    running = true;
    try {
      await fn();
    } catch (e) {
      showBanner('page-error', 'UI error: ' + errorText(e));
      console.error(e);
    } finally {
      running = false;
      timer = setTimeout(run, again ? 0 : periodMs);
      again = false;
    }
  }
  return { start: run, now: run };
}

const pollHosts = poller(refreshHosts, kHostsPeriodMs);
const pollQuery = poller(refreshQuery, kQueryPeriodMs);

window.addEventListener('error', (e) => {
  // Chromium reports this benign layout notice as an error event.
  if (/ResizeObserver loop/.test(e.message)) return;
  showBanner('page-error', 'UI error: ' + e.message);
});
$('host-filter').addEventListener('input', () => renderHosts());
window.addEventListener('unhandledrejection', (e) => showBanner('page-error', 'UI error: ' + errorText(e.reason)));

const initial = hostFromHash();
renderChart();
pollHosts.start();
if (initial) applySelection(initial); // starts the query poller
else pollQuery.start();
setInterval(tickRelativeTimes, 1000);
