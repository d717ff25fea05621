import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import {
  AppError,
  type Agent,
  type AgentConfig,
  type AgentInfo,
  type AgentStatus,
  type Principal,
  type RpcParsedRequest,
} from '@agentmon/contracts';
import { decodeCursor, encodeCursor } from '@agentmon/persistence';
import { OutboxPublisher } from '../outbox/outbox.publisher.js';
import { REGISTRY_CONFIG, type RegistryConfig } from '../config.js';

interface AgentRow {
  id: string;
  name: string;
  type: string | null;
  version: string | null;
  host: string | null;
  region: string | null;
  status: AgentStatus;
  last_seen: Date | null;
  config_version: number | null;
  created_at: Date;
  tags: Record<string, string> | null;
}

const SELECT_AGENT = `
  SELECT a.id, a.name, a.type, a.version, a.host, a.region, a.status, a.last_seen, a.config_version, a.created_at,
         (SELECT jsonb_object_agg(t.key, t.value) FROM agent_tags t WHERE t.agent_id = a.id) AS tags
  FROM agents a`;

/** Agent lifecycle: registration, heartbeats, status, tags and configuration versions. */
@Injectable()
export class AgentsService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly outbox: OutboxPublisher,
    @Inject(REGISTRY_CONFIG) private readonly config: RegistryConfig,
  ) {}

  async list(q: RpcParsedRequest<'rpc.registry.agent.list.v1'>): Promise<{ items: Agent[]; next_cursor: string | null }> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, ...values: unknown[]) => {
      let s = sql;
      for (const v of values) {
        params.push(v);
        s = s.replace('?', `$${params.length}`);
      }
      where.push(s);
    };
    if (q.status) add('a.status = ?', q.status);
    if (q.tag) {
      const i = q.tag.indexOf(':');
      add('EXISTS (SELECT 1 FROM agent_tags t WHERE t.agent_id = a.id AND t.key = ? AND t.value = ?)', q.tag.slice(0, i), q.tag.slice(i + 1));
    }
    // Groups are not modelled yet: a group filter matches no agent.
    if (q.group) where.push('false');
    if (q.q) {
      const like = `%${q.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      add('(a.id ILIKE ? OR a.name ILIKE ? OR a.host ILIKE ?)', like, like, like);
    }
    const after = decodeCursor<string>(q.cursor);
    if (after !== undefined) add('a.id > ?', after);
    params.push(q.limit + 1);
    const rows: AgentRow[] = await this.ds.query(
      `${SELECT_AGENT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY a.id LIMIT $${params.length}`,
      params,
    );
    const page = rows.slice(0, q.limit);
    return {
      items: page.map(toAgent),
      next_cursor: rows.length > q.limit ? encodeCursor(page[page.length - 1]!.id) : null,
    };
  }

  async get(id: string, em: EntityManager = this.ds.manager): Promise<Agent> {
    const rows: AgentRow[] = await em.query(`${SELECT_AGENT} WHERE a.id = $1`, [id]);
    if (!rows[0]) throw AppError.notFound('agent', id);
    return toAgent(rows[0]);
  }

  async counts(): Promise<{ total: number; online: number; offline: number; degraded: number }> {
    const rows: { status: AgentStatus; n: string }[] = await this.ds.query('SELECT status, count(*) AS n FROM agents GROUP BY status');
    const out = { total: 0, online: 0, offline: 0, degraded: 0 };
    for (const r of rows) {
      out[r.status] = Number(r.n);
      out.total += Number(r.n);
    }
    return out;
  }

  /** Pre-registers an agent that has not pushed yet; it is offline until it does. */
  async create(principal: Principal, info: AgentInfo): Promise<Agent> {
    const agent = await this.ds.transaction(async (em) => {
      const inserted: unknown[] = await em.query(
        `INSERT INTO agents (id, name, type, version, host, region, status)
         VALUES ($1, $2, $3, $4, $5, $6, 'offline') ON CONFLICT (id) DO NOTHING RETURNING id`,
        [info.id, info.name ?? info.id, info.type ?? null, info.version ?? null, info.host ?? null, info.region ?? null],
      );
      if (inserted.length === 0) throw new AppError('conflict', `agent ${info.id} already exists`);
      await this.replaceTags(em, info.id, info.tags ?? {});
      const created = await this.get(info.id, em);
      await this.audit(em, principal, 'agent.create', info.id, undefined, created);
      return created;
    });
    this.outbox.flushSoon();
    return agent;
  }

  async update(principal: Principal, id: string, patch: Omit<AgentInfo, 'id'>): Promise<Agent> {
    const agent = await this.ds.transaction(async (em) => {
      const before = await this.get(id, em);
      const sets: string[] = [];
      const params: unknown[] = [id];
      for (const key of ['name', 'type', 'version', 'host', 'region'] as const) {
        if (patch[key] !== undefined) {
          params.push(patch[key]);
          sets.push(`${key} = $${params.length}`);
        }
      }
      if (sets.length) await em.query(`UPDATE agents SET ${sets.join(', ')}, updated_at = now() WHERE id = $1`, params);
      if (patch.tags) await this.replaceTags(em, id, patch.tags);
      const after = await this.get(id, em);
      await this.audit(em, principal, 'agent.update', id, before, after);
      return after;
    });
    this.outbox.flushSoon();
    return agent;
  }

  async delete(principal: Principal, id: string): Promise<void> {
    await this.ds.transaction(async (em) => {
      const before = await this.get(id, em);
      await em.query('DELETE FROM agents WHERE id = $1', [id]);
      await this.audit(em, principal, 'agent.delete', id, before, undefined);
    });
    this.outbox.flushSoon();
  }

  async getConfig(id: string): Promise<AgentConfig> {
    await this.get(id);
    const rows: { version: number; config: Record<string, unknown> }[] = await this.ds.query(
      'SELECT version, config FROM agent_configs WHERE agent_id = $1 ORDER BY version DESC LIMIT 1',
      [id],
    );
    return rows[0] ?? { version: 0, config: {} };
  }

  /** Each PUT makes a new version; concurrent writers are serialised on the agent row. */
  async putConfig(principal: Principal, id: string, config: Record<string, unknown>): Promise<AgentConfig> {
    const result = await this.ds.transaction(async (em) => {
      const locked: unknown[] = await em.query('SELECT id FROM agents WHERE id = $1 FOR UPDATE', [id]);
      if (locked.length === 0) throw AppError.notFound('agent', id);
      const [{ next }]: { next: number }[] = await em.query(
        'SELECT COALESCE(MAX(version), 0) + 1 AS next FROM agent_configs WHERE agent_id = $1',
        [id],
      );
      await em.query('INSERT INTO agent_configs (agent_id, version, config, created_by) VALUES ($1, $2, $3, $4)', [
        id,
        next,
        JSON.stringify(config),
        principal.username,
      ]);
      await this.audit(em, principal, 'agent.config.update', id, undefined, { version: next });
      return { version: next, config };
    });
    this.outbox.flushSoon();
    return result;
  }

  /** A heartbeat without points: registers an unknown agent and sets its status. */
  async heartbeat(hb: RpcParsedRequest<'rpc.registry.agent.heartbeat.v1'>): Promise<Agent> {
    const status: AgentStatus = hb.status === 'degraded' ? 'degraded' : 'online';
    const agent = await this.ds.transaction(async (em) => {
      await this.seen(em, [{ id: hb.agent_id, version: hb.version }], new Date(), status);
      if (hb.config_version !== undefined) {
        await em.query('UPDATE agents SET config_version = $2 WHERE id = $1', [hb.agent_id, hb.config_version]);
      }
      return this.get(hb.agent_id, em);
    });
    this.outbox.flushSoon();
    return agent;
  }

  /** Telemetry arrived: every agent in it is registered if new and marked seen. */
  async recordTelemetry(agents: AgentInfo[], agentIds: string[], receivedAt: Date): Promise<void> {
    const byId = new Map<string, AgentInfo>();
    for (const id of agentIds) byId.set(id, { id });
    for (const a of agents) byId.set(a.id, a);
    if (byId.size === 0) return;
    await this.ds.transaction((em) => this.seen(em, [...byId.values()], receivedAt, undefined));
    this.outbox.flushSoon();
  }

  /**
   * Marks agents seen at `at`. New agents are registered (online). An offline agent comes back
   * online; a degraded one stays degraded unless a heartbeat says otherwise (`status`).
   */
  private async seen(em: EntityManager, agents: AgentInfo[], at: Date, status: AgentStatus | undefined): Promise<void> {
    const ids = agents.map((a) => a.id).sort();
    const existing: { id: string; status: AgentStatus }[] = await em.query(
      'SELECT id, status FROM agents WHERE id = ANY($1) ORDER BY id FOR UPDATE',
      [ids],
    );
    const before = new Map(existing.map((r) => [r.id, r.status]));
    for (const info of agents) {
      const prev = before.get(info.id);
      // A redelivered batch older than the timeout must not bring an offline agent back.
      const stale = Date.now() - at.getTime() > this.config.HEARTBEAT_TIMEOUT_MS;
      const next: AgentStatus = status ?? (prev === 'degraded' ? 'degraded' : prev === 'offline' && stale ? 'offline' : 'online');
      if (prev === undefined) {
        await em.query(
          `INSERT INTO agents (id, name, type, version, host, region, status, last_seen, status_changed_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
           ON CONFLICT (id) DO UPDATE SET last_seen = GREATEST(agents.last_seen, EXCLUDED.last_seen)`,
          [info.id, info.name ?? info.id, info.type ?? null, info.version ?? null, info.host ?? null, info.region ?? null, next, at],
        );
        if (info.tags) await this.replaceTags(em, info.id, info.tags);
        const agent = await this.get(info.id, em);
        await this.outbox.record(em, 'evt.registry.agent.registered.v1', agent);
        await this.outbox.record(em, 'evt.registry.agent.status-changed.v1', { agent_id: info.id, from: null, to: next, at: at.toISOString() });
        continue;
      }
      // What the agent says about itself wins over what was stored; absent fields stay as they are.
      await em.query(
        `UPDATE agents SET
           last_seen = GREATEST(COALESCE(last_seen, $2), $2),
           status = $3,
           status_changed_at = CASE WHEN status <> $3 THEN $2 ELSE status_changed_at END,
           name = COALESCE($4, name), type = COALESCE($5, type), version = COALESCE($6, version),
           host = COALESCE($7, host), region = COALESCE($8, region)
         WHERE id = $1`,
        [info.id, at, next, info.name ?? null, info.type ?? null, info.version ?? null, info.host ?? null, info.region ?? null],
      );
      if (info.tags) await this.mergeTags(em, info.id, info.tags);
      if (prev !== next) {
        await this.outbox.record(em, 'evt.registry.agent.status-changed.v1', { agent_id: info.id, from: prev, to: next, at: at.toISOString() });
      }
    }
  }

  /** Agents with no heartbeat for the timeout go offline. Safe with several replicas. */
  async markOffline(now = new Date()): Promise<number> {
    const changed = await this.ds.transaction(async (em) => {
      // UPDATE ... RETURNING: the query runner's structured result carries the returned rows.
      const { records: rows }: { records: { id: string; prev: AgentStatus }[] } = await em.queryRunner!.query(
        `WITH stale AS (
           SELECT id, status FROM agents
           WHERE status <> 'offline' AND last_seen < $1
           ORDER BY id FOR UPDATE SKIP LOCKED
         )
         UPDATE agents a SET status = 'offline', status_changed_at = $2
         FROM stale WHERE a.id = stale.id
         RETURNING a.id, stale.status AS prev`,
        [new Date(now.getTime() - this.config.HEARTBEAT_TIMEOUT_MS), now],
        true,
      );
      for (const r of rows) {
        await this.outbox.record(em, 'evt.registry.agent.status-changed.v1', { agent_id: r.id, from: r.prev, to: 'offline', at: now.toISOString() });
      }
      return rows.length;
    });
    if (changed) this.outbox.flushSoon();
    return changed;
  }

  private async replaceTags(em: EntityManager, id: string, tags: Record<string, string>): Promise<void> {
    await em.query('DELETE FROM agent_tags WHERE agent_id = $1', [id]);
    await this.mergeTags(em, id, tags);
  }

  private async mergeTags(em: EntityManager, id: string, tags: Record<string, string>): Promise<void> {
    const entries = Object.entries(tags);
    if (!entries.length) return;
    await em.query(
      `INSERT INTO agent_tags (agent_id, key, value)
       SELECT $1, k, v FROM unnest($2::text[], $3::text[]) AS t(k, v)
       ON CONFLICT (agent_id, key) DO UPDATE SET value = EXCLUDED.value`,
      [id, entries.map(([k]) => k), entries.map(([, v]) => v)],
    );
  }

  private async audit(em: EntityManager, principal: Principal, action: string, resourceId: string, before: unknown, after: unknown) {
    await this.outbox.record(em, 'evt.audit.recorded.v1', {
      id: crypto.randomUUID(),
      at: Date.now(),
      actor: { kind: principal.kind, id: principal.id, username: principal.username },
      action,
      resource_type: 'agent',
      resource_id: resourceId,
      outcome: 'success',
      ip: principal.ip ?? null,
      ...(before !== undefined ? { before } : {}),
      ...(after !== undefined ? { after } : {}),
      service: 'registry',
    });
  }
}

function toAgent(r: AgentRow): Agent {
  return {
    id: r.id,
    name: r.name,
    type: r.type,
    version: r.version,
    host: r.host,
    region: r.region,
    status: r.status,
    last_seen: r.last_seen ? new Date(r.last_seen).toISOString() : null,
    tags: r.tags ?? {},
    groups: [],
    config_version: r.config_version,
    created_at: new Date(r.created_at).toISOString(),
  };
}
