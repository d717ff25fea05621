export const dynamic = 'force-dynamic';

/** The dashboard server is up and answering. */
export function GET(): Response {
  return Response.json({ status: 'ok' });
}
