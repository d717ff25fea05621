'use client';

import { createContext, useContext, type ReactNode } from 'react';

/** Settings the server reads from its environment at request time and hands to the browser. */
export interface RuntimeConfig {
  /** Where the browser opens socket.io; '' means the page's own origin (an ingress routes /ws to the gateway). */
  gatewayPublicUrl: string;
}

const RuntimeConfigContext = createContext<RuntimeConfig>({ gatewayPublicUrl: '' });

export function RuntimeConfigProvider({ value, children }: { value: RuntimeConfig; children: ReactNode }) {
  return <RuntimeConfigContext.Provider value={value}>{children}</RuntimeConfigContext.Provider>;
}

export function useRuntimeConfig(): RuntimeConfig {
  return useContext(RuntimeConfigContext);
}
