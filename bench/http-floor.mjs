// The floor under ingest's CPU per small request: what the HTTP layers it is built on cost by
// themselves on this machine, for the same requests and load as `node bench/ingest-request-cost.mjs`
// (the steady phase's JSON batches of bench/ingest.mjs, one agent and two points each, with an API
// key header, `--connections` in flight at a time, closed loop). Each variant is a server of its own in
// a child process that reads the body, parses the JSON and answers 202 `{"accepted":2}`, nothing more:
//
//   node-http        node:http alone
//   fastify          Fastify 5, as ingest's push routes (a plain route, Fastify's JSON body parser)
//   fastify+basics   the same with the onRequest hook every agentmon service has (libs/http-kit: the
//                    request id in an AsyncLocalStorage context for the logs, and the security headers)
//   nest             a Nest controller on the Fastify adapter (how the push routes were before item 36)
//
// The CPU of the server process per request, median of `--repeats` measured rounds after one to warm
// up. Subtracting these from ingest's figure of `node bench/ingest-request-cost.mjs`, run on the same
// machine, leaves what ingest's own work costs (authentication, rate limits, validation, the stream
// message, the latest values, metrics).
//
//   node bench/http-floor.mjs [--requests 20000] [--connections 16] [--repeats 3] [--variants node-http,fastify,...]
//
// Needs the libraries built (`npm run build`, or any `node bench/ingest.mjs` without --no-build);
// uses port 19099.
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { wholeNumbers } from './lib/args.mjs';
import { steadyBody } from './lib/data.mjs';
import { KeepAlivePool } from './lib/keepalive-client.mjs';

const PORT = 19_099;
const VARIANTS = ['node-http', 'fastify', 'fastify+basics', 'nest'];
/** the services' own packages (Fastify, Nest), as ingest resolves them */
const requireFromIngest = createRequire(fileURLToPath(new URL('../services/ingest/package.json', import.meta.url)));
const ANSWER = JSON.stringify({ accepted: 2 });

if (process.argv[2] === '--serve') {
  await serve(process.argv[3]);
} else {
  await main();
}

async function main() {
  const { values: opt } = parseArgs({
    options: {
      requests: { type: 'string', default: '20000' },
      connections: { type: 'string', default: '16' },
      repeats: { type: 'string', default: '3' },
      variants: { type: 'string', default: VARIANTS.join(',') },
    },
  });
  const { requests, connections, repeats } = wholeNumbers(opt, ['requests', 'connections', 'repeats']);
  const variants = opt.variants.split(',').filter(Boolean);
  const unknown = variants.filter((v) => !VARIANTS.includes(v));
  if (unknown.length) throw new Error(`unknown variant ${unknown.join(', ')}; known: ${VARIANTS.join(', ')}`);
  const say = (m) => process.stdout.write(`\x1b[36m[http-floor]\x1b[0m ${m}\n`);
  say(`${requests} requests per round, ${connections} in flight at a time; a round to warm up, then ${repeats}; server CPU per request`);
  const results = [];
  for (const variant of variants) {
    const child = fork(fileURLToPath(import.meta.url), ['--serve', variant], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    try {
      await reply(child, 'ready');
      const pool = new KeepAlivePool(`http://127.0.0.1:${PORT}/`, connections);
      const perRequest = [];
      for (let i = 0; i <= repeats; i++) {
        child.send('start');
        await reply(child, 'started');
        const seconds = await round(pool, requests, i * requests);
        child.send('stop');
        const cpuUs = await reply(child, 'cpu');
        if (i > 0) {
          perRequest.push(cpuUs.value / requests);
          say(`${variant}, round ${i}: ${Math.round(requests / seconds)} requests/s, ${(cpuUs.value / requests).toFixed(1)} µs of CPU per request`);
        }
      }
      pool.destroy();
      perRequest.sort((a, b) => a - b);
      results.push({ variant, median: perRequest[Math.floor(perRequest.length / 2)], min: perRequest[0], max: perRequest.at(-1) });
    } finally {
      child.kill();
    }
  }
  say('median µs of the server\'s CPU per request (range):');
  for (const r of results) say(`  ${r.variant.padEnd(15)} ${r.median.toFixed(0).padStart(4)} (${r.min.toFixed(0)}–${r.max.toFixed(0)})`);
}

/** The next message of a kind from the server process. */
function reply(child, type) {
  return new Promise((resolve, reject) => {
    const onMessage = (m) => {
      if (m?.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(m);
    };
    const onExit = (code) => reject(new Error(`the server process ended (exit code ${code}) before it said ${type}`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** One closed-loop round; every request must get its 202. */
async function round(pool, requests, firstSeq) {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: pool.size }, async () => {
      while (next < requests) {
        const seq = firstSeq + next++;
        const res = await pool.send(pool.post('/api/v2/ingest', { 'Content-Type': 'application/json', Authorization: 'Bearer am_floor_test_key' }, steadyBody(seq, 10_000, Date.now())), 10_000);
        if (res.status !== 202) throw new Error(`request ${seq}: ${res.status ? `HTTP ${res.status}: ${res.body.slice(0, 200)}` : res.error}`);
      }
    }),
  );
  return (performance.now() - t0) / 1000;
}

/** The server of one variant, measuring its own CPU between 'start' and 'stop'. */
async function serve(variant) {
  if (variant === 'node-http') {
    const http = await import('node:http');
    const server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        JSON.parse(Buffer.concat(chunks).toString('utf8'));
        res.writeHead(202, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(ANSWER) });
        res.end(ANSWER);
      });
    });
    await new Promise((resolve) => server.listen(PORT, '127.0.0.1', resolve));
  } else if (variant === 'fastify' || variant === 'fastify+basics') {
    const fastify = requireFromIngest('fastify')();
    if (variant === 'fastify+basics') {
      const { requestIdMiddleware, securityHeadersMiddleware } = await import('@agentmon/http-kit');
      fastify.addHook('onRequest', (req, reply, done) => requestIdMiddleware(req.raw, reply.raw, () => securityHeadersMiddleware(req.raw, reply.raw, done)));
    }
    fastify.post('/api/v2/ingest', async (_req, reply) => {
      void reply.code(202);
      return { accepted: 2 };
    });
    await fastify.listen({ port: PORT, host: '127.0.0.1' });
  } else if (variant === 'nest') {
    requireFromIngest('reflect-metadata');
    const { NestFactory } = requireFromIngest('@nestjs/core');
    const { Module, Controller, Post, HttpCode, Body } = requireFromIngest('@nestjs/common');
    const { FastifyAdapter } = requireFromIngest('@nestjs/platform-fastify');
    class Push {
      json() {
        return { accepted: 2 };
      }
    }
    Body()(Push.prototype, 'json', 0);
    const method = Object.getOwnPropertyDescriptor(Push.prototype, 'json');
    Post('api/v2/ingest')(Push.prototype, 'json', method);
    HttpCode(202)(Push.prototype, 'json', method);
    Controller()(Push);
    class App {}
    Module({ controllers: [Push] })(App);
    const app = await NestFactory.create(App, new FastifyAdapter(), { logger: false });
    await app.listen(PORT, '127.0.0.1');
  } else {
    throw new Error(`unknown variant ${variant}`);
  }
  let since;
  process.on('message', (m) => {
    if (m === 'start') {
      since = process.cpuUsage();
      process.send({ type: 'started' });
    } else if (m === 'stop') {
      const u = process.cpuUsage(since);
      process.send({ type: 'cpu', value: u.user + u.system });
    }
  });
  process.send({ type: 'ready' });
}
