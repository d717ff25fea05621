// A lean HTTP/1.1 client for the load generators: keep-alive connections over node:net, one request
// at a time on each, requests written as one buffer and responses read with a small parser.
// With node:http's client the steady load generator took 36 % of a core at 1,000 requests/s on the
// sixth machine of docs/benchmarks.md (item 33), 15–19 % with this one: CPU taken from the cores the
// stack is measured on, which a fleet of real agents spends on its own machines. Responses are parsed as far as
// the servers measured need: a status line, headers, a body by Content-Length or chunked, or up to
// the connection's end; `Connection: close` is honoured.
import net from 'node:net';

const CRLF2 = Buffer.from('\r\n\r\n');

/** One keep-alive connection; `send` must not be called again before its promise settled. */
class Connection {
  constructor(host, port, onIdle) {
    this.host = host;
    this.port = port;
    this.onIdle = onIdle;
    this.socket = null;
    this.pending = null; // { resolve, timer }
    this.buf = null;
    this.head = null; // { status, headers, length, chunked, bodyStart }
  }

  send(bytes, timeoutMs) {
    return new Promise((resolve) => {
      if (!this.socket) this.open();
      const timer = setTimeout(() => this.fail('TIMEOUT'), timeoutMs);
      this.pending = { resolve, timer };
      this.socket.write(bytes);
    });
  }

  open() {
    const s = net.connect({ host: this.host, port: this.port, noDelay: true });
    this.socket = s;
    this.buf = null;
    this.head = null;
    s.on('data', (chunk) => this.read(chunk));
    s.on('error', (err) => this.fail(err.code ?? err.message, s));
    s.on('close', () => this.fail('ECONNRESET', s));
  }

  /** The connection broke (or timed out): the request in hand fails, the next one reconnects. */
  fail(code, socket = this.socket) {
    if (socket !== this.socket) return;
    this.socket?.destroy();
    this.socket = null;
    // a response delimited by the end of the connection ends here
    if (this.head && this.head.length === -1 && !this.head.chunked && code === 'ECONNRESET') return this.finish(this.buf.length);
    this.settle({ status: 0, error: code });
  }

  settle(result) {
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    clearTimeout(p.timer);
    p.resolve(result);
    this.onIdle(this);
  }

  read(chunk) {
    this.buf = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
    if (!this.head) {
      const end = this.buf.indexOf(CRLF2);
      if (end < 0) return;
      const lines = this.buf.toString('latin1', 0, end).split('\r\n');
      const status = Number(lines[0].slice(9, 12));
      const headers = {};
      for (let i = 1; i < lines.length; i++) {
        const c = lines[i].indexOf(':');
        if (c > 0) headers[lines[i].slice(0, c).trim().toLowerCase()] = lines[i].slice(c + 1).trim();
      }
      const chunked = /chunked/i.test(headers['transfer-encoding'] ?? '');
      const length = chunked ? -1 : headers['content-length'] !== undefined ? Number(headers['content-length']) : status === 204 || status === 304 ? 0 : -1;
      this.head = { status, headers, length, chunked, bodyStart: end + 4 };
    }
    const h = this.head;
    if (h.chunked) {
      const done = dechunk(this.buf, h.bodyStart);
      if (done) this.finish(done.end, done.body);
    } else if (h.length >= 0 && this.buf.length - h.bodyStart >= h.length) {
      this.finish(h.bodyStart + h.length);
    }
  }

  finish(end, body) {
    const h = this.head;
    const result = { status: h.status, headers: h.headers, body: (body ?? this.buf.subarray(h.bodyStart, end)).toString('utf8') };
    if (end !== this.buf.length) result.error = 'bytes after the response';
    this.buf = null;
    this.head = null;
    if (result.error || /close/i.test(h.headers.connection ?? '')) {
      this.socket?.destroy();
      this.socket = null;
    }
    this.settle(result);
  }
}

/** A chunked body complete in buf from `start`: its bytes and where it ends; null while incomplete. */
function dechunk(buf, start) {
  const parts = [];
  let at = start;
  for (;;) {
    const eol = buf.indexOf('\r\n', at);
    if (eol < 0) return null;
    const size = parseInt(buf.toString('latin1', at, eol), 16);
    if (!Number.isFinite(size)) return { end: buf.length, body: Buffer.concat(parts) };
    if (size === 0) {
      const trailerEnd = buf.indexOf(CRLF2, eol);
      if (trailerEnd >= 0) return { end: trailerEnd + 4, body: Buffer.concat(parts) };
      // no trailers: the last chunk is "0\r\n\r\n"
      return buf.length >= eol + 4 ? { end: eol + 4, body: Buffer.concat(parts) } : null;
    }
    if (buf.length < eol + 2 + size + 2) return null;
    parts.push(buf.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

/**
 * Up to `size` keep-alive connections to one server, opened as needed; requests beyond them wait
 * their turn in order (as node:http's Agent with maxSockets and FIFO scheduling does).
 */
export class KeepAlivePool {
  constructor(url, size) {
    const u = new URL(url);
    this.host = u.hostname;
    this.port = Number(u.port || 80);
    this.authority = u.host;
    this.size = size;
    this.all = [];
    this.idle = [];
    this.queue = [];
  }

  /** The bytes of a POST of `body` (a string or Buffer) to `path` with `headers`. */
  post(path, headers, body) {
    const b = typeof body === 'string' ? Buffer.from(body) : body;
    let head = `POST ${path} HTTP/1.1\r\nHost: ${this.authority}\r\nConnection: keep-alive\r\n`;
    for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
    head += `Content-Length: ${b.length}\r\n\r\n`;
    return Buffer.concat([Buffer.from(head, 'latin1'), b]);
  }

  /** Sends a request's bytes; resolves with { status, headers, body } or { status: 0, error }. */
  send(bytes, timeoutMs) {
    let c = this.idle.pop();
    if (!c && this.all.length < this.size) {
      c = new Connection(this.host, this.port, (conn) => this.released(conn));
      this.all.push(c);
    }
    if (c) return c.send(bytes, timeoutMs);
    return new Promise((resolve) => this.queue.push({ bytes, timeoutMs, resolve }));
  }

  released(conn) {
    const next = this.queue.shift();
    if (next) conn.send(next.bytes, next.timeoutMs).then(next.resolve);
    else this.idle.push(conn);
  }

  destroy() {
    for (const c of this.all) {
      c.socket?.destroy();
      c.socket = null;
    }
  }
}
