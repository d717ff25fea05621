/**
 * The browser's access to the gateway: every call goes to the same-origin proxy under /api/v2 and
 * carries the access token, which is refreshed shortly before it expires and once after a 401.
 * Error bodies of the contract ({statusCode, error, message, details}) become ApiError.
 *
 * The refresh token never reaches scripts: /session/login, /session/refresh and /session/logout
 * (app/session/*) keep it in an HttpOnly cookie, and the page holds only the short-lived access
 * token (in sessionStorage, so a reload does not need a refresh). A refresh token works only once
 * and presenting a used one revokes the session, so refreshes are serialised: within a tab they
 * share one request, across tabs (which share the cookie) they take turns under a Web Lock.
 * A new tab starts logged in when the cookie is there; logging out in one tab logs out all.
 */
import { clearBroadcastListeners, broadcast, onBroadcast } from './session-channel';

const STORAGE_KEY = 'agentmon.session';
const REFRESH_LOCK = 'agentmon.session.refresh';
/** Refresh proactively when the access token has less than this left. */
const EXPIRY_MARGIN_MS = 15_000;

export interface Session {
  access_token: string;
  /** the token's subject (user id), read without verification: only to notice that the user changed */
  subject?: string;
  /** epoch ms */
  expires_at: number;
  /** epoch ms, when this token was issued (for scheduling the next refresh) */
  issued_at: number;
}

/** What /session/login and /session/refresh answer: a token pair without its refresh token. */
interface AccessGrant {
  access_token: string;
  token_type?: string;
  /** seconds */
  expires_in: number;
}

export interface ErrorDetail {
  path?: string;
  reason?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

// ---------- session store (module state + sessionStorage, observable for React) ----------

/** undefined until known: no token stored in this tab, and the refresh cookie not yet tried */
let current: Session | null | undefined;
const listeners = new Set<() => void>();

function readStored(): Session | null {
  try {
    const raw = window.sessionStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Partial<Session> & { refresh_token?: unknown };
    if (typeof s.access_token !== 'string' || typeof s.expires_at !== 'number') return null;
    const session = { access_token: s.access_token, subject: tokenSubject(s.access_token), expires_at: s.expires_at, issued_at: s.issued_at ?? Date.now() };
    // Older versions kept the refresh token here: drop it (it now lives only in the HttpOnly cookie).
    if (s.refresh_token !== undefined) window.sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
    return session;
  } catch {
    return null;
  }
}

/** The session of this tab: undefined while it is not yet known (see restoreSession), null when logged out. */
export function getSession(): Session | null | undefined {
  if (typeof window === 'undefined') return undefined;
  if (current === undefined) current = readStored() ?? undefined;
  return current;
}

function setSession(next: Session | null): void {
  current = next;
  try {
    if (next) window.sessionStorage.setItem(STORAGE_KEY, JSON.stringify(next));
    else window.sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // storage may be unavailable (private mode quotas); the in-memory session still works for this page
  }
  for (const l of listeners) l();
}

export function clearSession(): void {
  if (getSession() !== null) setSession(null);
}

export function subscribeSession(listener: () => void): () => void {
  listeners.add(listener);
  if (listeners.size === 1) {
    onBroadcast((msg) => {
      // Another tab logged out: so has this one (the server ended the session already).
      if (msg === 'logout') setSession(null);
      // Another tab logged in: a tab that shows the login page follows.
      else if (msg === 'login' && !getSession()) void restoreSession();
    });
  }
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0) clearBroadcastListeners();
  };
}

/** The `sub` claim of a JWT, undecoded signature and all: the gateway verifies tokens, the page only reads this. */
function tokenSubject(token: string): string | undefined {
  try {
    const payload = token.split('.')[1];
    if (!payload) return undefined;
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const sub = (JSON.parse(json) as { sub?: unknown }).sub;
    return typeof sub === 'string' ? sub : undefined;
  } catch {
    return undefined;
  }
}

function sessionFromGrant(grant: AccessGrant): Session {
  const now = Date.now();
  const lifetime = Number.isFinite(grant.expires_in) && grant.expires_in > 0 ? grant.expires_in * 1000 : 5 * 60_000;
  return { access_token: grant.access_token, subject: tokenSubject(grant.access_token), expires_at: now + lifetime, issued_at: now };
}

// ---------- HTTP ----------

async function toApiError(res: Response): Promise<ApiError> {
  let message = res.statusText || `HTTP ${res.status}`;
  let details: ErrorDetail[] = [];
  try {
    const body = (await res.json()) as { message?: unknown; details?: unknown };
    if (typeof body.message === 'string' && body.message) message = body.message;
    else if (Array.isArray(body.message)) message = body.message.join('; ');
    if (Array.isArray(body.details)) details = body.details as ErrorDetail[];
  } catch {
    // not JSON: keep the status text
  }
  return new ApiError(res.status, message, details);
}

