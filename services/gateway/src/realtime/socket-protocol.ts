import { z } from 'zod';
import { AgentIdSchema, reasonPhrase, type ErrorBody } from '@agentmon/contracts';

export const SOCKET_PATH = '/ws/dashboard';
/** Most agents one socket may follow with `subscribe`. */
export const MAX_SUBSCRIPTIONS = 1_000;

export const SubscriptionSchema = z.object({
  agent_ids: z.array(AgentIdSchema).min(1).max(MAX_SUBSCRIPTIONS),
});

export const AGENT_ROOM_PREFIX = 'agent:';
export const agentRoom = (agentId: string) => `${AGENT_ROOM_PREFIX}${agentId}`;

/** A handshake refusal as socket.io clients see it: `connect_error` with `message` and `data`. */
export function handshakeError(statusCode: number, message: string): Error & { data: ErrorBody } {
  const err = new Error(message) as Error & { data: ErrorBody };
  err.data = { statusCode, error: reasonPhrase(statusCode), message };
  return err;
}

/** The JWT `exp` (epoch seconds) of an already verified token; undefined for API keys. */
export function tokenExpiry(token: string): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof payload.exp === 'number' ? payload.exp : undefined;
  } catch {
    return undefined;
  }
}
