'use client';

import NotificationsOffIcon from '@mui/icons-material/NotificationsOff';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import LinearProgress from '@mui/material/LinearProgress';
import Paper from '@mui/material/Paper';
import Snackbar from '@mui/material/Snackbar';
import ToggleButton from '@mui/material/ToggleButton';
import ToggleButtonGroup from '@mui/material/ToggleButtonGroup';
import Typography from '@mui/material/Typography';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { useState } from 'react';
import { AlertsTable, applyAlertEvent, sortAlerts } from '@/components/AlertsTable';
import { PageHeader } from '@/components/PageHeader';
import { EmptyState, ErrorState, LoadingState } from '@/components/States';
import { useUser } from '@/lib/auth';
import { useSocketEvent } from '@/lib/socket';
import { canWrite, SEVERITIES, type Alert as AlertModel, type Severity } from '@/lib/types';
import { useApi } from '@/lib/use-api';

function isSeverity(v: string | null): v is Severity {
  return v !== null && (SEVERITIES as readonly string[]).includes(v);
}

export function AlertsView() {
  const user = useUser();
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const sevParam = params.get('severity');
  const severity = isSeverity(sevParam) ? sevParam : null;
  const [toast, setToast] = useState<{ kind: 'error' | 'success' | 'info'; text: string } | null>(null);
  const { data, error, loading, reload, setData } = useApi<{ items: AlertModel[] }>('/api/v2/alerts/active', { severity });

  const matches = (a: AlertModel) => severity === null || a.severity === severity;
  useSocketEvent('alert_triggered', ({ alert }) => {
    if (matches(alert)) setData((d) => ({ items: applyAlertEvent(d?.items ?? [], alert, 'triggered') }));
  });
  useSocketEvent('alert_resolved', ({ alert }) => {
    if (data?.items.some((a) => a.id === alert.id)) setToast({ kind: 'info', text: `Resolved: ${alert.rule_name} on ${alert.agent_id}` });
    setData((d) => (d ? { items: applyAlertEvent(d.items, alert, 'resolved') } : d));
  });

  const items = sortAlerts(data?.items ?? []);
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, items.filter((a) => a.severity === s).length])) as Record<Severity, number>;

  return (
    <>
      <PageHeader
        title="Alerts"
        subtitle={canWrite(user.role) ? 'Alerts that are pending or firing now' : 'Alerts that are pending or firing now (read-only for viewers)'}
        actions={
          <ToggleButtonGroup
            size="small"
            exclusive
            value={severity ?? 'all'}
            onChange={(_e, v: string | null) => {
              if (v === null) return;
              const sp = new URLSearchParams(params.toString());
              if (isSeverity(v)) sp.set('severity', v);
              else sp.delete('severity');
              const qs = sp.toString();
              router.replace(qs ? `${pathname}?${qs}` : pathname, { scroll: false });
            }}
            aria-label="Filter by severity"
          >
            <ToggleButton value="all">All</ToggleButton>
            {SEVERITIES.map((s) => (
              <ToggleButton key={s} value={s} sx={{ textTransform: 'capitalize' }}>
                {s}
                {severity === null && data ? ` (${counts[s]})` : ''}
              </ToggleButton>
            ))}
          </ToggleButtonGroup>
        }
      />
      {error && <ErrorState title="Could not load alerts" message={error.message} onRetry={reload} />}
      {!error && data === undefined && <LoadingState label="Loading alerts…" />}
      {data !== undefined && items.length === 0 && !error && (
        <EmptyState icon={<NotificationsOffIcon />} title={severity ? `No active ${severity} alerts` : 'No active alerts'}>
          <Typography variant="body2">All quiet. New alerts appear here the moment they fire.</Typography>
        </EmptyState>
      )}
      {items.length > 0 && (
        <Paper variant="outlined">
          <Box sx={{ height: 4 }}>{loading && <LinearProgress aria-label="Loading" />}</Box>
          <AlertsTable
            alerts={items}
            canAck={canWrite(user.role)}
            onAcked={(updated) => {
              setData((d) => (d ? { items: d.items.map((x) => (x.id === updated.id ? updated : x)) } : d));
              setToast({ kind: 'success', text: `Acknowledged: ${updated.rule_name}` });
            }}
            onError={(text) => setToast({ kind: 'error', text })}
          />
        </Paper>
      )}
      <Snackbar open={toast !== null} autoHideDuration={6000} onClose={() => setToast(null)}>
        {toast ? (
          <Alert severity={toast.kind} onClose={() => setToast(null)}>
            {toast.text}
          </Alert>
        ) : undefined}
      </Snackbar>
    </>
  );
}
