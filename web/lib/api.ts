/**
 * The browser's access to the gateway: every call goes to the same-origin proxy under /api/v2,
 * carries the access token from sessionStorage, refreshes it shortly before it expires and once
 * after a 401, and turns error bodies of the contract ({statusCode, error, message, details}) into
 * ApiError. A refresh token works only once (presenting a used one revokes the session), so all
 * refreshes in a tab share one in-flight request.
 */
import type { TokenPair } from './types';

const STORAGE_KEY = 'agentmon.session';
/** Refresh proactively when the access token has less than this left. */
const EXPIRY_MARGIN_MS = 15_000;

export interface Session {
  access_token: string;
  refresh_token: string;
  /** epoch ms */
  expires_at: number;
  /** epoch ms, when this pair was issued (for scheduling the next refresh) */
  issued_at: number;
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

let current: Session | null | undefined;
const listeners = new Set<() => void>();

function readStored(): Session | null {
  try {
    const raw = window.sessionStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Partial<Session>;
    if (typeof s.access_token !== 'string' || typeof s.refresh_token !== 'string' || typeof s.expires_at !== 'number') {
      return null;
    }
    return { access_token: s.access_token, refresh_token: s.refresh_token, expires_at: s.expires_at, issued_at: s.issued_at ?? Date.now() };
  } catch {
    return null;
  }
}

export function getSession(): Session | null {
  if (typeof window === 'undefined') return null;
  if (current === undefined) current = readStored();
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
  const onStorage = (e: StorageEvent) => {
    if (e.key === STORAGE_KEY) {
      current = readStored();
      listener();
    }
  };
  window.addEventListener('storage', onStorage);
  return () => {
    listeners.delete(listener);
    window.removeEventListener('storage', onStorage);
  };
}

function sessionFromPair(pair: TokenPair): Session {
  const now = Date.now();
  const lifetime = Number.isFinite(pair.expires_in) && pair.expires_in > 0 ? pair.expires_in * 1000 : 5 * 60_000;
  return { access_token: pair.access_token, refresh_token: pair.refresh_token, expires_at: now + lifetime, issued_at: now };
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

let refreshing: Promise<Session | null> | null = null;

/**
 * Exchanges the refresh token for a new pair. Resolves to the new session, or to null when the
 * server refused the refresh token (the session is then cleared and the user must log in again).
 * Throws ApiError when the gateway could not be asked (the session is kept for a later attempt).
 */
export function refreshSession(): Promise<Session | null> {
  if (refreshing) return refreshing;
  const session = getSession();
  if (!session) return Promise.resolve(null);
  refreshing = (async () => {
    try {
      const res = await send('/api/v2/auth/refresh', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ refresh_token: session.refresh_token }),
      });
      if (res.ok) {
        const next = sessionFromPair((await res.json()) as TokenPair);
        setSession(next);
        return next;
      }
      if (res.status >= 400 && res.status < 500 && res.status !== 429) {
        setSession(null);
        return null;
      }
      throw await toApiError(res);
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
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
  let session = getSession();
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
  const res = await send('/api/v2/auth/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (!res.ok) throw await toApiError(res);
  setSession(sessionFromPair((await res.json()) as TokenPair));
}

/** Revokes the session at the gateway (best effort) and forgets it locally in any case. */
export async function logout(): Promise<void> {
  const session = getSession();
  try {
    if (session) {
      await send('/api/v2/auth/logout', {
        method: 'POST',
        headers: { Authorization: `Bearer ${session.access_token}`, Accept: 'application/json' },
      });
    }
  } catch {
    // the gateway is unreachable: the local session is dropped anyway and the token expires soon
  } finally {
    setSession(null);
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return err.message;
  return 'Something went wrong';
}
