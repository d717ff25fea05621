'use client';

import AddIcon from '@mui/icons-material/Add';
import KeyIcon from '@mui/icons-material/Key';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Chip from '@mui/material/Chip';
import Table from '@mui/material/Table';
import TableBody from '@mui/material/TableBody';
import TableCell from '@mui/material/TableCell';
import TableHead from '@mui/material/TableHead';
import TableRow from '@mui/material/TableRow';
import Tooltip from '@mui/material/Tooltip';
import Typography from '@mui/material/Typography';
import { useMemo, useState } from 'react';
import { ConfirmDialog } from '@/components/ConfirmDialog';
import { PagedTablePage, type Toast } from '@/components/PagedTablePage';
import { useCursorPager } from '@/components/Pager';
import { EmptyState } from '@/components/States';
import { api } from '@/lib/api';
import { useUser } from '@/lib/auth';
import { formatDateTime, formatRelative } from '@/lib/format';
import { MONO_STACK } from '@/lib/theme';
import { isAdmin, type ApiKey, type CreatedApiKey, type Page, type User } from '@/lib/types';
import { useApi } from '@/lib/use-api';
import { useNow } from '@/lib/use-now';
import { CreateApiKeyDialog, NewKeyDialog, PERMISSION_HELP } from './ApiKeyDialogs';

const PAGE_SIZE = 50;

type KeyState = 'active' | 'expired' | 'revoked';

function keyState(k: ApiKey, now: number): KeyState {
  if (k.revoked_at) return 'revoked';
  if (k.expires_at && Date.parse(k.expires_at) <= now) return 'expired';
  return 'active';
}

function formatFuture(iso: string | null, now: number): string {
  if (!iso) return 'never';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  if (t <= now) return formatRelative(iso, now);
  const days = Math.round((t - now) / 86_400_000);
  if (days >= 2) return `in ${days}d`;
  const hours = Math.max(1, Math.round((t - now) / 3_600_000));
  return `in ${hours}h`;
}

