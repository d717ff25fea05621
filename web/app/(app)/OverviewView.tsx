'use client';

import BoltIcon from '@mui/icons-material/Bolt';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Card from '@mui/material/Card';
import CardActionArea from '@mui/material/CardActionArea';
import CardContent from '@mui/material/CardContent';
import Grid from '@mui/material/Grid';
import LinearProgress from '@mui/material/LinearProgress';
import List from '@mui/material/List';
import ListItem from '@mui/material/ListItem';
import ListItemText from '@mui/material/ListItemText';
import Skeleton from '@mui/material/Skeleton';
import Typography from '@mui/material/Typography';
import NextLink from 'next/link';
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { Link } from '@/components/Link';
import { PageHeader } from '@/components/PageHeader';
import { ErrorState } from '@/components/States';
import { SeverityChip, StatusChip } from '@/components/StatusChip';
import { formatNumber, formatRelative } from '@/lib/format';
import { readOverview } from '@/lib/overview';
import { useSocketEvent } from '@/lib/socket';
import { SEVERITIES, type AgentStatus, type Severity } from '@/lib/types';
import { useApi } from '@/lib/use-api';

const POLL_MS = 15_000;

type Activity =
  | { kind: 'status'; key: string; at: string; agent_id: string; to: AgentStatus }
  | { kind: 'alert'; key: string; at: string; agent_id: string; rule: string; severity: Severity; resolved: boolean };

function StatCard({
  label,
  value,
  color,
  href,
  testId,
  children,
}: {
  label: string;
  value: ReactNode;
  color?: string;
  href?: string;
  testId: string;
  children?: ReactNode;
}) {
  const body = (
    <CardContent>
      <Typography variant="body2" sx={{ color: 'text.secondary', fontWeight: 600 }}>
        {label}
      </Typography>
      <Typography data-testid={testId} sx={{ fontSize: '2.2rem', fontWeight: 700, lineHeight: 1.3, color: color ?? 'text.primary' }}>
        {value}
      </Typography>
      {children}
    </CardContent>
  );
  return <Card sx={{ height: '100%' }}>{href ? <CardActionArea component={NextLink} href={href} sx={{ height: '100%' }}>{body}</CardActionArea> : body}</Card>;
}

