'use client';

import ChevronLeftIcon from '@mui/icons-material/ChevronLeft';
import ChevronRightIcon from '@mui/icons-material/ChevronRight';
import DnsIcon from '@mui/icons-material/Dns';
import SearchIcon from '@mui/icons-material/Search';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Chip from '@mui/material/Chip';
import InputAdornment from '@mui/material/InputAdornment';
import LinearProgress from '@mui/material/LinearProgress';
import Paper from '@mui/material/Paper';
import Table from '@mui/material/Table';
import TableBody from '@mui/material/TableBody';
import TableCell from '@mui/material/TableCell';
import TableContainer from '@mui/material/TableContainer';
import TableHead from '@mui/material/TableHead';
import TableRow from '@mui/material/TableRow';
import TextField from '@mui/material/TextField';
import ToggleButton from '@mui/material/ToggleButton';
import ToggleButtonGroup from '@mui/material/ToggleButtonGroup';
import Tooltip from '@mui/material/Tooltip';
import Typography from '@mui/material/Typography';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { useEffect, useRef, useState } from 'react';
import { Link } from '@/components/Link';
import { PageHeader } from '@/components/PageHeader';
import { EmptyState, ErrorState, LoadingState } from '@/components/States';
import { StatusChip } from '@/components/StatusChip';
import { formatDateTime, formatRelative } from '@/lib/format';
import { MONO_STACK } from '@/lib/theme';
import { useSocketEvent } from '@/lib/socket';
import { AGENT_STATUSES, type Agent, type AgentStatus, type Page } from '@/lib/types';
import { useApi } from '@/lib/use-api';
import { useNow } from '@/lib/use-now';

const PAGE_SIZE = 25;

function isStatus(v: string | null): v is AgentStatus {
  return v !== null && (AGENT_STATUSES as readonly string[]).includes(v);
}