export function ApiKeysView() {
  const me = useUser();
  const admin = isAdmin(me.role);
  const now = useNow();
  const pager = useCursorPager();
  const keys = useApi<Page<ApiKey>>('/api/v2/api-keys', { limit: PAGE_SIZE, cursor: pager.cursor });
  const { reload } = keys;
  // Admins see everyone's keys: name the owners (best effort; ids stay when the user list cannot be read).
  const owners = useApi<Page<User>>(admin ? '/api/v2/users' : null, { limit: 1000 });
  const ownerNames = useMemo(() => new Map((owners.data?.items ?? []).map((u) => [u.id, u.username])), [owners.data]);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const [toast, setToast] = useState<Toast | null>(null);

  return (
    <PagedTablePage
      title="API keys"
      subtitle={admin ? 'Every API key of every user. Agents push telemetry with ingest:write keys.' : 'Your API keys. Agents push telemetry with ingest:write keys.'}
      actions={
        <Button variant="contained" startIcon={<AddIcon />} onClick={() => setCreating(true)}>
          New API key
        </Button>
      }
      noun="API keys"
      resource={keys}
      pager={pager}
      empty={
        <EmptyState icon={<KeyIcon />} title="No API keys yet">
          <Typography variant="body2">
            Create a key for each agent or tool that talks to agentmon. The key is shown once; only its prefix is kept visible here.
          </Typography>
        </EmptyState>
      }
      toast={toast}
      onToastClose={() => setToast(null)}
      table={(items) => (
        <Table size="small" aria-label="API keys">
          <TableHead>
            <TableRow>
              <TableCell>Name</TableCell>
              <TableCell>Permissions</TableCell>
              {admin && <TableCell sx={{ display: { xs: 'none', md: 'table-cell' } }}>Owner</TableCell>}
              <TableCell sx={{ display: { xs: 'none', lg: 'table-cell' } }}>Created</TableCell>
              <TableCell sx={{ display: { xs: 'none', sm: 'table-cell' } }}>Expires</TableCell>
              <TableCell sx={{ display: { xs: 'none', md: 'table-cell' } }}>Last used</TableCell>
              <TableCell>Status</TableCell>
              <TableCell align="right">Action</TableCell>
            </TableRow>
          </TableHead>
          <TableBody>
            {items.map((k) => {
              const state = keyState(k, now);
              const owner = k.owner_id === me.id ? me.username : ownerNames.get(k.owner_id);
              return (
                <TableRow key={k.id} data-testid={`api-key-row-${k.id}`} data-name={k.name} data-state={state} sx={{ opacity: state === 'active' ? 1 : 0.6 }}>
                  <TableCell>
                    <Typography sx={{ fontWeight: 600 }}>{k.name}</Typography>
                    <Typography variant="body2" sx={{ color: 'text.secondary', fontFamily: MONO_STACK, fontSize: '0.75rem' }} data-testid="api-key-prefix">
                      {k.prefix}…
                    </Typography>
                  </TableCell>
                  <TableCell>
                    <Box sx={{ display: 'flex', gap: 0.5, flexWrap: 'wrap' }}>
                      {k.permissions.map((p) => (
                        <Tooltip key={p} title={PERMISSION_HELP[p] ?? p}>
                          <Chip size="small" variant="outlined" label={p} sx={{ fontFamily: MONO_STACK, fontSize: '0.75rem' }} />
                        </Tooltip>
                      ))}
                    </Box>
                  </TableCell>
                  {admin && (
                    <TableCell sx={{ display: { xs: 'none', md: 'table-cell' } }}>
                      {owner ?? (
                        <Typography component="span" sx={{ fontFamily: MONO_STACK, fontSize: '0.75rem', color: 'text.secondary' }}>
                          {k.owner_id.slice(0, 8)}…
                        </Typography>
                      )}
                    </TableCell>
                  )}
                  <TableCell sx={{ display: { xs: 'none', lg: 'table-cell' }, whiteSpace: 'nowrap' }}>
                    <Tooltip title={formatDateTime(k.created_at)}>
                      <span>{formatRelative(k.created_at, now)}</span>
                    </Tooltip>
                  </TableCell>
                  <TableCell sx={{ display: { xs: 'none', sm: 'table-cell' }, whiteSpace: 'nowrap' }}>
                    <Tooltip title={k.expires_at ? formatDateTime(k.expires_at) : 'Works until revoked'}>
                      <span>{formatFuture(k.expires_at, now)}</span>
                    </Tooltip>
                  </TableCell>
                  <TableCell sx={{ display: { xs: 'none', md: 'table-cell' }, whiteSpace: 'nowrap' }}>
                    <Tooltip title={k.last_used_at ? formatDateTime(k.last_used_at) : 'Not used yet'}>
                      <span>{formatRelative(k.last_used_at, now)}</span>
                    </Tooltip>
                  </TableCell>
                  <TableCell>
                    <Tooltip title={state === 'revoked' ? `revoked ${formatDateTime(k.revoked_at)}` : ''}>
                      <Chip
                        size="small"
                        variant="outlined"
                        label={state}
                        color={state === 'active' ? 'success' : state === 'expired' ? 'warning' : 'default'}
                        data-testid="api-key-state"
                      />
                    </Tooltip>
                  </TableCell>
                  <TableCell align="right">
                    {state !== 'revoked' && (
                      <Button size="small" color="error" variant="outlined" onClick={() => setRevoking(k)} aria-label={`Revoke ${k.name}`} data-testid={`revoke-${k.id}`}>
                        Revoke
                      </Button>
                    )}
                  </TableCell>
                </TableRow>
              );
            })}
          </TableBody>
        </Table>
      )}
    >

      <CreateApiKeyDialog
        open={creating}
        role={me.role}
        onClose={() => setCreating(false)}
        onCreated={(k) => {
          setCreating(false);
          setCreated(k);
          pager.reset();
          reload();
        }}
      />
      <NewKeyDialog created={created} onClose={() => setCreated(null)} />
      <ConfirmDialog
        open={revoking !== null}
        title={`Revoke “${revoking?.name ?? ''}”?`}
        confirmLabel="Revoke key"
        onClose={() => setRevoking(null)}
        onConfirm={async () => {
          if (!revoking) return;
          await api<void>(`/api/v2/api-keys/${encodeURIComponent(revoking.id)}`, { method: 'DELETE' });
          setToast({ kind: 'success', text: `Revoked ${revoking.name}` });
          reload();
        }}
      >
        Anything that uses the key <Box component="code" sx={{ fontFamily: MONO_STACK }}>{revoking?.prefix}…</Box> is refused from now on. This cannot be undone.
      </ConfirmDialog>
    </PagedTablePage>
  );
}
