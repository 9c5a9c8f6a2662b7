// Small DOM helpers shared by the panels, and the page's polling loop.

import { errorText } from './api.js';

export const $ = (id) => document.getElementById(id);

// el('td', {class: 'num', data: {ts: '1'}}, 'text', childNode, null)
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'data') Object.assign(node.dataset, v);
    else if (k === 'style') node.style.cssText = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (v === true) node.setAttribute(k, '');
    else node.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined && c !== false) node.append(c);
  }
  return node;
}

// Shows message in the banner `id`, or hides it when message is empty.
export function showBanner(id, message) {
  const b = $(id);
  if (message) {
    b.textContent = message;
    b.hidden = false;
  } else {
    b.hidden = true;
    b.textContent = '';
  }
}

// Runs fn every periodMs without overlapping calls. now() runs it at once;
// stop() ends the loop until the next start() or now(). A throw from fn is
// shown in the page's error banner (fn reports its expected failures itself).
export function poller(fn, periodMs) {
  let timer = null;
  let running = false;
  let again = false;
  let stopped = true;
  async function run() {
    clearTimeout(timer);
    stopped = false;
    if (running) { again = true; return; }
    running = true;
    try {
      again = (await fn()) === 'again' || again;
    } catch (e) {
      showBanner('page-error', 'UI error: ' + errorText(e));
      console.error(e);
    } finally {
      running = false;
      if (!stopped) timer = setTimeout(run, again ? 0 : periodMs);
      again = false;
    }
  }
  function stop() {
    stopped = true;
    again = false;
    clearTimeout(timer);
  }
  return { start: run, now: run, stop };
}
