/**
 * The Helm chart rendered by the real Helm (3.8.1, unpacked from an npm package; see support/helm.ts)
 * for Kubernetes 1.33.0, and every rendered object validated against the Kubernetes 1.33 schemas
 * (support/k8s-validate.ts). Then what the objects must say to each other: probes on the health
 * endpoints, Services and budgets that select the pods, Secret keys that exist, Ingress routes, hooks.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { helm, parseManifests, renderChart, renderManifests, type Manifest } from './support/helm.js';
import { validateManifest, validateManifests } from './support/k8s-validate.js';
import { CHART_CI_DIR, CHART_DIR, COMPONENTS, COMPONENT_NAMES, FIXTURES_DIR, type Component } from './support/paths.js';
import { readYaml, type Values } from './support/values.js';
import { makeTestPki } from '../support/tls.js';

const ci = (name: string) => path.join(CHART_CI_DIR, name);
const DEV = ci('dev-values.yaml');
const PROD = ci('production-values.yaml');
const EXISTING = ci('existing-secret-values.yaml');
const TLS = ci('tls-values.yaml');
const ciFiles = readdirSync(CHART_CI_DIR).filter((f) => f.endsWith('.yaml'));

type Any = any;

const of = (ms: Manifest[], kind: string) => ms.filter((m) => m.kind === kind) as Any[];
const named = (ms: Manifest[], kind: string, name: string): Any => {
  const found = ms.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} among ${ms.map((m) => `${m.kind}/${m.metadata.name}`).join(', ')}`);
  return found;
};
const isHook = (m: Manifest) => Boolean(m.metadata.annotations?.['helm.sh/hook']);
const matches = (selector: Record<string, string>, labels: Record<string, string> | undefined) =>
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);

describe('the Helm binary used here', () => {
  it('is real Helm 3', () => {
    const r = helm(['version', '--short']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^v3\.\d+\.\d+/);
  });
});

describe.each(ciFiles)('helm/agentmon with ci/%s', (file) => {
  let manifests: Manifest[];
  beforeAll(() => {
    manifests = renderManifests({ valuesFiles: [ci(file)] });
  });

  it('passes helm lint --strict', () => {
    const r = helm(['lint', '--strict', CHART_DIR, '--values', ci(file)]);
    expect(`${r.stdout}${r.stderr}`).toContain('0 chart(s) failed');
    expect(r.status).toBe(0);
  });

  it('renders objects that are all valid Kubernetes 1.33 objects, with no unknown field', async () => {
    expect(manifests.length).toBeGreaterThan(30);
    expect(await validateManifests(manifests, file)).toEqual([]);
  });

  it('renders a Deployment, Service, ConfigMap and PodDisruptionBudget for every component', () => {
    const values = readYaml(ci(file)) as Values;
    const fullname = (values.fullnameOverride as string | undefined) ?? 'agentmon';
    for (const c of COMPONENT_NAMES) {
      const name = `${fullname}-${c}`;
      named(manifests, 'Deployment', name);
      named(manifests, 'Service', name);
      named(manifests, 'ConfigMap', name);
      named(manifests, 'PodDisruptionBudget', name);
    }
    expect(of(manifests, 'Deployment')).toHaveLength(COMPONENT_NAMES.length);
  });

  it('probes every container on /health/live and /health/ready of its own port, runs it as non-root on a read-only root', () => {
    const tlsOn = (readYaml(ci(file)) as Any).tls?.enabled === true;
    for (const d of of(manifests, 'Deployment')) {
      const component = d.metadata.labels['app.kubernetes.io/component'] as Component;
      const pod = d.spec.template.spec;
      const [container] = pod.containers;
      expect(pod.containers).toHaveLength(1);
      expect(container.ports).toEqual([{ name: 'http', containerPort: COMPONENTS[component], protocol: 'TCP' }]);
      // with tls.enabled the six services serve HTTPS only; the dashboard stays HTTP
      const scheme = tlsOn && component !== 'web' ? { scheme: 'HTTPS' } : {};
      expect(container.livenessProbe.httpGet).toEqual({ path: '/health/live', port: 'http', ...scheme });
      expect(container.readinessProbe.httpGet).toEqual({ path: '/health/ready', port: 'http', ...scheme });
      expect(container.startupProbe.httpGet).toEqual({ path: '/health/live', port: 'http', ...scheme });
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
      expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
      expect(container.securityContext.allowPrivilegeEscalation).toBe(false);
      expect(container.securityContext.capabilities.drop).toEqual(['ALL']);
      expect(container.resources.requests.memory).toBeDefined();
      expect(container.resources.limits.memory).toBeDefined();
      // whatever must be writable is an emptyDir; Secrets (TLS files) are mounted read-only
      for (const mount of container.volumeMounts) {
        const volume = pod.volumes.find((v: Any) => v.name === mount.name);
        if (volume?.secret) expect(mount.readOnly).toBe(true);
        else expect(volume).toHaveProperty('emptyDir');
      }
      expect(container.image).toMatch(new RegExp(`/${component}:[^:@]+(@sha256:[a-f0-9]{64})?$`));
    }
  });

  it('selects each Deployment\'s pods from its Service, budget and autoscaler', () => {
    for (const d of of(manifests, 'Deployment')) {
      const podLabels = d.spec.template.metadata.labels;
      expect(matches(d.spec.selector.matchLabels, podLabels)).toBe(true);
      const svc = named(manifests, 'Service', d.metadata.name);
      expect(matches(svc.spec.selector, podLabels)).toBe(true);
      expect(svc.spec.ports[0].targetPort).toBe('http');
      // no other component's pods
      for (const other of of(manifests, 'Deployment').filter((o) => o !== d)) {
        expect(matches(svc.spec.selector, other.spec.template.metadata.labels)).toBe(false);
      }
      const pdb = named(manifests, 'PodDisruptionBudget', d.metadata.name);
      expect(matches(pdb.spec.selector.matchLabels, podLabels)).toBe(true);
      const hpa = of(manifests, 'HorizontalPodAutoscaler').find((h) => h.spec.scaleTargetRef.name === d.metadata.name);
      if (hpa) {
        expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata.name });
        expect(d.spec.replicas).toBeUndefined(); // the autoscaler owns the count
        expect(hpa.spec.metrics.length).toBeGreaterThan(0);
      } else {
        expect(d.spec.replicas).toBeGreaterThanOrEqual(1);
      }
    }
  });

  it('reads its environment only from ConfigMaps and Secret keys that exist', () => {
    const configMaps = new Set(of(manifests, 'ConfigMap').map((c) => c.metadata.name));
    const secrets = of(manifests, 'Secret').filter((s) => !isHook(s));
    const pods = [...of(manifests, 'Deployment'), ...of(manifests, 'Job')].map((w) => [w.metadata.name, w.spec.template.spec] as const);
    for (const [name, pod] of pods) {
      for (const c of pod.containers) {
        for (const from of c.envFrom ?? []) expect({ name, configMap: configMaps.has(from.configMapRef.name) }).toEqual({ name, configMap: true });
        for (const e of c.env ?? []) {
          const ref = e.valueFrom?.secretKeyRef;
          if (!ref) continue;
          const secret = of(manifests, 'Secret').find((s) => s.metadata.name === ref.name);
          if (!secret) {
            // only the user's existingSecret may be absent from the render
            expect(ref.name).toBe((readYaml(ci(file)) as Any).secrets?.existingSecret);
            continue;
          }
          if (!ref.optional) expect({ name, key: ref.key, present: ref.key in secret.data }).toEqual({ name, key: ref.key, present: true });
        }
      }
    }
    expect(secrets.length).toBeLessThanOrEqual(1);
  });

  it('runs the migrations of every service that owns a schema in hook Jobs', () => {
    const values = readYaml(ci(file)) as Any;
    const jobs = of(manifests, 'Job');
    if (values.migrations?.enabled === false) {
      expect(jobs).toEqual([]);
      return;
    }
    expect(jobs.map((j) => j.metadata.labels['app.kubernetes.io/component']).sort()).toEqual(['alerting', 'auth', 'ingest', 'notification', 'registry']);
    for (const job of jobs) {
      const component = job.metadata.labels['app.kubernetes.io/component'];
      const hook = job.metadata.annotations['helm.sh/hook'];
      expect(hook.split(',')).toContain('pre-upgrade');
      const container = job.spec.template.spec.containers[0];
      expect(container.command).toEqual(['node', '/opt/agentmon-migrate/migrate.mjs', `services/${component}/dist/main.js`]);
      expect(container.env).toContainEqual({ name: 'MIGRATE_ONLY', value: 'true' });
      expect(container.env).toContainEqual({ name: 'PORT', value: String(COMPONENTS[component as Component]) });
      expect(job.spec.template.spec.restartPolicy).toBe('Never');
      expect(job.spec.activeDeadlineSeconds).toBeGreaterThan(0);
      // what the Job mounts and reads exists at the same hook, with a lower weight
      const weight = Number(job.metadata.annotations['helm.sh/hook-weight']);
      const script = named(manifests, 'ConfigMap', job.spec.template.spec.volumes.find((v: Any) => v.configMap).configMap.name);
      expect(script.metadata.annotations['helm.sh/hook']).toBe(hook);
      expect(Number(script.metadata.annotations['helm.sh/hook-weight'])).toBeLessThan(weight);
      expect(script.data['migrate.mjs']).toContain('MIGRATE_ONLY');
      for (const e of container.env) {
        const ref = e.valueFrom?.secretKeyRef;
        if (!ref || ref.name === values.secrets?.existingSecret) continue;
        const secret = named(manifests, 'Secret', ref.name);
        expect(secret.metadata.annotations['helm.sh/hook']).toBe(hook);
        expect(Number(secret.metadata.annotations['helm.sh/hook-weight'])).toBeLessThan(weight);
      }
    }
  });
});

describe('values and the rendered objects', () => {
  it('gives each service the settings its configuration schema accepts', async () => {
    // every service's own zod schema (services/<name>/src/config.ts) parses the environment the chart
    // gives it: ConfigMap data, Secret values and plain env entries. The TLS files the chart mounts
    // under /etc/agentmon/tls are stood in for by files of a throwaway CA, since the schemas read them.
    const pki = makeTestPki('agentmon-chart-');
    const standIn = (value: string) => {
      const m = /^\/etc\/agentmon\/tls\/([a-z]+)\/(ca\.crt|tls\.crt|tls\.key)$/.exec(value);
      if (!m) return value;
      if (m[2] === 'ca.crt') return pki.caCert;
      const served = m[1] === 'server';
      return m[2] === 'tls.crt' ? (served ? pki.serverCert : pki.clientCert) : served ? pki.serverKey : pki.clientKey;
    };
    const { tlsConfigProblems } = await import('../../libs/config/src/index.js');
    try {
      for (const file of [DEV, PROD, TLS]) {
        const ms = renderManifests({ valuesFiles: [file] });
        const secret = of(ms, 'Secret').find((s) => !isHook(s));
        for (const component of COMPONENT_NAMES.filter((c) => c !== 'web')) {
          const mod = (await import(`../../services/${component}/src/config.js`)) as Record<string, Any>;
          const schemaName = Object.keys(mod).find((k) => k.endsWith('ConfigSchema'));
          expect({ component, schemaName }).toEqual({ component, schemaName: expect.any(String) });
          const schema = mod[schemaName!];
          const deployment = named(ms, 'Deployment', `agentmon-${component}`);
          const container = deployment.spec.template.spec.containers[0];
          const env: Record<string, string> = Object.fromEntries(
            Object.entries(named(ms, 'ConfigMap', `agentmon-${component}`).data as Record<string, string>).map(([k, v]) => [k, standIn(v)]),
          );
          for (const e of container.env ?? []) {
            if (e.value !== undefined) env[e.name] = e.value;
            const ref = e.valueFrom?.secretKeyRef;
            if (ref && secret.data[ref.key] !== undefined) env[e.name] = Buffer.from(secret.data[ref.key], 'base64').toString();
          }
          // PGPASSWORD is read by node-postgres itself; NODE_OPTIONS by Node.js
          // a schema with a transform is a pipe whose input is the object
          const shape = schema.shape ?? schema.in.shape;
          const unknown = Object.keys(env).filter((k) => !(k in shape) && !['PGPASSWORD', 'NODE_OPTIONS'].includes(k));
          expect({ component, file: path.basename(file), unknown }).toEqual({ component, file: path.basename(file), unknown: [] });
          const parsed = schema.safeParse(env);
          expect({ component, file: path.basename(file), issues: parsed.success ? [] : parsed.error.issues }).toEqual({
            component,
            file: path.basename(file),
            issues: [],
          });
          // and what loadConfig checks across variables (a certificate with its key, TLS files with a TLS URL)
          expect({ component, file: path.basename(file), problems: tlsConfigProblems(parsed.data) }).toEqual({ component, file: path.basename(file), problems: [] });
        }
      }
    } finally {
      pki.remove();
    }
  });

  it('composes the database URLs without the password, which comes from the Secret', () => {
    const ms = renderManifests({ valuesFiles: [PROD] });
    const auth = named(ms, 'ConfigMap', 'agentmon-auth').data;
    expect(auth.DATABASE_URL).toBe('postgres://agentmon@agentmon-pg.example.internal:5432/agentmon_auth?sslmode=verify-full');
    const secret = named(ms, 'Secret', 'agentmon');
    expect(Buffer.from(secret.data['postgres-password'], 'base64').toString()).toBe('p@ss/word:with#specials');
    expect(JSON.stringify(of(ms, 'ConfigMap'))).not.toContain('p@ss/word');
  });

  it('routes /api and /ws to the gateway, the agent push paths to ingest and the rest to web', () => {
    const ms = renderManifests({ valuesFiles: [PROD] });
    const ingress = named(ms, 'Ingress', 'agentmon');
    const [main, ingestHost] = ingress.spec.rules;
    expect(main.host).toBe('agentmon.example.com');
    const routes = Object.fromEntries(main.http.paths.map((p: Any) => [p.path, `${p.pathType} ${p.backend.service.name}:${p.backend.service.port.name}`]));
    expect(routes).toEqual({
      '/api/v2/ingest': 'Prefix agentmon-ingest:http',
      '/api/v2/write': 'Prefix agentmon-ingest:http',
      '/write': 'Prefix agentmon-ingest:http',
      '/v1/metrics': 'Prefix agentmon-ingest:http',
      '/api/v2/agents/[^/]+/heartbeat': 'ImplementationSpecific agentmon-ingest:http',
      '/api': 'Prefix agentmon-gateway:http',
      '/ws': 'Prefix agentmon-gateway:http',
      '/': 'Prefix agentmon-web:http',
    });
    expect(ingestHost.host).toBe('ingest.agentmon.example.com');
    expect(ingestHost.http.paths).toEqual([{ path: '/', pathType: 'Prefix', backend: { service: { name: 'agentmon-ingest', port: { name: 'http' } } } }]);
    expect(ingress.spec.tls).toEqual([{ secretName: 'agentmon-tls', hosts: ['agentmon.example.com', 'ingest.agentmon.example.com'] }]);
    expect(ingress.spec.ingressClassName).toBe('nginx');
    // the dashboard opens socket.io on its own origin, and notifications link to the https host
    expect(named(ms, 'ConfigMap', 'agentmon-web').data.GATEWAY_PUBLIC_URL).toBe('/');
    expect(named(ms, 'ConfigMap', 'agentmon-notification').data.DASHBOARD_URL).toBe('https://agentmon.example.com');
  });

  it('renders no Ingress, ServiceMonitor or autoscaler unless asked', () => {
    const ms = renderManifests({ valuesFiles: [DEV] });
    expect(of(ms, 'Ingress')).toEqual([]);
    expect(of(ms, 'ServiceMonitor')).toEqual([]);
    expect(of(ms, 'HorizontalPodAutoscaler')).toEqual([]);
  });

  it('scrapes /metrics of every component with one ServiceMonitor', () => {
    const ms = renderManifests({ valuesFiles: [PROD] });
    const [sm] = of(ms, 'ServiceMonitor');
    expect(sm.metadata.namespace).toBe('monitoring');
    expect(sm.metadata.labels.release).toBe('kube-prometheus-stack');
    expect(sm.spec.namespaceSelector.matchNames).toEqual(['agentmon']);
    expect(sm.spec.endpoints).toEqual([{ port: 'http', path: '/metrics', scheme: 'http', interval: '15s', scrapeTimeout: '5s' }]);
    const inSelection = (svc: Any) =>
      matches(sm.spec.selector.matchLabels, svc.metadata.labels) &&
      sm.spec.selector.matchExpressions.every((e: Any) => e.values.includes(svc.metadata.labels[e.key]));
    const selected = of(ms, 'Service').filter(inSelection);
    expect(selected.map((s) => s.metadata.name).sort()).toEqual(COMPONENT_NAMES.map((c) => `agentmon-${c}`).sort());
    for (const svc of selected) expect(svc.spec.ports.map((p: Any) => p.name)).toContain('http');
  });

  it('reads every secret from an existing Secret and makes none when secrets.existingSecret is set', () => {
    const ms = renderManifests({ valuesFiles: [EXISTING] });
    expect(of(ms, 'Secret')).toEqual([]);
    const refs = [...of(ms, 'Deployment'), ...of(ms, 'Job')].flatMap((w) =>
      w.spec.template.spec.containers.flatMap((c: Any) => (c.env ?? []).map((e: Any) => e.valueFrom?.secretKeyRef).filter(Boolean)),
    );
    expect(refs.length).toBeGreaterThan(10);
    expect(new Set(refs.map((r: Any) => r.name))).toEqual(new Set(['agentmon-credentials']));
    expect(new Set(refs.map((r: Any) => r.key))).toEqual(
      new Set(['nats-url', 'redis-url', 'postgres-password', 'influxdb-password', 'auth-encryption-key', 'admin-password', 'notification-encryption-key', 'smtp-url']),
    );
    for (const d of of(ms, 'Deployment')) {
      expect(d.spec.template.spec.serviceAccountName).toBe('agentmon-runner');
      expect(d.spec.template.metadata.annotations['checksum/secret']).toBeUndefined();
    }
    expect(of(ms, 'ServiceAccount')).toEqual([]);
  });

  it('takes the images skaffold built (repository and tag@digest per component)', () => {
    const digest = `sha256:${'ab'.repeat(32)}`;
    const ms = renderManifests({
      valuesFiles: [DEV],
      setString: { 'gateway.image.repository': 'localhost:5000/agentmon/gateway', 'gateway.image.tag': `3f2a1c@${digest}` },
    });
    expect(named(ms, 'Deployment', 'agentmon-gateway').spec.template.spec.containers[0].image).toBe(`localhost:5000/agentmon/gateway:3f2a1c@${digest}`);
    expect(named(ms, 'Deployment', 'agentmon-web').spec.template.spec.containers[0].image).toBe('agentmon/web:0.1.0');
  });

  it('rolls the pods when their configuration changes', () => {
    const checksum = (ms: Manifest[]) => named(ms, 'Deployment', 'agentmon-registry').spec.template.metadata.annotations['checksum/config'];
    const before = checksum(renderManifests({ valuesFiles: [DEV] }));
    const after = checksum(renderManifests({ valuesFiles: [DEV], setString: { 'registry.config.HEARTBEAT_TIMEOUT_MS': '60000' } }));
    expect(after).not.toBe(before);
  });
});

describe('TLS inside the cluster (ci/tls-values.yaml)', () => {
  let ms: Manifest[];
  beforeAll(() => {
    ms = renderManifests({ valuesFiles: [TLS] });
  });
  const workloads = () => [...of(ms, 'Deployment'), ...of(ms, 'Job')];
  const envOf = (w: Any): Record<string, string> => {
    const c = w.spec.template.spec.containers[0];
    const env: Record<string, string> = {};
    for (const from of c.envFrom ?? []) Object.assign(env, named(ms, 'ConfigMap', from.configMapRef.name).data);
    for (const e of c.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
    return env;
  };
  const fileVars = (env: Record<string, string>) => Object.entries(env).filter(([k]) => /_FILE$/.test(k) || k === 'NODE_EXTRA_CA_CERTS');

  it('mounts every file a TLS variable names, read-only, from the Secret and key the values name', () => {
    const values = readYaml(TLS) as Any;
    const secretOf: Record<string, { secret: string; keys: Record<string, string> }> = {
      server: { secret: values.tls.secretName, keys: { 'tls.crt': 'tls.crt', 'tls.key': 'tls.key', 'ca.crt': 'ca.crt' } },
    };
    for (const dep of ['postgresql', 'redis', 'nats', 'influxdb']) {
      const t = values[dep].tls;
      secretOf[dep] = { secret: t.secretName, keys: { 'ca.crt': t.caKey, 'tls.crt': t.certKey, 'tls.key': t.keyKey } };
    }
    let checked = 0;
    for (const w of workloads()) {
      const pod = w.spec.template.spec;
      const container = pod.containers[0];
      for (const [name, file] of fileVars(envOf(w))) {
        const dir = path.dirname(file);
        const mount = container.volumeMounts.find((m: Any) => m.mountPath === dir);
        expect({ workload: w.metadata.name, name, mounted: Boolean(mount) }).toEqual({ workload: w.metadata.name, name, mounted: true });
        expect(mount.readOnly).toBe(true);
        const volume = pod.volumes.find((v: Any) => v.name === mount.name);
        const expected = secretOf[path.basename(dir)]!;
        expect(volume.secret.secretName).toBe(expected.secret);
        expect(volume.secret.defaultMode).toBe(0o440);
        expect(volume.secret.items).toContainEqual({ key: expected.keys[path.basename(file)], path: path.basename(file) });
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(50);
  });

  it('gives each component the TLS settings of what it connects to, and nothing of what it does not', () => {
    const envs = Object.fromEntries(of(ms, 'Deployment').map((d) => [d.metadata.labels['app.kubernetes.io/component'], envOf(d)]));
    const vars = (c: string) => fileVars(envs[c]!).map(([k]) => k).sort();
    const nats = ['NATS_TLS_CA_FILE', 'NATS_TLS_CERT_FILE', 'NATS_TLS_KEY_FILE'];
    const pg = ['DATABASE_CA_FILE', 'DATABASE_CERT_FILE', 'DATABASE_KEY_FILE'];
    const served = ['TLS_CERT_FILE', 'TLS_KEY_FILE'];
    expect(vars('gateway')).toEqual([...nats, 'REDIS_CA_FILE', ...served].sort());
    expect(vars('ingest')).toEqual(['INFLUX_CA_FILE', ...nats, 'REDIS_CA_FILE', ...served].sort());
    expect(vars('auth')).toEqual([...pg, ...nats, ...served].sort());
    expect(vars('registry')).toEqual([...pg, ...nats, ...served].sort());
    expect(vars('alerting')).toEqual([...pg, ...nats, 'REDIS_CA_FILE', ...served].sort());
    expect(vars('notification')).toEqual([...pg, ...nats, ...served].sort());
    // the dashboard stays HTTP, and trusts the CA for its calls to the gateway, which serves HTTPS
    expect(vars('web')).toEqual(['NODE_EXTRA_CA_CERTS']);
    expect(envs.web!.GATEWAY_URL).toBe('https://agentmon-gateway:8000');
    // a migration Job serves nothing: no served certificate, but the database's TLS
    for (const job of of(ms, 'Job')) {
      const env = envOf(job);
      expect(env.TLS_CERT_FILE).toBeUndefined();
      if (job.metadata.labels['app.kubernetes.io/component'] !== 'ingest') expect(env.DATABASE_CA_FILE).toBe('/etc/agentmon/tls/postgresql/ca.crt');
      else expect(env.INFLUX_CA_FILE).toBe('/etc/agentmon/tls/influxdb/ca.crt');
    }
  });

  it('adds nothing when TLS is not configured (the defaults stay plain TCP)', () => {
    for (const file of [DEV, PROD]) {
      for (const w of [...of(renderManifests({ valuesFiles: [file] }), 'Deployment')]) {
        const c = w.spec.template.spec.containers[0];
        expect(c.volumeMounts.map((m: Any) => m.mountPath).filter((p: string) => p.startsWith('/etc/agentmon/tls'))).toEqual([]);
        expect(c.readinessProbe.httpGet.scheme).toBeUndefined();
      }
    }
  });

  it('sends the API and agent paths through a second Ingress that speaks HTTPS to its backends', () => {
    const main = named(ms, 'Ingress', 'agentmon');
    const api = named(ms, 'Ingress', 'agentmon-api');
    const routes = (i: Any) => i.spec.rules.flatMap((r: Any) => r.http.paths.map((p: Any) => `${r.host}${p.path} ${p.backend.service.name}`));
    expect(routes(main)).toEqual(['agentmon.example.com/ agentmon-web']);
    expect(routes(api)).toEqual([
      'agentmon.example.com/api/v2/ingest agentmon-ingest',
      'agentmon.example.com/api/v2/write agentmon-ingest',
      'agentmon.example.com/write agentmon-ingest',
      'agentmon.example.com/v1/metrics agentmon-ingest',
      'agentmon.example.com/api agentmon-gateway',
      'agentmon.example.com/ws agentmon-gateway',
      'ingest.agentmon.example.com/ agentmon-ingest',
    ]);
    expect(api.metadata.annotations).toEqual({ 'nginx.ingress.kubernetes.io/backend-protocol': 'HTTPS', 'nginx.ingress.kubernetes.io/proxy-body-size': '12m' });
    expect(main.metadata.annotations).toEqual({ 'nginx.ingress.kubernetes.io/proxy-body-size': '12m' });
    expect(api.spec.tls).toEqual(main.spec.tls);
  });

  it('scrapes the services over HTTPS, trusting the CA of the served certificate, and the dashboard over HTTP', () => {
    const sms = of(ms, 'ServiceMonitor');
    expect(sms.map((s) => s.metadata.name).sort()).toEqual(['agentmon', 'agentmon-web']);
    const [https] = named(ms, 'ServiceMonitor', 'agentmon').spec.endpoints;
    expect(https).toMatchObject({ port: 'http', scheme: 'https', tlsConfig: { ca: { secret: { name: 'agentmon-internal-tls', key: 'ca.crt' } }, serverName: 'agentmon-gateway' } });
    expect(named(ms, 'ServiceMonitor', 'agentmon').spec.selector.matchExpressions[0].values).toEqual(['gateway', 'ingest', 'auth', 'registry', 'alerting', 'notification']);
    const [http] = named(ms, 'ServiceMonitor', 'agentmon-web').spec.endpoints;
    expect(http).toMatchObject({ port: 'http', scheme: 'http' });
    expect(http.tlsConfig).toBeUndefined();
    const custom = renderManifests({ valuesFiles: [TLS], values: 'metrics: { serviceMonitor: { tlsConfig: { insecureSkipVerify: true } } }\n' });
    expect(named(custom, 'ServiceMonitor', 'agentmon').spec.endpoints[0].tlsConfig).toEqual({ insecureSkipVerify: true });
  });

  it('stops on TLS values that cannot work, naming them', () => {
    const refused = (values: string) => renderChart({ valuesFiles: [TLS], values });
    const cases: [string, string][] = [
      ['tls: { secretName: "" }\n', 'tls.secretName is required when tls.enabled is true'],
      ['redis: { url: "redis://redis:6379/0" }\n', 'redis.tls needs a rediss:// redis.url'],
      ['influxdb: { url: "http://influx:8086" }\n', 'influxdb.tls needs an https:// influxdb.url'],
      ['nats: { tls: { keyKey: "" } }\n', 'nats.tls.certKey and nats.tls.keyKey go together'],
      ['postgresql: { tls: { caKey: "", certKey: "", keyKey: "" } }\n', 'postgresql.tls.secretName is set but none of'],
      ['postgresql: { sslmode: disable }\n', 'postgresql.tls contradicts postgresql.sslmode disable'],
    ];
    for (const [values, message] of cases) {
      const r = refused(values);
      expect({ values, status: r.status === 0 ? 'rendered' : 'refused', message: r.stderr.includes(message) }).toEqual({ values, status: 'refused', message: true });
    }
  });
});

describe('values the chart refuses', () => {
  it('stops without the external endpoints and the encryption keys, naming what is missing', () => {
    const bare = renderChart();
    expect(bare.status).not.toBe(0);
    expect(bare.stderr).toContain('postgresql.host is required');

    const noKey = renderChart({ valuesFiles: [DEV], setString: { 'secrets.authEncryptionKey': '' } });
    expect(noKey.status).not.toBe(0);
    expect(noKey.stderr).toContain('secrets.authEncryptionKey is required');

    const noRedis = renderChart({ valuesFiles: [DEV], setString: { 'redis.url': '' } });
    expect(noRedis.status).not.toBe(0);
    expect(noRedis.stderr).toContain('redis.url is required');
  });

  it('stops a pre-install migration hook that would swallow the generated admin password', () => {
    const r = renderChart({ valuesFiles: [DEV], values: 'secrets: { adminPassword: "" }\nmigrations: { hook: "pre-install,pre-upgrade" }\n' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('migrations.hook pre-install needs secrets.adminPassword');
  });

  it('stops when an autoscaler would have no metric', () => {
    const r = renderChart({ valuesFiles: [DEV], values: 'gateway:\n  autoscaling: { enabled: true, targetCPUUtilizationPercentage: 0, targetMemoryUtilizationPercentage: 0 }\n' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('gateway.autoscaling needs');
  });

  it.each((readYaml(path.join(FIXTURES_DIR, 'bad-values.yaml')) as { name: string; expect: string; values: Values }[]).map((c) => [c.name, c] as const))(
    'Helm itself refuses %s (values.schema.json)',
    (_name, c) => {
      const r = renderChart({ valuesFiles: [DEV], values: JSON.stringify(c.values) });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain("values don't meet the specifications of the schema");
      expect(r.stderr).toContain(c.expect);
    },
  );
});

describe('the manifest validator', () => {
  let deployment: Any;
  beforeAll(() => {
    deployment = named(renderManifests({ valuesFiles: [DEV] }), 'Deployment', 'agentmon-gateway');
  });
  const mutate = (f: (d: Any) => void): Manifest => {
    const copy = structuredClone(deployment);
    f(copy);
    return copy;
  };

  it('accepts the rendered Deployment as it is', async () => {
    expect(await validateManifest(deployment)).toEqual([]);
  });

  it('refuses a misspelt field', async () => {
    const errors = await validateManifest(mutate((d) => (d.spec.template.spec.containers[0].readinesProbe = { httpGet: { path: '/', port: 80 } })));
    expect(errors.join('\n')).toContain('readinesProbe: unknown field');
  });

  it('refuses a value of the wrong type', async () => {
    const errors = await validateManifest(mutate((d) => (d.spec.replicas = 'two')));
    expect(errors.join('\n')).toContain('replicas must be integer');
  });

  it('refuses an object without a required field', async () => {
    const errors = await validateManifest(mutate((d) => delete d.spec.template.spec.containers[0].name));
    expect(errors.join('\n')).toContain('containers/0 must have required property name');
  });

  it('refuses an API version that Kubernetes 1.33 no longer serves', async () => {
    const errors = await validateManifest(mutate((d) => (d.apiVersion = 'extensions/v1beta1')));
    expect(errors.join('\n')).toContain('extensions/v1beta1 is not served by Kubernetes 1.33');
  });

  it('refuses a kind it has no schema for', async () => {
    const errors = await validateManifest(mutate((d) => (d.kind = 'Deploymnt')));
    expect(errors.join('\n')).toContain('no schema for apps/v1 Deploymnt');
  });

  it('refuses YAML that is not a list of objects', () => {
    expect(() => parseManifests('kind: [unclosed', 'bad.yaml')).toThrow('invalid YAML');
    expect(() => parseManifests('- just\n- a list\n', 'bad.yaml')).toThrow('not a mapping');
    expect(() => parseManifests('apiVersion: v1\nkind: ConfigMap\n', 'bad.yaml')).toThrow('lacks apiVersion, kind or metadata.name');
  });
});
