/**
 * Every Redis key of the service, under one prefix. Agent ids may contain ':' and so always come
 * last in a key.
 */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  /** bumped on every rule change, so each replica reloads its rule cache */
  rulesVersion(): string {
    return `${this.prefix}rules:version`;
  }
  /** sorted set of `time|value` samples (score = time) of one threshold leaf of one rule revision for one agent */
  samples(ruleId: string, revision: number, leafPath: string, agentId: string): string {
    return `${this.prefix}samples:${ruleId}:${revision}:${leafPath}:${agentId}`;
  }
  /** hash measurement -> epoch ms of the latest point, and '*' -> latest point of any measurement */
  lastSeen(agentId: string): string {
    return `${this.prefix}seen:${agentId}`;
  }
  /** hash agent id -> epoch ms when the registry declared it offline */
  offlineAgents(): string {
    return `${this.prefix}offline`;
  }
  /** set of agents found in scope of a rule revision that has absence conditions (what the sweep checks) */
  absenceAgents(ruleId: string, revision: number): string {
    return `${this.prefix}absence-agents:${ruleId}:${revision}`;
  }
  /** the lock that lets one replica at a time run the evaluation tick */
  tickLock(): string {
    return `${this.prefix}lock:tick`;
  }
}
