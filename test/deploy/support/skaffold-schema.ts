/**
 * The part of Skaffold's configuration schema (skaffold/v4beta13, Skaffold 2.15+) that skaffold.yaml
 * uses, written from Skaffold's published schema with the same field names, types and
 * `additionalProperties: false`. Skaffold's full schema is not packaged for npm, so a field this
 * project does not use is refused here even where Skaffold would take it: add it below first.
 */
const str = { type: 'string' } as const;
const bool = { type: 'boolean' } as const;
const int = { type: 'integer' } as const;
const strings = { type: 'array', items: str } as const;
const closed = (properties: Record<string, unknown>, required: string[] = []) => ({
  type: 'object',
  properties,
  required,
  additionalProperties: false,
});

const dockerArtifact = closed({
  dockerfile: str,
  target: str,
  buildArgs: { type: 'object', additionalProperties: str },
  cacheFrom: strings,
  network: str,
  noCache: bool,
  pullParent: bool,
  squash: bool,
  secrets: { type: 'array', items: { type: 'object' } },
  ssh: str,
});
const artifact = closed({ image: str, context: str, docker: dockerArtifact, platforms: strings, requires: { type: 'array' } }, ['image']);
const tagPolicy = closed({
  gitCommit: { type: 'object' },
  sha256: closed({}),
  envTemplate: closed({ template: str }, ['template']),
  dateTime: { type: 'object' },
  inputDigest: closed({}),
  customTemplate: { type: 'object' },
});
const localBuild = closed({
  push: bool,
  tryImportMissing: bool,
  useDockerCLI: bool,
  useBuildkit: bool,
  concurrency: int,
});
const build = closed({ artifacts: { type: 'array', items: artifact }, tagPolicy, local: localBuild, platforms: strings, insecureRegistries: strings });
const helmRelease = closed(
  {
    name: str,
    chartPath: str,
    remoteChart: str,
    valuesFiles: strings,
    namespace: str,
    version: str,
    setValues: { type: 'object' },
    setValueTemplates: { type: 'object', additionalProperties: str },
    setFiles: { type: 'object', additionalProperties: str },
    createNamespace: bool,
    wait: bool,
    recreatePods: bool,
    skipBuildDependencies: bool,
    skipTests: bool,
    upgradeOnChange: bool,
  },
  ['name'],
);
const deploy = closed({
  kubectl: closed({ defaultNamespace: str, flags: { type: 'object' }, remoteManifests: strings }),
  helm: closed({ releases: { type: 'array', items: helmRelease, minItems: 1 }, flags: { type: 'object' } }),
  statusCheck: bool,
  statusCheckDeadlineSeconds: int,
  tolerateFailuresUntilDeadline: bool,
  kubeContext: str,
});
const manifests = closed({ rawYaml: strings, kustomize: { type: 'object' }, helm: { type: 'object' } });
const portForward = {
  type: 'array',
  items: closed({ resourceType: { enum: ['pod', 'deployment', 'service', 'job', 'statefulset'] }, resourceName: str, namespace: str, port: { type: ['integer', 'string'] }, address: str, localPort: int }, ['resourceType', 'resourceName', 'port']),
};
const profile = closed(
  {
    name: str,
    activation: { type: 'array', items: closed({ env: str, kubeContext: str, command: str }) },
    requiresAllActivations: bool,
    patches: { type: 'array', items: closed({ op: { enum: ['add', 'remove', 'replace', 'move', 'copy', 'test'] }, path: str, from: str, value: {} }, ['op', 'path']) },
    build,
    manifests,
    deploy,
    portForward,
  },
  ['name'],
);

export const SKAFFOLD_CONFIG_SCHEMA = closed(
  {
    apiVersion: { type: 'string', pattern: '^skaffold/v4beta(1[0-3]|[1-9])$' },
    kind: { const: 'Config' },
    metadata: closed({ name: str, labels: { type: 'object' }, annotations: { type: 'object' } }),
    requires: { type: 'array', items: closed({ configs: strings, path: str, activeProfiles: { type: 'array' } }) },
    build,
    manifests,
    deploy,
    portForward,
    profiles: { type: 'array', items: profile },
  },
  ['apiVersion', 'kind'],
);
