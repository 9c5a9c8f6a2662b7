// The Live events panel: while started, polls GET /api/v1/events with
// after=lastSequence every second (which also keeps the tail alive on the
// agents) and shows the newest events first, at most kMaxRows of them.
//
// Test hooks: state.tail; document.body.dataset.tailRunning and tailRows;
// rows are tr[data-type][data-seq] whose fields cells carry data-field.

import { api, errorText } from './api.js';
import { $, el, poller, showBanner } from './dom.js';
import { formatClockMs, relativeTime } from './format.js';

const kPeriodMs = 1000;
const kMaxRows = 500;
const kDefaultTypes = ['exec', 'exit', 'tcp_reset', 'tcp_retransmit'];
const kCheckedTypes = new Set(['exec', 'exit']);

export function createEventTail(state) {
  const tail = {
    running: false,
    lastSequence: '0',
    received: 0,
    hostsTailing: 0,
    dropped: '0',
    error: null,
    polledAt: 0,
  };
  state.tail = tail;
  const poll = poller(fetchEvents, kPeriodMs);

  function types() {
    return [...document.querySelectorAll('#tail-types input:checked')].map((i) => i.value);
  }

  function renderTypes(list) {
    const checked = new Set(document.querySelectorAll('#tail-types input').length ? types() : kCheckedTypes);
    $('tail-types').replaceChildren(...list.map((t) => el('label', { class: 'check' },
      el('input', { type: 'checkbox', value: t, checked: checked.has(t) }), t)));
  }

  // Event types are those the catalog's probes emit.
  function setCatalog(catalog) {
    const list = [...new Set((catalog.probes || []).flatMap((p) => p.events || []))];
    if (list.length) renderTypes(list);
  }

  async function fetchEvents() {
    if (!tail.running) return undefined;
    const params = new URLSearchParams({ after: tail.lastSequence });
    const t = types();
    if (t.length) params.set('types', t.join(','));
    const selector = $('tail-selector').value.trim();
    if (selector) params.set('selector', selector);
    let r;
    try {
      r = await api('/api/v1/events?' + params.toString());
    } catch (e) {
      tail.error = errorText(e);
      render();
      return undefined;
    }
    if (!tail.running) return undefined;
    tail.error = null;
    tail.polledAt = Date.now();
    tail.hostsTailing = r.hostsTailing || 0;
    tail.dropped = r.dropped || '0';
    // A controller restarted since the last poll counts from 1 again.
    if (BigInt(r.lastSequence || 0) < BigInt(tail.lastSequence)) tail.lastSequence = '0';
    else tail.lastSequence = r.lastSequence || tail.lastSequence;
    const events = r.events || [];
    tail.received += events.length;
    addRows(events);
    render();
    return events.length >= 1000 ? 'again' : undefined;
  }

  function addRows(events) {
    if (events.length === 0) return;
    const tbody = $('events').tBodies[0];
    const fresh = events.slice(-kMaxRows).reverse().map(renderEvent);
    tbody.prepend(...fresh);
    while (tbody.rows.length > kMaxRows) tbody.lastElementChild.remove();
  }

  function renderEvent(te) {
    const e = te.event || {};
    const ms = Number(BigInt(e.timeNs || 0) / 1000000n);
    const fields = e.fields || [];
    return el('tr', { data: { type: e.type, seq: te.sequence, host: e.host } },
      el('td', { class: 'mono nowrap', title: new Date(ms).toISOString() }, formatClockMs(ms)),
      el('td', { class: 'mono' }, e.host),
      el('td', {}, el('span', { class: `badge type-${typeClass(e.type)}` }, e.type)),
      el('td', {}, fields.map((f) => el('span', { class: 'field', data: { field: f.name, value: f.value } },
        el('span', { class: 'muted' }, `${f.name}=`), f.value))));
  }

  function render() {
    showBanner('tail-error', tail.error ? `Live tail: ${tail.error}` : null);
    $('tail-toggle').textContent = tail.running ? 'Stop tail' : 'Start tail';
    $('tail-toggle').classList.toggle('active', tail.running);
    const rows = $('events').tBodies[0].rows.length;
    const parts = [];
    if (tail.running) {
      parts.push(`tailing ${tail.hostsTailing} host${tail.hostsTailing === 1 ? '' : 's'}`);
    } else {
      parts.push('stopped');
    }
    parts.push(`${tail.received} event${tail.received === 1 ? '' : 's'} received` +
      (tail.received > rows ? `, newest ${rows} shown` : ''));
    if (Number(tail.dropped)) parts.push(`${tail.dropped} dropped by agents or controller`);
    if (tail.running && tail.polledAt) parts.push(`polled ${relativeTime(tail.polledAt, Date.now())}`);
    $('tail-status').textContent = parts.join(' · ');
    $('events-empty').hidden = rows > 0;
    $('events-empty').textContent = tail.running
      ? 'Waiting for events of the selected types…'
      : 'Start the tail to see processes starting and exiting, and TCP resets and retransmits, as they happen.';
    document.body.dataset.tailRunning = String(tail.running);
    document.body.dataset.tailRows = String(rows);
  }

  function toggle() {
    tail.running = !tail.running;
    if (tail.running) poll.now();
    else poll.stop();
    render();
  }

  function clear() {
    $('events').tBodies[0].replaceChildren();
    tail.received = 0;
    render();
  }

  renderTypes(kDefaultTypes);
  $('tail-toggle').addEventListener('click', toggle);
  $('tail-clear').addEventListener('click', clear);
  setInterval(() => { if (tail.running) render(); }, 1000);
  render();
  return { setCatalog };
}

function typeClass(type) {
  if (type === 'exec') return 'exec';
  if (type === 'exit') return 'exit';
  if ((type || '').startsWith('tcp')) return 'tcp';
  return 'other';
}
