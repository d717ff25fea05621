/**
 * The ingest service in-process against the test profile's NATS, Redis and InfluxDB, with the auth
 * service answered by a test double at the NATS boundary (the same @RpcHandler transport the real
 * one uses). Used by the wire-format tests (InfluxDB clients, OpenTelemetry, fuzz).
 */
import 'reflect-metadata';
import { Controller, Module, type INestApplication, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Transport } from '@nestjs/microservices';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { AppError, STREAMS, type Principal, type RpcParsedRequest } from '@agentmon/contracts';
import { RpcClient, RpcHandler } from '@agentmon/messaging';
import { createLogger } from '@agentmon/observability';
import { INTEGRATION_PORTS, TEST_INFRA } from '../../../../test/support/test-env.js';
import { resetStreams } from '../../../../test/support/nats.js';
import { loadIngestConfig } from '../../src/config.js';
import { startIngest } from '../../src/ingest-app.js';

export const KEYS = {
  write: 'amk_formatsWriteKeyForIngestIntegration_001',
  read: 'amk_formatsReadKeyForIngestIntegration_0001',
} as const;

@Controller()
class AuthDouble {
  @RpcHandler('rpc.auth.api-key.verify.v1')
  async verify(req: RpcParsedRequest<'rpc.auth.api-key.verify.v1'>): Promise<Principal> {
    const base = { kind: 'api_key', user_id: 'u-1', username: 'ci', role: 'operator' } as const;
    if (req.key === KEYS.write) return { ...base, id: 'key-write', permissions: ['ingest:write'] };
    if (req.key === KEYS.read) return { ...base, id: 'key-read', permissions: ['read'] };
    throw new AppError('unauthorized', 'API key is not valid');
  }
}
@Module({ controllers: [AuthDouble] })
class DoublesModule {}

export interface InfluxResult {
  results: { series?: { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[]; error?: string }[];
}

export class IngestHarness {
  readonly base = `http://127.0.0.1:${INTEGRATION_PORTS.ingest}`;
  rpc!: RpcClient;
  jsm!: JetStreamManager;
  private app!: INestApplication;
  private doubles!: INestMicroservice;
  private nc!: NatsConnection;

  constructor(readonly database: string) {}

  async start(): Promise<this> {
    await this.influxql(`DROP DATABASE "${this.database}"`);
    await resetStreams(TEST_INFRA.natsUrl);
    this.doubles = await NestFactory.createMicroservice(DoublesModule, {
      transport: Transport.NATS,
      options: { servers: [TEST_INFRA.natsUrl], queue: 'ingest-formats-doubles' },
      logger: false,
    } as never);
    await this.doubles.listen();
    const config = loadIngestConfig({
      PORT: String(INTEGRATION_PORTS.ingest),
      HTTP_HOST: '127.0.0.1',
      NATS_URL: TEST_INFRA.natsUrl,
      REDIS_URL: TEST_INFRA.redisUrl,
      INFLUX_URL: TEST_INFRA.influxUrl,
      INFLUX_DATABASE: this.database,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
      WRITE_FLUSH_MS: '100',
    });
    this.app = await startIngest(config, createLogger('ingest', config.LOG_LEVEL));
    this.rpc = new RpcClient(TEST_INFRA.natsUrl, 10_000, 'ingest-formats-test');
    await this.rpc.connect();
    this.nc = await connect({ servers: TEST_INFRA.natsUrl });
    this.jsm = await jetstreamManager(this.nc);
    return this;
  }

  async stop(): Promise<void> {
    await this.app?.close();
    await this.doubles?.close();
    await this.rpc?.close();
    await this.nc?.close();
  }

  async influxql(q: string): Promise<InfluxResult> {
    const res = await fetch(`${TEST_INFRA.influxUrl}/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ q, db: this.database, epoch: 'ms' }).toString(),
    });
    return (await res.json()) as InfluxResult;
  }

  /** Every raw row of a measurement, tags and fields by name. */
  async rows(measurement: string, where = ''): Promise<Record<string, unknown>[]> {
    const out = await this.influxql(`SELECT * FROM "${this.database}"."raw"."${measurement.replace(/"/g, '\\"')}"${where ? ` WHERE ${where}` : ''}`);
    const series = out.results[0]?.series?.[0];
    if (!series) return [];
    return series.values.map((v) => Object.fromEntries(series.columns.map((c, i) => [c, v[i]])));
  }

  async count(measurement: string): Promise<number> {
    return (await this.rows(measurement)).length;
  }

  /** Messages in the TELEMETRY stream: what was acknowledged. */
  async streamMessages(): Promise<number> {
    return (await this.jsm.streams.info(STREAMS.TELEMETRY.name)).state.messages;
  }

  post(path: string, body: string | Buffer | Uint8Array, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${this.base}${path}`, { method: 'POST', headers, body });
  }
}

export async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last = await fn();
  while (!ok(last) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 200));
    last = await fn();
  }
  return last;
}
