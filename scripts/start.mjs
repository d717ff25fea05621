#!/usr/bin/env node
// `npm start`: everything a fresh clone needs to run agentmon locally, then agentmon itself.
//   npm start                     run every service and the dashboard
//   npm start -- --simulate       also push telemetry from a small simulated fleet (8 agents)
//   npm start -- --simulate=25    ... of 25 agents
//   npm start -- --skip-build     reuse the last build
// Ctrl-C stops everything this command started.
import { ensureInfra, stopInfra, PROFILES } from './lib/infra.mjs';
import { ensureDependencies, ensureSecrets, buildAll, say } from './lib/setup.mjs';

const args = process.argv.slice(2);
const simulateArg = args.find((a) => a.startsWith('--simulate'));
const simulate = simulateArg ? Number(simulateArg.split('=')[1] ?? 8) : 0;
const skipBuild = args.includes('--skip-build');
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write('usage: npm start [-- --simulate[=N]] [--skip-build]\n');
  process.exit(0);
}

const profile = PROFILES.dev;
let stack;
let started = [];
let simulator;
let stopping = false;

async function shutdown(code = 0) {
  if (stopping) return;
  stopping = true;
  say('stopping agentmon…');
  simulator?.stop();
  await stack?.stop();
  if (started.length) stopInfra('dev', started);
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

try {
  ensureDependencies();
  say('checking PostgreSQL, Redis, NATS (JetStream) and InfluxDB');
  started = await ensureInfra('dev');
  const { secrets, file } = ensureSecrets(profile.dir);
  if (!skipBuild) buildAll();
  const { startStack } = await import('./lib/stack.mjs');
  say('starting services (each creates and migrates its own database)');
  stack = await startStack('dev', { secrets, logToFiles: false });
  const p = profile.ports;
  say('agentmon is running:');
  process.stdout.write(
    [
      `  dashboard      http://localhost:${p.web}`,
      `  API            http://localhost:${p.gateway}/api/v2   (OpenAPI UI: http://localhost:${p.gateway}/api/docs)`,
      `  agent ingest   http://localhost:${p.ingest}/api/v2/ingest`,
      `  log in as      admin / ${secrets.AGENTMON_ADMIN_PASSWORD}   (from AGENTMON_ADMIN_PASSWORD or ${file})`,
      `  logs           .agentmon/dev/logs/`,
      '  Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
  if (simulate > 0) {
    const { startSimulator } = await import('./lib/simulator.mjs');
    simulator = await startSimulator({
      gatewayUrl: `http://127.0.0.1:${p.gateway}`,
      ingestUrl: `http://127.0.0.1:${p.ingest}`,
      adminPassword: secrets.AGENTMON_ADMIN_PASSWORD,
      agents: simulate,
    });
    say(`simulating a fleet of ${simulate} agents (telemetry every 5 s)`);
  }
} catch (err) {
  process.stderr.write(`\n\x1b[31m[agentmon] ${err.message}\x1b[0m\n`);
  await shutdown(1);
}
