'use client';

import FiberManualRecordIcon from '@mui/icons-material/FiberManualRecord';
import Chip from '@mui/material/Chip';
import type { AgentStatus, Severity } from '@/lib/types';

const STATUS_COLOR = { online: 'success', degraded: 'warning', offline: 'error' } as const;

export function StatusChip({ status, testId = 'status-chip', size = 'small' }: { status: AgentStatus; testId?: string; size?: 'small' | 'medium' }) {
  return (
    <Chip
      icon={<FiberManualRecordIcon sx={{ fontSize: '0.7rem !important' }} />}
      label={status}
      color={STATUS_COLOR[status] ?? 'default'}
      variant="outlined"
      size={size}
      data-testid={testId}
      data-status={status}
      aria-label={`status: ${status}`}
    />
  );
}

const SEVERITY_COLOR = { critical: 'error', warning: 'warning', info: 'info' } as const;

export function SeverityChip({ severity }: { severity: Severity }) {
  return (
    <Chip
      label={severity}
      color={SEVERITY_COLOR[severity] ?? 'default'}
      size="small"
      data-testid="severity-chip"
      data-severity={severity}
    />
  );
}
