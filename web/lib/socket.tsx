'use client';

import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, useSyncExternalStore, type ReactNode } from 'react';
import { io, type Socket } from 'socket.io-client';
import { getSession, refreshSession } from './api';
import { useAuth } from './auth';
import { useRuntimeConfig } from './runtime-config';
import type { ClientToServerEvents, ServerToClientEvents } from './types';

type DashboardSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
export type LiveState = 'connecting' | 'live' | 'offline';

interface SocketHub {
  socket: DashboardSocket | null;
  state: LiveState;
  /** Reference-counted agent subscriptions, replayed after every reconnect. */
  subscribe(agentId: string): () => void;
}

const SocketContext = createContext<SocketHub>({ socket: null, state: 'offline', subscribe: () => () => undefined });

/**
 * One socket.io connection to the gateway per tab while a user is logged in. The handshake reads
 * the current access token each time it (re)connects, so refreshed tokens are used after drops.
 */
export function SocketProvider({ children }: { children: ReactNode }) {
  const { state: auth } = useAuth();
  const { gatewayPublicUrl } = useRuntimeConfig();
  const authenticated = auth.status === 'authenticated';
  const [socket, setSocket] = useState<DashboardSocket | null>(null);
  const [state, setState] = useState<LiveState>('offline');
  const counts = useRef(new Map<string, number>());
  const socketRef = useRef<DashboardSocket | null>(null);

  useEffect(() => {
    if (!authenticated) return;
    const options = {
      path: '/ws/dashboard',
      transports: ['websocket', 'polling'],
      auth: (cb: (data: object) => void) => cb({ token: getSession()?.access_token ?? '' }),
      reconnectionDelayMax: 10_000,
    };
    const s: DashboardSocket = gatewayPublicUrl ? io(gatewayPublicUrl, options) : io(options);
    let refreshedForError = false;
    s.on('connect', () => {
      refreshedForError = false;
      setState('live');
      const ids = [...counts.current.keys()];
      if (ids.length > 0) s.emit('subscribe', { agent_ids: ids });
    });
    s.on('disconnect', (reason) => {
      setState('connecting');
      // The gateway ends a socket when its access token expires or the session is revoked
      // ('io server disconnect', which socket.io does not retry): reconnect with a fresh token.
      if (reason !== 'io server disconnect' || !getSession()) return;
      const session = getSession();
      const fresh = session && session.expires_at - Date.now() > 5_000 ? Promise.resolve(session) : refreshSession();
      fresh
        .then((next) => {
          if (next) s.connect();
        })
        .catch(() => window.setTimeout(() => s.connect(), 5_000));
    });
    s.on('connect_error', () => {
      setState(s.active ? 'connecting' : 'offline');
      // The gateway refuses the handshake when the token has expired: refresh once, then retry.
      if (!s.active && !refreshedForError) {
        refreshedForError = true;
        refreshSession()
          .then((next) => {
            if (next) s.connect();
          })
          .catch(() => undefined);
      }
    });
    setState('connecting');
    socketRef.current = s;
    setSocket(s);
    return () => {
      s.removeAllListeners();
      s.disconnect();
      socketRef.current = null;
      setSocket(null);
      setState('offline');
    };
  }, [authenticated, gatewayPublicUrl]);

  const subscribe = useCallback((agentId: string) => {
    const n = counts.current.get(agentId) ?? 0;
    counts.current.set(agentId, n + 1);
    const s = socketRef.current;
    if (n === 0 && s?.connected) s.emit('subscribe', { agent_ids: [agentId] });
    return () => {
      const left = (counts.current.get(agentId) ?? 1) - 1;
      if (left > 0) {
        counts.current.set(agentId, left);
        return;
      }
      counts.current.delete(agentId);
      const current = socketRef.current;
      if (current?.connected) current.emit('unsubscribe', { agent_ids: [agentId] });
    };
  }, []);

  const hub = useMemo<SocketHub>(() => ({ socket, state, subscribe }), [socket, state, subscribe]);

  return <SocketContext.Provider value={hub}>{children}</SocketContext.Provider>;
}

export function useLiveState(): LiveState {
  return useContext(SocketContext).state;
}

/** Calls `handler` for every `event` from the gateway while the component is mounted. */
export function useSocketEvent<E extends keyof ServerToClientEvents>(event: E, handler: ServerToClientEvents[E]): void {
  const { socket } = useContext(SocketContext);
  const ref = useRef(handler);
  useEffect(() => {
    ref.current = handler;
  });
  useEffect(() => {
    if (!socket) return;
    const listener = ((...args: Parameters<ServerToClientEvents[E]>) =>
      (ref.current as (...a: Parameters<ServerToClientEvents[E]>) => void)(...args)) as ServerToClientEvents[E];
    // socket.io's typed overloads do not narrow a generic event name; the listener type matches E.
    (socket as unknown as Socket).on(event as string, listener as (...a: unknown[]) => void);
    return () => {
      (socket as unknown as Socket).off(event as string, listener as (...a: unknown[]) => void);
    };
  }, [socket, event]);
}

/** Receives new_metrics_data for `agentId` while mounted (subscribe on mount, unsubscribe on unmount). */
export function useAgentSubscription(agentId: string | null): void {
  const { subscribe } = useContext(SocketContext);
  useEffect(() => {
    if (!agentId) return;
    return subscribe(agentId);
  }, [agentId, subscribe]);
}

/** True once the component has hydrated in the browser. */
export function useHydrated(): boolean {
  return useSyncExternalStore(
    () => () => undefined,
    () => true,
    () => false,
  );
}
