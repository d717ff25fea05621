'use client';

import FilterAltOffIcon from '@mui/icons-material/FilterAltOff';
import KeyboardArrowDownIcon from '@mui/icons-material/KeyboardArrowDown';
import KeyboardArrowRightIcon from '@mui/icons-material/KeyboardArrowRight';
import ManageSearchIcon from '@mui/icons-material/ManageSearch';
import SearchOffIcon from '@mui/icons-material/SearchOff';
import Autocomplete from '@mui/material/Autocomplete';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Chip from '@mui/material/Chip';
import Collapse from '@mui/material/Collapse';
import IconButton from '@mui/material/IconButton';
import LinearProgress from '@mui/material/LinearProgress';
import Paper from '@mui/material/Paper';
import Table from '@mui/material/Table';
import TableBody from '@mui/material/TableBody';
import TableCell from '@mui/material/TableCell';
import TableContainer from '@mui/material/TableContainer';
import TableHead from '@mui/material/TableHead';
import TableRow from '@mui/material/TableRow';
import TextField from '@mui/material/TextField';
import Tooltip from '@mui/material/Tooltip';
import Typography from '@mui/material/Typography';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { Fragment, useEffect, useRef, useState } from 'react';
import { PageHeader } from '@/components/PageHeader';
import { Pager, useCursorPager } from '@/components/Pager';
import { EmptyState, ErrorState, ForbiddenState, LoadingState } from '@/components/States';
import { formatDateTime, formatRelative } from '@/lib/format';
import { MONO_STACK } from '@/lib/theme';
import type { AuditLog, Page } from '@/lib/types';
import { useApi } from '@/lib/use-api';
import { useNow } from '@/lib/use-now';

const PAGE_SIZE = 50;

/** Suggestions only: the filter takes any action or resource type, matched exactly by the API. */
const KNOWN_ACTIONS = [
  'auth.login',
  'auth.logout',
  'auth.refresh',
  'user.create',
  'user.update',
  'api_key.create',
  'api_key.delete',
  'alert.acknowledge',
  'alert_rule.create',
  'alert_rule.update',
  'alert_rule.delete',
  'notification_channel.create',
  'notification_channel.update',
  'notification_channel.delete',
  'notification_channel.test',
];
const KNOWN_RESOURCE_TYPES = ['session', 'user', 'api_key', 'agent', 'agent_group', 'alert', 'alert_rule', 'notification_channel', 'escalation_policy', 'maintenance_window', 'rollout'];

const FILTERS = ['actor', 'action', 'resource_type', 'from', 'to'] as const;
type Filter = (typeof FILTERS)[number];
type Filters = Record<Filter, string>;

/** datetime-local (local time, minutes) <-> RFC 3339 in the URL and the API query. */
function toLocalInput(iso: string): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  const d = new Date(t);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
function fromLocalInput(v: string): string {
  if (!v) return '';
  const t = new Date(v).getTime();
  return Number.isNaN(t) ? '' : new Date(t).toISOString();
}

function ActorCell({ actor }: { actor: AuditLog['actor'] }) {
  const name = actor.username ?? (actor.kind === 'anonymous' ? 'anonymous' : actor.kind === 'system' ? actor.id : `${actor.id.slice(0, 8)}…`);
  return (
    <Box sx={{ display: 'flex', alignItems: 'center', gap: 0.75, flexWrap: 'wrap' }}>
      <Tooltip title={`${actor.kind} ${actor.id}`}>
        <Typography component="span" sx={{ fontWeight: 600 }}>
          {name}
        </Typography>
      </Tooltip>
      {actor.kind !== 'user' && <Chip size="small" variant="outlined" label={actor.kind === 'api_key' ? 'API key' : actor.kind} sx={{ height: 20, fontSize: '0.7rem' }} />}
    </Box>
  );
}

function Json({ label, value }: { label: string; value: unknown }) {
  if (value === undefined) return null;
  return (
    <Box sx={{ minWidth: 0, flex: '1 1 260px' }}>
      <Typography variant="caption" sx={{ color: 'text.secondary', textTransform: 'uppercase', letterSpacing: 0.8 }}>
        {label}
      </Typography>
      <Box
        component="pre"
        sx={{ m: 0, mt: 0.5, p: 1.5, fontFamily: MONO_STACK, fontSize: '0.75rem', bgcolor: 'background.default', border: 1, borderColor: 'divider', borderRadius: 1, overflowX: 'auto', whiteSpace: 'pre-wrap', wordBreak: 'break-word' }}
      >
        {JSON.stringify(value, null, 2)}
      </Box>
    </Box>
  );
}

