/**
 * The InfluxDB v1 HTTP API (`/ping`, `/query` with InfluxQL, `/write` with line protocol), served by
 * InfluxDB 1.x and by the v1 compatibility endpoints of 2.x and 3.x. No client library: node:http or
 * node:https with a keep-alive Agent of the client's own (which also carries a private CA or a client
 * certificate, INFLUX_CA_FILE, ...). Not Node's fetch: it copies every request body once more (a
 * write is up to a MiB) and runs it through web streams, measurable at the peak of
 * docs/benchmarks.md; and Node 20's fetch takes no TLS options.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { AppError } from '@agentmon/contracts';
import { quoteIdent } from './influxql.js';

export interface InfluxClientOptions {
  url: string;
  database: string;
  username?: string;
  password?: string;
  /** per request */
  timeoutMs?: number;
  /** for an https:// url: trusted CAs (else the system's) and a client certificate (influxTls of @agentmon/config) */
  tls?: { ca?: string; cert?: string; key?: string } | undefined;
}

export interface InfluxSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values?: unknown[][];
}
/** What `SHOW FIELD KEYS` says of several measurements: measurement → field → its InfluxDB types (more than one where shards were written differently). */
export type FieldTypesByMeasurement = Map<string, Map<string, Set<string>>>;

export interface InfluxStatementResult {
  statement_id: number;
  series?: InfluxSeries[];
  error?: string;
}

/** An answer of InfluxDB other than success; `retryable` tells whether trying again later can help. */
export class InfluxError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'InfluxError';
  }
}

/** What a query answers its caller when InfluxDB failed: 503 with Retry-After while it is away, 502 when it refused. */
export function queryFailure(err: unknown): unknown {
  if (!(err instanceof InfluxError)) return err;
  if (err.retryable) return new AppError('unavailable', 'InfluxDB is not answering; retry shortly', undefined, 5);
  return new AppError('bad_gateway', 'InfluxDB refused the query');
}

export class InfluxClient {
  private readonly base: string;
  private readonly authHeader: Record<string, string>;
  /** longest a request (a write among them) may take before it fails */
  readonly timeoutMs: number;
  private readonly agent: HttpAgent | HttpsAgent;
  private readonly https: boolean;

  constructor(readonly opts: InfluxClientOptions) {
    this.https = /^https:/i.test(opts.url);
    if (opts.tls && !this.https) throw new Error('InfluxDB TLS options need an https:// url');
    this.agent = this.https ? new HttpsAgent({ keepAlive: true, ...opts.tls }) : new HttpAgent({ keepAlive: true });
    this.base = opts.url.replace(/\/+$/, '');
    this.authHeader =
      opts.username || opts.password
        ? { authorization: `Basic ${Buffer.from(`${opts.username ?? ''}:${opts.password ?? ''}`).toString('base64')}` }
        : {};
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  get database(): string {
    return this.opts.database;
  }

  async ping(): Promise<void> {
    const res = await this.fetch('/ping', { method: 'GET' });
    await res.arrayBuffer();
    if (res.status !== 204 && res.status !== 200) throw new InfluxError(`InfluxDB /ping answered ${res.status}`, res.status, true);
  }

  /** `SHOW FIELD KEYS` of one measurement in one retention policy: [field, InfluxDB type] pairs. */
  async fieldKeys(database: string, retentionPolicy: string, measurement: string, opts: { timeoutMs?: number } = {}): Promise<[string, string][]> {
    const [res] = await this.query(`SHOW FIELD KEYS ON ${quoteIdent(database)} FROM ${quoteIdent(retentionPolicy)}.${quoteIdent(measurement)}`, opts);
    const out: [string, string][] = [];
    for (const s of res?.series ?? []) for (const [key, type] of s.values ?? []) out.push([String(key), String(type)]);
    return out;
  }

  /** `SHOW FIELD KEYS` of every measurement of one retention policy (the index only). */
  async fieldTypes(database: string, retentionPolicy: string, opts: { timeoutMs?: number } = {}): Promise<FieldTypesByMeasurement> {
    const [res] = await this.query(`SHOW FIELD KEYS ON ${quoteIdent(database)} FROM ${quoteIdent(retentionPolicy)}./.*/`, opts);
    return fieldTypesOf(res?.series ?? []);
  }

  /**
   * Runs InfluxQL statements (separated by `;`) and returns one result per statement. A statement
   * that failed throws, with InfluxDB's message.
   */
  async query(q: string, opts: { db?: string; epoch?: 'ms'; timeoutMs?: number } = {}): Promise<InfluxStatementResult[]> {
    const form = new URLSearchParams({ q });
    if (opts.db) form.set('db', opts.db);
    if (opts.epoch) form.set('epoch', opts.epoch);
    const res = await this.fetch(
      '/query',
      { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() },
      opts.timeoutMs,
    );
    const text = await res.text();
    let body: { results?: InfluxStatementResult[]; error?: string };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new InfluxError(`InfluxDB /query answered ${res.status} with a body that is not JSON`, res.status, res.status >= 500);
    }
    if (!res.ok || body.error) {
      throw new InfluxError(`InfluxDB query failed (${res.status}): ${body.error ?? text.slice(0, 200)}`, res.status, res.status >= 500);
    }
    const results = body.results ?? [];
    const failed = results.find((r) => r.error);
    if (failed) throw new InfluxError(`InfluxDB query failed: ${failed.error}`, res.status, false);
    return results;
  }

