import { webMetrics } from '@/lib/server/metrics';

export const dynamic = 'force-dynamic';

export async function GET(): Promise<Response> {
  const { registry } = webMetrics();
  return new Response(await registry.metrics(), { headers: { 'Content-Type': registry.contentType } });
}
