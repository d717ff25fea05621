/**
 * The Dockerfile (one runtime target per component) and .dockerignore, read as text: no Docker
 * engine runs here, so nothing is built. What is checked is what the chart and skaffold rely on.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { baseImage, dockerfileInstructions, dockerfileStages, effectiveInstructions, runtimeTargetProblems } from './support/dockerfile.js';
import { COMPONENTS, COMPONENT_NAMES, ROOT } from './support/paths.js';
import { defaultValues } from './support/values.js';
import { nodeFlagsOf } from '../../scripts/lib/node-flags.mjs';

type Any = any;

const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
const stages = dockerfileStages(dockerfile);
// a service's image starts it with the Node options npm start and the benchmark use
const cmdOf = (c: string) => (c === 'web' ? ['node', '/app/node_modules/next/dist/bin/next', 'start'] : ['node', ...nodeFlagsOf(c), `services/${c}/dist/main.js`]);

describe('Dockerfile', () => {
  it('starts every stage from node:20-bookworm-slim', () => {
    for (const s of stages) expect({ stage: s.name, image: baseImage(dockerfile, s.name) }).toEqual({ stage: s.name, image: 'node:20-bookworm-slim' });
  });

  it('installs with npm ci from the lockfile and builds everything with Nx', () => {
    const runs = (stage: string) => effectiveInstructions(stages, stage).filter((i) => i.keyword === 'RUN').map((i) => i.args);
    expect(runs('deps').some((r) => /npm ci\b/.test(r) && !/--omit=dev/.test(r))).toBe(true);
    expect(runs('prod-deps').some((r) => /npm ci\b.*--omit=dev/.test(r))).toBe(true);
    expect(runs('build').some((r) => r.includes('npx nx run-many -t build'))).toBe(true);
    const manifests = effectiveInstructions(stages, 'manifests').map((i) => i.args).join('\n');
    expect(manifests).toContain('package-lock.json');
    // Nx Cloud never contacted, Next.js telemetry off, during the build too
    const env = effectiveInstructions(stages, 'build').filter((i) => i.keyword === 'ENV').map((i) => i.args).join(' ');
    expect(env).toMatch(/NX_NO_CLOUD=true/);
    expect(env).toMatch(/NEXT_TELEMETRY_DISABLED=1/);
  });

  it.each(COMPONENT_NAMES)('has a runtime target for %s: non-root, production, its port and entry, no HEALTHCHECK', (c) => {
    expect(runtimeTargetProblems(dockerfile, c, { port: COMPONENTS[c], cmd: cmdOf(c) })).toEqual([]);
    // the port the chart gives the component
    expect((defaultValues() as Any)[c].port).toBe(COMPONENTS[c]);
  });

  it('copies into each service image the dist/ its Nx build target writes', () => {
    for (const c of COMPONENT_NAMES.filter((x) => x !== 'web')) {
      const projectFile = path.join(ROOT, 'services', c, 'project.json');
      if (!existsSync(projectFile)) continue; // a service not written yet: its target is checked above
      const project = JSON.parse(readFileSync(projectFile, 'utf8')) as Any;
      expect(project.targets.build.outputs).toContain('{projectRoot}/dist');
      const copies = effectiveInstructions(stages, c).filter((i) => i.keyword === 'COPY').map((i) => i.args);
      expect(copies).toContain(`--from=build /out/services/${c} ./services/${c}`);
    }
    const web = JSON.parse(readFileSync(path.join(ROOT, 'web', 'project.json'), 'utf8')) as Any;
    expect(web.targets.build.outputs).toContain('{projectRoot}/.next');
  });

  it('has a target for every service folder', () => {
    const services = readdirSync(path.join(ROOT, 'services')).filter((d) => existsSync(path.join(ROOT, 'services', d, 'package.json')));
    for (const s of services) expect(stages.map((x) => x.name)).toContain(s);
  });

  it('has no HEALTHCHECK anywhere', () => {
    expect(dockerfileInstructions(dockerfile).filter((i) => i.keyword === 'HEALTHCHECK')).toEqual([]);
  });

  it('would be refused running as root, with a HEALTHCHECK, without NODE_ENV or with the wrong entry', () => {
    const asRoot = dockerfile.replace('USER 1000:1000', 'USER root');
    expect(runtimeTargetProblems(asRoot, 'gateway', { port: 8000, cmd: cmdOf('gateway') }).join('\n')).toContain('USER root is not a numeric non-root uid');
    const noUser = dockerfile.replace('USER 1000:1000\n', '');
    expect(runtimeTargetProblems(noUser, 'auth', { port: 8002, cmd: cmdOf('auth') }).join('\n')).toContain('no USER');
    const withCheck = dockerfile.replace('EXPOSE 8001\n', 'EXPOSE 8001\nHEALTHCHECK CMD node -e "1"\n');
    expect(runtimeTargetProblems(withCheck, 'ingest', { port: 8001, cmd: cmdOf('ingest') })).toEqual(['ingest: has a HEALTHCHECK']);
    const dev = dockerfile.replace('ENV NODE_ENV=production', 'ENV NODE_ENV=development');
    expect(runtimeTargetProblems(dev, 'web', { port: 3000, cmd: cmdOf('web') }).join('\n')).toContain('NODE_ENV=production is not set');
    expect(runtimeTargetProblems(dockerfile, 'registry', { port: 8003, cmd: cmdOf('auth') }).join('\n')).toContain('CMD');
    expect(runtimeTargetProblems(dockerfile, 'scheduler', { port: 8009, cmd: [] })).toEqual(['no stage named scheduler']);
  });
});

describe('.dockerignore', () => {
  const ignored = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  it('keeps installed dependencies, build output, local state and git out of the build context', () => {
    expect(ignored).toEqual(expect.arrayContaining(['**/node_modules', '**/dist', '**/.next', '.agentmon', '.git', '.nx', '.env']));
  });

  it('keeps what the build needs in it', () => {
    for (const needed of ['package.json', 'package-lock.json', 'nx.json', 'tsconfig.base.json', 'libs', 'services', 'web']) {
      expect(ignored).not.toContain(needed);
      expect(existsSync(path.join(ROOT, needed))).toBe(true);
    }
  });
});
