// The page's client of the controller's /v1 API on the dashboard's address. The session
// cookie goes along by itself (same origin); every POST carries the session's CSRF token.

let csrfToken = '';

export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || '';
    this.field = e.field || '';
  }
  // The controller does not know the route (yet): an action it does not offer.
  get missingRoute() {
    return this.status === 404 && this.message.startsWith('no such API route');
  }
}

async function call(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET') {
    headers['Content-Type'] = 'application/json';
    headers['X-CSRF-Token'] = csrfToken;
  }
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (res.status === 401) {
    window.location.reload(); // the login-needed page
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

export async function loadSession() {
  const s = await call('GET', '/v1/session');
  csrfToken = s.csrfToken;
  return s;
}

export const get = (path) => call('GET', path);
export const post = (path, body) => call('POST', path, body || {});

export const enc = encodeURIComponent;
