import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Server as HttpServer } from 'node:http';
import { Server, type Socket } from 'socket.io';
import type { Logger } from 'pino';
import { AppError, COMPRESSED_LINES_SUBJECT, LINES_SUBJECT, validationError, type ErrorBody, type Principal, type RevocationEvent, type TelemetryLines } from '@agentmon/contracts';
import { EventBus } from '@agentmon/messaging';
import { Authenticator } from '../access/authenticator.service.js';
import { allows } from '../access/permissions.js';
import { RevocationListener } from '../access/revocation.listener.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config.js';
import { LOGGER } from '../logger.token.js';
import { SystemHealthService, type SystemHealth } from '../system/system-health.service.js';
import { AGENT_ROOM_PREFIX, MAX_SUBSCRIPTIONS, SOCKET_PATH, SubscriptionSchema, agentRoom, handshakeError, tokenExpiry } from './socket-protocol.js';

interface SocketData {
  principal: Principal;
  token: string;
  expiryTimer?: NodeJS.Timeout;
}
type DashboardSocket = Socket<Record<string, never>, Record<string, (...args: unknown[]) => void>, Record<string, never>, SocketData>;
type Ack = (answer: { ok: true; agent_ids: string[] } | { ok: false; error: ErrorBody }) => void;

/**
 * socket.io at /ws/dashboard on the gateway's HTTP port.
 *
 * Every gateway replica subscribes to every live event on NATS (plain subscriptions, no queue group)
 * and emits to its own sockets only, so no socket.io adapter across replicas is needed: with the
 * Redis adapter each event would reach each socket once per replica. Clients should use the
 * websocket transport (or sticky sessions) when there are several replicas, as socket.io's
 * long-polling needs every request of a session on the same replica.
 *
 * Telemetry is the exception: a replica subscribes to the lines only while at least one of its
 * sockets follows some agent (a socket.io room per agent), and decodes only the lines of the
 * agents followed, so a gateway nobody watches live costs nothing per batch.
 */
