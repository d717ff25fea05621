'use client';

import Chip from '@mui/material/Chip';
import type { Role } from '@/lib/types';

const ROLE_COLOR = { admin: 'secondary', operator: 'primary', viewer: 'default' } as const;

export function RoleChip({ role }: { role: Role }) {
  return <Chip size="small" variant="outlined" label={role} color={ROLE_COLOR[role]} data-testid="role-chip" data-role={role} />;
}
