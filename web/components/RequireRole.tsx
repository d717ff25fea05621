'use client';

import type { ReactNode } from 'react';
import { useUser } from '@/lib/auth';
import type { Role } from '@/lib/types';
import { PageHeader } from './PageHeader';
import { ForbiddenState } from './States';

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/**
 * Renders a page only for roles that may use it. Navigation already hides such pages; this is for a
 * link or a typed URL, and shows a clear 403 instead of a table of errors. The gateway enforces the
 * same rule, so a page that gets 403 anyway (the role changed meanwhile) shows ForbiddenState too.
 */
export function RequireRole({ role, title, children }: { role: Role; title: string; children: ReactNode }) {
  const user = useUser();
  if (RANK[user.role] >= RANK[role]) return <>{children}</>;
  return (
    <>
      <PageHeader title={title} />
      <ForbiddenState>
        This page needs the <strong>{role}</strong> role; you are signed in as <strong>{user.username}</strong> ({user.role}).
      </ForbiddenState>
    </>
  );
}