@Injectable()
export class DashboardSocketServer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private io: Server | undefined;
  private healthTimer: NodeJS.Timeout | undefined;
  private lastHealth: Pick<SystemHealth, 'status' | 'services'> | undefined;
  /** agents some socket of this replica follows (one room each) */
  private readonly watched = new Set<string>();
  /** ends the telemetry subscription; set while `watched` is not empty */
  private stopTelemetry: (() => void) | undefined;
  /** settles once NATS has the telemetry subscription (a subscribe is answered after it) */
  private telemetrySubscribed: Promise<void> = Promise.resolve();

  constructor(
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
    @Inject(Authenticator) private readonly authenticator: Authenticator,
    @Inject(EventBus) private readonly bus: EventBus,
    @Inject(SystemHealthService) private readonly health: SystemHealthService,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(RevocationListener) private readonly revocations: RevocationListener,
  ) {}

  onApplicationBootstrap(): void {
    const httpServer = this.adapterHost.httpAdapter.getHttpServer() as HttpServer;
    const origins = this.config.CORS_ORIGINS;
    const io = new Server(httpServer, {
      path: SOCKET_PATH,
      serveClient: false,
      maxHttpBufferSize: 64 * 1024,
      cors: { origin: origins, credentials: true, methods: ['GET', 'POST'] },
      // browsers send Origin on websocket upgrades too, where CORS does not apply: check it here
      allowRequest: (req, callback) => {
        const origin = req.headers.origin;
        if (origin === undefined || origins.includes(origin)) callback(null, true);
        else callback('origin not allowed', false);
      },
    });
    this.io = io;
    io.use((socket, next) => {
      void this.authenticate(socket as DashboardSocket).then(
        () => next(),
        (err: Error) => next(err),
      );
    });
    io.on('connection', (raw) => this.onConnection(raw as DashboardSocket));

    // the in-memory adapter creates a room with its first member and deletes it with its last,
    // whether a socket leaves by unsubscribing or by disconnecting
    io.of('/').adapter.on('create-room', (room: string) => {
      if (room.startsWith(AGENT_ROOM_PREFIX)) this.watch(room.slice(AGENT_ROOM_PREFIX.length));
    });
    io.of('/').adapter.on('delete-room', (room: string) => {
      if (room.startsWith(AGENT_ROOM_PREFIX)) this.unwatch(room.slice(AGENT_ROOM_PREFIX.length));
    });
    this.bus.subscribeLive(['evt.registry.agent.status-changed.v1'], (change) => io.emit('agent_status_changed', change));
    this.bus.subscribeLive(['evt.alerting.alert.fired.v1'], (evt) => io.emit('alert_triggered', { alert: evt.alert }));
    this.bus.subscribeLive(['evt.alerting.alert.resolved.v1'], (evt) => io.emit('alert_resolved', { alert: evt.alert }));

    // a revoked session, key or user loses its live connections at once, not at the next health tick
    this.revocations.observe((event) => this.dropRevoked(event));

    this.healthTimer = setInterval(() => void this.tick(), this.config.HEALTH_BROADCAST_MS);
    this.healthTimer.unref();
  }

  beforeApplicationShutdown(): void {
    if (this.healthTimer) clearInterval(this.healthTimer);
    this.stopTelemetry?.();
    this.stopTelemetry = undefined;
    const io = this.io;
    if (!io) return;
    // close the sockets but not the HTTP server: Nest closes that itself
    io.local.disconnectSockets(true);
    io.engine.close();
    this.io = undefined;
  }

  /** The first followed agent starts the telemetry subscription. */
  private watch(agentId: string): void {
    this.watched.add(agentId);
    if (this.stopTelemetry) return;
    this.stopTelemetry = this.bus.subscribeLive([LINES_SUBJECT, COMPRESSED_LINES_SUBJECT], (lines) => this.emitMetrics(lines));
    this.telemetrySubscribed = this.bus.ping().catch((err: unknown) => this.logger.warn({ err }, 'NATS did not confirm the telemetry subscription'));
  }

  /** The last agent no longer followed ends it. */
  private unwatch(agentId: string): void {
    this.watched.delete(agentId);
    if (this.watched.size > 0 || !this.stopTelemetry) return;
    this.stopTelemetry();
    this.stopTelemetry = undefined;
  }

  /** `new_metrics_data` for each point of a followed agent; lines of other agents are not decoded. */
  private emitMetrics(lines: TelemetryLines): void {
    const io = this.io;
    if (!io || this.watched.size === 0) return;
    for (const p of lines.points({ agents: this.watched })) {
      io.to(agentRoom(p.agent_id)).emit('new_metrics_data', {
        agent_id: p.agent_id,
        measurement: p.measurement,
        fields: p.fields,
        tags: p.tags,
        time: new Date(p.time).toISOString(),
      });
    }
  }

  /** The handshake: `auth: {token}` with an access JWT or an API key holding `read`. */
  private async authenticate(socket: DashboardSocket): Promise<void> {
    const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
    if (typeof token !== 'string' || token.length === 0 || token.length > 8192) {
      throw handshakeError(401, 'authentication required: connect with auth: {token: <access token or API key>}');
    }
    let principal: Principal;
    try {
      principal = await this.authenticator.authenticateToken(token, socket.handshake.address);
    } catch (err) {
      if (err instanceof AppError) throw handshakeError(err.statusCode, err.message);
      this.logger.error({ err }, 'socket authentication failed');
      throw handshakeError(500, 'internal error');
    }
    if (!allows(principal, 'read')) throw handshakeError(403, "the dashboard socket needs the 'read' permission");
    socket.data.principal = principal;
    socket.data.token = token;
  }

  private onConnection(socket: DashboardSocket): void {
    const exp = tokenExpiry(socket.data.token);
    if (exp !== undefined) {
      // an access token is short-lived: the socket lives no longer than it; the client reconnects with a fresh one
      const ms = Math.max(0, exp * 1000 - Date.now());
      socket.data.expiryTimer = setTimeout(() => this.expire(socket, 'access token expired'), Math.min(ms, 2 ** 31 - 1));
      socket.data.expiryTimer.unref();
    }
    socket.on('disconnect', () => {
      if (socket.data.expiryTimer) clearTimeout(socket.data.expiryTimer);
    });
    socket.on('subscribe', (payload: unknown, ack?: unknown) => void this.subscribe(socket, payload, ack, true));
    socket.on('unsubscribe', (payload: unknown, ack?: unknown) => void this.subscribe(socket, payload, ack, false));
    if (this.lastHealth) socket.emit('system_health_update', this.lastHealth);
  }

  private async subscribe(socket: DashboardSocket, payload: unknown, ack: unknown, join: boolean): Promise<void> {
    const reply = (answer: Parameters<Ack>[0]) => {
      if (typeof ack === 'function') (ack as Ack)(answer);
      else if (!answer.ok) socket.emit('request_error', { event: join ? 'subscribe' : 'unsubscribe', ...answer.error });
    };
    const parsed = SubscriptionSchema.safeParse(payload);
    if (!parsed.success) return reply({ ok: false, error: validationError(parsed.error, '', `Invalid ${join ? 'subscribe' : 'unsubscribe'}`).toBody() });
    const rooms = parsed.data.agent_ids.map(agentRoom);
    if (join) {
      const current = [...socket.rooms].filter((r) => r.startsWith(AGENT_ROOM_PREFIX));
      const after = new Set([...current, ...rooms]);
      if (after.size > MAX_SUBSCRIPTIONS) {
        return reply({ ok: false, error: new AppError('bad_request', `a socket may follow at most ${MAX_SUBSCRIPTIONS} agents`, [{ path: 'agent_ids', reason: 'too many agents' }]).toBody() });
      }
      void socket.join(rooms);
      // answered once the telemetry of the agents flows: NATS has the subscription
      await this.telemetrySubscribed;
    } else {
      for (const r of rooms) void socket.leave(r);
    }
    const followed = [...socket.rooms].filter((r) => r.startsWith(AGENT_ROOM_PREFIX)).map((r) => r.slice(AGENT_ROOM_PREFIX.length));
    reply({ ok: true, agent_ids: followed });
  }

  private expire(socket: DashboardSocket, reason: string): void {
    socket.emit('session_expired', { message: reason });
    socket.disconnect(true);
  }

  private dropRevoked(event: RevocationEvent): void {
    const io = this.io;
    if (!io) return;
    for (const socket of [...io.sockets.sockets.values()] as DashboardSocket[]) {
      const p = socket.data.principal;
      if (!p) continue;
      const hit =
        (event.scope === 'session' && p.kind === 'user' && p.session_id === event.session_id) ||
        (event.scope === 'api_key' && p.kind === 'api_key' && p.id === event.api_key_id) ||
        (event.scope === 'user' && p.user_id === event.user_id);
      if (hit) this.expire(socket, 'credentials revoked');
    }
  }

  /** Every HEALTH_BROADCAST_MS: health to every socket, and a re-check of each socket's credentials. */
  private async tick(): Promise<void> {
    const io = this.io;
    if (!io || io.engine.clientsCount === 0) return;
    try {
      const h = await this.health.gather();
      this.lastHealth = { status: h.status, services: h.services };
      io.emit('system_health_update', this.lastHealth);
    } catch (err) {
      this.logger.warn({ err }, 'system health broadcast failed');
    }
    for (const socket of [...io.sockets.sockets.values()] as DashboardSocket[]) {
      try {
        await this.authenticator.authenticateToken(socket.data.token);
      } catch (err) {
        // revoked session or key: the socket goes; auth being unreachable is no reason to drop viewers
        if (err instanceof AppError && err.statusCode === 401) this.expire(socket, err.message);
      }
    }
  }
}