export function AgentsView() {
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const statusParam = params.get('status');
  const status = isStatus(statusParam) ? statusParam : null;
  const q = params.get('q') ?? '';
  const [search, setSearch] = useState(q);
  // cursors[i] is the cursor that loads page i (page 0 has none)
  const [cursors, setCursors] = useState<Array<string | undefined>>([undefined]);
  const pageIndex = cursors.length - 1;
  const now = useNow();
  const searchTimer = useRef<number | undefined>(undefined);
  const leaving = useRef(false);
  const newAgentTimer = useRef<number | undefined>(undefined);

  const setFilters = (next: { status?: AgentStatus | null; q?: string }) => {
    // A search that settles after the user opened an agent must not pull them back to the list.
    if (leaving.current) return;
    const sp = new URLSearchParams(params.toString());
    const st = next.status === undefined ? status : next.status;
    const qq = next.q === undefined ? q : next.q;
    if (st) sp.set('status', st);
    else sp.delete('status');
    if (qq) sp.set('q', qq);
    else sp.delete('q');
    setCursors([undefined]);
    const qs = sp.toString();
    router.replace(qs ? `${pathname}?${qs}` : pathname, { scroll: false });
  };

  useEffect(() => {
    leaving.current = false;
    return () => window.clearTimeout(newAgentTimer.current);
  }, []);

  // Search as the user types, a moment after the last key.
  useEffect(() => {
    if (search.trim() === q) return;
    searchTimer.current = window.setTimeout(() => setFilters({ q: search.trim() }), 300);
    return () => window.clearTimeout(searchTimer.current);
    // setFilters is deliberately left out: it reads the latest URL itself, and re-running on every
    // render would restart the debounce
  }, [search]);

  const { data, error, loading, reload, setData } = useApi<Page<Agent>>('/api/v2/agents', {
    status,
    q,
    limit: PAGE_SIZE,
    cursor: cursors[pageIndex],
  });

  useSocketEvent('agent_status_changed', (e) => {
    if (data?.items.some((a) => a.id === e.agent_id)) {
      setData((page) =>
        page && { ...page, items: page.items.map((a) => (a.id === e.agent_id ? { ...a, status: e.to, last_seen: e.to === 'online' ? e.at : a.last_seen } : a)) },
      );
    } else if (e.from === null && pageIndex === 0) {
      // A newly registered agent: show it when it belongs on this first page.
      window.clearTimeout(newAgentTimer.current);
      newAgentTimer.current = window.setTimeout(reload, 500);
    }
  });

  const items = data?.items ?? [];
  const filtered = status !== null || q !== '';
  const open = (id: string) => {
    leaving.current = true;
    window.clearTimeout(searchTimer.current);
    router.push(`/agents/${encodeURIComponent(id)}`);
  };

  return (
    <>
      <PageHeader title="Agents" subtitle="Every agent that has registered or pushed telemetry" />
      <Box sx={{ display: 'flex', gap: 2, mb: 2, flexWrap: 'wrap', alignItems: 'center' }}>
        <TextField
          label="Search"
          placeholder="Name, id, host…"
          size="small"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
          sx={{ minWidth: { xs: '100%', sm: 280 } }}
          slotProps={{
            input: {
              startAdornment: (
                <InputAdornment position="start">
                  <SearchIcon fontSize="small" />
                </InputAdornment>
              ),
            },
            htmlInput: { 'data-testid': 'agent-search' },
          }}
        />
        <ToggleButtonGroup
          size="small"
          exclusive
          value={status ?? 'all'}
          onChange={(_e, v: string | null) => {
            if (v !== null) setFilters({ status: isStatus(v) ? v : null });
          }}
          aria-label="Filter by status"
        >
          <ToggleButton value="all">All</ToggleButton>
          {AGENT_STATUSES.map((s) => (
            <ToggleButton key={s} value={s} sx={{ textTransform: 'capitalize' }}>
              {s}
            </ToggleButton>
          ))}
        </ToggleButtonGroup>
      </Box>

      {error && <ErrorState title="Could not load agents" message={error.message} onRetry={reload} />}
      {!error && data === undefined && <LoadingState label="Loading agents…" />}
      {data !== undefined && !error && items.length === 0 && pageIndex === 0 && (
        filtered ? (
          <EmptyState icon={<SearchIcon />} title="No agents match these filters">
            <Button
              sx={{ mt: 1 }}
              onClick={() => {
                setSearch('');
                setFilters({ status: null, q: '' });
              }}
            >
              Clear filters
            </Button>
          </EmptyState>
        ) : (
          <EmptyState icon={<DnsIcon />} title="No agents yet">
            <Typography variant="body2">
              An agent appears here the first time it pushes telemetry to the ingest service
              (<code>POST /api/v2/ingest</code> with an API key that has <code>ingest:write</code>) or is pre-registered.
            </Typography>
          </EmptyState>
        )
      )}
      {data !== undefined && items.length > 0 && (
        <Paper variant="outlined">
          <Box sx={{ height: 4 }}>{loading && <LinearProgress aria-label="Loading" />}</Box>
          <TableContainer>
            <Table size="small" aria-label="Agents">
              <TableHead>
                <TableRow>
                  <TableCell>Status</TableCell>
                  <TableCell>Name</TableCell>
                  <TableCell sx={{ display: { xs: 'none', md: 'table-cell' } }}>Type</TableCell>
                  <TableCell sx={{ display: { xs: 'none', md: 'table-cell' } }}>Version</TableCell>
                  <TableCell sx={{ display: { xs: 'none', lg: 'table-cell' } }}>Host</TableCell>
                  <TableCell sx={{ display: { xs: 'none', lg: 'table-cell' } }}>Region</TableCell>
                  <TableCell sx={{ display: { xs: 'none', xl: 'table-cell' } }}>Tags</TableCell>
                  <TableCell sx={{ whiteSpace: 'nowrap' }}>Last seen</TableCell>
                </TableRow>
              </TableHead>
              <TableBody>
                {items.map((a) => (
                  <TableRow
                    key={a.id}
                    hover
                    data-testid={`agent-row-${a.id}`}
                    onClick={() => open(a.id)}
                    sx={{ cursor: 'pointer' }}
                  >
                    <TableCell>
                      <StatusChip status={a.status} testId="agent-status-chip" />
                    </TableCell>
                    <TableCell>
                      <Link
                        href={`/agents/${encodeURIComponent(a.id)}`}
                        onClick={(e) => {
                          e.stopPropagation();
                          leaving.current = true;
                          window.clearTimeout(searchTimer.current);
                        }}
                        sx={{ fontWeight: 600 }}
                      >
                        {a.name || a.id}
                      </Link>
                      <Typography variant="body2" sx={{ color: 'text.secondary', fontFamily: MONO_STACK, fontSize: '0.75rem' }}>
                        {a.id}
                      </Typography>
                    </TableCell>
                    <TableCell sx={{ display: { xs: 'none', md: 'table-cell' } }}>{a.type ?? '—'}</TableCell>
                    <TableCell sx={{ display: { xs: 'none', md: 'table-cell' } }}>{a.version ?? '—'}</TableCell>
                    <TableCell sx={{ display: { xs: 'none', lg: 'table-cell' } }}>{a.host ?? '—'}</TableCell>
                    <TableCell sx={{ display: { xs: 'none', lg: 'table-cell' } }}>{a.region ?? '—'}</TableCell>
                    <TableCell sx={{ display: { xs: 'none', xl: 'table-cell' } }}>
                      <Box sx={{ display: 'flex', gap: 0.5, flexWrap: 'wrap' }}>
                        {Object.entries(a.tags ?? {}).map(([k, v]) => (
                          <Chip key={k} size="small" variant="outlined" label={`${k}=${v}`} />
                        ))}
                      </Box>
                    </TableCell>
                    <TableCell>
                      <Tooltip title={formatDateTime(a.last_seen)}>
                        <span>{formatRelative(a.last_seen, now)}</span>
                      </Tooltip>
                    </TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          </TableContainer>
        </Paper>
      )}
      {data !== undefined && (pageIndex > 0 || data.next_cursor) && (
        <Box component="nav" aria-label="Pages" sx={{ display: 'flex', justifyContent: 'flex-end', alignItems: 'center', gap: 1, mt: 2 }}>
          <Typography variant="body2" sx={{ color: 'text.secondary', mr: 1 }}>
            Page {pageIndex + 1}
          </Typography>
          <Button size="small" startIcon={<ChevronLeftIcon />} disabled={pageIndex === 0 || loading} onClick={() => setCursors((c) => c.slice(0, -1))}>
            Previous
          </Button>
          <Button
            size="small"
            endIcon={<ChevronRightIcon />}
            disabled={!data.next_cursor || loading}
            onClick={() => {
              const next = data.next_cursor;
              if (next) setCursors((c) => [...c, next]);
            }}
          >
            Next
          </Button>
        </Box>
      )}
    </>
  );
}
