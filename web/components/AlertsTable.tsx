'use client';

import CheckIcon from '@mui/icons-material/Check';
import Button from '@mui/material/Button';
import Chip from '@mui/material/Chip';
import Table from '@mui/material/Table';
import TableBody from '@mui/material/TableBody';
import TableCell from '@mui/material/TableCell';
import TableContainer from '@mui/material/TableContainer';
import TableHead from '@mui/material/TableHead';
import TableRow from '@mui/material/TableRow';
import Tooltip from '@mui/material/Tooltip';
import Typography from '@mui/material/Typography';
import { useState } from 'react';
import { api, errorMessage } from '@/lib/api';
import { formatDateTime, formatNumber, formatRelative } from '@/lib/format';
import type { Alert } from '@/lib/types';
import { useNow } from '@/lib/use-now';
import { Link } from './Link';
import { SeverityChip } from './StatusChip';

/** Newest first, critical before warning before info. */
export function sortAlerts(list: Alert[]): Alert[] {
  const rank = { critical: 0, warning: 1, info: 2 } as const;
  return [...list].sort((a, b) => rank[a.severity] - rank[b.severity] || Date.parse(b.started_at) - Date.parse(a.started_at));
}

/** Applies a live alert event to a list of active alerts. */
export function applyAlertEvent(list: Alert[], alert: Alert, kind: 'triggered' | 'resolved'): Alert[] {
  const rest = list.filter((a) => a.id !== alert.id);
  return kind === 'resolved' || alert.status === 'resolved' ? rest : sortAlerts([alert, ...rest]);
}

function AckButton({ alert, onAcked, onError }: { alert: Alert; onAcked: (a: Alert) => void; onError: (m: string) => void }) {
  const [busy, setBusy] = useState(false);
  if (alert.acknowledged_by) {
    return (
      <Tooltip title={alert.acknowledged_at ? `at ${formatDateTime(alert.acknowledged_at)}` : ''}>
        <Chip size="small" icon={<CheckIcon />} label={`Acked by ${alert.acknowledged_by}`} variant="outlined" />
      </Tooltip>
    );
  }
  return (
    <Button
      size="small"
      variant="outlined"
      disabled={busy}
      data-testid={`ack-${alert.id}`}
      onClick={async (e) => {
        e.stopPropagation();
        setBusy(true);
        try {
          onAcked(await api<Alert>(`/api/v2/alerts/${encodeURIComponent(alert.id)}/ack`, { method: 'POST' }));
        } catch (err) {
          onError(errorMessage(err));
        } finally {
          setBusy(false);
        }
      }}
    >
      Acknowledge
    </Button>
  );
}

export function AlertsTable({
  alerts,
  showAgent = true,
  canAck,
  onAcked,
  onError,
}: {
  alerts: Alert[];
  showAgent?: boolean;
  canAck: boolean;
  onAcked: (a: Alert) => void;
  onError: (message: string) => void;
}) {
  const now = useNow();
  return (
    <TableContainer>
      <Table size="small" aria-label="Active alerts">
        <TableHead>
          <TableRow>
            <TableCell>Severity</TableCell>
            <TableCell>Alert</TableCell>
            {showAgent && <TableCell>Agent</TableCell>}
            <TableCell sx={{ display: { xs: 'none', sm: 'table-cell' } }}>State</TableCell>
            <TableCell align="right" sx={{ display: { xs: 'none', md: 'table-cell' }, whiteSpace: 'nowrap' }}>
              Value / threshold
            </TableCell>
            <TableCell sx={{ display: { xs: 'none', sm: 'table-cell' } }}>Since</TableCell>
            <TableCell align="right">{canAck ? 'Action' : 'Acknowledged'}</TableCell>
          </TableRow>
        </TableHead>
        <TableBody>
          {alerts.map((a) => (
            <TableRow key={a.id} data-testid={`alert-row-${a.id}`}>
              <TableCell>
                <SeverityChip severity={a.severity} />
              </TableCell>
              <TableCell>
                <Typography sx={{ fontWeight: 600 }}>{a.rule_name}</Typography>
                {a.summary && (
                  <Typography variant="body2" sx={{ color: 'text.secondary' }}>
                    {a.summary}
                  </Typography>
                )}
              </TableCell>
              {showAgent && (
                <TableCell>
                  <Link href={`/agents/${encodeURIComponent(a.agent_id)}`}>{a.agent_id}</Link>
                </TableCell>
              )}
              <TableCell sx={{ display: { xs: 'none', sm: 'table-cell' } }}>
                <Chip size="small" variant="outlined" label={a.status} color={a.status === 'firing' ? 'error' : 'default'} />
              </TableCell>
              <TableCell align="right" sx={{ display: { xs: 'none', md: 'table-cell' }, whiteSpace: 'nowrap' }}>
                {formatNumber(a.value)} / {formatNumber(a.threshold)}
              </TableCell>
              <TableCell sx={{ display: { xs: 'none', sm: 'table-cell' }, whiteSpace: 'nowrap' }}>
                <Tooltip title={`started ${formatDateTime(a.started_at)}${a.fired_at ? `, firing since ${formatDateTime(a.fired_at)}` : ''}`}>
                  <span>{formatRelative(a.fired_at ?? a.started_at, now)}</span>
                </Tooltip>
              </TableCell>
              <TableCell align="right">
                {canAck ? (
                  <AckButton alert={a} onAcked={onAcked} onError={onError} />
                ) : a.acknowledged_by ? (
                  `by ${a.acknowledged_by}`
                ) : (
                  '—'
                )}
              </TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </TableContainer>
  );
}
