// The Probes panel's list: every probe configuration with how the targeted
// hosts answered it (GET /api/v1/probes and /api/v1/probes/NAME/status,
// polled), a metric picker that charts what a configuration produces, and
// Disable (DELETE /api/v1/probes/NAME).
//
// Test hooks: rows are tr[data-name] with data-status (applied, failed,
// pending, none, unknown); per-host lines are .host-state[data-host-id]
// with data-state; document.body.dataset.probeCount.

import { api, errorText } from './api.js';
import { $, el, showBanner } from './dom.js';
import { formatSeconds, parseDurationJson, parseTimestamp, relativeTime } from './format.js';

export function createProbeList(state, { onChart }) {
  const ps = {
    configs: [],        // ProbeConfig JSON, sorted by name
    version: '',
    statuses: new Map(), // name -> {status} or {error}
    error: null,
    fetchedAt: 0,
    catalog: null,
    note: '',
  };
  state.probes = ps;
  const rows = new Map();  // name -> {key, tr}
  const openDetails = new Set();

  async function refresh() {
    let list;
    try {
      list = await api('/api/v1/probes');
    } catch (e) {
      ps.error = errorText(e);
      render();
      return;
    }
    const configs = (list.configs || []).slice().sort((a, b) => a.name.localeCompare(b.name));
    const answers = await Promise.allSettled(configs.map((c) =>
      api(`/api/v1/probes/${encodeURIComponent(c.name)}/status`)));
    ps.configs = configs;
    ps.version = list.version || '';
    ps.statuses = new Map(configs.map((c, i) => [c.name, answers[i].status === 'fulfilled'
      ? { status: answers[i].value } : { error: errorText(answers[i].reason) }]));
    ps.error = null;
    ps.fetchedAt = Date.now();
    render();
  }

  function render() {
    showBanner('probes-error', ps.error ? `Probe configurations: ${ps.error}` : null);
    $('probes-meta').textContent = ps.fetchedAt
      ? `${ps.configs.length} configuration${ps.configs.length === 1 ? '' : 's'}, controller version ${ps.version}`
      : '';
    $('probes-note').textContent = ps.note;
    const tbody = $('probes').tBodies[0];
    const wanted = [];
    for (const c of ps.configs) {
      const result = ps.statuses.get(c.name) || {};
      const key = JSON.stringify([c, result, Boolean(ps.catalog), openDetails.has(c.name)]);
      const old = rows.get(c.name);
      // A row the operator is using (an open metric picker) is left alone.
      const busy = old && old.tr.contains(document.activeElement);
      if (!old || (old.key !== key && !busy)) {
        const tr = renderRow(c, result);
        if (old && old.tr.parentNode === tbody) old.tr.replaceWith(tr);
        rows.set(c.name, { key, tr });
      }
      wanted.push(rows.get(c.name).tr);
    }
    for (const name of [...rows.keys()]) {
      if (!ps.configs.some((c) => c.name === name)) rows.delete(name);
    }
    const same = wanted.length === tbody.rows.length && wanted.every((tr, i) => tbody.rows[i] === tr);
    if (!same) tbody.replaceChildren(...wanted);
    const empty = $('probes-empty');
    empty.hidden = ps.configs.length > 0;
    empty.textContent = ps.fetchedAt
      ? 'No probe configurations: no host runs any probe. Enable one with the form.'
      : 'Loading probe configurations…';
    document.body.dataset.probeCount = String(ps.configs.length);
  }

  function renderRow(c, result) {
    const overall = overallState(result);
    return el('tr', { data: { name: c.name, status: overall } },
      el('td', {},
        el('div', { class: 'mono strong' }, c.name),
        el('div', { class: 'muted small', title: `created ${c.created || '?'}, updated ${c.updated || '?'}` },
          `by ${c.changedBy || '?'}, `,
          el('span', { data: { ts: String(parseTimestamp(c.updated)) } }, relativeTime(parseTimestamp(c.updated), Date.now())))),
      el('td', {}, (c.probes || []).map(renderSpec)),
      el('td', {}, renderTarget(c)),
      el('td', {}, renderTtl(c)),
      el('td', { class: 'num' }, String(c.version || '')),
      el('td', { class: 'status-cell' }, renderStatus(c.name, result)),
      el('td', { class: 'actions' }, renderChartPick(c), renderDisable(c)),
    );
  }

  function renderSpec(s) {
    const extras = [];
    if (s.by && s.by.length) extras.push(`by ${s.by.join(',')}`);
    if (s.value) extras.push(`value ${s.value}`);
    if (s.filter) extras.push(`filter ${s.filter}`);
    for (const [k, v] of Object.entries(s.params || {})) extras.push(`${k}=${v}`);
    return el('div', { class: 'spec' },
      el('span', { class: 'chip probe-chip' }, s.probe),
      extras.length ? el('span', { class: 'muted small mono' }, ' ' + extras.join(' · ')) : null);
  }

  function renderTarget(c) {
    const sel = c.selectorText || 'all hosts';
    const fraction = c.target && Number(c.target.fraction) > 0 ? Number(c.target.fraction) : 0;
    return el('span', {},
      el('span', { class: sel === 'all hosts' ? 'muted' : 'mono' }, sel),
      fraction ? el('div', { class: 'small' }, `${+(fraction * 100).toFixed(2)} % of the fleet`) : null);
  }

  function renderTtl(c) {
    const ttl = parseDurationJson(c.ttl);
    if (!(ttl > 0)) return el('span', { class: 'muted' }, 'until disabled');
    const expires = parseTimestamp(c.expires);
    return el('span', { title: c.expires || '' },
      formatSeconds(Math.round(ttl)),
      el('div', { class: 'small muted' }, 'expires ',
        el('span', { data: { ts: String(expires) } }, relativeTime(expires, Date.now()))));
  }

  function renderStatus(name, result) {
    if (result.error) return el('span', { class: 'badge bad' }, `status unavailable: ${result.error}`);
    const s = result.status;
    if (!s) return el('span', { class: 'muted' }, '…');
    const targeted = s.hostsTargeted || 0;
    if (targeted === 0) return el('span', { class: 'muted' }, 'no connected host selected');
    const badges = el('div', {},
      el('span', { class: 'badge ' + (s.hostsApplied === targeted ? 'ok' : 'neutral') },
        `applied ${s.hostsApplied || 0}/${targeted}`),
      s.hostsFailed ? el('span', { class: 'badge bad' }, `failed ${s.hostsFailed}`) : null,
      s.hostsPending ? el('span', { class: 'badge warn' }, `pending ${s.hostsPending}`) : null);
    const failures = (s.failures || []).map((f) => el('div', { class: 'failure' },
      el('span', {}, f.reason),
      el('span', { class: 'muted' }, ` — ${f.hosts} host${f.hosts === 1 ? '' : 's'}` +
        ((f.exampleHosts || []).length ? ` (e.g. ${f.exampleHosts.join(', ')})` : ''))));
    return [badges, ...failures, renderHostStates(name, s)];
  }

  function renderHostStates(name, s) {
    const hosts = s.hosts || [];
    if (hosts.length === 0) return null;
    const details = el('details', { class: 'host-states', open: openDetails.has(name) },
      el('summary', {}, `per host (${hosts.length}${s.hostsTargeted > hosts.length ? ` of ${s.hostsTargeted}` : ''})`),
      hosts.map((h) => el('div', { class: 'host-state', data: { hostId: h.hostId, state: h.state } },
        el('span', { class: 'mono' }, h.hostId),
        el('span', { class: 'badge ' + stateClass(h.state) }, (h.state || '').toLowerCase()),
        (h.probes || []).map((p) => el('span', { class: 'small muted probe-state', title: p.message || '' },
          `${p.key}: ${(p.state || '').toLowerCase()}` +
          (p.attachPoint ? ` at ${p.attachPoint}` : '') +
          (p.message ? ` — ${p.message}` : '') +
          ` · ${p.events || 0} events` + (Number(p.drops) ? `, ${p.drops} dropped` : '') +
          (p.budgetReason ? ` · ${p.budgetReason}` : ''))))));
    details.addEventListener('toggle', () => {
      if (details.open) openDetails.add(name); else openDetails.delete(name);
    });
    return details;
  }

  function renderChartPick(c) {
    const metrics = configMetrics(c, ps.catalog);
    if (metrics.length === 0) return null;
    const select = el('select', { class: 'chart-pick', title: 'chart a metric of this configuration' },
      el('option', { value: '' }, 'chart…'),
      metrics.map((m) => el('option', { value: m }, m)));
    select.addEventListener('change', () => {
      const m = select.value;
      select.value = '';
      select.blur();
      if (m) onChart(m);
    });
    return select;
  }

  function renderDisable(c) {
    const button = el('button', { type: 'button', class: 'danger small-button', data: { disable: c.name } }, 'Disable');
    button.addEventListener('click', () => disable(c, button));
    return button;
  }

  async function disable(c, button) {
    const s = (ps.statuses.get(c.name) || {}).status;
    const on = s ? ` Its probes stop on ${s.hostsTargeted || 0} host${s.hostsTargeted === 1 ? '' : 's'}.` : '';
    if (!window.confirm(`Disable the probe configuration '${c.name}'?${on}`)) return;
    button.disabled = true;
    try {
      const r = await api(`/api/v1/probes/${encodeURIComponent(c.name)}`, undefined, 'DELETE');
      ps.note = `Disabled '${c.name}' (controller version ${r.version}).`;
      showBanner('probes-action-error', null);
    } catch (e) {
      showBanner('probes-action-error', `Disable '${c.name}' failed: ${errorText(e)}`);
      button.disabled = false;
    }
    await refresh();
  }

  function setCatalog(catalog) {
    ps.catalog = catalog;
    render();
  }

  function setNote(text) {
    ps.note = text;
    $('probes-note').textContent = text;
  }

  return { refresh, render, setCatalog, setNote };
}

function overallState(result) {
  const s = result.status;
  if (!s) return 'unknown';
  if (!s.hostsTargeted) return 'none';
  if (s.hostsFailed) return 'failed';
  if (s.hostsPending || s.hostsApplied < s.hostsTargeted) return 'pending';
  return 'applied';
}

function stateClass(state) {
  return state === 'APPLIED' ? 'ok' : state === 'FAILED' ? 'bad' : 'warn';
}

// The metrics a configuration produces: a built-in's from the catalog, a
// generic probe's is named after the configuration.
export function configMetrics(c, catalog) {
  const out = [];
  for (const s of c.probes || []) {
    const builtin = catalog && (catalog.probes || []).find((p) => p.name === s.probe);
    if (builtin) out.push(...(builtin.metrics || []).map((m) => m.name));
    else if (s.probe.includes(':')) out.push(c.name);
  }
  return [...new Set(out)];
}
