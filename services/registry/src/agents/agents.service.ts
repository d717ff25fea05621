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
import { RegistryMetrics } from '../metrics/registry-metrics.js';
import { HeartbeatThrottle } from './heartbeat-throttle.js';
import { mergeSightings, type Sighting, type TelemetryAgentsMessage } from './telemetry-sightings.js';

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

/** One agent as seen() wrote it: its status before (null when inserted) and after. */
interface SeenRow {
  id: string;
  prev: AgentStatus | null;
  status: AgentStatus;
  inserted: boolean;
  created_at: Date | null;
}
/** Each written agent's status; `changed` when some agent was registered or changed status. */
type SeenOutcome = Map<string, AgentStatus> & { changed: boolean };

/**
 * Marks agents seen, set-based. $1 ids (sorted, distinct), $2-$6 name, type, version, host, region
 * (null when the agent did not say), $7 when each was seen (ISO text, also what its events say), $8
 * whether that is older than the heartbeat timeout, $9 a status a heartbeat sets (else null), $10-$12
 * tags as (agent, key, value).
 *
 * `old` locks the existing rows in id order and reads their status after any concurrent writer
 * committed; `updated` writes them from that status, `inserted` adds the missing ones (a row
 * another transaction inserted meanwhile is left alone: the caller runs the statement again for
 * it). Tags merge (a changed value only); status changes of existing agents go to the outbox here,
 * registrations (which carry the whole agent) are recorded by the caller.
 */
const UPSERT_SEEN = `
  WITH input AS (
    SELECT t.*, t.at_text::timestamptz AS at
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::boolean[])
      AS t(id, name, type, version, host, region, at_text, stale)
  ),
  old AS (
    SELECT a.id, a.status FROM agents a WHERE a.id = ANY($1::text[]) ORDER BY a.id FOR UPDATE
  ),
  next AS (
    SELECT o.id, o.status AS prev,
           CASE WHEN $9::text IS NOT NULL THEN $9::text
                WHEN o.status = 'offline' AND NOT i.stale THEN 'online'
                ELSE o.status END AS status
    FROM old o JOIN input i ON i.id = o.id
  ),
  updated AS (
    UPDATE agents a SET
      last_seen = GREATEST(COALESCE(a.last_seen, i.at), i.at),
      status = n.status,
      status_changed_at = CASE WHEN n.status <> n.prev THEN i.at ELSE a.status_changed_at END,
      name = COALESCE(i.name, a.name), type = COALESCE(i.type, a.type), version = COALESCE(i.version, a.version),
      host = COALESCE(i.host, a.host), region = COALESCE(i.region, a.region)
    FROM next n JOIN input i ON i.id = n.id
    WHERE a.id = n.id
    RETURNING a.id, n.prev, a.status, i.at_text
  ),
  inserted AS (
    INSERT INTO agents (id, name, type, version, host, region, status, last_seen, status_changed_at)
    SELECT i.id, COALESCE(i.name, i.id), i.type, i.version, i.host, i.region, COALESCE($9::text, 'online'), i.at, i.at
    FROM input i WHERE NOT EXISTS (SELECT 1 FROM old o WHERE o.id = i.id)
    ORDER BY i.id
    ON CONFLICT (id) DO NOTHING
    RETURNING id, status, created_at
  ),
  tags AS (
    INSERT INTO agent_tags (agent_id, key, value)
    SELECT * FROM unnest($10::text[], $11::text[], $12::text[])
    ON CONFLICT (agent_id, key) DO UPDATE SET value = EXCLUDED.value WHERE agent_tags.value <> EXCLUDED.value
  ),
  changes AS (
    INSERT INTO outbox (subject, payload)
    SELECT 'evt.registry.agent.status-changed.v1', jsonb_build_object('agent_id', c.id, 'from', c.prev, 'to', c.status, 'at', c.at_text)
    FROM (SELECT id, prev, status, at_text FROM updated WHERE status <> prev
          UNION ALL SELECT n.id, NULL, n.status, i.at_text FROM inserted n JOIN input i ON i.id = n.id) c
  )
  SELECT id, prev, status, false AS inserted, NULL::timestamptz AS created_at FROM updated
  UNION ALL
  SELECT id, NULL, status, true, created_at FROM inserted`;

