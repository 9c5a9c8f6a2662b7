// Andon web UI: a thin page over the controller's JSON API (protobuf JSON
// mapping of proto/andon/v1). Hosts are polled every 3 s, the chart of the
// selected host every 2 s, probe configurations and their status every 3 s,
// and the live tail every second while it runs. Every failure is shown as
// text on the page.
//
// Test hooks: window.andonState holds the latest API results, and
// document.body.dataset mirrors a few scalars (selectedHost, hostCount,
// seriesCount, nonZero, latestPointMs, chartMetric, chartBy, probeCount,
// tailRunning, tailRows) for browser tests.

import 'uplot/dist/uPlot.min.css';
import './style.css';
import { api, errorText } from './api.js';
import { createChart, kDefaultChart } from './chart.js';
import { $, el, poller, showBanner } from './dom.js';
import { createEventTail } from './events.js';
import { parseTimestamp, relativeTime } from './format.js';
import { createProbeForm } from './probe_form.js';
import { createProbeList } from './probes.js';

const kHostsPeriodMs = 3000;
const kProbesPeriodMs = 3000;
const kMetricsPeriodMs = 10000;
const kCatalogRetryMs = 5000;

const state = {
  hosts: [],            // Host JSON objects, sorted by host id
  hostsError: null,
  hostsFetchedAt: 0,
  aggregators: [],
  selectedHost: null,   // host id (the "host" label of the metrics)
  catalog: null,        // ListCatalogResponse
};
window.andonState = state;

function hostId(h) {
  return (h.info && h.info.hostId) || '';
}

// ---------------------------------------------------------------- location

// The URL hash names the host and, when not the default, the chart:
// #host=ID&metric=M&by=LABEL&fn=F.
function readHash() {
  const p = new URLSearchParams(location.hash.replace(/^#/, ''));
  const get = (k) => (p.has(k) ? p.get(k) : undefined);
  return { host: p.get('host') || null, metric: get('metric'), by: get('by'), fn: get('fn') };
}

function hashFor(host, c) {
  const p = new URLSearchParams();
  if (host) p.set('host', host);
  if (c.metric !== kDefaultChart.metric || c.by !== kDefaultChart.by || c.fn !== kDefaultChart.fn) {
    p.set('metric', c.metric);
    if (!c.provisional) {
      p.set('by', c.by);
      if (c.fn) p.set('fn', c.fn);
    }
  }
  return '#' + p.toString();
}

function writeHash({ replace = false } = {}) {
  const hash = hashFor(state.selectedHost, state.chart);
  if (location.hash === hash) return;
  if (replace) history.replaceState(null, '', hash);
  else location.hash = hash; // fires hashchange -> applyHash, a no-op by then
}

function selectHost(id, { replace = false } = {}) {
  applySelection(id);
  writeHash({ replace });
}

function applySelection(id) {
  if (state.selectedHost === id) return;
  state.selectedHost = id;
  document.body.dataset.selectedHost = id || '';
  renderHosts();
  chart.setHost();
}

function applyHash() {
  const h = readHash();
  if (h.metric) chart.apply({ metric: h.metric, by: h.by, fn: h.fn });
  else chart.apply(kDefaultChart);
  if (h.host) applySelection(h.host);
}

window.addEventListener('hashchange', applyHash);

// Charts `metric` of the selected host (from a probe configuration's picker).
function chartMetric(metric) {
  chart.choose({ metric });
  $('chart-panel').scrollIntoView({ block: 'start', behavior: 'smooth' });
}

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
    selectHost(readHash().host || hostId(state.hosts[0]), { replace: true });
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

// Keeps relative times fresh between refreshes.
function tickRelativeTimes() {
  const now = Date.now();
  for (const e of document.querySelectorAll('#hosts td[data-ts], #probes [data-ts]')) {
    e.textContent = relativeTime(Number(e.dataset.ts), now);
  }
  const parts = [];
  if (state.hostsFetchedAt) parts.push(`hosts ${relativeTime(state.hostsFetchedAt, now)}`);
  if (state.lastQuery) parts.push(`chart ${relativeTime(state.lastQuery.receivedAt, now)}`);
  if (state.probes.fetchedAt) parts.push(`probes ${relativeTime(state.probes.fetchedAt, now)}`);
  $('status').textContent = parts.length ? 'updated: ' + parts.join(', ') : 'loading…';
}

// ---------------------------------------------------------------- metrics

// A generic probe's metric as its configuration defines it, until agents
// report the descriptor (/api/v1/metrics).
function genericMetrics(configs) {
  const label = (op) => (op.kind === 'FIELD' ? op.field
    : op.kind === 'ARG' || op.kind === 'STR_ARG' ? `arg${op.index || 0}`
      : (op.kind || 'value').toLowerCase());
  return configs.flatMap((c) => (c.resolved || []).filter((r) => r.generic).map((r) => ({
    name: r.generic.metric || c.name,
    kind: r.generic.valueMode === 'DISTRIBUTION' ? 'DISTRIBUTION' : 'COUNTER',
    labels: ['host', ...(r.generic.by || []).map(label)],
    help: `from the probe configuration ${c.name}`,
    unit: '',
    source: 'generic',
  })));
}

async function refreshMetrics() {
  try {
    const r = await api('/api/v1/metrics');
    chart.addMetrics(r.metrics || [], true);
  } catch (e) {
    // The chart's own query reports an unreachable controller; say it only here.
    $('chart-help').textContent = `metric list unavailable: ${errorText(e)}`;
  }
}

async function refreshProbes() {
  await probeList.refresh();
  chart.addMetrics(genericMetrics(state.probes.configs), false);
}

async function loadCatalog() {
  try {
    state.catalog = await api('/api/v1/probes/catalog');
  } catch (e) {
    showBanner('probe-form-error', `The probe catalog did not load (retrying): ${errorText(e)}`);
    setTimeout(loadCatalog, kCatalogRetryMs);
    return;
  }
  showBanner('probe-form-error', null);
  probeForm.setCatalog(state.catalog);
  probeList.setCatalog(state.catalog);
  eventTail.setCatalog(state.catalog);
  chart.addMetrics((state.catalog.probes || []).flatMap((p) => p.metrics || []), false);
}

// ---------------------------------------------------------------- wiring

const chart = createChart(state, { onChange: () => writeHash() });
const probeList = createProbeList(state, { onChart: chartMetric });
const probeForm = createProbeForm({
  onEnabled: () => {
    probeList.setNote('');
    pollProbes.now();
    pollMetrics.now();
  },
});
const eventTail = createEventTail(state);
const pollHosts = poller(refreshHosts, kHostsPeriodMs);
const pollProbes = poller(refreshProbes, kProbesPeriodMs);
const pollMetrics = poller(refreshMetrics, kMetricsPeriodMs);

window.addEventListener('error', (e) => {
  // Chromium reports this benign layout notice as an error event.
  if (/ResizeObserver loop/.test(e.message)) return;
  showBanner('page-error', 'UI error: ' + e.message);
});
$('host-filter').addEventListener('input', () => renderHosts());
window.addEventListener('unhandledrejection', (e) => showBanner('page-error', 'UI error: ' + errorText(e.reason)));

applyHash(); // starts the chart's poller when the hash names a host
pollHosts.start();
pollProbes.start();
pollMetrics.start();
loadCatalog();
setInterval(tickRelativeTimes, 1000);
