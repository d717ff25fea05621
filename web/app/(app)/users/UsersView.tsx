'use client';

import BlockIcon from '@mui/icons-material/Block';
import GroupIcon from '@mui/icons-material/Group';
import ManageAccountsIcon from '@mui/icons-material/ManageAccounts';
import MoreVertIcon from '@mui/icons-material/MoreVert';
import PasswordIcon from '@mui/icons-material/Password';
import PersonAddIcon from '@mui/icons-material/PersonAdd';
import RestoreIcon from '@mui/icons-material/Restore';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Chip from '@mui/material/Chip';
import IconButton from '@mui/material/IconButton';
import ListItemIcon from '@mui/material/ListItemIcon';
import ListItemText from '@mui/material/ListItemText';
import Menu from '@mui/material/Menu';
import MenuItem from '@mui/material/MenuItem';
import Table from '@mui/material/Table';
import TableBody from '@mui/material/TableBody';
import TableCell from '@mui/material/TableCell';
import TableHead from '@mui/material/TableHead';
import TableRow from '@mui/material/TableRow';
import Tooltip from '@mui/material/Tooltip';
import Typography from '@mui/material/Typography';
import { useState } from 'react';
import { ConfirmDialog } from '@/components/ConfirmDialog';
import { PagedTablePage, type Toast } from '@/components/PagedTablePage';
import { useCursorPager } from '@/components/Pager';
import { EmptyState } from '@/components/States';
import { api } from '@/lib/api';
import { useUser } from '@/lib/auth';
import { formatDateTime, formatRelative } from '@/lib/format';
import type { Page, User } from '@/lib/types';
import { useApi } from '@/lib/use-api';
import { useNow } from '@/lib/use-now';
import { RoleChip } from './RoleChip';
import { ChangeRoleDialog, CreateUserDialog, SetPasswordDialog } from './UserDialogs';

const PAGE_SIZE = 50;

function UserActions({
  user,
  isSelf,
  onRole,
  onPassword,
  onDeactivate,
  onReactivate,
}: {
  user: User;
  isSelf: boolean;
  onRole: () => void;
  onPassword: () => void;
  onDeactivate: () => void;
  onReactivate: () => void;
}) {
  const [anchor, setAnchor] = useState<HTMLElement | null>(null);
  const pick = (fn: () => void) => () => {
    setAnchor(null);
    fn();
  };
  const selfNote = 'Not for your own account: ask another admin';
  return (
    <>
      <IconButton aria-label={`Actions for ${user.username}`} data-testid={`user-actions-${user.username}`} onClick={(e) => setAnchor(e.currentTarget)} size="small">
        <MoreVertIcon fontSize="small" />
      </IconButton>
      <Menu anchorEl={anchor} open={anchor !== null} onClose={() => setAnchor(null)} anchorOrigin={{ vertical: 'bottom', horizontal: 'right' }} transformOrigin={{ vertical: 'top', horizontal: 'right' }}>
        <MenuItem onClick={pick(onRole)} disabled={isSelf}>
          <ListItemIcon>
            <ManageAccountsIcon fontSize="small" />
          </ListItemIcon>
          <ListItemText primary="Change role…" secondary={isSelf ? selfNote : undefined} />
        </MenuItem>
        <MenuItem onClick={pick(onPassword)}>
          <ListItemIcon>
            <PasswordIcon fontSize="small" />
          </ListItemIcon>
          <ListItemText primary="Set a new password…" />
        </MenuItem>
        {user.active ? (
          <MenuItem onClick={pick(onDeactivate)} disabled={isSelf} sx={{ color: 'error.main' }}>
            <ListItemIcon sx={{ color: 'inherit' }}>
              <BlockIcon fontSize="small" />
            </ListItemIcon>
            <ListItemText primary="Deactivate…" secondary={isSelf ? selfNote : undefined} />
          </MenuItem>
        ) : (
          <MenuItem onClick={pick(onReactivate)}>
            <ListItemIcon>
              <RestoreIcon fontSize="small" />
            </ListItemIcon>
            <ListItemText primary="Reactivate" />
          </MenuItem>
        )}
      </Menu>
    </>
  );
}