async function send(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, { ...init, cache: 'no-store', credentials: 'same-origin' });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'The dashboard server cannot be reached. Check your connection and try again.');
  }
}

const JSON_HEADERS = { 'Content-Type': 'application/json', Accept: 'application/json' } as const;

/** Runs `fn` while no other tab of this origin refreshes (Web Locks; without them, as it is). */
function withRefreshLock<T>(fn: () => Promise<T>): Promise<T> {
  if (typeof navigator !== 'undefined' && 'locks' in navigator && navigator.locks) {
    return navigator.locks.request(REFRESH_LOCK, fn) as Promise<T>;
  }
  return fn();
}

let refreshing: Promise<Session | null> | null = null;

/**
 * Trades the refresh cookie for a new access token. Resolves to the new session, or to null when
 * the server refused (no cookie, or the session is over: it is then cleared and the user must log
 * in again). Throws ApiError when the gateway could not be asked (the session is kept for a later attempt).
 */
export function refreshSession(): Promise<Session | null> {
  if (refreshing) return refreshing;
  refreshing = (async () => {
    try {
      return await withRefreshLock(async () => {
        const res = await send('/session/refresh', { method: 'POST', headers: JSON_HEADERS, body: '{}' });
        if (res.ok) {
          const next = sessionFromGrant((await res.json()) as AccessGrant);
          setSession(next);
          return next;
        }
        if (res.status >= 400 && res.status < 500 && res.status !== 429) {
          setSession(null);
          return null;
        }
        throw await toApiError(res);
      });
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

let restoring: Promise<void> | null = null;

/**
 * Settles a session that is not yet known (a new tab, or a reload after the token was dropped):
 * the refresh cookie, if any, yields an access token; otherwise the tab is logged out. When the
 * gateway cannot be asked, the tab counts as logged out too (the login page says why it fails).
 */
export function restoreSession(): Promise<void> {
  restoring ??= refreshSession()
    .then(() => undefined)
    .catch(() => {
      if (getSession() === undefined) setSession(null);
    })
    .finally(() => {
      restoring = null;
    });
  return restoring;
}

export type Query = Record<string, string | number | boolean | null | undefined | readonly string[]>;

export interface ApiOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  query?: Query;
  body?: unknown;
  signal?: AbortSignal;
}

export function apiUrl(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v === undefined || v === null || v === '') continue;
    params.set(k, Array.isArray(v) ? v.join(',') : String(v));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

/** Calls the gateway through the same-origin proxy with the current access token. */
export async function api<T>(path: string, opts: ApiOptions = {}): Promise<T> {
  const url = apiUrl(path, opts.query);
  let session = getSession() ?? null;
  if (session && session.expires_at - Date.now() < EXPIRY_MARGIN_MS) {
    session = (await refreshSession()) ?? null;
    if (!session) throw new ApiError(401, 'Your session has expired. Please log in again.');
  }
  const request = (s: Session | null) => {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (s) headers.Authorization = `Bearer ${s.access_token}`;
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
    return send(url, {
      method: opts.method ?? 'GET',
      headers,
      body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
      signal: opts.signal,
    });
  };
  let res = await request(session);
  if (res.status === 401 && session) {
    // Another call may already have refreshed; then retry with the newer token instead of refreshing again.
    const latest = getSession();
    const retryWith = latest && latest.access_token !== session.access_token ? latest : await refreshSession();
    if (!retryWith) throw new ApiError(401, 'Your session has expired. Please log in again.');
    res = await request(retryWith);
    if (res.status === 401) {
      clearSession();
      throw await toApiError(res);
    }
  }
  if (!res.ok) throw await toApiError(res);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export async function login(username: string, password: string): Promise<void> {
  const res = await send('/session/login', { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ username, password }) });
  if (!res.ok) throw await toApiError(res);
  setSession(sessionFromGrant((await res.json()) as AccessGrant));
  broadcast('login');
}

/**
 * Ends the session at the gateway (the dashboard server falls back to the refresh cookie when the
 * access token has expired), clears the cookie, and forgets the session in this and every other tab.
 */
export async function logout(): Promise<void> {
  const session = getSession();
  try {
    const headers: Record<string, string> = { ...JSON_HEADERS };
    if (session) headers.Authorization = `Bearer ${session.access_token}`;
    await send('/session/logout', { method: 'POST', headers, body: '{}' });
  } catch {
    // the dashboard server is unreachable: the local session is dropped anyway and the token expires soon
  } finally {
    setSession(null);
    broadcast('logout');
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return err.message;
  return 'Something went wrong';
}
