'use client';

import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import LinearProgress from '@mui/material/LinearProgress';
import Paper from '@mui/material/Paper';
import Snackbar from '@mui/material/Snackbar';
import TableContainer from '@mui/material/TableContainer';
import type { ReactNode } from 'react';
import type { Page } from '@/lib/types';
import type { ApiResource } from '@/lib/use-api';
import { PageHeader } from './PageHeader';
import { Pager, type useCursorPager } from './Pager';
import { ErrorState, ForbiddenState, LoadingState } from './States';

export type Toast = { kind: 'success' | 'error'; text: string };

/**
 * A page that lists one paged collection in a table (users, API keys): the header with its actions;
 * a 403 as the forbidden state instead of the page; then error, loading, empty, or the table with a
 * progress line while a page reloads; the pager; what the page adds (dialogs); and its toast.
 */
export function PagedTablePage<T>({
  title,
  subtitle,
  actions,
  noun,
  resource,
  pager,
  empty,
  table,
  toast,
  onToastClose,
  children,
}: {
  title: string;
  subtitle?: ReactNode;
  actions?: ReactNode;
  /** the items, as the loading and error texts name them: "users", "API keys" */
  noun: string;
  resource: ApiResource<Page<T>>;
  pager: ReturnType<typeof useCursorPager>;
  /** shown when the first page is empty */
  empty: ReactNode;
  /** the table of the page's items */
  table: (items: T[]) => ReactNode;
  toast: Toast | null;
  onToastClose: () => void;
  /** dialogs and the like */
  children?: ReactNode;
}) {
  const { data, error, loading, reload } = resource;
  const items = data?.items ?? [];

  if (error?.status === 403) {
    return (
      <>
        <PageHeader title={title} />
        <ForbiddenState>{error.message}</ForbiddenState>
      </>
    );
  }

  return (
    <>
      <PageHeader title={title} subtitle={subtitle} actions={actions} />
      {error && <ErrorState title={`Could not load ${noun}`} message={error.message} onRetry={reload} />}
      {!error && data === undefined && <LoadingState label={`Loading ${noun}…`} />}
      {data !== undefined && !error && items.length === 0 && pager.index === 0 && empty}
      {items.length > 0 && (
        <Paper variant="outlined">
          <Box sx={{ height: 4 }}>{loading && <LinearProgress aria-label="Loading" />}</Box>
          <TableContainer>{table(items)}</TableContainer>
        </Paper>
      )}
      {data !== undefined && <Pager index={pager.index} nextCursor={data.next_cursor} loading={loading} onNext={pager.next} onPrevious={pager.previous} />}
      {children}
      <Snackbar open={toast !== null} autoHideDuration={6000} onClose={onToastClose}>
        {toast ? (
          <Alert severity={toast.kind} onClose={onToastClose} data-testid="toast">
            {toast.text}
          </Alert>
        ) : undefined}
      </Snackbar>
    </>
  );
}
