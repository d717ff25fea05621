/**
 * A throwaway public-key infrastructure for TLS tests, made with the openssl command line: a CA, a
 * server certificate for localhost / 127.0.0.1 signed by it, a client certificate signed by it, and a
 * second, unrelated CA (whose trust must not be enough). Files land in a fresh temporary folder.
 */
import { execFileSync } from 'node:child_process';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface TestPki {
  dir: string;
  caCert: string;
  caKey: string;
  /** server certificate for DNS:localhost, IP:127.0.0.1 */
  serverCert: string;
  serverKey: string;
  /** client certificate (CN=agentmon-test-client) */
  clientCert: string;
  clientKey: string;
  /** another CA, unrelated to the certificates above */
  otherCaCert: string;
  read(file: string): string;
  /** a new server certificate signed by the CA, into new files (for renewal tests) */
  issueServerCert(name: string, cn?: string): { cert: string; key: string };
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

export function makeTestPki(prefix = 'agentmon-tls-'): TestPki {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  const f = (name: string) => path.join(dir, name);
  const selfSigned = (name: string, cn: string) =>
    openssl(
      [
        'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2',
        '-keyout', f(`${name}.key`), '-out', f(`${name}.crt`), '-subj', `/CN=${cn}`,
        '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
      ],
      dir,
    );
  selfSigned('ca', 'agentmon test CA');
  selfSigned('other-ca', 'some other CA');

  let serial = 1000;
  const issue = (name: string, cn: string, ext: string) => {
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${cn}`], dir);
    writeFileSync(f(`${name}.ext`), ext);
    openssl(
      [
        'x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-set_serial', String(serial++),
        '-days', '2', '-sha256', '-out', f(`${name}.crt`), '-extfile', f(`${name}.ext`),
      ],
      dir,
    );
    return { cert: f(`${name}.crt`), key: f(`${name}.key`) };
  };
  const serverExt = 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n';
  const server = issue('server', 'localhost', serverExt);
  const client = issue('client', 'agentmon-test-client', 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n');

  return {
    dir,
    caCert: f('ca.crt'),
    caKey: f('ca.key'),
    serverCert: server.cert,
    serverKey: server.key,
    clientCert: client.cert,
    clientKey: client.key,
    otherCaCert: f('other-ca.crt'),
    read: (file) => readFileSync(file, 'utf8'),
    issueServerCert: (name, cn = 'localhost') => issue(name, cn, serverExt),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** An answer of httpsGet: status, JSON body, and the serial number of the certificate the server showed. */
export interface HttpsAnswer {
  status: number;
  body: any;
  serial: string;
}

/** GET over HTTPS trusting only `ca`; rejects when the TLS handshake fails. A new connection each time. */
export function httpsGet(url: string, ca: string): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, agent: false }, (res) => {
      const serial = (res.socket as TLSSocket).getPeerCertificate().serialNumber;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined, serial }));
    });
    req.on('error', reject);
  });
}