  /**
   * Runs one statement with `chunked=true` and hands each piece of series to `onSeries` as it arrives,
   * in InfluxDB's order (a series may come in several pieces, one after another). Memory stays at one
   * chunk of `chunkSize` rows at most whatever the answer's size, the next being read once `onSeries`
   * has resolved; InfluxDB's `max-row-limit`, which cuts answers that are not chunked, does not apply.
   * Times in epoch ms. Throws on an error of InfluxDB, also one that comes after some chunks.
   */
  async queryChunked(q: string, onSeries: (series: InfluxSeries) => void | Promise<void>, opts: { db?: string; chunkSize?: number; timeoutMs?: number } = {}): Promise<void> {
    const form = new URLSearchParams({ q, epoch: 'ms', chunked: 'true', chunk_size: String(opts.chunkSize ?? 10_000) });
    if (opts.db) form.set('db', opts.db);
    const fail = (message: string, status: number) => new InfluxError(`InfluxDB query failed (${status}): ${message}`, status, status >= 500);
    const signal = AbortSignal.timeout(opts.timeoutMs ?? this.timeoutMs);
    let res: IncomingMessage;
    try {
      res = await send(`${this.base}/query`, 'POST', { ...this.authHeader, 'content-type': 'application/x-www-form-urlencoded' }, form.toString(), this.agent, this.https, signal);
    } catch (err) {
      throw this.unreachable(err);
    }
    const status = res.statusCode ?? 502;
    let pending = '';
    const line = async (text: string) => {
      if (!text.trim()) return;
      let chunk: { results?: InfluxStatementResult[]; error?: string };
      try {
        chunk = JSON.parse(text) as typeof chunk;
      } catch {
        throw fail('a chunk that is not JSON', status);
      }
      if (chunk.error) throw fail(chunk.error, status);
      for (const r of chunk.results ?? []) {
        if (r.error) throw new InfluxError(`InfluxDB query failed: ${r.error}`, status, false);
        for (const s of r.series ?? []) await onSeries(s);
      }
      // the event loop is let go between chunks, so that timers (ingest's publish linger among them)
      // and other sockets get their turn: chunks already received would otherwise follow one another
      // in microtasks
      await new Promise<void>((resolve) => setImmediate(resolve));
    };
    try {
      res.setEncoding('utf8');
      for await (const piece of res as AsyncIterable<string>) {
        let start = 0;
        let nl: number;
        while ((nl = piece.indexOf('\n', start)) >= 0) {
          const text = pending + piece.slice(start, nl);
          pending = '';
          start = nl + 1;
          await line(text);
        }
        pending += piece.slice(start);
      }
      await line(pending);
    } catch (err) {
      res.destroy();
      if (err instanceof InfluxError) throw err;
      throw this.unreachable(err);
    }
    if (status !== 200) throw fail(pending.slice(0, 200) || 'no answer', status);
  }

