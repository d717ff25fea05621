'use client';

import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import CircularProgress from '@mui/material/CircularProgress';
import Paper from '@mui/material/Paper';
import Typography from '@mui/material/Typography';
import LockIcon from '@mui/icons-material/Lock';
import NextLink from 'next/link';
import type { ReactNode } from 'react';

export function LoadingState({ label = 'Loading…' }: { label?: string }) {
  return (
    <Box role="status" aria-live="polite" sx={{ display: 'flex', alignItems: 'center', justifyContent: 'center', gap: 2, py: 6, color: 'text.secondary' }}>
      <CircularProgress size={22} />
      <Typography>{label}</Typography>
    </Box>
  );
}

export function ErrorState({ title = 'Could not load this data', message, onRetry }: { title?: string; message: string; onRetry?: () => void }) {
  return (
    <Alert
      severity="error"
      variant="outlined"
      data-testid="error-state"
      action={
        onRetry ? (
          <Button color="inherit" size="small" onClick={onRetry}>
            Retry
          </Button>
        ) : undefined
      }
      sx={{ my: 2 }}
    >
      <strong>{title}.</strong> {message}
    </Alert>
  );
}

export function EmptyState({ icon, title, children }: { icon?: ReactNode; title: string; children?: ReactNode }) {
  return (
    <Paper variant="outlined" data-testid="empty-state" sx={{ py: 6, px: 3, textAlign: 'center', color: 'text.secondary', borderStyle: 'dashed' }}>
      {icon && <Box sx={{ fontSize: 40, mb: 1, '& svg': { fontSize: 40 } }}>{icon}</Box>}
      <Typography variant="h3" component="p" sx={{ color: 'text.primary', mb: 1 }}>
        {title}
      </Typography>
      {children}
    </Paper>
  );
}

/**
 * A page the signed-in role may not use (navigation does not offer it, but a link or a typed URL
 * can still lead here), or an action the gateway refused with 403.
 */
export function ForbiddenState({ title = 'You do not have access to this page', children }: { title?: string; children?: ReactNode }) {
  return (
    <Paper variant="outlined" data-testid="forbidden-state" sx={{ py: 6, px: 3, textAlign: 'center', color: 'text.secondary' }}>
      <Box sx={{ mb: 1, '& svg': { fontSize: 40 } }}>
        <LockIcon />
      </Box>
      <Typography variant="h3" component="p" sx={{ color: 'text.primary', mb: 1 }}>
        {title}
      </Typography>
      <Typography variant="body2" component="div" sx={{ mb: 2 }}>
        {children ?? 'Your role does not include this. Ask an administrator if you need it.'}
      </Typography>
      <Button component={NextLink} href="/" variant="outlined" size="small">
        Back to the overview
      </Button>
    </Paper>
  );
}
