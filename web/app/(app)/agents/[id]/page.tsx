import type { Metadata } from 'next';
import { Suspense } from 'react';
import { LoadingState } from '@/components/States';
import { AgentView } from './AgentView';

interface Props {
  params: Promise<{ id: string }>;
}

function agentId(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { id } = await params;
  return { title: agentId(id) };
}

export default async function AgentPage({ params }: Props) {
  const { id } = await params;
  return (
    <Suspense fallback={<LoadingState />}>
      <AgentView id={agentId(id)} />
    </Suspense>
  );
}
