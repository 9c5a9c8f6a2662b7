#!/usr/bin/env node
// Browser smoke test of the Andon UI against a running controller.
//
//   node tests/ui/ui_smoke.mjs --url http://127.0.0.1:7401/ --host HOSTNAME \
//        [--screenshot out.png] [--timeout 90] [--chromium /usr/bin/chromium]
//
// Loads the page in Debian's Chromium (playwright-core, no downloaded
// browser), waits until the hosts table lists HOSTNAME (host id or hostname),
// selects it, waits until the chart has a series with a non-zero value and
// moves; then drives the chart's query functions (rate, topk(10),
// quantile(0.99), heatmap), the Probes panel (enable through the form: a
// refused name, a fork tracepoint probe that applies, a uprobe that fails;
// chart the new metric; disable both) and the live tail, checking the
// outcomes against the controller's JSON API. Prints one "PASS ..." or
// "FAIL ..." line; exits 0 on pass. Steps: README.md.
//
// The probe steps change the controller's configurations (names ui_smoke_*):
// point it at a test cluster. The page's test hooks are window.andonState,
// document.body.dataset and data attributes on rows (README.md).

import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const kChromiumArgs = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
];

const { values: opts } = parseArgs({
  options: {
    url: { type: 'string' },
    host: { type: 'string' },
    screenshot: { type: 'string' },
    chromium: { type: 'string', default: process.env.CHROMIUM || '/usr/bin/chromium' },
    timeout: { type: 'string', default: '90' },
  },
});
if (!opts.url || !opts.host) {
  console.error('usage: node ui_smoke.mjs --url http://127.0.0.1:PORT/ --host HOSTNAME [--screenshot out.png]');
  process.exit(2);
}

const t0 = Date.now();
const deadline = t0 + Number(opts.timeout) * 1000;
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
const remaining = (capMs) => Math.max(1000, Math.min(capMs, deadline - Date.now()));
const log = (msg) => console.log(`[ui_smoke ${elapsed()}] ${msg}`);

let context = null;
let page = null;
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'andon-ui-smoke-'));
const consoleErrors = [];

// Hard bound on the whole run, whatever hangs.
const watchdog = setTimeout(() => {
  console.log(`FAIL ui_smoke: overall timeout of ${opts.timeout}s exceeded`);
  cleanup().finally(() => process.exit(1));
}, Number(opts.timeout) * 1000 + 5000);

async function cleanup() {
  try { if (context) await context.close(); } catch { /* already gone */ }
  context = null;
  fs.rmSync(userDataDir, { recursive: true, force: true });
}

async function screenshot() {
  if (!opts.screenshot || !page) return;
  try {
    await page.screenshot({ path: opts.screenshot, fullPage: true, timeout: 10000 });
    log(`screenshot written to ${opts.screenshot}`);
  } catch (e) {
    log(`screenshot failed: ${e.message}`);
  }
}

// What the page shows now, for failure messages.
async function pageSummary() {
  if (!page) return '';
  try {
    return await page.evaluate(() => {
      const s = window.andonState || {};
      const shown = (id) => {
        const e = document.getElementById(id);
        return e && !e.hidden && e.textContent.trim() ? e.textContent.trim() : '';
      };
      return JSON.stringify({
        hosts: (s.hosts || []).map((h) => h.info && h.info.hostId),
        selectedHost: s.selectedHost,
        seriesCount: s.seriesCount,
        nonZero: s.nonZero,
        latestPointMs: s.latestPointMs,
        chart: s.chart,
        answered: s.lastQuery ? { metric: s.lastQuery.request.metric, fn: s.lastQuery.response.fn, unit: s.lastQuery.response.unit } : null,
        probes: [...document.querySelectorAll('#probes tbody tr')].map((tr) => `${tr.dataset.name}:${tr.dataset.status}`),
        hostsError: shown('hosts-error'),
        queryError: shown('query-error'),
        pageError: shown('page-error'),
        chartEmpty: shown('chart-empty'),
        probesError: shown('probes-error') || shown('probes-action-error') || shown('probe-form-error'),
      });
    });
  } catch (e) {
    return `(page state unavailable: ${e.message})`;
  }
}

