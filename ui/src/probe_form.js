// The Probes panel's form: enables one probe configuration (POST
// /api/v1/probes) with a built-in probe from the catalog (its parameters as
// inputs) or a generic probe spec (by / value / filter). The server's
// refusal is shown beside the form in its own words.

import { api, errorText } from './api.js';
import { $, el, showBanner } from './dom.js';
import { parseDurationText } from './format.js';

const kGeneric = '__generic';

export function createProbeForm({ onEnabled }) {
  let catalog = null;

  function setCatalog(c) {
    catalog = c;
    const select = $('pf-probe');
    const keep = select.value;
    select.replaceChildren(
      el('optgroup', { label: 'built-in' },
        (c.probes || []).map((p) => el('option', { value: p.name }, `${p.name} — ${p.help}`))),
      el('optgroup', { label: 'generic' },
        el('option', { value: kGeneric }, 'generic: tracepoint, uprobe, uretprobe, usdt…')));
    select.disabled = false;
    if (keep && [...select.options].some((o) => o.value === keep)) select.value = keep;
    $('pf-forms').textContent = (c.genericForms || []).join(' · ');
    renderProbeChoice();
  }

  function chosen() {
    const v = $('pf-probe').value;
    if (v === kGeneric) return null;
    return catalog && (catalog.probes || []).find((p) => p.name === v);
  }

  // Shows the built-in's description, metrics and parameters, or the
  // generic probe's fields.
  function renderProbeChoice() {
    const generic = $('pf-probe').value === kGeneric;
    $('pf-generic').hidden = !generic;
    const p = chosen();
    const help = $('pf-help');
    const params = $('pf-params');
    if (!p) {
      help.replaceChildren(generic
        ? el('span', {}, 'Counts hits (or measures a value) at any attach point; the metric is named after the configuration.')
        : '');
      params.replaceChildren();
      return;
    }
    help.replaceChildren(
      el('div', {}, p.help),
      el('table', { class: 'metric-list' }, el('tbody', {},
        (p.metrics || []).map((m) => el('tr', {},
          el('td', { class: 'mono' }, m.name),
          el('td', { class: 'muted' }, kindText(m)),
          el('td', {}, m.help))))),
      ...((p.events || []).length ? [el('div', { class: 'small muted' }, `events for the live tail: ${p.events.join(', ')}`)] : []));
    params.replaceChildren(...(p.parameters || []).map(renderParam));
  }

  function renderParam(param) {
    const id = `pf-param-${param.name}`;
    let input;
    if (param.type === 'BOOL') {
      input = el('select', { id, data: { param: param.name } },
        el('option', { value: '' }, `default (${param.defaultValue})`),
        el('option', { value: 'true' }, 'true'),
        el('option', { value: 'false' }, 'false'));
    } else {
      input = el('input', {
        id, type: 'number', data: { param: param.name }, min: param.min, max: param.max,
        placeholder: `default ${param.defaultValue}`,
      });
    }
    return el('label', { class: 'field', for: id },
      el('span', {}, param.name),
      input,
      el('span', { class: 'hint' }, param.help + (param.type === 'UINT' ? ` (${param.min}–${param.max})` : '')));
  }

  // The PutProbeConfigRequest of the form; throws with a message for the
  // operator when a field cannot be sent as it is.
  function buildRequest() {
    const name = $('pf-name').value.trim();
    if (!name) throw new Error('give the configuration a name ([a-z_][a-z0-9_]*), e.g. forks');
    const spec = {};
    if ($('pf-probe').value === kGeneric) {
      spec.probe = $('pf-spec').value.trim();
      if (!spec.probe) throw new Error('write the generic probe, e.g. tracepoint:sched:sched_process_fork');
      const by = $('pf-by').value.split(',').map((s) => s.trim()).filter(Boolean);
      if (by.length) spec.by = by;
      if ($('pf-value').value.trim()) spec.value = $('pf-value').value.trim();
      if ($('pf-filter').value.trim()) spec.filter = $('pf-filter').value.trim();
    } else {
      spec.probe = $('pf-probe').value;
      if (!spec.probe) throw new Error('the probe catalog has not loaded yet');
      const params = {};
      for (const input of $('pf-params').querySelectorAll('[data-param]')) {
        if (input.value.trim() !== '') params[input.dataset.param] = input.value.trim();
      }
      if (Object.keys(params).length) spec.params = params;
    }
    const request = { name, probes: [spec] };
    const selector = $('pf-selector').value.trim();
    if (selector) request.selector = selector;
    const fraction = $('pf-fraction').value.trim();
    if (fraction) {
      const f = Number(fraction);
      if (!Number.isFinite(f)) throw new Error(`fraction '${fraction}' is not a number (e.g. 0.05)`);
      request.target = { fraction: f };
    }
    const ttl = $('pf-ttl').value.trim();
    if (ttl) {
      const seconds = parseDurationText(ttl);
      if (!(seconds > 0)) throw new Error(`TTL '${ttl}' is not a duration (e.g. 90s, 10m, 2h)`);
      request.ttl = `${+seconds.toFixed(3)}s`;
    }
    return request;
  }

  async function submit(ev) {
    ev.preventDefault();
    const status = $('pf-status');
    let request;
    try {
      request = buildRequest();
    } catch (e) {
      showBanner('probe-form-error', e.message);
      status.textContent = '';
      return;
    }
    const button = $('pf-submit');
    button.disabled = true;
    status.textContent = 'enabling…';
    showBanner('probe-form-error', null);
    try {
      const config = await api('/api/v1/probes', request);
      status.textContent = `Enabled '${config.name}' (version ${config.version}) on ${config.selectorText}.`;
      $('pf-name').value = '';
      onEnabled(config);
    } catch (e) {
      status.textContent = '';
      showBanner('probe-form-error', `Not enabled: ${errorText(e)}`);
    } finally {
      button.disabled = false;
    }
  }

  $('pf-probe').addEventListener('change', renderProbeChoice);
  $('probe-form').addEventListener('submit', submit);
  return { setCatalog };
}

function kindText(m) {
  const kind = (m.kind || '').toLowerCase().replace('_', '-');
  return m.unit ? `${kind}, ${m.unit}` : kind;
}
