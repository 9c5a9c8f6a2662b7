// A latency heatmap on a canvas for query answers with fn "heatmap": one
// column per time bucket, one band per value range (HeatmapCell lower..upper,
// on a log scale), coloured by how many events fell in it. The cells of all
// series are summed: the servers coarsen every histogram to the same bounds,
// so cells of the same bounds add up exactly.
//
// Test hooks: the canvas carries data-columns, data-cells and data-max-count.

import { el } from './dom.js';
import { formatClock, formatCount, formatValue } from './format.js';

const kHeight = 280;
const kLeft = 76;   // room for the value axis
const kBottom = 26; // room for the time axis
const kTop = 8;
const kRight = 8;

// Light to dark blue: many events read as dark.
const kRamp = [[247, 251, 255], [198, 219, 239], [107, 174, 214], [33, 113, 181], [8, 48, 107]];

function rampColor(t) {
  const x = Math.min(1, Math.max(0, t)) * (kRamp.length - 1);
  const i = Math.min(kRamp.length - 2, Math.floor(x));
  const f = x - i;
  const c = kRamp[i].map((v, k) => Math.round(v + (kRamp[i + 1][k] - v) * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

// Round values in [lo, hi] for the value axis, at most maxTicks of them:
// 1-2-5 of each decade, else 1-3, else every decade or every k-th one.
function valueTicks(lo, hi, maxTicks) {
  const e0 = Math.floor(Math.log10(lo));
  const e1 = Math.ceil(Math.log10(hi));
  for (const mults of [[1, 2, 5], [1, 3], [1]]) {
    const ticks = [];
    for (let e = e0; e <= e1; e++) {
      for (const m of mults) {
        const v = m * 10 ** e;
        if (v >= lo && v <= hi) ticks.push(v);
      }
    }
    if (ticks.length <= maxTicks) return ticks;
  }
  const every = Math.ceil((e1 - e0 + 1) / maxTicks);
  const ticks = [];
  for (let e = Math.ceil(e0 / every) * every; e <= e1; e += every) {
    if (10 ** e >= lo && 10 ** e <= hi) ticks.push(10 ** e);
  }
  return ticks;
}

// "100 µs" rather than "100.0 µs": round ticks need no trailing zeros.
function axisValue(v, unit) {
  return formatValue(v, unit).replace(/(\.\d*?)0+(?=\s|$)/, '$1').replace(/\.(?=\s|$)/, '');
}

// {columns: [{timeMs, cells: [{lower, upper, count}]}], maxCount, lo, hi}
// from a QueryResponse; lo/hi bound the values (lo >= 1 for the log scale).
export function heatmapData(response) {
  const byTime = new Map();
  for (const s of response.series || []) {
    for (const p of s.points || []) {
      const t = Number(p.timeMs);
      if (!byTime.has(t)) byTime.set(t, new Map());
      const cells = byTime.get(t);
      for (const c of p.cells || []) {
        const key = `${c.lower}-${c.upper}`;
        const old = cells.get(key);
        if (old) old.count += Number(c.count) || 0;
        else cells.set(key, { lower: Number(c.lower) || 0, upper: Number(c.upper) || 0, count: Number(c.count) || 0 });
      }
    }
  }
  let maxCount = 0;
  let lo = Infinity;
  let hi = 0;
  const columns = [...byTime].sort(([a], [b]) => a - b).map(([timeMs, cells]) => {
    const list = [...cells.values()].filter((c) => c.count > 0);
    for (const c of list) {
      maxCount = Math.max(maxCount, c.count);
      lo = Math.min(lo, Math.max(1, c.lower));
      hi = Math.max(hi, c.upper + 1);
    }
    return { timeMs, cells: list };
  });
  if (!(hi > lo)) { lo = 1; hi = 2; }
  return { columns, maxCount, lo, hi };
}

// Draws `data` into `container` (replacing what it holds) for the time range
// [startMs, endMs) with buckets of stepMs. Returns the canvas.
export function drawHeatmap(container, data, { startMs, endMs, stepMs, unit }) {
  const width = Math.max(320, container.clientWidth || 640);
  const dpr = window.devicePixelRatio || 1;
  const canvas = el('canvas', {
    class: 'heatmap',
    width: String(Math.round(width * dpr)),
    height: String(Math.round(kHeight * dpr)),
    style: `width:${width}px;height:${kHeight}px`,
    data: { columns: String(data.columns.length), cells: String(data.columns.reduce((n, c) => n + c.cells.length, 0)), maxCount: String(data.maxCount) },
  });
  const ctx = canvas.getContext('2d');
  ctx.scale(dpr, dpr);
  const plotW = width - kLeft - kRight;
  const plotH = kHeight - kTop - kBottom;
  const logLo = Math.log2(data.lo);
  const logHi = Math.log2(data.hi);
  const x = (ms) => kLeft + ((ms - startMs) / (endMs - startMs)) * plotW;
  const y = (v) => kTop + plotH - ((Math.log2(Math.max(v, data.lo)) - logLo) / (logHi - logLo)) * plotH;

  ctx.fillStyle = '#fafbfc';
  ctx.fillRect(kLeft, kTop, plotW, plotH);
  const logMax = Math.log1p(data.maxCount);
  for (const col of data.columns) {
    const x0 = x(col.timeMs);
    const w = Math.max(1, x(col.timeMs + stepMs) - x0);
    for (const c of col.cells) {
      const y0 = y(c.upper + 1);
      const y1 = y(Math.max(1, c.lower));
      ctx.fillStyle = rampColor(0.15 + 0.85 * (Math.log1p(c.count) / logMax));
      ctx.fillRect(x0, y0, w + 0.5, Math.max(1, y1 - y0));
    }
  }

  // Axes: values at 1-2-5 steps of the decades (sparser when the range is
  // wide), times at round intervals.
  ctx.strokeStyle = '#ccc';
  ctx.fillStyle = '#555';
  ctx.font = '11px system-ui, sans-serif';
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'right';
  for (const v of valueTicks(data.lo, data.hi, Math.max(2, Math.floor(plotH / 26)))) {
    const yy = y(v);
    ctx.beginPath();
    ctx.moveTo(kLeft - 4, yy);
    ctx.lineTo(kLeft, yy);
    ctx.stroke();
    ctx.fillText(axisValue(v, unit), kLeft - 6, yy);
  }
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  const spanS = (endMs - startMs) / 1000;
  const tickS = [10, 15, 30, 60, 120, 300, 600, 1800, 3600].find((iv) => (iv / spanS) * plotW >= 90) || 3600;
  for (let t = Math.ceil(startMs / 1000 / tickS) * tickS * 1000; t < endMs; t += tickS * 1000) {
    const xx = x(t);
    ctx.beginPath();
    ctx.moveTo(xx, kTop + plotH);
    ctx.lineTo(xx, kTop + plotH + 4);
    ctx.stroke();
    ctx.fillText(formatClock(t / 1000), xx, kTop + plotH + 6);
  }
  ctx.strokeRect(kLeft + 0.5, kTop + 0.5, plotW - 1, plotH - 1);

  // Hovering names the cell under the pointer.
  const readout = el('div', { class: 'heatmap-readout muted small' },
    `darker = more events (max ${formatCount(data.maxCount)} in one cell)`);
  canvas.addEventListener('mousemove', (ev) => {
    const r = canvas.getBoundingClientRect();
    const px = ev.clientX - r.left;
    const py = ev.clientY - r.top;
    const col = data.columns.find((c) => px >= x(c.timeMs) && px < x(c.timeMs + stepMs));
    const cell = col && col.cells.find((c) => py >= y(c.upper + 1) && py <= y(Math.max(1, c.lower)));
    readout.textContent = cell
      ? `${formatClock(col.timeMs / 1000)}: ${formatCount(cell.count)} events in ` +
        `${formatValue(cell.lower, unit)} – ${formatValue(cell.upper, unit)}`
      : `darker = more events (max ${formatCount(data.maxCount)} in one cell)`;
  });
  container.replaceChildren(canvas, readout);
  return canvas;
}
