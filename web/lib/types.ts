/**
 * The shapes the dashboard reads from the gateway (see /work/shared/CONTRACT.md). They are declared
 * here rather than imported from @agentmon/contracts so that the browser bundle carries no zod
 * schemas and the web build does not depend on the libraries being built first.
 */
export type Role = 'viewer' | 'operator' | 'admin';
export type AgentStatus = 'online' | 'offline' | 'degraded';
export type Severity = 'info' | 'warning' | 'critical';
export type AlertStatus = 'pending' | 'firing' | 'resolved';

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type?: string;
  /** seconds */
  expires_in: number;
}

export interface Profile {
  id: string;
  username: string;
  email: string | null;
  role: Role;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface Agent {
  id: string;
  name: string;
  type: string | null;
  version: string | null;
  host: string | null;
  region: string | null;
  status: AgentStatus;
  last_seen: string | null;
  tags: Record<string, string>;
  groups?: string[];
  config_version?: number | null;
  created_at?: string;
}

export interface Alert {
  id: string;
  rule_id?: string;
  rule_name: string;
  agent_id: string;
  status: AlertStatus;
  severity: Severity;
  value: number | null;
  threshold: number | null;
  summary: string;
  labels?: Record<string, string>;
  started_at: string;
  fired_at: string | null;
  resolved_at?: string | null;
  acknowledged_by?: string | null;
  acknowledged_at?: string | null;
}

export interface HistoricalSeries {
  field: string;
  points: Array<[string, number | null]>;
}

export interface HistoricalResult {
  agent_id: string;
  measurement: string;
  interval: string;
  series: HistoricalSeries[];
}

/** Socket events (server → browser). */
export interface AgentStatusChangedEvent {
  agent_id: string;
  from: AgentStatus | null;
  to: AgentStatus;
  at: string;
}
export interface NewMetricsDataEvent {
  agent_id: string;
  measurement: string;
  fields: Record<string, number | boolean | string>;
  /** RFC 3339 or epoch ms */
  time: string | number;
}
export interface AlertEventPayload {
  alert: Alert;
}

export interface ServerToClientEvents {
  agent_status_changed: (e: AgentStatusChangedEvent) => void;
  /** sent just before the gateway closes a socket whose token expired or whose session was revoked */
  session_expired: (e: { message: string }) => void;
  new_metrics_data: (e: NewMetricsDataEvent) => void;
  alert_triggered: (e: AlertEventPayload) => void;
  alert_resolved: (e: AlertEventPayload) => void;
}
export interface ClientToServerEvents {
  subscribe: (p: { agent_ids: string[] }) => void;
  unsubscribe: (p: { agent_ids: string[] }) => void;
}

export const AGENT_STATUSES: readonly AgentStatus[] = ['online', 'degraded', 'offline'];
export const SEVERITIES: readonly Severity[] = ['critical', 'warning', 'info'];

export function canWrite(role: Role | undefined): boolean {
  return role === 'operator' || role === 'admin';
}

export function isAdmin(role: Role | undefined): boolean {
  return role === 'admin';
}

/** API key permissions (CONTRACT.md "Identity and access"). */
export type Permission = 'ingest:write' | 'read' | 'write' | 'admin';
export const PERMISSIONS: readonly Permission[] = ['read', 'write', 'ingest:write', 'admin'];

/** What a user of each role holds, and so the most a key they mint may carry. */
export function rolePermissions(role: Role): Permission[] {
  switch (role) {
    case 'viewer':
      return ['read'];
    case 'operator':
      return ['read', 'write', 'ingest:write'];
    case 'admin':
      return ['read', 'write', 'ingest:write', 'admin'];
  }
}

export const ROLES: readonly Role[] = ['viewer', 'operator', 'admin'];

export interface User {
  id: string;
  username: string;
  email: string | null;
  role: Role;
  active: boolean;
  created_at: string;
  updated_at: string;
}

export interface ApiKey {
  id: string;
  name: string;
  /** the first characters of the key, e.g. amk_3f9a… */
  prefix: string;
  permissions: Permission[];
  owner_id: string;
  agent_id: string | null;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
  created_at: string;
}

export interface CreatedApiKey extends ApiKey {
  /** the whole key: shown once, never again */
  key: string;
}

export interface AuditLog {
  id: string;
  at: string;
  actor: { kind: 'user' | 'api_key' | 'system' | 'anonymous'; id: string; username?: string };
  action: string;
  resource_type: string;
  resource_id: string | null;
  outcome: 'success' | 'failure';
  ip?: string | null;
  before?: unknown;
  after?: unknown;
  service: string;
  request_id?: string;
}