export function UsersView() {
  const me = useUser();
  const now = useNow();
  const pager = useCursorPager();
  const users = useApi<Page<User>>('/api/v2/users', { limit: PAGE_SIZE, cursor: pager.cursor });
  const { reload, setData } = users;
  const [creating, setCreating] = useState(false);
  const [roleOf, setRoleOf] = useState<User | null>(null);
  const [passwordOf, setPasswordOf] = useState<User | null>(null);
  const [deactivating, setDeactivating] = useState<User | null>(null);
  const [toast, setToast] = useState<Toast | null>(null);

  const replace = (u: User) => setData((page) => page && { ...page, items: page.items.map((x) => (x.id === u.id ? u : x)) });
  const setActive = async (u: User, active: boolean) => {
    const saved = await api<User>(`/api/v2/users/${encodeURIComponent(u.id)}`, { method: 'PATCH', body: { active } });
    replace(saved);
    setToast({ kind: 'success', text: active ? `${u.username} can sign in again` : `${u.username} is deactivated and signed out` });
  };

  return (
    <PagedTablePage
      title="Users"
      subtitle="Who can sign in, and with which role"
      actions={
        <Button variant="contained" startIcon={<PersonAddIcon />} onClick={() => setCreating(true)}>
          New user
        </Button>
      }
      noun="users"
      resource={users}
      pager={pager}
      empty={
        <EmptyState icon={<GroupIcon />} title="No users">
          <Typography variant="body2">Create the first user with “New user”.</Typography>
        </EmptyState>
      }
      toast={toast}
      onToastClose={() => setToast(null)}
      table={(items) => (
        <Table size="small" aria-label="Users">
          <TableHead>
            <TableRow>
              <TableCell>User</TableCell>
              <TableCell sx={{ display: { xs: 'none', md: 'table-cell' } }}>Email</TableCell>
              <TableCell>Role</TableCell>
              <TableCell>Status</TableCell>
              <TableCell sx={{ display: { xs: 'none', sm: 'table-cell' } }}>Created</TableCell>
              <TableCell align="right">Actions</TableCell>
            </TableRow>
          </TableHead>
          <TableBody>
            {items.map((u) => {
              const isSelf = u.id === me.id;
              return (
                <TableRow key={u.id} data-testid={`user-row-${u.username}`} sx={{ opacity: u.active ? 1 : 0.6 }}>
                  <TableCell>
                    <Box sx={{ display: 'flex', alignItems: 'center', gap: 1 }}>
                      <Typography sx={{ fontWeight: 600 }}>{u.username}</Typography>
                      {isSelf && <Chip size="small" label="you" sx={{ height: 20 }} />}
                    </Box>
                  </TableCell>
                  <TableCell sx={{ display: { xs: 'none', md: 'table-cell' }, color: 'text.secondary' }}>{u.email ?? '—'}</TableCell>
                  <TableCell>
                    <RoleChip role={u.role} />
                  </TableCell>
                  <TableCell>
                    <Chip
                      size="small"
                      variant="outlined"
                      label={u.active ? 'active' : 'deactivated'}
                      color={u.active ? 'success' : 'default'}
                      data-testid="user-status"
                      data-active={String(u.active)}
                    />
                  </TableCell>
                  <TableCell sx={{ display: { xs: 'none', sm: 'table-cell' }, whiteSpace: 'nowrap' }}>
                    <Tooltip title={formatDateTime(u.created_at)}>
                      <span>{formatRelative(u.created_at, now)}</span>
                    </Tooltip>
                  </TableCell>
                  <TableCell align="right">
                    <UserActions
                      user={u}
                      isSelf={isSelf}
                      onRole={() => setRoleOf(u)}
                      onPassword={() => setPasswordOf(u)}
                      onDeactivate={() => setDeactivating(u)}
                      onReactivate={() => setActive(u, true).catch((err: unknown) => setToast({ kind: 'error', text: err instanceof Error ? err.message : String(err) }))}
                    />
                  </TableCell>
                </TableRow>
              );
            })}
          </TableBody>
        </Table>
      )}
    >

      <CreateUserDialog
        open={creating}
        onClose={() => setCreating(false)}
        onCreated={(u) => {
          setCreating(false);
          setToast({ kind: 'success', text: `Created ${u.username} (${u.role})` });
          reload();
        }}
      />
      <ChangeRoleDialog
        user={roleOf}
        onClose={() => setRoleOf(null)}
        onSaved={(u) => {
          setRoleOf(null);
          replace(u);
          setToast({ kind: 'success', text: `${u.username} is now ${u.role}` });
        }}
      />
      <SetPasswordDialog
        user={passwordOf}
        isSelf={passwordOf?.id === me.id}
        onClose={() => setPasswordOf(null)}
        onSaved={(u) => {
          setPasswordOf(null);
          setToast({ kind: 'success', text: `New password set for ${u.username}; their sessions have ended` });
        }}
      />
      <ConfirmDialog
        open={deactivating !== null}
        title={`Deactivate ${deactivating?.username ?? ''}?`}
        confirmLabel="Deactivate"
        onClose={() => setDeactivating(null)}
        onConfirm={async () => {
          if (deactivating) await setActive(deactivating, false);
        }}
      >
        {deactivating?.username} is signed out at once and cannot sign in, and the API keys they created stop working. You can reactivate the account later.
      </ConfirmDialog>
    </PagedTablePage>
  );
}
