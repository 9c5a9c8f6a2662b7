// The controller's JSON API (protobuf JSON mapping of proto/andon/v1).

const kRequestTimeoutMs = 10000;

export class ApiError extends Error {
  constructor(message, code, httpStatus) {
    super(message);
    this.code = code;
    this.httpStatus = httpStatus;
  }
}

// Fetches JSON from the controller: GET without a body, POST with one, or
// the given method. Throws ApiError with the server's {"error", "code"}
// message, or a network/timeout description.
export async function api(path, body, method) {
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), kRequestTimeoutMs);
  let resp;
  try {
    resp = await fetch(path, {
      method: method || (body === undefined ? 'GET' : 'POST'),
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: ctrl.signal,
      cache: 'no-store',
    });
  } catch (e) {
    const why = e.name === 'AbortError' ? `timed out after ${kRequestTimeoutMs / 1000}s` : e.message;
    throw new ApiError(`cannot reach the controller (${path}): ${why}`, 'UNAVAILABLE', 0);
  } finally {
    clearTimeout(timer);
  }
  const text = await resp.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    // Fall through: reported below with the raw text.
  }
  if (!resp.ok) {
    if (json && typeof json.error === 'string') {
      throw new ApiError(json.error, json.code || `HTTP ${resp.status}`, resp.status);
    }
    throw new ApiError(`${path}: HTTP ${resp.status} ${snippet(text)}`, `HTTP ${resp.status}`, resp.status);
  }
  if (json === null) {
    throw new ApiError(`${path}: response is not JSON: ${snippet(text)}`, 'BAD_RESPONSE', resp.status);
  }
  return json;
}

function snippet(text) {
  const t = (text || '').trim().replace(/\s+/g, ' ');
  return t.length > 160 ? t.slice(0, 160) + '…' : t;
}

// The message to show for a failure: the server's words and code.
export function errorText(e) {
  if (e instanceof ApiError) return e.code ? `${e.message} [${e.code}]` : e.message;
  return String(e && e.message ? e.message : e);
}
