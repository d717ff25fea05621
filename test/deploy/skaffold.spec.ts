/**
 * skaffold.yaml: its structure (support/skaffold-schema.ts) and that it fits the Dockerfile, the
 * chart and k8s/ it ties together.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { parseAllDocuments } from 'yaml';
import { renderManifests } from './support/helm.js';
import { dockerfileStages } from './support/dockerfile.js';
import { COMPONENT_NAMES, K8S_DIR, ROOT } from './support/paths.js';
import { SKAFFOLD_CONFIG_SCHEMA } from './support/skaffold-schema.js';
import { defaultValues } from './support/values.js';

type Any = any;

const text = readFileSync(path.join(ROOT, 'skaffold.yaml'), 'utf8');
const docs = parseAllDocuments(text).map((d) => {
  if (d.errors.length) throw new Error(d.errors.map((e) => e.message).join('; '));
  return d.toJS() as Any;
});
const validate = new Ajv({ allErrors: true, strict: false }).compile(SKAFFOLD_CONFIG_SCHEMA);
const problems = (config: unknown) => (validate(config) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`));
const infra = docs.find((d) => d.metadata?.name === 'agentmon-infra');
const app = docs.find((d) => d.metadata?.name === 'agentmon');

describe('skaffold.yaml', () => {
  it('holds two skaffold/v4beta13 modules that match the schema', () => {
    expect(docs).toHaveLength(2);
    for (const d of docs) expect(problems(d)).toEqual([]);
    expect(docs.map((d) => d.apiVersion)).toEqual(['skaffold/v4beta13', 'skaffold/v4beta13']);
  });

  it('deploys the infrastructure module first: the app module requires it', () => {
    expect(app.requires).toEqual([{ configs: ['agentmon-infra'] }]);
    expect(infra.deploy.kubectl.defaultNamespace).toBe('agentmon-dev');
  });

  it('applies every manifest of k8s/, namespace first', () => {
    const yamls = readdirSync(K8S_DIR).filter((f) => f.endsWith('.yaml')).map((f) => `k8s/${f}`);
    expect([...infra.manifests.rawYaml].sort()).toEqual(yamls.sort());
    expect(infra.manifests.rawYaml[0]).toBe('k8s/namespace.yaml');
  });

  it('builds one image per component from its Dockerfile target', () => {
    const stages = dockerfileStages(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8')).map((s) => s.name);
    const artifacts = app.build.artifacts as Any[];
    expect(artifacts.map((a) => a.docker.target).sort()).toEqual([...COMPONENT_NAMES].sort());
    for (const a of artifacts) {
      expect(stages).toContain(a.docker.target);
      expect(a.image).toBe(`agentmon/${a.docker.target}`);
      expect(path.join(ROOT, a.context, a.docker.dockerfile)).toBe(path.join(ROOT, 'Dockerfile'));
    }
  });

  it('hands every built image to the chart by repository and tag@digest', () => {
    const [release] = app.deploy.helm.releases;
    expect(existsSync(path.join(ROOT, release.chartPath, 'Chart.yaml'))).toBe(true);
    for (const f of release.valuesFiles) expect(existsSync(path.join(ROOT, f))).toBe(true);
    const defaults = defaultValues() as Any;
    for (const a of app.build.artifacts as Any[]) {
      const key = a.image.replace(/[^A-Za-z0-9]/g, '_');
      const c = a.docker.target;
      expect(defaults[c].image).toBeDefined(); // the value exists in the chart
      expect(release.setValueTemplates[`${c}.image.repository`]).toBe(`{{.IMAGE_REPO_${key}}}`);
      expect(release.setValueTemplates[`${c}.image.tag`]).toBe(`{{.IMAGE_TAG_${key}}}@{{.IMAGE_DIGEST_${key}}}`);
    }
  });

  it('forwards ports to Services the chart makes, in the release namespace', () => {
    const [release] = app.deploy.helm.releases;
    const services = renderManifests({ release: release.name, namespace: release.namespace, valuesFiles: release.valuesFiles.map((f: string) => path.join(ROOT, f)) }).filter(
      (m) => m.kind === 'Service',
    ) as Any[];
    expect(app.portForward.length).toBeGreaterThan(0);
    for (const pf of app.portForward) {
      const svc = services.find((s) => s.metadata.name === pf.resourceName);
      expect({ pf: pf.resourceName, found: Boolean(svc) }).toEqual({ pf: pf.resourceName, found: true });
      expect(svc.metadata.namespace).toBe(pf.namespace);
      expect(svc.spec.ports.map((p: Any) => p.port)).toContain(pf.port);
    }
  });

  it('has a dev profile for `skaffold dev` whose patches apply to the config', () => {
    const dev = app.profiles.find((p: Any) => p.name === 'dev');
    expect(dev.activation).toEqual([{ command: 'dev' }]);
    for (const p of app.profiles) {
      for (const patch of p.patches ?? []) {
        // an "add" patch needs an existing parent
        const parent = patch.path.split('/').slice(1, -1).reduce((node: Any, key: string) => node?.[/^\d+$/.test(key) ? Number(key) : key], app);
        expect({ profile: p.name, path: patch.path, parent: parent !== undefined }).toEqual({ profile: p.name, path: patch.path, parent: true });
      }
    }
  });

  it('would refuse a misspelt field, an unknown builder option or an old apiVersion', () => {
    const bad1 = structuredClone(app);
    bad1.build.artifact = bad1.build.artifacts;
    expect(problems(bad1).join('\n')).toContain('"additionalProperty":"artifact"');
    const bad2 = structuredClone(app);
    bad2.build.artifacts[0].docker.targett = 'gateway';
    expect(problems(bad2).join('\n')).toContain('"additionalProperty":"targett"');
    const bad3 = structuredClone(app);
    bad3.apiVersion = 'skaffold/v2beta29';
    expect(problems(bad3).join('\n')).toContain('/apiVersion must match pattern');
  });
});
