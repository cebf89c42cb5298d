// The console's only way to the server: fetch() on /api/v1 with the access token, kept in
// memory only. Sessions: a refresh token in memory (a reload signs out), or, when the
// server sets the HttpOnly sb_refresh cookie at login, cookie refresh with the sb_csrf
// header. The access token is renewed a minute before it expires.
const BASE = '/api/v1';

let access = null;
let refreshToken = null;   // body-based refresh (when the server sets no cookie)
let cookieSession = false; // refresh through the HttpOnly cookie + X-CSRF-Token
let refreshTimer = null;
let currentUser = null;
const listeners = new Set();

export class ApiError extends Error {
  constructor(status, body, fallback) {
    const e = (body && body.error) || {};
    const msg = typeof e === 'object' ? e.message : (body && body.error_description) || String(e);
    super(msg || fallback || `HTTP ${status}`);
    this.status = status;
    this.code = typeof e === 'object' ? e.code : e;
    this.fields = (typeof e === 'object' && e.fields) || {};
    this.body = body;
  }
}

export function user() { return currentUser; }
export function signedIn() { return access !== null; }
export function onSession(fn) { listeners.add(fn); }
function notify() { for (const fn of listeners) fn(currentUser); }

function csrf() {
  const m = document.cookie.match(/(?:^|;\s*)sb_csrf=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : null;
}

function qs(query) {
  if (!query) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') p.set(k, v);
  const s = p.toString();
  return s ? '?' + s : '';
}

async function parse(resp) {
  const type = resp.headers.get('Content-Type') || '';
  if (type.includes('json')) {
    try { return await resp.json(); } catch { return null; }
  }
  return null;
}

// request(method, path, {body, query, headers, raw, auth}) -> data of the envelope (or the
// Response itself with raw). Throws ApiError with status, code and field messages.
export async function request(method, path, opts = {}) {
  const { body, query, headers = {}, raw = false, auth = true, retried = false } = opts;
  const h = { Accept: 'application/json', ...headers };
  let payload;
  if (body instanceof Blob || body instanceof FormData || typeof body === 'string') {
    payload = body;
  } else if (body !== undefined) {
    h['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  if (auth && access) h.Authorization = 'Bearer ' + access;
  // Browser sessions: every state-changing call carries the CSRF token (the consent
  // answer requires it; the API ignores it elsewhere).
  if (method !== 'GET' && csrf() && !h['X-CSRF-Token']) h['X-CSRF-Token'] = csrf();
  const resp = await fetch(BASE + path + qs(query), { method, headers: h, body: payload, credentials: 'same-origin' });
  if (resp.status === 401 && auth && !retried && (refreshToken || cookieSession)) {
    if (await refresh()) return request(method, path, { ...opts, retried: true });
  }
  if (raw && resp.ok) return resp;
  const data = await parse(resp);
  if (!resp.ok || (data && data.success === false)) {
    if (resp.status === 401 && auth) expire();
    throw new ApiError(resp.status, data, resp.statusText);
  }
  return data && 'data' in data ? data.data : data;
}

export const get = (path, query, opts) => request('GET', path, { ...opts, query });
export const post = (path, body, opts) => request('POST', path, { ...opts, body });
export const put = (path, body, opts) => request('PUT', path, { ...opts, body });
export const patch = (path, body, opts) => request('PATCH', path, { ...opts, body });
export const del = (path, opts) => request('DELETE', path, opts);

function adopt(tokens) {
  access = tokens.access_token;
  if (tokens.refresh_token) { refreshToken = tokens.refresh_token; cookieSession = false; }
  else { refreshToken = null; cookieSession = true; }
  if (tokens.user) currentUser = tokens.user;
  clearTimeout(refreshTimer);
  const ttl = Number(tokens.expires_in) || 900;
  refreshTimer = setTimeout(() => { refresh(); }, Math.max(5, ttl - 60) * 1000);
  notify();
}

function expire() {
  access = null; refreshToken = null; cookieSession = false; currentUser = null;
  clearTimeout(refreshTimer);
  notify();
}

let inflight = null;
// refresh() -> true when a new access token is in memory. One refresh at a time.
export function refresh() {
  if (inflight) return inflight;
  inflight = (async () => {
    try {
      let resp;
      if (refreshToken) {
        resp = await fetch(BASE + '/auth/refresh', { method: 'POST', credentials: 'same-origin',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
          body: JSON.stringify({ refresh_token: refreshToken }) });
      } else {
        const token = csrf();
        if (!token) return false;
        resp = await fetch(BASE + '/auth/refresh', { method: 'POST', credentials: 'same-origin',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': token },
          body: '{}' });
      }
      const data = await parse(resp);
      if (!resp.ok || !data || !data.data) { expire(); return false; }
      adopt(data.data);
      if (!currentUser) currentUser = await get('/users/me');
      notify();
      return true;
    } catch {
      return false;
    } finally {
      inflight = null;
    }
  })();
  return inflight;
}

// On load: a cookie session survives a reload (sb_csrf is readable, sb_refresh is not).
export async function resume() {
  if (!csrf()) return false;
  cookieSession = true;
  return refresh();
}

export async function login(email, password) {
  const tokens = await request('POST', '/auth/login', { auth: false, body: { email, password, session: 'cookie' } });
  adopt(tokens);
  if (!currentUser) { currentUser = await get('/users/me'); notify(); }
  return currentUser;
}

// register() -> true when the server signed the new account in (a browser session);
// false when it only created it (then call login()).
export async function register(email, password, name) {
  const r = await request('POST', '/auth/register', { auth: false, body: { email, password, name, session: 'cookie' } });
  if (r && r.access_token) { adopt(r); return true; }
  return false;
}

export async function logout() {
  try {
    if (refreshToken) await request('POST', '/auth/logout', { auth: false, body: { refresh_token: refreshToken } });
    else if (cookieSession) {
      const token = csrf();
      await request('POST', '/auth/logout', { auth: false, body: {}, headers: token ? { 'X-CSRF-Token': token } : {} });
    }
  } finally {
    expire();
  }
}

// download(path, fallbackName): fetches a file with the access token and saves it.
export async function download(path, fallbackName, query) {
  const resp = await request('GET', path, { raw: true, query, headers: { Accept: '*/*' } });
  const blob = await resp.blob();
  const cd = resp.headers.get('Content-Disposition') || '';
  const m = cd.match(/filename\*?=(?:UTF-8'')?"?([^";]+)"?/i);
  const name = m ? decodeURIComponent(m[1]) : fallbackName;
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url; a.download = name; a.hidden = true;
  document.body.append(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  return { name, size: blob.size };
}
