import type { Metadata, Viewport } from 'next';
import { connection } from 'next/server';
import type { ReactNode } from 'react';
import { gatewayPublicUrl } from '@/lib/server/env';
import { Providers } from './providers';

export const metadata: Metadata = {
  title: { default: 'agentmon', template: '%s · agentmon' },
  description: 'Monitoring for fleets of software and AI agents',
  icons: { icon: '/icon.svg' },
};

export const viewport: Viewport = {
  themeColor: '#111217',
  colorScheme: 'dark',
  width: 'device-width',
  initialScale: 1,
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  // Rendered per request: the gateway's public URL is configuration of the running server.
  await connection();
  return (
    <html lang="en">
      <body>
        <Providers config={{ gatewayPublicUrl: gatewayPublicUrl() }}>{children}</Providers>
      </body>
    </html>
  );
}