function AuditRow({ entry, now }: { entry: AuditLog; now: number }) {
  const [open, setOpen] = useState(false);
  const hasDetails = entry.before !== undefined || entry.after !== undefined || !!entry.request_id;
  const cells = 7;
  return (
    <Fragment>
      <TableRow data-testid={`audit-row-${entry.id}`} data-action={entry.action} sx={{ '& > td': { borderBottom: open ? 'none' : undefined } }}>
        <TableCell padding="checkbox">
          {hasDetails && (
            <IconButton size="small" aria-label={open ? 'Hide details' : 'Show details'} aria-expanded={open} onClick={() => setOpen((o) => !o)}>
              {open ? <KeyboardArrowDownIcon fontSize="small" /> : <KeyboardArrowRightIcon fontSize="small" />}
            </IconButton>
          )}
        </TableCell>
        <TableCell sx={{ whiteSpace: 'nowrap' }}>
          <Typography variant="body2">{formatDateTime(entry.at)}</Typography>
          <Typography variant="caption" sx={{ color: 'text.secondary' }}>
            {formatRelative(entry.at, now)}
          </Typography>
        </TableCell>
        <TableCell>
          <ActorCell actor={entry.actor} />
        </TableCell>
        <TableCell>
          <Typography component="span" sx={{ fontFamily: MONO_STACK, fontSize: '0.85rem' }}>
            {entry.action}
          </Typography>
        </TableCell>
        <TableCell sx={{ display: { xs: 'none', md: 'table-cell' } }}>
          <Typography variant="body2">{entry.resource_type}</Typography>
          {entry.resource_id && (
            <Tooltip title={entry.resource_id}>
              <Typography variant="caption" sx={{ fontFamily: MONO_STACK, color: 'text.secondary', display: 'block', maxWidth: 220, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }}>
                {entry.resource_id}
              </Typography>
            </Tooltip>
          )}
        </TableCell>
        <TableCell>
          <Chip size="small" variant="outlined" label={entry.outcome} color={entry.outcome === 'success' ? 'success' : 'error'} data-testid="audit-outcome" />
        </TableCell>
        <TableCell sx={{ display: { xs: 'none', lg: 'table-cell' }, fontFamily: MONO_STACK, fontSize: '0.8rem', color: 'text.secondary' }}>{entry.ip ?? '—'}</TableCell>
      </TableRow>
      {hasDetails && (
        <TableRow>
          <TableCell colSpan={cells} sx={{ py: 0, borderBottom: open ? undefined : 'none' }}>
            <Collapse in={open} unmountOnExit>
              <Box sx={{ py: 2, display: 'flex', gap: 2, flexWrap: 'wrap' }} data-testid="audit-details">
                <Json label="Before" value={entry.before} />
                <Json label="After" value={entry.after} />
                <Box sx={{ flex: '1 1 200px' }}>
                  <Typography variant="caption" sx={{ color: 'text.secondary', textTransform: 'uppercase', letterSpacing: 0.8 }}>
                    Recorded by
                  </Typography>
                  <Typography variant="body2" sx={{ mt: 0.5 }}>
                    {entry.service}
                  </Typography>
                  {entry.request_id && (
                    <Typography variant="body2" sx={{ color: 'text.secondary', fontFamily: MONO_STACK, fontSize: '0.75rem', wordBreak: 'break-all' }}>
                      request {entry.request_id}
                    </Typography>
                  )}
                </Box>
              </Box>
            </Collapse>
          </TableCell>
        </TableRow>
      )}
    </Fragment>
  );
}

