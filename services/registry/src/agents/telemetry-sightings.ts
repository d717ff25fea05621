import type { AgentInfo } from '@agentmon/contracts';

/** An agent seen in telemetry: what it said about itself, and when its newest telemetry was received (epoch ms). */
export interface Sighting {
  info: AgentInfo;
  at: number;
}

/** What the registry reads of one `evt.ingest.telemetry.agents.v1` message. */
export interface TelemetryAgentsMessage {
  agents: readonly AgentInfo[];
  received_at: number;
}

/**
 * The agents of several telemetry messages, once each, as one write would store them after the
 * messages one by one: the latest received_at of the agent (last_seen never goes back), and what it
 * said about itself merged in message order (a later message's field wins; tags merge key by key,
 * as they do when stored; a field or tag no message mentions stays absent).
 */
export function mergeSightings(messages: readonly TelemetryAgentsMessage[]): Sighting[] {
  const byId = new Map<string, Sighting>();
  for (const m of messages) {
    for (const info of m.agents) {
      const seen = byId.get(info.id);
      if (!seen) {
        byId.set(info.id, { info, at: m.received_at });
        continue;
      }
      seen.info = mergeInfo(seen.info, info);
      if (m.received_at > seen.at) seen.at = m.received_at;
    }
  }
  return [...byId.values()];
}

/** `later` over `earlier`, without changing either. */
function mergeInfo(earlier: AgentInfo, later: AgentInfo): AgentInfo {
  const merged: AgentInfo = { ...earlier };
  for (const key of ['name', 'type', 'version', 'host', 'region'] as const) {
    if (later[key] !== undefined) merged[key] = later[key];
  }
  if (later.tags) merged.tags = { ...earlier.tags, ...later.tags };
  return merged;
}
