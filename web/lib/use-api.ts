'use client';

import { useCallback, useEffect, useState, type Dispatch, type SetStateAction } from 'react';
import { api, ApiError, errorMessage, type Query } from './api';

export interface ApiResource<T> {
  data: T | undefined;
  error: ApiError | null;
  loading: boolean;
  reload: () => void;
  /** Live updates patch the loaded data in place. */
  setData: Dispatch<SetStateAction<T | undefined>>;
}

/**
 * GETs `path` when mounted and whenever `path` or `query` change (compared by value), aborting the
 * previous request. The last data stays visible while a new request runs.
 */
export function useApi<T>(path: string | null, query?: Query): ApiResource<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(path !== null);
  const [attempt, setAttempt] = useState(0);
  const queryKey = JSON.stringify(query ?? {});

  useEffect(() => {
    if (path === null) return;
    const ctrl = new AbortController();
    setLoading(true);
    api<T>(path, { query: JSON.parse(queryKey) as Query, signal: ctrl.signal })
      .then((d) => {
        setData(d);
        setError(null);
      })
      .catch((err: unknown) => {
        if (ctrl.signal.aborted) return;
        setError(err instanceof ApiError ? err : new ApiError(0, errorMessage(err)));
      })
      .finally(() => {
        if (!ctrl.signal.aborted) setLoading(false);
      });
    return () => ctrl.abort();
  }, [path, queryKey, attempt]);

  const reload = useCallback(() => setAttempt((n) => n + 1), []);
  return { data, error, loading, reload, setData };
}