  /**
   * Writes line protocol (timestamps in ms; text, its UTF-8 bytes, or bytes in parts sent one after
   * the other as one body, so that a caller with several pieces does not join them first) into a
   * retention policy; resolves on 204 only.
   */
  async write(body: string | Uint8Array | readonly Uint8Array[], rp: string): Promise<void> {
    const params = new URLSearchParams({ db: this.opts.database, rp, precision: 'ms' });
    const res = await this.fetch(`/write?${params.toString()}`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body,
    });
    if (res.status === 204) {
      await res.arrayBuffer();
      return;
    }
    const text = (await res.text()).slice(0, 500);
    // 400 is a refusal of (part of) the data that a retry cannot change: type conflicts, points
    // outside the retention policy; InfluxDB has written the rest ("partial write").
    const permanent = res.status === 400 && /partial write|field type conflict|unable to parse|beyond retention/.test(text);
    throw new InfluxError(`InfluxDB write answered ${res.status}: ${text}`, res.status, !permanent);
  }

  private async fetch(path: string, init: Omit<RequestInit, 'body'> & { body?: Body }, timeoutMs = this.timeoutMs): Promise<Response> {
    const headers = { ...this.authHeader, ...(init.headers as Record<string, string> | undefined) };
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      return await responseOf(await send(`${this.base}${path}`, init.method ?? 'GET', headers, init.body, this.agent, this.https, signal));
    } catch (err) {
      throw this.unreachable(err);
    }
  }

  private unreachable(err: unknown): InfluxError {
    const e = err as { cause?: { code?: string }; code?: string; name?: string };
    const reason = e.cause?.code ?? e.code ?? e.name;
    return new InfluxError(`InfluxDB at ${this.base} is unreachable (${reason})`, null, true);
  }
}

/** A request body: text, bytes, or bytes in parts (one body, sent part by part without joining them). */
type Body = string | Uint8Array | readonly Uint8Array[];

/** A response of node:http(s), its body read whole, as a fetch Response. */
async function responseOf(res: IncomingMessage): Promise<Response> {
  const chunks: Buffer[] = [];
  for await (const c of res as AsyncIterable<Buffer>) chunks.push(c);
  const out = new Headers();
  for (const [k, v] of Object.entries(res.headers)) for (const one of v === undefined ? [] : [v].flat()) out.append(k, one);
  const status = res.statusCode ?? 502;
  return new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), { status, headers: out });
}

/** Sends a request through node:http(s) with the given Agent; resolves with the response, its body still to be read. */
function send(
  url: string,
  method: string,
  headers: Record<string, string>,
  body: Body | undefined,
  agent: HttpAgent | HttpsAgent,
  https: boolean,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  const parts = Array.isArray(body) ? (body as readonly Uint8Array[]) : null;
  if (parts) {
    let length = 0;
    for (const p of parts) length += p.length;
    headers = { ...headers, 'content-length': String(length) };
  }
  return new Promise((resolve, reject) => {
    const request = https ? httpsRequest : httpRequest;
    const req = request(url, { method, headers, agent, signal }, resolve);
    req.on('error', reject);
    if (parts) {
      // the parts leave in one socket write (writev), not copied into one buffer first
      req.cork();
      for (const p of parts) req.write(p);
      req.end();
    } else req.end((body as string | Uint8Array | undefined) ?? undefined);
  });
}

/** The series of a `SHOW FIELD KEYS` answer as FieldTypesByMeasurement (a field listed twice keeps both types). */
export function fieldTypesOf(series: readonly InfluxSeries[]): FieldTypesByMeasurement {
  const out: FieldTypesByMeasurement = new Map();
  for (const s of series) {
    let fields = out.get(s.name);
    if (!fields) out.set(s.name, (fields = new Map()));
    for (const [key, type] of s.values ?? []) {
      const name = String(key);
      let types = fields.get(name);
      if (!types) fields.set(name, (types = new Set()));
      types.add(String(type));
    }
  }
  return out;
}

/** The rows of the first series of a result as objects keyed by column. */
export function rows(result: InfluxStatementResult | undefined): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const s of result?.series ?? []) {
    for (const v of s.values ?? []) {
      const row: Record<string, unknown> = Object.create(null);
      s.columns.forEach((c, i) => (row[c] = v[i]));
      out.push(row);
    }
  }
  return out;
}