export function OverviewView() {
  const { data, error, loading, reload } = useApi<unknown>('/api/v2/dashboard/overview');
  const overview = data === undefined ? undefined : readOverview(data);
  const [activity, setActivity] = useState<Activity[]>([]);
  const debounce = useRef<number | undefined>(undefined);

  useEffect(() => {
    const t = window.setInterval(reload, POLL_MS);
    return () => window.clearInterval(t);
  }, [reload]);
  useEffect(() => () => window.clearTimeout(debounce.current), []);

  const soon = () => {
    window.clearTimeout(debounce.current);
    debounce.current = window.setTimeout(reload, 1000);
  };
  const push = (a: Activity) => setActivity((list) => [a, ...list].slice(0, 12));

  useSocketEvent('agent_status_changed', (e) => {
    push({ kind: 'status', key: `s-${e.agent_id}-${e.at}`, at: e.at, agent_id: e.agent_id, to: e.to });
    soon();
  });
  useSocketEvent('alert_triggered', ({ alert }) => {
    push({ kind: 'alert', key: `t-${alert.id}`, at: alert.fired_at ?? alert.started_at, agent_id: alert.agent_id, rule: alert.rule_name, severity: alert.severity, resolved: false });
    soon();
  });
  useSocketEvent('alert_resolved', ({ alert }) => {
    push({ kind: 'alert', key: `r-${alert.id}`, at: alert.resolved_at ?? new Date().toISOString(), agent_id: alert.agent_id, rule: alert.rule_name, severity: alert.severity, resolved: true });
    soon();
  });

  const agents = overview?.agents;
  const alerts = overview?.alerts;
  const ingest = overview?.ingest;
  const firing = alerts ? alerts.critical + alerts.warning + alerts.info : null;
  const sk = <Skeleton width={60} />;
  const show = (v: number | null | undefined): ReactNode => (overview ? formatNumber(v ?? null, 0) : sk);

  return (
    <>
      <PageHeader title="Overview" subtitle="The state of the fleet right now" />
      <Box sx={{ height: 4, mb: 1 }}>{loading && data !== undefined && <LinearProgress aria-label="Refreshing" />}</Box>
      {error && <ErrorState message={error.message} onRetry={reload} />}
      {overview && overview.unavailable.length > 0 && (
        <Alert severity="warning" variant="outlined" sx={{ mb: 2 }} data-testid="overview-partial">
          Part of the overview is missing because {overview.unavailable.join(', ')} did not answer; those numbers show as “—”.
        </Alert>
      )}
      {!(error && data === undefined) && (
        <Grid container spacing={2}>
          <Grid size={{ xs: 6, md: 3 }}>
            <StatCard label="Agents" value={show(agents?.total)} href="/agents" testId="overview-agents-total" />
          </Grid>
          <Grid size={{ xs: 6, md: 3 }}>
            <StatCard label="Online" value={show(agents?.online)} color="success.main" href="/agents?status=online" testId="overview-agents-online" />
          </Grid>
          <Grid size={{ xs: 6, md: 3 }}>
            <StatCard label="Degraded" value={show(agents?.degraded)} color="warning.main" href="/agents?status=degraded" testId="overview-agents-degraded" />
          </Grid>
          <Grid size={{ xs: 6, md: 3 }}>
            <StatCard label="Offline" value={show(agents?.offline)} color="error.main" href="/agents?status=offline" testId="overview-agents-offline" />
          </Grid>
          <Grid size={{ xs: 12, md: 6 }}>
            <StatCard
              label="Firing alerts"
              value={show(firing)}
              color={alerts && alerts.critical > 0 ? 'error.main' : undefined}
              href="/alerts"
              testId="overview-alerts-firing"
            >
              <Box sx={{ display: 'flex', gap: 1, mt: 1, flexWrap: 'wrap' }}>
                {SEVERITIES.map((s) => (
                  <Box key={s} sx={{ display: 'flex', alignItems: 'center', gap: 0.75 }}>
                    <SeverityChip severity={s} />
                    <Typography component="span" data-testid={`overview-alerts-${s}`} sx={{ fontWeight: 600 }}>
                      {alerts ? alerts[s] : '—'}
                    </Typography>
                  </Box>
                ))}
              </Box>
            </StatCard>
          </Grid>
          <Grid size={{ xs: 12, md: 6 }}>
            <StatCard
              label="Ingest rate"
              value={
                overview ? (
                  <Box component="span" sx={{ display: 'inline-flex', alignItems: 'center', gap: 1 }}>
                    <BoltIcon sx={{ color: 'secondary.main' }} />
                    {ingest ? `${formatNumber(ingest.points_per_second, 1)}` : '—'}
                    <Typography component="span" sx={{ color: 'text.secondary', fontSize: '1rem' }}>
                      points/s
                    </Typography>
                  </Box>
                ) : (
                  sk
                )
              }
              testId="overview-ingest-rate"
            >
              <Typography variant="body2" sx={{ color: 'text.secondary', mt: 1 }}>
                {ingest?.requests_per_second != null ? `${formatNumber(ingest.requests_per_second, 1)} requests/s` : 'Telemetry accepted by the ingest service'}
              </Typography>
            </StatCard>
          </Grid>
          <Grid size={12}>
            <Card>
              <CardContent>
                <Typography variant="h3" component="h2" sx={{ mb: 1 }}>
                  Live activity
                </Typography>
                {activity.length === 0 ? (
                  <Typography variant="body2" sx={{ color: 'text.secondary' }} data-testid="activity-empty">
                    Status changes and alerts appear here as they happen.
                  </Typography>
                ) : (
                  <List dense disablePadding aria-label="Live activity">
                    {activity.map((a) => (
                      <ListItem key={a.key} disableGutters sx={{ gap: 1.5 }}>
                        {a.kind === 'status' ? <StatusChip status={a.to} /> : <SeverityChip severity={a.severity} />}
                        <ListItemText
                          primary={
                            a.kind === 'status' ? (
                              <>
                                <Link href={`/agents/${encodeURIComponent(a.agent_id)}`}>{a.agent_id}</Link> is now {a.to}
                              </>
                            ) : (
                              <>
                                {a.rule} {a.resolved ? 'resolved' : 'firing'} on{' '}
                                <Link href={`/agents/${encodeURIComponent(a.agent_id)}`}>{a.agent_id}</Link>
                              </>
                            )
                          }
                          secondary={formatRelative(a.at)}
                        />
                      </ListItem>
                    ))}
                  </List>
                )}
              </CardContent>
            </Card>
          </Grid>
        </Grid>
      )}
    </>
  );
}