async function step(what, fn) {
  try {
    return await fn();
  } catch (e) {
    const msg = e.message.split('\n')[0];
    throw new Error(`${what}: ${msg}\n  page state: ${await pageSummary()}`);
  }
}

async function main() {
  const host = opts.host;
  context = await step(`launching ${opts.chromium}`, () => chromium.launchPersistentContext(userDataDir, {
    executablePath: opts.chromium,
    headless: true,
    args: kChromiumArgs,
    viewport: { width: 1280, height: 800 },
    timeout: 30000,
  }));
  page = context.pages()[0] || await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));

  await step(`loading ${opts.url}`, () => page.goto(opts.url, { waitUntil: 'load', timeout: remaining(20000) }));
  log(`loaded ${opts.url}`);

  // 1. The hosts table lists the host (by host id or hostname).
  const hostId = await step(`waiting for host '${host}' in the hosts table`, async () => {
    const handle = await page.waitForFunction((name) => {
      for (const tr of document.querySelectorAll('#hosts tbody tr')) {
        const cells = [...tr.cells].map((c) => c.textContent.trim());
        if (tr.dataset.hostId === name || cells.includes(name)) return tr.dataset.hostId;
      }
      return false;
    }, host, { timeout: remaining(60000), polling: 250 });
    return handle.jsonValue();
  });
  log(`hosts table lists '${host}' (host id '${hostId}')`);

  // 2. Select it; the URL hash and the chart title follow.
  await step(`selecting host '${hostId}'`, async () => {
    await page.locator(`#hosts tbody tr[data-host-id="${hostId.replace(/["\\]/g, '\\$&')}"]`).click({ timeout: remaining(10000) });
    await page.waitForFunction((id) => document.body.dataset.selectedHost === id &&
      decodeURIComponent(location.hash) === `#host=${id}` &&
      document.getElementById('chart-title').textContent.includes(id),
    hostId, { timeout: remaining(10000) });
  });
  log(`selected '${hostId}' (${await page.evaluate(() => location.hash)})`);

  // 3. The chart has at least one series with a non-zero value.
  await step(`waiting for a non-zero series for '${hostId}'`, () => page.waitForFunction((id) => {
    const s = window.andonState;
    return s && s.lastQuery && s.lastQuery.host === id && s.seriesCount > 0 && s.nonZero &&
      document.querySelector('#chart .uplot') !== null &&
      document.querySelectorAll('#top tbody tr').length > 0;
  }, hostId, { timeout: remaining(60000), polling: 250 }));
  const first = await page.evaluate(() => ({
    latest: window.andonState.latestPointMs,
    series: window.andonState.seriesCount,
    top: [...document.querySelectorAll('#top tbody tr')].slice(0, 3).map((tr) => tr.dataset.key),
  }));
  log(`chart has ${first.series} series (top: ${first.top.join(', ')}); latest point ${new Date(first.latest).toISOString()}`);

  // 4. The chart moves: a newer point appears within ~5 s (+5 s grace).
  const latest = await step('waiting for a newer data point', async () => {
    const handle = await page.waitForFunction((prev) => {
      const s = window.andonState;
      return s.latestPointMs > prev ? s.latestPointMs : false;
    }, first.latest, { timeout: remaining(10000), polling: 250 });
    return handle.jsonValue();
  });
  log(`newer point ${new Date(latest).toISOString()} (+${((latest - first.latest) / 1000).toFixed(0)}s)`);

  // 5. The query functions the chart offers reach the controller and come
  //    back applied: rate, topk(10), quantile(0.99), heatmap.
  const fns = await checkQueryFns(hostId);
  log(`query functions: ${fns}`);

  // 6-10. Probe controls: catalog, enable (refused, applied, failed), chart
  //       the new probe's metric, disable.
  const probes = await checkProbes(hostId);

  // 11. The live tail shows exec events of the host (run_smoke.sh's loop
  //     runs ls) and stops when told.
  const tail = await step('tailing exec events', () => checkTail(hostId));

  // 12. No error is on screen at the end.
  await noErrorsShown();
  return `host '${hostId}', ${first.series} series, chart advanced by ${((latest - first.latest) / 1000).toFixed(0)}s; ` +
    `${fns}; ${probes}; ${tail}`;
}

