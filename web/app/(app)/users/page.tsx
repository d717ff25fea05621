import type { Metadata } from 'next';
import { RequireRole } from '@/components/RequireRole';
import { UsersView } from './UsersView';

export const metadata: Metadata = { title: 'Users' };

export default function UsersPage() {
  return (
    <RequireRole role="admin" title="Users">
      <UsersView />
    </RequireRole>
  );
}
