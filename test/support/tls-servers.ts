/**
 * Real servers that demand TLS, started by a test and stopped by it: NATS (nats-server with a tls
 * block and JetStream) and Redis (redis-server --tls-port), both requiring a client certificate
 * signed by the test CA; and TLS-terminating proxies in front of the plain test InfluxDB and
 * PostgreSQL (PostgreSQL's own server here runs without TLS, and its configuration is not ours to
 * change). Ports are free ports chosen by the kernel.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import type { TestPki } from './tls.js';

export const NATS_SERVER_BIN = process.env.AGENTMON_NATS_SERVER ?? '/usr/sbin/nats-server';
export const REDIS_SERVER_BIN = process.env.AGENTMON_REDIS_SERVER ?? 'redis-server';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface RunningServer {
  port: number;
  url: string;
  stop(): Promise<void>;
}

function waitForOutput(child: ChildProcess, pattern: RegExp, what: string, timeoutMs = 15_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what} did not start within ${timeoutMs} ms:\n${seen.slice(-2000)}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      if (pattern.test(seen)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}:\n${seen.slice(-2000)}`));
    });
  });
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      const done = () => {
        clearTimeout(kill);
        child.stdout?.destroy();
        child.stderr?.destroy();
        resolve();
      };
      const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
      if (child.exitCode !== null || child.signalCode !== null) return done();
      child.once('exit', done);
      child.kill('SIGTERM');
    });
}

/** nats-server with JetStream that accepts TLS only, from clients with a certificate of the test CA. */
export async function startTlsNats(pki: TestPki): Promise<RunningServer> {
  const port = await freePort();
  const dir = path.join(pki.dir, `nats-${port}`);
  mkdirSync(dir, { recursive: true });
  const conf = path.join(dir, 'nats.conf');
  writeFileSync(
    conf,
    [
      `listen: "127.0.0.1:${port}"`,
      `jetstream { store_dir: "${path.join(dir, 'js')}" }`,
      'tls {',
      `  cert_file: "${pki.serverCert}"`,
      `  key_file: "${pki.serverKey}"`,
      `  ca_file: "${pki.caCert}"`,
      '  verify: true',
      '  timeout: 2',
      '}',
      '',
    ].join('\n'),
  );
  const child = spawn(NATS_SERVER_BIN, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  await waitForOutput(child, /Server is ready/, 'nats-server');
  return { port, url: `tls://127.0.0.1:${port}`, stop: stopper(child) };
}

/** redis-server listening on a TLS port only, requiring a client certificate of the test CA. */
export async function startTlsRedis(pki: TestPki): Promise<RunningServer> {
  const port = await freePort();
  const dir = path.join(pki.dir, `redis-${port}`);
  mkdirSync(dir, { recursive: true });
  const child = spawn(
    REDIS_SERVER_BIN,
    [
      '--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1',
      '--tls-cert-file', pki.serverCert, '--tls-key-file', pki.serverKey, '--tls-ca-cert-file', pki.caCert,
      '--tls-auth-clients', 'yes', '--save', '', '--appendonly', 'no', '--dir', dir,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await waitForOutput(child, /Ready to accept connections/, 'redis-server');
  return { port, url: `rediss://127.0.0.1:${port}/0`, stop: stopper(child) };
}

export interface TlsProxy extends RunningServer {
  /** TLS sessions completed, and connections refused because they did not start TLS */
  stats: { tlsSessions: number; plainRefused: number };
}

/** An HTTPS server that forwards every request to a plain HTTP upstream (InfluxDB here). */
export async function startHttpsProxy(pki: TestPki, upstream: string): Promise<TlsProxy> {
  const target = new URL(upstream);
  const stats = { tlsSessions: 0, plainRefused: 0 };
  const server = https.createServer({ cert: pki.read(pki.serverCert), key: pki.read(pki.serverKey) }, (req, res) => {
    const out = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  server.on('secureConnection', () => stats.tlsSessions++);
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    url: `https://127.0.0.1:${port}`,
    stats,
    stop: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const PG_SSL_REQUEST = 80877103;

/**
 * Speaks PostgreSQL's TLS negotiation (SSLRequest, answered 'S', then a TLS handshake on the same
 * socket) and relays the decrypted protocol to a plain PostgreSQL server. A client that does not ask
 * for TLS is disconnected, so a working connection through it is a TLS connection.
 */
export async function startPostgresTlsProxy(pki: TestPki, upstream: { host: string; port: number }): Promise<TlsProxy> {
  const stats = { tlsSessions: 0, plainRefused: 0 };
  const secureContext = tls.createSecureContext({ cert: pki.read(pki.serverCert), key: pki.read(pki.serverKey) });
  const sockets = new Set<net.Socket>();
  const server = net.createServer((raw) => {
    sockets.add(raw);
    raw.on('close', () => sockets.delete(raw));
    raw.on('error', () => raw.destroy());
    raw.once('data', (first: Buffer) => {
      raw.pause();
      if (first.length !== 8 || first.readInt32BE(0) !== 8 || first.readInt32BE(4) !== PG_SSL_REQUEST) {
        stats.plainRefused++;
        raw.destroy();
        return;
      }
      raw.write('S');
      const secure = new tls.TLSSocket(raw, { isServer: true, secureContext });
      const backend = net.connect(upstream.port, upstream.host);
      const close = () => {
        secure.destroy();
        backend.destroy();
      };
      secure.on('secure', () => stats.tlsSessions++);
      secure.on('error', close);
      backend.on('error', close);
      secure.on('close', close);
      backend.on('close', close);
      secure.pipe(backend).pipe(secure);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    url: `127.0.0.1:${port}`,
    stats,
    stop: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
