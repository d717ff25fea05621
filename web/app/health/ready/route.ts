import { gatewayPublicUrl, gatewayUrl } from '@/lib/server/env';

export const dynamic = 'force-dynamic';

/**
 * Ready when the configuration is valid. The gateway's own health is deliberately not part of
 * it: the dashboard keeps serving (and shows the outage) when the gateway is down, and tying the
 * two together would make Kubernetes drop both at once.
 */
export function GET(): Response {
  try {
    gatewayUrl();
    gatewayPublicUrl();
    return Response.json({ status: 'ok' });
  } catch (err) {
    return Response.json({ status: 'down', message: err instanceof Error ? err.message : String(err) }, { status: 503 });
  }
}
