#!/usr/bin/env node
// Browser smoke test of the Andon UI against a running controller.
//
//   node tests/ui/ui_smoke.mjs --url http://127.0.0.1:7401/ --host HOSTNAME \
//        [--screenshot out.png] [--timeout 90]
//
// Loads the page in Debian's Chromium (playwright-core, no downloaded
// browser), waits until the hosts table lists HOSTNAME (host id or hostname),
// selects it, waits until the chart has a series with a non-zero value, then
// checks the chart moves: a point newer than the latest one seen appears
// within ~5 s. Prints one "PASS ..." or "FAIL ..." line; exits 0 on pass.
//
// The page exposes window.andonState and document.body.dataset
// (selectedHost, seriesCount, nonZero, latestPointMs, queryError) for this test.

import fs from 'node:fs';
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
        hostsError: shown('hosts-error'),
        queryError: shown('query-error'),
        pageError: shown('page-error'),
        chartEmpty: shown('chart-empty'),
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
    top: [...document.querySelectorAll('#top tbody tr')].slice(0, 3).map((tr) => tr.dataset.comm),
  }));
  log(`chart has ${first.series} series (top: ${first.top.join(', ')}); latest point ${new Date(first.latest).toISOString()}`);

  // 4. The chart moves: a newer point appears within ~5 s (+5 s grace).
  await page.waitForTimeout(Math.min(5000, remaining(5000)));
  const latest = await step('waiting for a newer data point', async () => {
    const handle = await page.waitForFunction((prev) => {
      const s = window.andonState;
      return s.latestPointMs > prev ? s.latestPointMs : false;
    }, first.latest, { timeout: remaining(5000), polling: 250 });
    return handle.jsonValue();
  });
  log(`newer point ${new Date(latest).toISOString()} (+${((latest - first.latest) / 1000).toFixed(0)}s)`);

  // 5. No error is on screen at the end.
  const errors = await page.evaluate(() => ['page-error', 'hosts-error', 'query-error']
    .map((id) => document.getElementById(id))
    .filter((e) => e && !e.hidden)
    .map((e) => `${e.id}: ${e.textContent.trim()}`));
  if (errors.length > 0) throw new Error(`error shown on the page: ${errors.join('; ')}`);

  await screenshot();
  return `host '${hostId}', ${first.series} series, chart advanced by ${((latest - first.latest) / 1000).toFixed(0)}s`;
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
