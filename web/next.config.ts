import type { NextConfig } from 'next';

/**
 * The dashboard renders every page at request time (the root layout reads the gateway's public URL
 * from the environment), talks to the gateway through the same-origin proxy in
 * app/api/v2/[...path]/route.ts and never reaches the internet: no remote fonts, no telemetry
 * (NEXT_TELEMETRY_DISABLED=1 in every script), SWC from the installed @next/swc-* package.
 */
const nextConfig: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  images: { unoptimized: true },
  serverExternalPackages: ['prom-client'],
};

export default nextConfig;
