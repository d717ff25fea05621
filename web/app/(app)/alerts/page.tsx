import type { Metadata } from 'next';
import { Suspense } from 'react';
import { LoadingState } from '@/components/States';
import { AlertsView } from './AlertsView';

export const metadata: Metadata = { title: 'Alerts' };

export default function AlertsPage() {
  return (
    <Suspense fallback={<LoadingState />}>
      <AlertsView />
    </Suspense>
  );
}
