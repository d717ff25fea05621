import type { Metadata } from 'next';
import { Suspense } from 'react';
import { RequireRole } from '@/components/RequireRole';
import { LoadingState } from '@/components/States';
import { AuditView } from './AuditView';

export const metadata: Metadata = { title: 'Audit log' };

export default function AuditPage() {
  return (
    <RequireRole role="admin" title="Audit log">
      <Suspense fallback={<LoadingState />}>
        <AuditView />
      </Suspense>
    </RequireRole>
  );
}