/** Agent lifecycle: registration, heartbeats, status, tags and configuration versions. */
@Injectable()
export class AgentsService {
  private readonly throttle: HeartbeatThrottle;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly outbox: OutboxPublisher,
    @Inject(REGISTRY_CONFIG) private readonly config: RegistryConfig,
    private readonly metrics: RegistryMetrics,
  ) {
    this.throttle = new HeartbeatThrottle(config.HEARTBEAT_WRITE_THROTTLE_MS);
  }

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
    this.throttle.forget(info.id);
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
    // the agent's own info and tags are merged again at its next telemetry
    this.throttle.forget(id);
    this.outbox.flushSoon();
    return agent;
  }

  async delete(principal: Principal, id: string): Promise<void> {
    await this.ds.transaction(async (em) => {
      const before = await this.get(id, em);
      await em.query('DELETE FROM agents WHERE id = $1', [id]);
      await this.audit(em, principal, 'agent.delete', id, before, undefined);
    });
    // an agent that still sends is registered again at its next telemetry
    this.throttle.forget(id);
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
      const info: AgentInfo = { id: hb.agent_id, ...(hb.version !== undefined ? { version: hb.version } : {}) };
      await this.seen(em, [{ info, at: Date.now() }], status);
      if (hb.config_version !== undefined) {
        await em.query('UPDATE agents SET config_version = $2 WHERE id = $1', [hb.agent_id, hb.config_version]);
      }
      return this.get(hb.agent_id, em);
    });
    this.throttle.forget(hb.agent_id);
    this.outbox.flushSoon();
    return agent;
  }

  /** Telemetry of one message arrived (recordTelemetryBatch of that message alone). */
  async recordTelemetry(agents: readonly AgentInfo[], receivedAt: Date): Promise<number> {
    return this.recordTelemetryBatch([{ agents, received_at: receivedAt.getTime() }]);
  }

  /**
   * Telemetry arrived: every agent of these messages is registered if new and marked seen, in one
   * transaction for all of them, as if the messages had been recorded one after the other (each
   * agent seen at its latest received_at, what it said merged in message order: mergeSightings).
   * Agents this replica recently wrote as online that bring nothing new cost nothing
   * (HeartbeatThrottle), and messages whose agents are all like that open no transaction. Answers
   * how many agents were written.
   */
  async recordTelemetryBatch(messages: readonly TelemetryAgentsMessage[]): Promise<number> {
    const due = mergeSightings(messages).filter((s) => this.throttle.needsWrite(s.info, s.at));
    if (due.length === 0) {
      this.metrics.telemetryMessages.inc(messages.length);
      return 0;
    }
    const outcome = await this.ds.transaction((em) => this.seen(em, due, undefined));
    this.metrics.heartbeatTransactions.inc();
    this.metrics.telemetryMessages.inc(messages.length);
    for (const s of due) {
      const status = outcome.get(s.info.id);
      if (status) this.throttle.wrote(s.info, status, s.at);
      else this.throttle.forget(s.info.id);
    }
    if (outcome.changed) this.outbox.flushSoon();
    return due.length;
  }

  /** A status change seen on the event stream (from any replica). */
  statusObserved(agentId: string, status: AgentStatus): void {
    this.throttle.statusIs(agentId, status);
  }

  /** Status events may have been missed: every agent is written at its next telemetry. */
  forgetWrittenAgents(): void {
    this.throttle.forgetAll();
  }

  /**
   * Marks agents seen, each at its own time, with one statement for all of them (and one more when
   * some are new; the agents must be distinct).
   * New agents are registered (online, or `status`); an offline agent comes back online unless the
   * telemetry is older than the timeout (a redelivered backlog must not bring it back); a degraded
   * one stays degraded unless a heartbeat says otherwise (`status`). What an agent says about itself
   * wins over what was stored; absent fields and tags stay as they are. Status changes and
   * registrations are recorded in the outbox in the same transaction. Answers each agent's status.
   */
  private async seen(em: EntityManager, sightings: readonly Sighting[], status: AgentStatus | undefined): Promise<SeenOutcome> {
    const statuses = new Map<string, AgentStatus>() as SeenOutcome;
    statuses.changed = false;
    let pending = [...sightings].sort((a, b) => (a.info.id < b.info.id ? -1 : a.info.id > b.info.id ? 1 : 0));
    // An agent inserted by another replica after this statement's snapshot is neither updated nor
    // inserted by it; the next statement (a new snapshot) updates it.
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt === 3) throw new Error(`agents ${pending.map((s) => s.info.id).join(', ')} could be neither inserted nor updated`);
      const rows = await this.upsertSeen(em, pending, status);
      const registered: Sighting[] = [];
      const byId = new Map(rows.map((r) => [r.id, r]));
      for (const r of rows) {
        statuses.set(r.id, r.status);
        if (r.inserted || r.prev !== r.status) statuses.changed = true;
      }
      for (const s of pending) if (byId.get(s.info.id)?.inserted) registered.push(s);
      if (registered.length) {
        await this.outbox.recordMany(
          em,
          registered.map(({ info: a, at }) => {
            const row = byId.get(a.id)!;
            const agent: Agent = {
              id: a.id,
              name: a.name ?? a.id,
              type: a.type ?? null,
              version: a.version ?? null,
              host: a.host ?? null,
              region: a.region ?? null,
              status: row.status,
              last_seen: new Date(at).toISOString(),
              tags: a.tags ?? {},
              groups: [],
              config_version: null,
              created_at: new Date(row.created_at!).toISOString(),
            };
            return { subject: 'evt.registry.agent.registered.v1' as const, payload: agent };
          }),
        );
      }
      pending = pending.filter((s) => !byId.has(s.info.id));
    }
    return statuses;
  }

  /**
   * The statement behind seen(): locks the existing rows in id order (replicas never deadlock on
   * agents), updates them from the same lock (the status they had is what the CASE reads, so two
   * replicas never both record one transition), inserts the new ones, merges tags and records the
   * status changes in the outbox.
   */
  private async upsertSeen(em: EntityManager, sightings: readonly Sighting[], status: AgentStatus | undefined): Promise<SeenRow[]> {
    const agents = sightings.map((s) => s.info);
    // a redelivered message older than the timeout must not bring an offline agent back
    const staleBefore = Date.now() - this.config.HEARTBEAT_TIMEOUT_MS;
    const col = (k: 'name' | 'type' | 'version' | 'host' | 'region') => agents.map((a) => a[k] ?? null);
    const tagAgent: string[] = [];
    const tagKey: string[] = [];
    const tagValue: string[] = [];
    for (const a of agents) {
      for (const [k, v] of Object.entries(a.tags ?? {})) {
        tagAgent.push(a.id);
        tagKey.push(k);
        tagValue.push(v);
      }
    }
    return em.query(UPSERT_SEEN, [
      agents.map((a) => a.id),
      col('name'),
      col('type'),
      col('version'),
      col('host'),
      col('region'),
      sightings.map((s) => new Date(s.at).toISOString()),
      sightings.map((s) => s.at < staleBefore),
      status ?? null,
      tagAgent,
      tagKey,
      tagValue,
    ]);
  }

  /**
   * Agents with no heartbeat for the timeout go offline (between the timeout and the timeout plus the
   * write throttle after their last batch, never before). Safe with several replicas.
   */
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
        // last_seen may lag the agent's last batch by up to the write throttle: counting the timeout
        // from it would mark an agent offline early, so it is counted from the stored time plus the throttle
        [new Date(now.getTime() - this.config.HEARTBEAT_TIMEOUT_MS - this.config.HEARTBEAT_WRITE_THROTTLE_MS), now],
        true,
      );
      for (const r of rows) {
        await this.outbox.record(em, 'evt.registry.agent.status-changed.v1', { agent_id: r.id, from: r.prev, to: 'offline', at: now.toISOString() });
      }
      return rows.map((r) => r.id);
    });
    for (const id of changed) this.throttle.forget(id);
    if (changed.length) this.outbox.flushSoon();
    return changed.length;
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
