'use client';

import CssBaseline from '@mui/material/CssBaseline';
import { ThemeProvider } from '@mui/material/styles';
import type { ReactNode } from 'react';
import { AuthProvider } from '@/lib/auth';
import { EmotionRegistry } from '@/lib/emotion-registry';
import { RuntimeConfigProvider, type RuntimeConfig } from '@/lib/runtime-config';
import { SocketProvider } from '@/lib/socket';
import { theme } from '@/lib/theme';

export function Providers({ config, children }: { config: RuntimeConfig; children: ReactNode }) {
  return (
    <EmotionRegistry>
      <ThemeProvider theme={theme}>
        <CssBaseline enableColorScheme />
        <RuntimeConfigProvider value={config}>
          <AuthProvider>
            <SocketProvider>{children}</SocketProvider>
          </AuthProvider>
        </RuntimeConfigProvider>
      </ThemeProvider>
    </EmotionRegistry>
  );
}
