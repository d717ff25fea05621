'use client';

/** Last-resort page when the root layout itself fails; plain HTML because the theme may be what broke. */
export default function GlobalError({ error, retry }: { error: unknown; retry: () => void }) {
  const digest = error instanceof Error && 'digest' in error && typeof error.digest === 'string' ? error.digest : null;
  return (
    <html lang="en">
      <body style={{ background: '#111217', color: '#ccccdc', fontFamily: 'system-ui, sans-serif', display: 'grid', placeItems: 'center', minHeight: '100vh', margin: 0 }}>
        <title>agentmon</title>
        <main style={{ textAlign: 'center', padding: 16 }}>
          <h1 style={{ fontSize: '1.4rem' }}>The dashboard failed to load</h1>
          <p style={{ opacity: 0.7 }}>{digest ? `Reference: ${digest}` : 'An unexpected error occurred.'}</p>
          <button type="button" onClick={retry} style={{ padding: '8px 16px', cursor: 'pointer' }}>
            Try again
          </button>
        </main>
      </body>
    </html>
  );
}
