/**
 * Offline validation of Kubernetes manifests against the schemas of a fixed Kubernetes version.
 *
 * 1. Types, required fields, enums and formats: the JSON schemas of Kubernetes 1.33.0 compiled
 *    into ajv validators by kubernetes-models@4.5.1 (and @kubernetes-models/prometheus-operator for
 *    the ServiceMonitor CRD), exactly pinned devDependencies.
 * 2. Unknown fields (what `kubectl apply --validate=strict` refuses, and what those schemas let
 *    through): every key is looked up in the field lists of the API types generated from the
 *    Kubernetes OpenAPI spec in @kubernetes/client-node (release-1.36 models, a superset of 1.33
 *    for the fields used here). Custom resources get no unknown-field check.
 */
import type { Manifest } from './helm.js';

interface Model {
  validate(): void;
}
type ModelClass = new (data: unknown) => Model;
interface Attribute {
  baseName: string;
  type: string;
}
type ApiTypes = Record<string, { attributeTypeMap?: Attribute[] } | undefined>;

/**
 * The stable API group versions Kubernetes 1.33 serves (kubernetes-models also ships removed ones,
 * such as extensions/v1beta1 and autoscaling/v2beta2, which a 1.33 cluster refuses), and the CRDs.
 */
export const SERVED_API_VERSIONS = new Set([
  'v1',
  'apps/v1',
  'batch/v1',
  'policy/v1',
  'autoscaling/v1',
  'autoscaling/v2',
  'networking.k8s.io/v1',
  'rbac.authorization.k8s.io/v1',
  'storage.k8s.io/v1',
  'scheduling.k8s.io/v1',
  'coordination.k8s.io/v1',
  'discovery.k8s.io/v1',
  'node.k8s.io/v1',
  'certificates.k8s.io/v1',
  'admissionregistration.k8s.io/v1',
  'apiextensions.k8s.io/v1',
  'monitoring.coreos.com/v1',
]);

const CRD_PACKAGES: Record<string, string> = {
  'monitoring.coreos.com': '@kubernetes-models/prometheus-operator',
};

let apiTypes: ApiTypes | undefined;
async function loadApiTypes(): Promise<ApiTypes> {
  // the models only: the package's index also loads an HTTP client this project does not need here
  apiTypes ??= (await import('@kubernetes/client-node/dist/gen/models/all.js')) as unknown as ApiTypes;
  return apiTypes;
}

function modulePath(apiVersion: string, kind: string): string {
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';
  const pkg = CRD_PACKAGES[group] ?? 'kubernetes-models';
  return `${pkg}/${apiVersion}/${kind}`;
}

async function loadModel(apiVersion: string, kind: string): Promise<ModelClass | undefined> {
  try {
    const mod = (await import(modulePath(apiVersion, kind))) as Record<string, ModelClass | undefined>;
    return mod[kind];
  } catch {
    return undefined;
  }
}

const SCALARS = new Set(['string', 'number', 'boolean', 'any', 'object', 'Date', 'IntOrString', 'V1MicroTime']);

function unknownFields(value: unknown, type: string, at: string, types: ApiTypes, errors: string[]): void {
  if (value === null || value === undefined || SCALARS.has(type)) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value)) value.forEach((v, i) => unknownFields(v, array[1]!, `${at}[${i}]`, types, errors));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeof value === 'object') for (const [k, v] of Object.entries(value)) unknownFields(v, map[1]!, `${at}.${k}`, types, errors);
    return;
  }
  const attributes = types[type]?.attributeTypeMap;
  if (!attributes) {
    errors.push(`${at}: no API type ${type} to check fields against`);
    return;
  }
  if (typeof value !== 'object' || Array.isArray(value)) return; // a wrong type is the schema's to report
  for (const [key, v] of Object.entries(value)) {
    const attr = attributes.find((a) => a.baseName === key);
    if (!attr) errors.push(`${at}.${key}: unknown field (not in ${type})`);
    else unknownFields(v, attr.type, `${at}.${key}`, types, errors);
  }
}

/** The API type name of client-node for a built-in kind: apps/v1 Deployment -> V1Deployment. */
function apiTypeName(apiVersion: string, kind: string): string {
  const version = apiVersion.split('/').pop()!;
  return `${version[0]!.toUpperCase()}${version.slice(1)}${kind}`;
}

/** Problems of one manifest; empty when it is valid. */
export async function validateManifest(m: Manifest): Promise<string[]> {
  const where = `${m.kind}/${m.metadata?.name ?? '?'}`;
  if (!SERVED_API_VERSIONS.has(m.apiVersion)) return [`${where}: ${m.apiVersion} is not served by Kubernetes 1.33`];
  const Model = await loadModel(m.apiVersion, m.kind);
  if (!Model) return [`${where}: no schema for ${m.apiVersion} ${m.kind} in Kubernetes 1.33 or the known CRDs`];
  const errors: string[] = [];
  try {
    new Model(m).validate();
  } catch (err) {
    errors.push(`${where}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const group = m.apiVersion.includes('/') ? m.apiVersion.split('/')[0]! : '';
  if (!CRD_PACKAGES[group]) {
    const types = await loadApiTypes();
    const fieldErrors: string[] = [];
    unknownFields(m, apiTypeName(m.apiVersion, m.kind), where, types, fieldErrors);
    errors.push(...fieldErrors);
  }
  return errors;
}

/** Problems of many manifests, each prefixed with its source. */
export async function validateManifests(manifests: Manifest[], source: string): Promise<string[]> {
  const out: string[] = [];
  for (const m of manifests) for (const e of await validateManifest(m)) out.push(`${source}: ${e}`);
  return out;
}
