'use client';

import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import CircularProgress from '@mui/material/CircularProgress';
import Paper from '@mui/material/Paper';
import Typography from '@mui/material/Typography';
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
