// A query answer as the chart draws it: named series (a top-k metric's keys
// shortened), and uPlot's columnar data on a fixed step.

import { parseTimestamp } from './format.js';

// "a;b(int, char*);c;d" -> "…;c;d": the innermost frames of a folded
// stack, without C++ argument lists.
function shortKey(key) {
  const frames = key.split(';').map((f) => {
    let g = f;
    for (let i = 0; i < 5 && /\([^()]*\)/.test(g); i++) g = g.replace(/\([^()]*\)/g, '');
    return g.trim() || f;
  });
  return (frames.length > 2 ? '…;' : '') + frames.slice(-2).join(';');
}

// A top-k metric's topk() answer has one series per key (label `key`);
// a profile's key is a folded stack, shown by its innermost frames.
function seriesName(s, by) {
  const labels = s.labels || [];
  const key = labels.find((x) => x.name === 'key');
  const l = by ? labels.find((x) => x.name === by) : null;
  if (key) return { name: shortKey(key.value) + (l ? ` (${l.value})` : ''), full: key.value + (l ? ` (${l.value})` : ''), keyed: true };
  const name = l ? l.value || '(empty)' : labels.map((x) => `${x.name}=${x.value}`).join(',') || '(all)';
  return { name, full: name, keyed: false };
}

function seriesOf(q) {
  const seen = new Map();
  return (q.response.series || []).map((s) => {
    let { name, full, keyed } = seriesName(s, q.chart.by);
    // Short names of different keys may coincide; the chart needs them distinct.
    const n = (seen.get(name) || 0) + 1;
    seen.set(name, n);
    if (n > 1) name = `${name} #${n}`;
    return {
      name,
      full,
      keyed,
      total: Number(s.total) || 0,
      error: Number(s.error) || 0,
      points: (s.points || []).map((p) => [Number(p.timeMs), Number(p.value) || 0]),
    };
  });
}

// Turns a QueryResponse into uPlot's columnar data: a 1 s grid from the
// oldest to the newest bucket any series has. A bucket missing from a
// series had no events: 0 when counting, a gap otherwise. Before the first
// bucket nothing is drawn: no data is not the same as zero.
export function toPlotData(q, counting, stepSeconds) {
  const series = seriesOf(q);
  const startMs = parseTimestamp(q.request.start);
  const stepMs = stepSeconds * 1000;
  const perSecond = counting && q.chart.fn !== 'rate' ? 1 / stepSeconds : 1;
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
    const col = new Array(n).fill(counting ? 0 : null);
    for (const [t, v] of s.points) {
      const i = Math.round((t - first) / stepMs);
      if (i >= 0 && i < n) col[i] = counting ? (col[i] || 0) + v * perSecond : v;
    }
    return col;
  });
  return { series, latest, data: [xs, ...ys] };
}
