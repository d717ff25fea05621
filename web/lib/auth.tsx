'use client';

import { createContext, useCallback, useContext, useEffect, useMemo, useState, useSyncExternalStore, type ReactNode } from 'react';
import { api, ApiError, errorMessage, getSession, login as apiLogin, logout as apiLogout, refreshSession, restoreSession, subscribeSession, type Session } from './api';
import type { Profile } from './types';

export type AuthState =
  | { status: 'loading' }
  | { status: 'anonymous' }
  | { status: 'error'; message: string; retry: () => void }
  | { status: 'authenticated'; user: Profile };

interface AuthContextValue {
  state: AuthState;
  login: (username: string, password: string) => Promise<void>;
  logout: () => Promise<void>;
}

const AuthContext = createContext<AuthContextValue | null>(null);

const serverSnapshot = (): Session | null | undefined => undefined;

/** Refresh when a fifth of the token's lifetime is left (at most a minute before expiry). */
function refreshDelay(s: Session): number {
  const lifetime = s.expires_at - s.issued_at;
  const lead = Math.min(60_000, Math.max(5_000, lifetime * 0.2));
  return Math.max(1_000, s.expires_at - lead - Date.now());
}

export function AuthProvider({ children }: { children: ReactNode }) {
  // undefined while hydrating (the server knows no session), then the session or null
  const session = useSyncExternalStore<Session | null | undefined>(subscribeSession, getSession, serverSnapshot);
  const [profile, setProfile] = useState<Profile | null>(null);
  const [profileError, setProfileError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  // Tabs share the refresh cookie, so a refresh may hand this tab another user's token (someone signed
  // in as another user in another tab): the profile follows the token's subject, not just its presence.
  const subject = session ? (session.subject ?? '?') : null;

  // A tab without a token of its own asks the refresh cookie whether the user is logged in.
  useEffect(() => {
    if (getSession() === undefined) void restoreSession();
  }, []);

  // Load the profile whenever a session appears (login or page load) or its user changes, not on every token refresh.
  useEffect(() => {
    if (subject === null) {
      setProfile(null);
      setProfileError(null);
      return;
    }
    const ctrl = new AbortController();
    setProfileError(null);
    setProfile((p) => (p && subject !== '?' && p.id !== subject ? null : p));
    api<Profile>('/api/v2/users/profile', { signal: ctrl.signal })
      .then((p) => setProfile(p))
      .catch((err: unknown) => {
        if (ctrl.signal.aborted) return;
        // a 401 has already cleared the session, which sends the user to the login page
        if (!(err instanceof ApiError && err.status === 401)) setProfileError(errorMessage(err));
      });
    return () => ctrl.abort();
  }, [subject, attempt]);

  // Refresh the access token shortly before it expires. Timers of hidden tabs are throttled, so a tab
  // that becomes visible again checks at once instead of waiting for a late timer.
  useEffect(() => {
    if (!session) return;
    const refresh = () =>
      refreshSession().catch(() => {
        // the gateway is unreachable right now; the next API call retries the refresh
      });
    const timer = window.setTimeout(refresh, refreshDelay(session));
    const onVisible = () => {
      if (document.visibilityState === 'visible' && Date.now() >= session.expires_at - (session.expires_at - session.issued_at) * 0.2) void refresh();
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      window.clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [session]);

  const retry = useCallback(() => setAttempt((n) => n + 1), []);

  const state: AuthState = useMemo(() => {
    if (session === undefined) return { status: 'loading' };
    if (session === null) return { status: 'anonymous' };
    if (profileError) return { status: 'error', message: profileError, retry };
    if (!profile) return { status: 'loading' };
    return { status: 'authenticated', user: profile };
  }, [session, profile, profileError, retry]);

  const value = useMemo<AuthContextValue>(
    () => ({
      state,
      login: async (username, password) => {
        setProfile(null);
        await apiLogin(username, password);
      },
      logout: () => apiLogout(),
    }),
    [state],
  );

  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthContextValue {
  const ctx = useContext(AuthContext);
  if (!ctx) throw new Error('useAuth outside AuthProvider');
  return ctx;
}

/** The logged-in user; only for components rendered inside the authenticated shell. */
export function useUser(): Profile {
  const { state } = useAuth();
  if (state.status !== 'authenticated') throw new Error('useUser outside the authenticated shell');
  return state.user;
}