export function AuditView() {
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const now = useNow();
  const pager = useCursorPager();
  const applied: Filters = Object.fromEntries(FILTERS.map((f) => [f, params.get(f) ?? ''])) as Filters;
  const [draft, setDraft] = useState<Filters>(applied);
  const timer = useRef<number | undefined>(undefined);
  const appliedKey = JSON.stringify(applied);

  // Put the filters into the URL a moment after the last change (so links and reloads keep them).
  useEffect(() => {
    if (JSON.stringify(draft) === appliedKey) return;
    timer.current = window.setTimeout(() => {
      const sp = new URLSearchParams();
      for (const f of FILTERS) if (draft[f].trim()) sp.set(f, draft[f].trim());
      pager.reset();
      const qs = sp.toString();
      router.replace(qs ? `${pathname}?${qs}` : pathname, { scroll: false });
    }, 400);
    return () => window.clearTimeout(timer.current);
    // pager.reset and router are stable; appliedKey stands for the URL
  }, [draft, appliedKey]);

  const { data, error, loading, reload } = useApi<Page<AuditLog>>('/api/v2/audit-logs', { ...applied, limit: PAGE_SIZE, cursor: pager.cursor });
  const set = (f: Filter) => (v: string) => setDraft((d) => ({ ...d, [f]: v }));
  const filtered = FILTERS.some((f) => applied[f] !== '');
  const items = data?.items ?? [];

  if (error?.status === 403) {
    return (
      <>
        <PageHeader title="Audit log" />
        <ForbiddenState>{error.message}</ForbiddenState>
      </>
    );
  }

  return (
    <>
      <PageHeader title="Audit log" subtitle="Every change made through the API and every sign-in attempt, newest first" />
      <Paper variant="outlined" sx={{ p: 2, mb: 2, display: 'flex', gap: 2, flexWrap: 'wrap', alignItems: 'flex-start' }} component="form" role="search" aria-label="Filter the audit log" onSubmit={(e) => e.preventDefault()}>
        <TextField label="Actor" placeholder="username or id" size="small" value={draft.actor} onChange={(e) => set('actor')(e.target.value)} sx={{ width: { xs: '100%', sm: 150 } }} />
        <Autocomplete
          freeSolo
          options={KNOWN_ACTIONS}
          inputValue={draft.action}
          onInputChange={(_e, v) => set('action')(v)}
          sx={{ width: { xs: '100%', sm: 210 } }}
          renderInput={(p) => <TextField {...p} label="Action" size="small" placeholder="e.g. user.update" />}
        />
        <Autocomplete
          freeSolo
          options={KNOWN_RESOURCE_TYPES}
          inputValue={draft.resource_type}
          onInputChange={(_e, v) => set('resource_type')(v)}
          sx={{ width: { xs: '100%', sm: 170 } }}
          renderInput={(p) => <TextField {...p} label="Resource type" size="small" />}
        />
        <TextField
          label="From"
          type="datetime-local"
          size="small"
          value={toLocalInput(draft.from)}
          onChange={(e) => set('from')(fromLocalInput(e.target.value))}
          slotProps={{ inputLabel: { shrink: true } }}
          sx={{ width: { xs: '100%', sm: 205 } }}
        />
        <TextField
          label="To"
          type="datetime-local"
          size="small"
          value={toLocalInput(draft.to)}
          onChange={(e) => set('to')(fromLocalInput(e.target.value))}
          slotProps={{ inputLabel: { shrink: true } }}
          sx={{ width: { xs: '100%', sm: 205 } }}
        />
        <Button
          startIcon={<FilterAltOffIcon />}
          disabled={!filtered && FILTERS.every((f) => draft[f] === '')}
          onClick={() => setDraft({ actor: '', action: '', resource_type: '', from: '', to: '' })}
          sx={{ alignSelf: 'center' }}
        >
          Clear
        </Button>
      </Paper>

      {error && <ErrorState title="Could not load the audit log" message={error.message} onRetry={reload} />}
      {!error && data === undefined && <LoadingState label="Loading the audit log…" />}
      {data !== undefined && !error && items.length === 0 && pager.index === 0 && (
        filtered ? (
          <EmptyState icon={<SearchOffIcon />} title="No entries match these filters">
            <Typography variant="body2">Actor, action and resource type match exactly; widen the time range or clear a filter.</Typography>
          </EmptyState>
        ) : (
          <EmptyState icon={<ManageSearchIcon />} title="The audit log is empty">
            <Typography variant="body2">Sign-ins and changes appear here as they happen.</Typography>
          </EmptyState>
        )
      )}
      {items.length > 0 && (
        <Paper variant="outlined">
          <Box sx={{ height: 4 }}>{loading && <LinearProgress aria-label="Loading" />}</Box>
          <TableContainer>
            <Table size="small" aria-label="Audit log">
              <TableHead>
                <TableRow>
                  <TableCell padding="checkbox" />
                  <TableCell>Time</TableCell>
                  <TableCell>Actor</TableCell>
                  <TableCell>Action</TableCell>
                  <TableCell sx={{ display: { xs: 'none', md: 'table-cell' } }}>Resource</TableCell>
                  <TableCell>Outcome</TableCell>
                  <TableCell sx={{ display: { xs: 'none', lg: 'table-cell' } }}>Address</TableCell>
                </TableRow>
              </TableHead>
              <TableBody>
                {items.map((e) => (
                  <AuditRow key={e.id} entry={e} now={now} />
                ))}
              </TableBody>
            </Table>
          </TableContainer>
        </Paper>
      )}
      {data !== undefined && <Pager index={pager.index} nextCursor={data.next_cursor} loading={loading} onNext={pager.next} onPrevious={pager.previous} />}
    </>
  );
}
