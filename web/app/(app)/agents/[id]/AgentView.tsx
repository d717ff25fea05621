'use client';

import ArrowBackIcon from '@mui/icons-material/ArrowBack';
import NotificationsNoneIcon from '@mui/icons-material/NotificationsNone';
import RefreshIcon from '@mui/icons-material/Refresh';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import Chip from '@mui/material/Chip';
import Grid from '@mui/material/Grid';
import IconButton from '@mui/material/IconButton';
import Snackbar from '@mui/material/Snackbar';
import ToggleButton from '@mui/material/ToggleButton';
import ToggleButtonGroup from '@mui/material/ToggleButtonGroup';
import Tooltip from '@mui/material/Tooltip';
import Typography from '@mui/material/Typography';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { useEffect, useMemo, useState, type ReactNode } from 'react';
import { AlertsTable, applyAlertEvent, sortAlerts } from '@/components/AlertsTable';
import { Link } from '@/components/Link';
import { MetricChart, type Point } from '@/components/MetricChart';
import { PageHeader } from '@/components/PageHeader';
import { EmptyState, ErrorState, LoadingState } from '@/components/States';
import { StatusChip } from '@/components/StatusChip';
import { useUser } from '@/lib/auth';
import { formatDateTime, formatRelative, parseTime } from '@/lib/format';
import { useAgentSubscription, useLiveState, useSocketEvent } from '@/lib/socket';
import { MONO_STACK } from '@/lib/theme';
import { canWrite, type Agent, type Alert as AlertModel, type HistoricalResult } from '@/lib/types';
import { useApi } from '@/lib/use-api';
import { useNow } from '@/lib/use-now';

const RANGES = [
  { key: '15m', ms: 15 * 60_000 },
  { key: '1h', ms: 3_600_000 },
  { key: '6h', ms: 6 * 3_600_000 },
  { key: '24h', ms: 24 * 3_600_000 },
  { key: '7d', ms: 7 * 24 * 3_600_000 },
] as const;
type RangeKey = (typeof RANGES)[number]['key'];
const DEFAULT_RANGE: RangeKey = '1h';

const MEASUREMENT = 'agent_metrics';
const CHARTS = [
  { field: 'cpu_usage', title: 'CPU usage', unit: '%', color: '#6e9fff' },
  { field: 'memory_usage', title: 'Memory usage', unit: '%', color: '#ff9830' },
] as const;
const MAX_LIVE_POINTS = 5_000;
const POLL_WHEN_OFFLINE_MS = 30_000;

function Detail({ label, children }: { label: string; children: ReactNode }) {
  return (
    <>
      <Typography component="dt" variant="body2" sx={{ color: 'text.secondary' }}>
        {label}
      </Typography>
      <Typography component="dd" variant="body2" sx={{ m: 0, wordBreak: 'break-word' }}>
        {children}
      </Typography>
    </>
  );
}

