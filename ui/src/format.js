// Parsing and formatting of times, durations and values for display.

// RFC3339 with up to nanosecond fractions ("2026-01-02T03:04:05.123456789Z")
// to unix ms; NaN when absent or malformed.
export function parseTimestamp(ts) {
  if (!ts) return NaN;
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(ts);
  if (!m) return Date.parse(ts);
  const ms = m[2] ? '.' + (m[2] + '00').slice(0, 3) : '';
  return Date.parse(m[1] + ms + m[3]);
}

// "12s ago", "3m 4s ago"; for a time in the future "in 3m 4s".
export function relativeTime(ms, now) {
  if (!Number.isFinite(ms) || ms <= 0) return 'never';
  if (ms > now + 500) return 'in ' + formatSeconds(Math.round((ms - now) / 1000));
  return formatSeconds(Math.max(0, Math.round((now - ms) / 1000))) + ' ago';
}

// 59 -> "59s", 125 -> "2m 5s", 600 -> "10m", 7200 -> "2h", 90000 -> "1d 1h".
export function formatSeconds(s) {
  const two = (a, ua, b, ub) => (b ? `${a}${ua} ${b}${ub}` : `${a}${ua}`);
  if (s < 60) return `${s}s`;
  if (s < 3600) return two(Math.floor(s / 60), 'm', s % 60, 's');
  if (s < 86400) return two(Math.floor(s / 3600), 'h', Math.floor((s % 3600) / 60), 'm');
  return two(Math.floor(s / 86400), 'd', Math.floor((s % 86400) / 3600), 'h');
}

// protobuf JSON Duration ("600s", "1.5s") to seconds; NaN when malformed.
export function parseDurationJson(d) {
  const m = /^(-?\d+(?:\.\d+)?)s$/.exec(d || '');
  return m ? Number(m[1]) : NaN;
}

// What an operator types for a TTL ("90s", "10m", "1h30m", "2d", "300") to
// seconds; NaN when it is not a duration.
export function parseDurationText(text) {
  const t = text.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t);
  const units = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };
  let total = 0;
  let rest = t;
  while (rest) {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)/.exec(rest);
    if (!m) return NaN;
    total += Number(m[1]) * units[m[2]];
    rest = rest.slice(m[0].length);
  }
  return t ? total : NaN;
}

export function formatCount(v) {
  if (!Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  if (a >= 1e9) return (v / 1e9).toFixed(a >= 1e10 ? 1 : 2) + 'G';
  if (a >= 1e6) return (v / 1e6).toFixed(a >= 1e7 ? 1 : 2) + 'M';
  if (a >= 1e4) return (v / 1e3).toFixed(a >= 1e5 ? 0 : 1) + 'k';
  if (a >= 100 || Number.isInteger(v)) return Math.round(v).toLocaleString('en-US');
  if (a > 0 && a < 0.1) return v.toPrecision(2);
  return v.toFixed(1);
}

// A value in its unit: "ns" as a duration, "bytes" in binary multiples,
// anything else as a count followed by the unit.
export function formatValue(v, unit) {
  if (!Number.isFinite(v)) return '–';
  if (unit === 'ns') return formatNanos(v);
  if (unit === 'bytes') return formatBytes(v);
  return formatCount(v) + (unit && unit !== '1/s' ? ' ' + unit : '');
}

function formatNanos(v) {
  const a = Math.abs(v);
  if (a >= 1e9) return (v / 1e9).toFixed(a >= 1e10 ? 1 : 2) + ' s';
  if (a >= 1e6) return (v / 1e6).toFixed(a >= 1e7 ? 1 : 2) + ' ms';
  if (a >= 1e3) return (v / 1e3).toFixed(a >= 1e4 ? 1 : 2) + ' µs';
  return Math.round(v) + ' ns';
}

function formatBytes(v) {
  const a = Math.abs(v);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (i < units.length - 1 && a >= 1024 ** (i + 1)) i++;
  const x = v / 1024 ** i;
  return (i === 0 ? Math.round(x) : x.toFixed(Math.abs(x) >= 100 ? 0 : 1)) + ' ' + units[i];
}

function pad(n, w = 2) {
  return String(n).padStart(w, '0');
}

// Unix seconds to local "HH:MM:SS".
export function formatClock(sec) {
  const d = new Date(sec * 1000);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

// Unix ms to local "HH:MM:SS.mmm".
export function formatClockMs(ms) {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}
