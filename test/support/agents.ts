/** An agent as the registry answers it, for the stand-ins of the registry in integration tests. */
import type { Agent } from '@agentmon/contracts';

/** A registered, online agent named by its id, with nothing else known unless `patch` says so. */
export function agentRecord(id: string, patch: Partial<Agent> = {}): Agent {
  const now = new Date().toISOString();
  return {
    id,
    name: id,
    type: null,
    version: null,
    host: null,
    region: null,
    status: 'online',
    last_seen: now,
    tags: {},
    groups: [],
    config_version: null,
    created_at: now,
    ...patch,
  };
}
