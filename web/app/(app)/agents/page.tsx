import type { Metadata } from 'next';
import { Suspense } from 'react';
import { LoadingState } from '@/components/States';
import { AgentsView } from './AgentsView';

export const metadata: Metadata = { title: 'Agents' };

export default function AgentsPage() {
  return (
    <Suspense fallback={<LoadingState />}>
      <AgentsView />
    </Suspense>
  );
}
