/**
 * k8s/: the development infrastructure skaffold applies before the chart. Every object is checked
 * against the Kubernetes 1.33 schemas, and against what the chart's dev values expect to find.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseManifests, renderManifests, type Manifest } from './support/helm.js';
import { validateManifest, validateManifests } from './support/k8s-validate.js';
import { CHART_CI_DIR, K8S_DIR } from './support/paths.js';
import { readYaml } from './support/values.js';

type Any = any;

const files = readdirSync(K8S_DIR).filter((f) => f.endsWith('.yaml'));
const all: Manifest[] = files.flatMap((f) => parseManifests(readFileSync(path.join(K8S_DIR, f), 'utf8'), `k8s/${f}`));
const get = (kind: string, name: string): Any => {
  const m = all.find((x) => x.kind === kind && x.metadata.name === name);
  if (!m) throw new Error(`k8s/ has no ${kind} ${name}`);
  return m;
};
const NAMESPACE = 'agentmon-dev';
const SERVICES = { postgres: 5432, redis: 6379, nats: 4222, influxdb: 8086 } as const;

describe('k8s/ development infrastructure', () => {
  it('is made of valid Kubernetes 1.33 objects with no unknown field', async () => {
    expect(files.sort()).toEqual(['influxdb.yaml', 'namespace.yaml', 'nats.yaml', 'postgres.yaml', 'redis.yaml']);
    expect(await validateManifests(all, 'k8s')).toEqual([]);
  });

  it('puts everything in the agentmon-dev namespace', () => {
    get('Namespace', NAMESPACE);
    for (const m of all.filter((x) => x.kind !== 'Namespace')) expect(`${m.kind}/${m.metadata.name}: ${m.metadata.namespace}`).toBe(`${m.kind}/${m.metadata.name}: ${NAMESPACE}`);
  });

  it.each(Object.entries(SERVICES))('runs %s as a StatefulSet with a volume claim and a Service on port %d', (name, port) => {
    const sts = get('StatefulSet', name);
    const svc = get('Service', name);
    expect(sts.spec.serviceName).toBe(name);
    expect(sts.spec.replicas).toBe(1);
    const podLabels = sts.spec.template.metadata.labels;
    expect(Object.entries(sts.spec.selector.matchLabels).every(([k, v]) => podLabels[k] === v)).toBe(true);
    expect(Object.entries(svc.spec.selector).every(([k, v]) => podLabels[k] === v)).toBe(true);
    const svcPort = svc.spec.ports.find((p: Any) => p.port === port);
    expect(svcPort).toBeDefined();
    const container = sts.spec.template.spec.containers[0];
    expect(container.ports.map((p: Any) => p.name)).toContain(svcPort.targetPort);
    const [claim] = sts.spec.volumeClaimTemplates;
    expect(claim.spec.resources.requests.storage).toMatch(/^\d+Gi$/);
    expect(container.volumeMounts.map((v: Any) => v.name)).toContain(claim.metadata.name);
    expect(container.readinessProbe).toBeDefined();
    expect(sts.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
  });

  it('runs NATS with JetStream on a volume and InfluxDB 1.8', () => {
    const nats = get('StatefulSet', 'nats').spec.template.spec.containers[0];
    expect(nats.args).toContain('--jetstream');
    expect(get('ConfigMap', 'nats').data['nats.conf']).toMatch(/jetstream\s*\{[^}]*store_dir:\s*\/data/);
    expect(get('StatefulSet', 'influxdb').spec.template.spec.containers[0].image).toMatch(/^influxdb:1\.8(\.\d+)?(-|$)/);
  });

  it('is where the chart\'s dev values point', () => {
    const dev = readYaml(path.join(CHART_CI_DIR, 'dev-values.yaml')) as Any;
    const host = (name: string) => `${name}.${NAMESPACE}.svc.cluster.local`;
    expect(dev.postgresql.host).toBe(host('postgres'));
    const pgSecret = get('Secret', 'postgres').stringData;
    expect(dev.postgresql.username).toBe(pgSecret.POSTGRES_USER);
    expect(dev.postgresql.password).toBe(pgSecret.POSTGRES_PASSWORD);
    expect(new URL(dev.redis.url).host).toBe(`${host('redis')}:${SERVICES.redis}`);
    expect(new URL(dev.nats.url).host).toBe(`${host('nats')}:${SERVICES.nats}`);
    expect(new URL(dev.influxdb.url).host).toBe(`${host('influxdb')}:${SERVICES.influxdb}`);
    // and the chart renders with them
    expect(renderManifests({ valuesFiles: [path.join(CHART_CI_DIR, 'dev-values.yaml')], namespace: NAMESPACE }).length).toBeGreaterThan(30);
  });

  it('would be refused if a StatefulSet had a misspelt field', async () => {
    const broken = structuredClone(get('StatefulSet', 'redis'));
    broken.spec.volumeClaimTemplate = broken.spec.volumeClaimTemplates;
    expect((await validateManifest(broken)).join('\n')).toContain('spec.volumeClaimTemplate: unknown field');
  });
});
