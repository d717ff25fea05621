import { unwatchFile, watchFile, readFileSync } from 'node:fs';
import type { Server as TlsServer } from 'node:tls';
import { createSecureContext } from 'node:tls';
import type { Logger } from 'pino';

/** A PEM file known by its path and the contents read at boot (PemFile of @agentmon/config). */
export interface PemSource {
  path: string;
  pem: string;
}

/** Certificate and key the HTTP port serves (serverTls(config) of @agentmon/config). */
export interface HttpsServerTls {
  cert: PemSource;
  key: PemSource;
}

/** `https.createServer` options for Express (`httpsOptions`) and Fastify (`https`). */
export function httpsServerOptions(tls: HttpsServerTls): { cert: string; key: string } {
  return { cert: tls.cert.pem, key: tls.key.pem };
}

/**
 * Re-reads the certificate and key when their files change (cert-manager renews a Secret, and
 * Kubernetes swaps the mounted files) and gives new connections the new pair, without a restart.
 * A pair that does not load (a half-written renewal) is logged and the previous one kept.
 * Returns a function that stops watching.
 */
export function reloadCertificatesOnChange(server: TlsServer, tls: HttpsServerTls, logger: Logger, intervalMs = 60_000): () => void {
  let last = `${tls.cert.pem}\n${tls.key.pem}`;
  const reload = () => {
    let cert: string;
    let key: string;
    try {
      cert = readFileSync(tls.cert.path, 'utf8');
      key = readFileSync(tls.key.path, 'utf8');
    } catch (err) {
      logger.warn({ err, cert_file: tls.cert.path, key_file: tls.key.path }, 'TLS certificate files unreadable; keeping the current certificate');
      return;
    }
    if (`${cert}\n${key}` === last) return;
    try {
      createSecureContext({ cert, key }); // throws when the pair does not match or does not parse
      server.setSecureContext({ cert, key });
      last = `${cert}\n${key}`;
      logger.info({ cert_file: tls.cert.path }, 'TLS certificate reloaded');
    } catch (err) {
      logger.warn({ err, cert_file: tls.cert.path }, 'new TLS certificate or key does not load; keeping the current certificate');
    }
  };
  const opts = { interval: intervalMs, persistent: false };
  watchFile(tls.cert.path, opts, reload);
  watchFile(tls.key.path, opts, reload);
  return () => {
    unwatchFile(tls.cert.path, reload);
    unwatchFile(tls.key.path, reload);
  };
}
