'use client';

import { ErrorState } from '@/components/States';

/** A page that throws while rendering shows this inside the shell instead of a blank screen. */
export default function PageError({ error, retry }: { error: unknown; retry: () => void }) {
  const digest = error instanceof Error && 'digest' in error && typeof error.digest === 'string' ? error.digest : null;
  const message = digest ? `Reference: ${digest}` : error instanceof Error ? error.message : 'An unexpected error occurred.';
  return <ErrorState title="This page failed to render" message={message} onRetry={retry} />;
}
