import type { NextConfig } from 'next';

/**
 * The dashboard renders every page at request time (the root layout reads the gateway's public URL
 * from the environment), talks to the gateway through the same-origin proxy in
 * app/api/v2/[...path]/route.ts and never reaches the internet: no remote fonts, no telemetry
 * (NEXT_TELEMETRY_DISABLED=1 in every script), SWC from the installed @next/swc-* package.
 */
/**
 * Headers for every page and route of the dashboard: no framing (clickjacking), no MIME sniffing, no
 * referrer leaking URLs (which carry filters and ids) to other sites, and no powerful features.
 * script-src is left to the default because Next.js inlines its bootstrap scripts; the refresh
 * token is out of reach of scripts anyway (HttpOnly cookie, see lib/server/session.ts).
 */
const SECURITY_HEADERS = [
  { key: 'Content-Security-Policy', value: "frame-ancestors 'none'; base-uri 'self'; object-src 'none'; form-action 'self'" },
  { key: 'X-Frame-Options', value: 'DENY' },
  { key: 'X-Content-Type-Options', value: 'nosniff' },
  { key: 'Referrer-Policy', value: 'same-origin' },
  { key: 'Permissions-Policy', value: 'camera=(), microphone=(), geolocation=(), payment=(), usb=()' },
  { key: 'Cross-Origin-Opener-Policy', value: 'same-origin' },
];

const nextConfig: NextConfig = {
  reactStrictMode: true,
  async headers() {
    return [{ source: '/:path*', headers: SECURITY_HEADERS }];
  },
  poweredByHeader: false,
  images: { unoptimized: true },
  serverExternalPackages: ['prom-client'],
};

export default nextConfig;