async function checkTail(hostId) {
  await page.click('#tail-toggle');
  const h = await page.waitForFunction((id) => {
    const tr = document.querySelector(`#events tbody tr[data-type="exec"][data-host="${id}"]`);
    const comm = tr && tr.querySelector('[data-field="comm"]');
    return document.body.dataset.tailRunning === 'true' && comm ? comm.dataset.value : false;
  }, hostId, { timeout: remaining(20000), polling: 250 });
  const comm = await h.jsonValue();
  await page.click('#tail-toggle');
  await page.waitForFunction(() => document.body.dataset.tailRunning === 'false', null, { timeout: remaining(5000) });
  const rows = await page.evaluate(() => Number(document.body.dataset.tailRows));
  return `live tail: ${rows} events, e.g. exec of ${comm}`;
}

async function noErrorsShown() {
  const errors = await page.evaluate(() => ['page-error', 'hosts-error', 'query-error', 'probes-error',
    'probes-action-error', 'probe-form-error']
    .map((id) => document.getElementById(id))
    .filter((e) => e && !e.hidden)
    .map((e) => `${e.id}: ${e.textContent.trim()}`));
  if (errors.length > 0) throw new Error(`error shown on the page: ${errors.join('; ')}`);
}

// The controller's own answer, not the page's, for cross-checks. A fresh
// connection each time: the controller closes idle keep-alive connections,
// and a reused closed one fails ("fetch failed").
function apiGet(pathname) {
  return new Promise((resolve, reject) => {
    const req = http.get(new URL(pathname, opts.url), { agent: false, timeout: 10000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => {
        let json = null;
        try { json = JSON.parse(body); } catch { /* reported by the caller's checks */ }
        resolve({ status: res.statusCode, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${pathname} timed out`)));
    req.on('error', (e) => reject(new Error(`GET ${pathname}: ${e.message}`)));
  });
}

// Picks metric / fn with the chart's controls and waits for an answer the
// controller computed with that function; returns the page's last query.
async function chartWith(hostId, metric, fn, check) {
  if (await page.locator('#chart-metric').inputValue() !== metric) {
    await page.selectOption('#chart-metric', metric, { timeout: remaining(10000) });
  }
  if (fn !== undefined) await page.selectOption('#chart-fn', fn, { timeout: remaining(10000) });
  const handle = await page.waitForFunction(([id, m, f, checkSrc]) => {
    const q = window.andonState.lastQuery;
    if (!q || q.host !== id || q.request.metric !== m) return false;
    if (f && q.response.fn !== f) return false; // "" is the kind's default, answered by name
    // eslint-disable-next-line no-new-func
    return new Function('q', 'state', checkSrc)(q, window.andonState) ? {
      fn: q.response.fn, unit: q.response.unit, series: (q.response.series || []).length,
      nonZero: window.andonState.nonZero, title: document.getElementById('chart-title').textContent,
    } : false;
  }, [hostId, metric, fn, check], { timeout: remaining(30000), polling: 250 });
  return handle.jsonValue();
}

async function checkQueryFns(hostId) {
  const out = [];
  const rate = await step('charting syscalls with fn rate', () => chartWith(hostId, 'syscalls', 'rate',
    'return q.response.unit === "1/s" && state.nonZero && document.querySelector("#chart .uplot")'));
  out.push(`rate (${rate.series} series, unit ${rate.unit})`);

  const topk = await step('charting syscalls with fn topk(10)', () => chartWith(hostId, 'syscalls', 'topk(10)',
    'const n = (q.response.series || []).length; return n >= 1 && n <= 10 && state.nonZero && ' +
    'document.querySelectorAll("#top tbody tr").length === n'));
  out.push(`topk(10) (${topk.series} series)`);

  // syscall_latency_ns is a distribution: p99 is its default function.
  const p99 = await step('charting syscall_latency_ns (p99)', () => chartWith(hostId, 'syscall_latency_ns', undefined,
    'return q.response.fn === "quantile(0.99)" && q.response.unit === "ns" && state.nonZero'));
  if (!p99.title.includes('p99')) throw new Error(`chart title '${p99.title}' does not say p99`);
  out.push(`quantile(0.99) (${p99.series} series, ns)`);

  const heat = await step('charting syscall_latency_ns as a heatmap', async () => {
    await chartWith(hostId, 'syscall_latency_ns', 'heatmap',
      'return (q.response.series || []).some((s) => (s.points || []).some((p) => (p.cells || []).length > 0))');
    const h = await page.waitForFunction(() => {
      const c = document.querySelector('#chart canvas.heatmap');
      return c && Number(c.dataset.cells) > 0 && !document.querySelector('#chart .uplot')
        ? { columns: Number(c.dataset.columns), cells: Number(c.dataset.cells), width: c.clientWidth } : false;
    }, null, { timeout: remaining(10000), polling: 250 });
    return h.jsonValue();
  });
  if (heat.width < 300) throw new Error(`heatmap is only ${heat.width}px wide`);
  out.push(`heatmap (${heat.columns} columns, ${heat.cells} cells)`);

  // Back to the default chart (count of syscalls by comm).
  await step('back to syscalls by comm', () => chartWith(hostId, 'syscalls', '',
    'return q.response.fn === "count" && state.nonZero && document.querySelector("#chart .uplot")'));
  return out.join(', ');
}

const kForks = 'ui_smoke_forks';
const kBroken = 'ui_smoke_broken';

// The row of configuration `name` as the page shows it, or null.
function probeRow(name) {
  return page.evaluate((n) => {
    const tr = document.querySelector(`#probes tbody tr[data-name="${n}"]`);
    if (!tr) return null;
    return {
      status: tr.dataset.status,
      text: tr.textContent.replace(/\s+/g, ' ').trim(),
      hosts: [...tr.querySelectorAll('.host-state')].map((h) => ({ id: h.dataset.hostId, state: h.dataset.state })),
      failures: [...tr.querySelectorAll('.failure')].map((f) => f.textContent.trim()),
    };
  }, name);
}

async function waitForRow(name, status, timeoutMs) {
  const handle = await page.waitForFunction(([n, s]) => {
    const tr = document.querySelector(`#probes tbody tr[data-name="${n}"]`);
    return tr && tr.dataset.status === s;
  }, [name, status], { timeout: remaining(timeoutMs), polling: 250 });
  await handle.dispose();
  return probeRow(name);
}

async function fillForm({ name, probe, spec = '', by = '', value = '', filter = '', selector = '', fraction = '', ttl = '' }) {
  await page.fill('#pf-name', name);
  await page.selectOption('#pf-probe', probe);
  if (probe === '__generic') {
    await page.fill('#pf-spec', spec);
    await page.fill('#pf-by', by);
    await page.fill('#pf-value', value);
    await page.fill('#pf-filter', filter);
  }
  await page.fill('#pf-selector', selector);
  await page.fill('#pf-fraction', fraction);
  await page.fill('#pf-ttl', ttl);
  await page.click('#pf-submit');
}

async function disableFromPage(name) {
  await page.locator(`#probes tbody tr[data-name="${name}"] button[data-disable]`).click({ timeout: remaining(10000) });
  await page.waitForFunction((n) => !document.querySelector(`#probes tbody tr[data-name="${n}"]`) &&
    document.getElementById('probes-note').textContent.includes(`Disabled '${n}'`),
  name, { timeout: remaining(10000), polling: 250 });
  // (The list, not GET /api/v1/probes/NAME: that route reads a destroyed
  // temporary in this controller and can crash it.)
  const names = ((await apiGet('/api/v1/probes')).json.configs || []).map((c) => c.name);
  if (names.includes(name)) throw new Error(`the controller still lists '${name}': ${names}`);
  const status = await apiGet(`/api/v1/probes/${name}/status`);
  if (status.status !== 404) throw new Error(`GET /api/v1/probes/${name}/status answered ${status.status}, not 404`);
}

async function checkProbes(hostId) {
  const out = [];
  // Disable asks for confirmation; the test says yes and checks the question.
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.accept().catch(() => {}); });

  // 6. The catalog fills the form; the new cluster's 'default' configuration
  //    is listed as applied on the host.
  const catalog = await step('waiting for the probe catalog in the form', async () => {
    const h = await page.waitForFunction(() => {
      const s = document.getElementById('pf-probe');
      const builtins = [...s.querySelectorAll('optgroup[label="built-in"] option')].map((o) => o.value);
      return !s.disabled && builtins.includes('syscalls') && s.querySelector('option[value="__generic"]') ? builtins : false;
    }, null, { timeout: remaining(15000), polling: 250 });
    return h.jsonValue();
  });
  const apiCatalog = await apiGet('/api/v1/probes/catalog');
  const names = (apiCatalog.json.probes || []).map((p) => p.name);
  if (names.join() !== catalog.join()) throw new Error(`form lists [${catalog}], the catalog has [${names}]`);
  out.push(`catalog of ${catalog.length}`);
  const def = await step('waiting for configuration default applied', () => waitForRow('default', 'applied', 30000));
  if (!def.hosts.some((h) => h.id === hostId && h.state === 'APPLIED')) {
    throw new Error(`default's per-host states do not list ${hostId} as applied: ${JSON.stringify(def.hosts)}`);
  }

  // 7. A configuration the controller refuses is not listed and the reason
  //    is shown in the controller's words.
  await step('enabling a badly named configuration', async () => {
    await fillForm({ name: 'Bad-Name', probe: '__generic', spec: 'tracepoint:sched:sched_process_fork' });
    await page.waitForFunction(() => {
      const b = document.getElementById('probe-form-error');
      return !b.hidden && b.textContent.includes('Not enabled') && b.textContent.includes('INVALID_ARGUMENT');
    }, null, { timeout: remaining(10000), polling: 250 });
  });
  const refused = (await page.textContent('#probe-form-error')).trim();
  log(`refused as it should be: ${refused}`);

  // 8. A generic tracepoint probe on forks, counted by parent_comm, with a
  //    selector and a TTL: listed, then applied on the host.
  await step(`enabling ${kForks} (tracepoint:sched:sched_process_fork by parent_comm)`, async () => {
    await fillForm({
      name: kForks, probe: '__generic', spec: 'tracepoint:sched:sched_process_fork', by: 'parent_comm',
      selector: `host=${hostId}`, ttl: '10m',
    });
    await page.waitForFunction((n) => document.getElementById('pf-status').textContent.includes(`Enabled '${n}'`) &&
      document.getElementById('probe-form-error').hidden, kForks, { timeout: remaining(10000), polling: 250 });
  });
  const forks = await step(`waiting for ${kForks} applied`, () => waitForRow(kForks, 'applied', 30000));
  if (!forks.hosts.some((h) => h.id === hostId && h.state === 'APPLIED')) {
    throw new Error(`${kForks} does not show ${hostId} applied: ${JSON.stringify(forks)}`);
  }
  for (const want of ['tracepoint:sched:sched_process_fork', 'by parent_comm', `host=${hostId}`, 'applied 1/1', 'expires']) {
    if (!forks.text.includes(want)) throw new Error(`${kForks} row lacks '${want}': ${forks.text}`);
  }
  const forksStatus = await apiGet(`/api/v1/probes/${kForks}/status`);
  if (forksStatus.json.hostsApplied !== 1 || forksStatus.json.hostsTargeted !== 1) {
    throw new Error(`the controller says ${kForks}: ${JSON.stringify(forksStatus.json)}`);
  }
  out.push(`${kForks} applied on ${hostId}`);

  // 9. A uprobe on a symbol bash does not have: listed as failed, with the
  //    agent's reason and the number of hosts it failed on.
  await step(`enabling ${kBroken} (uprobe on a missing symbol)`, async () => {
    await fillForm({ name: kBroken, probe: '__generic', spec: 'uprobe:/bin/bash:andon_no_such_symbol' });
    await page.waitForFunction((n) => document.getElementById('pf-status').textContent.includes(`Enabled '${n}'`),
      kBroken, { timeout: remaining(10000), polling: 250 });
  });
  const broken = await step(`waiting for ${kBroken} failed`, () => waitForRow(kBroken, 'failed', 30000));
  const brokenStatus = (await apiGet(`/api/v1/probes/${kBroken}/status`)).json;
  const reason = ((brokenStatus.failures || [])[0] || {}).reason || '';
  if (!reason || brokenStatus.hostsFailed !== 1) throw new Error(`the controller says ${kBroken}: ${JSON.stringify(brokenStatus)}`);
  if (!broken.failures.some((f) => f.includes(reason) && f.includes('1 host'))) {
    throw new Error(`${kBroken} row does not show the reason '${reason}' for 1 host: ${JSON.stringify(broken.failures)}`);
  }
  if (!broken.text.includes('failed 1')) throw new Error(`${kBroken} row lacks 'failed 1': ${broken.text}`);
  // Its per-host list (opened, and kept open across refreshes) names the
  // host as failed with the agent's message.
  await step(`opening ${kBroken}'s per-host states`, async () => {
    const before = await page.evaluate(() => window.andonState.probes.fetchedAt);
    await page.click(`#probes tbody tr[data-name="${kBroken}"] details.host-states summary`, { timeout: remaining(10000) });
    // The list is refreshed (and re-rendered) once after the click.
    await page.waitForFunction((t) => window.andonState.probes.fetchedAt > t, before,
      { timeout: remaining(10000), polling: 100 });
    await page.waitForFunction(([n, id, why]) => {
      const h = document.querySelector(`#probes tbody tr[data-name="${n}"] details[open] .host-state[data-host-id="${id}"]`);
      return h && h.dataset.state === 'FAILED' && h.offsetHeight > 0 && h.textContent.includes(why);
    }, [kBroken, hostId, 'andon_no_such_symbol'], { timeout: remaining(10000), polling: 250 });
  });
  out.push(`${kBroken} failed ("${reason}")`);

  // 10. The forks metric is charted from its row: the shell loop of
  //     run_smoke.sh forks, so bash has a non-zero count.
  const forkChart = await step(`charting ${kForks} from its row`, async () => {
    await page.selectOption(`#probes tbody tr[data-name="${kForks}"] select.chart-pick`, kForks);
    return chartWith(hostId, kForks, undefined,
      'return state.nonZero && document.querySelectorAll("#top tbody tr").length > 0 && ' +
      'q.request.groupBy[0] === "parent_comm"');
  });
  const forkTop = await page.evaluate(() => [...document.querySelectorAll('#top tbody tr')].map((tr) => tr.dataset.key));
  out.push(`${kForks} charted (${forkChart.series} parent_comm: ${forkTop.slice(0, 3).join(', ')})`);

  await page.locator('#probes-panel').scrollIntoViewIfNeeded();
  await screenshot();

  // 11. Disable both from the page: gone from the list and from the controller.
  await step(`disabling ${kForks}`, () => disableFromPage(kForks));
  await step(`disabling ${kBroken}`, () => disableFromPage(kBroken));
  if (!dialogs.some((d) => d.includes(kForks) && d.includes('1 host'))) {
    throw new Error(`the confirmation did not name ${kForks} and its host: ${JSON.stringify(dialogs)}`);
  }
  const left = ((await apiGet('/api/v1/probes')).json.configs || []).map((c) => c.name);
  if (left.join() !== 'default') throw new Error(`configurations left: ${left}`);
  out.push('both disabled');
  return out.join(', ');
}

let code = 0;
try {
  const what = await main();
  console.log(`PASS ui_smoke (${elapsed()}): ${what}`);
} catch (e) {
  await screenshot();
  if (consoleErrors.length) {
    const counts = new Map();
    for (const e of consoleErrors) counts.set(e, (counts.get(e) || 0) + 1);
    const lines = [...counts].slice(0, 10).map(([e, n]) => (n > 1 ? `${e} (x${n})` : e));
    console.log(`browser console errors:\n  ${lines.join('\n  ')}`);
  }
  console.log(`FAIL ui_smoke (${elapsed()}): ${e.message}`);
  code = 1;
} finally {
  clearTimeout(watchdog);
  await cleanup();
}
process.exit(code);