export function AgentView({ id }: { id: string }) {
  const user = useUser();
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const rangeParam = params.get('range');
  const range = RANGES.find((r) => r.key === rangeParam) ?? RANGES.find((r) => r.key === DEFAULT_RANGE)!;
  const [anchor, setAnchor] = useState(() => Date.now());
  const [live, setLive] = useState<Record<string, Point[]>>({});
  const [toast, setToast] = useState<string | null>(null);
  const liveState = useLiveState();
  const now = Math.max(useNow(5_000), anchor);
  const agentPath = `/api/v2/agents/${encodeURIComponent(id)}`;

  const agent = useApi<Agent>(agentPath);
  const history = useApi<HistoricalResult>(`/api/v2/metrics/historical/${encodeURIComponent(id)}`, {
    measurement: MEASUREMENT,
    fields: CHARTS.map((c) => c.field).join(','),
    from: new Date(anchor - range.ms).toISOString(),
    to: new Date(anchor).toISOString(),
  });
  const alerts = useApi<{ items: AlertModel[] }>('/api/v2/alerts/active', { agent_id: id });

  useAgentSubscription(id);

  // Without a live connection, re-read the history now and then instead.
  useEffect(() => {
    if (liveState === 'live') return;
    const t = window.setInterval(() => setAnchor(Date.now()), POLL_WHEN_OFFLINE_MS);
    return () => window.clearInterval(t);
  }, [liveState]);

  useSocketEvent('new_metrics_data', (e) => {
    if (e.agent_id !== id || e.measurement !== MEASUREMENT) return;
    const t = parseTime(e.time);
    if (Number.isNaN(t)) return;
    setLive((prev) => {
      const next = { ...prev };
      for (const { field } of CHARTS) {
        const v = e.fields[field];
        if (typeof v !== 'number') continue;
        next[field] = [...(prev[field] ?? []), [t, v] as const].slice(-MAX_LIVE_POINTS);
      }
      return next;
    });
  });
  useSocketEvent('agent_status_changed', (e) => {
    if (e.agent_id !== id) return;
    agent.setData((a) => (a ? { ...a, status: e.to, last_seen: e.to === 'online' ? e.at : a.last_seen } : a));
  });
  useSocketEvent('alert_triggered', ({ alert }) => {
    if (alert.agent_id === id) alerts.setData((d) => ({ items: applyAlertEvent(d?.items ?? [], alert, 'triggered') }));
  });
  useSocketEvent('alert_resolved', ({ alert }) => {
    if (alert.agent_id === id) alerts.setData((d) => ({ items: applyAlertEvent(d?.items ?? [], alert, 'resolved') }));
  });

  const series = useMemo(() => {
    const out: Record<string, Point[]> = {};
    for (const { field } of CHARTS) {
      const stored: Point[] = (history.data?.series.find((s) => s.field === field)?.points ?? [])
        .map(([t, v]) => [Date.parse(t), v] as const)
        .filter(([t]) => !Number.isNaN(t));
      const last = stored.length > 0 ? stored[stored.length - 1]![0] : -Infinity;
      out[field] = [...stored, ...(live[field] ?? []).filter(([t]) => t > last)];
    }
    return out;
  }, [history.data, live]);

  const setRange = (key: RangeKey) => {
    const sp = new URLSearchParams(params.toString());
    if (key === DEFAULT_RANGE) sp.delete('range');
    else sp.set('range', key);
    const qs = sp.toString();
    router.replace(qs ? `${pathname}?${qs}` : pathname, { scroll: false });
    setAnchor(Date.now());
  };

  const back = (
    <Link href="/agents" sx={{ display: 'inline-flex', alignItems: 'center', gap: 0.5, mb: 1, fontSize: '0.875rem' }}>
      <ArrowBackIcon fontSize="inherit" /> Agents
    </Link>
  );

  if (agent.error?.status === 404) {
    return (
      <>
        <PageHeader before={back} title={id} />
        <EmptyState title="Agent not found">
          <Typography variant="body2">No agent with the id “{id}” is registered. It may have been deleted.</Typography>
        </EmptyState>
      </>
    );
  }
  if (agent.error && !agent.data) {
    return (
      <>
        <PageHeader before={back} title={id} />
        <ErrorState title="Could not load this agent" message={agent.error.message} onRetry={agent.reload} />
      </>
    );
  }
  if (!agent.data) {
    return (
      <>
        <PageHeader before={back} title={id} />
        <LoadingState label="Loading agent…" />
      </>
    );
  }

  const a = agent.data;
  const activeAlerts = sortAlerts(alerts.data?.items ?? []);

  return (
    <>
      <PageHeader
        before={back}
        title={
          <>
            <span data-testid="agent-name">{a.name || a.id}</span>
            <StatusChip status={a.status} testId="agent-status" size="medium" />
          </>
        }
        subtitle={
          <Box component="span" sx={{ fontFamily: MONO_STACK }}>
            {a.id}
          </Box>
        }
        actions={
          <>
            <ToggleButtonGroup
              size="small"
              exclusive
              value={range.key}
              onChange={(_e, v: RangeKey | null) => {
                if (v) setRange(v);
              }}
              aria-label="Time range"
            >
              {RANGES.map((r) => (
                <ToggleButton key={r.key} value={r.key} aria-label={`Last ${r.key}`}>
                  {r.key}
                </ToggleButton>
              ))}
            </ToggleButtonGroup>
            <Tooltip title="Refresh">
              <IconButton aria-label="Refresh" onClick={() => setAnchor(Date.now())}>
                <RefreshIcon />
              </IconButton>
            </Tooltip>
          </>
        }
      />
      {history.error && <ErrorState title="Could not load metrics" message={history.error.message} onRetry={history.reload} />}
      <Grid container spacing={2}>
        {CHARTS.map((c) => (
          <Grid key={c.field} size={{ xs: 12, lg: 6 }}>
            <MetricChart
              field={c.field}
              title={c.title}
              unit={c.unit}
              color={c.color}
              points={series[c.field] ?? []}
              from={now - range.ms}
              to={now}
              loading={history.loading}
            />
          </Grid>
        ))}
        <Grid size={{ xs: 12, md: 5 }}>
          <Card sx={{ height: '100%' }}>
            <CardContent>
              <Typography variant="h3" component="h2" sx={{ mb: 2 }}>
                Details
              </Typography>
              <Box component="dl" sx={{ display: 'grid', gridTemplateColumns: 'max-content 1fr', columnGap: 3, rowGap: 1, m: 0 }}>
                <Detail label="Type">{a.type ?? '—'}</Detail>
                <Detail label="Version">{a.version ?? '—'}</Detail>
                <Detail label="Host">{a.host ?? '—'}</Detail>
                <Detail label="Region">{a.region ?? '—'}</Detail>
                <Detail label="Last seen">
                  <span title={formatDateTime(a.last_seen)}>{formatRelative(a.last_seen, now)}</span>
                </Detail>
                <Detail label="Config version">{a.config_version ?? '—'}</Detail>
                <Detail label="Groups">{a.groups && a.groups.length > 0 ? a.groups.join(', ') : '—'}</Detail>
                <Detail label="Tags">
                  {Object.keys(a.tags ?? {}).length === 0 ? (
                    '—'
                  ) : (
                    <Box component="span" sx={{ display: 'inline-flex', gap: 0.5, flexWrap: 'wrap' }}>
                      {Object.entries(a.tags).map(([k, v]) => (
                        <Chip key={k} size="small" variant="outlined" label={`${k}=${v}`} />
                      ))}
                    </Box>
                  )}
                </Detail>
              </Box>
            </CardContent>
          </Card>
        </Grid>
        <Grid size={{ xs: 12, md: 7 }}>
          <Card sx={{ height: '100%' }} data-testid="agent-alerts">
            <CardContent>
              <Typography variant="h3" component="h2" sx={{ mb: 1 }}>
                Active alerts
              </Typography>
              {alerts.error ? (
                <ErrorState title="Could not load alerts" message={alerts.error.message} onRetry={alerts.reload} />
              ) : !alerts.data ? (
                <LoadingState label="Loading alerts…" />
              ) : activeAlerts.length === 0 ? (
                <Box sx={{ display: 'flex', alignItems: 'center', gap: 1, color: 'text.secondary', py: 2 }}>
                  <NotificationsNoneIcon />
                  <Typography variant="body2">No active alerts for this agent.</Typography>
                </Box>
              ) : (
                <AlertsTable
                  alerts={activeAlerts}
                  showAgent={false}
                  canAck={canWrite(user.role)}
                  onAcked={(updated) => alerts.setData((d) => ({ items: (d?.items ?? []).map((x) => (x.id === updated.id ? updated : x)) }))}
                  onError={setToast}
                />
              )}
            </CardContent>
          </Card>
        </Grid>
      </Grid>
      <Snackbar open={toast !== null} autoHideDuration={6000} onClose={() => setToast(null)}>
        <Alert severity="error" onClose={() => setToast(null)}>
          {toast}
        </Alert>
      </Snackbar>
    </>
  );
}
