/**
 * The real Helm binary, offline. The npm package @aws-cdk/asset-kubectl-v20 (a devDependency, no
 * install script) ships Helm 3.8.1 for linux/amd64 inside lib/layer.zip; this module unpacks it
 * once into node_modules/.cache and runs it. Nothing is downloaded.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { parseAllDocuments } from 'yaml';
import { CHART_DIR, KUBE_VERSION, ROOT } from './paths.js';

const require = createRequire(import.meta.url);
const HELM_PACKAGE = '@aws-cdk/asset-kubectl-v20';

/** Reads one file out of a zip archive (stored or deflated), by walking its central directory. */
export function readZipEntry(zip: Buffer, name: string): Buffer {
  const eocdSig = 0x06054b50;
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === eocdSig) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip archive: no end of central directory');
  const entries = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  for (let n = 0; n < entries; n++) {
    if (zip.readUInt32LE(p) !== 0x02014b50) throw new Error('corrupt zip central directory');
    const method = zip.readUInt16LE(p + 10);
    const compressedSize = zip.readUInt32LE(p + 20);
    const size = zip.readUInt32LE(p + 24);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    const localOffset = zip.readUInt32LE(p + 42);
    const entryName = zip.toString('utf8', p + 46, p + 46 + nameLen);
    if (entryName === name) {
      const localNameLen = zip.readUInt16LE(localOffset + 26);
      const localExtraLen = zip.readUInt16LE(localOffset + 28);
      const start = localOffset + 30 + localNameLen + localExtraLen;
      const data = zip.subarray(start, start + compressedSize);
      const out = method === 0 ? Buffer.from(data) : method === 8 ? inflateRawSync(data) : null;
      if (!out) throw new Error(`zip entry ${name}: unsupported compression method ${method}`);
      if (out.length !== size) throw new Error(`zip entry ${name}: expected ${size} bytes, got ${out.length}`);
      return out;
    }
    p += 46 + nameLen + extraLen + commentLen;
  }
  throw new Error(`zip entry ${name} not found`);
}

let cachedBinary: string | undefined;

/** Path of the Helm binary, unpacked on first use. */
export function helmBinary(): string {
  if (cachedBinary) return cachedBinary;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`${HELM_PACKAGE} ships Helm for linux/x64 only; this is ${process.platform}/${process.arch}`);
  }
  const pkgJson = require.resolve(`${HELM_PACKAGE}/package.json`);
  const pkgDir = path.dirname(pkgJson);
  const version = (JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string }).version;
  const dir = path.join(ROOT, 'node_modules', '.cache', 'agentmon-deploy', `helm-${version}`);
  const bin = path.join(dir, 'helm');
  if (!existsSync(bin) || statSync(bin).size === 0) {
    mkdirSync(dir, { recursive: true });
    const data = readZipEntry(readFileSync(path.join(pkgDir, 'lib', 'layer.zip')), 'helm/helm');
    // write then rename, so parallel test workers never run a half-written binary
    const tmp = `${bin}.${process.pid}.tmp`;
    writeFileSync(tmp, data);
    chmodSync(tmp, 0o755);
    renameSync(tmp, bin);
  }
  cachedBinary = bin;
  return bin;
}

// Helm keeps config, cache and data under $HOME by default: give it a throw-away home.
const helmHome = mkdtempSync(path.join(os.tmpdir(), 'agentmon-helm-'));
const helmEnv = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: helmHome,
  HELM_CACHE_HOME: path.join(helmHome, 'cache'),
  HELM_CONFIG_HOME: path.join(helmHome, 'config'),
  HELM_DATA_HOME: path.join(helmHome, 'data'),
  // no cluster: make sure nothing reads a real kubeconfig
  KUBECONFIG: path.join(helmHome, 'no-kubeconfig'),
};

export interface HelmResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function helm(args: string[]): HelmResult {
  const r = spawnSync(helmBinary(), args, { env: helmEnv, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export interface RenderOptions {
  valuesFiles?: string[];
  /** --set-string key=value pairs */
  setString?: Record<string, string>;
  /** values given as YAML text (written to a temporary file) */
  values?: string;
  release?: string;
  namespace?: string;
}

/** `helm template` of the chart for KUBE_VERSION; status and stderr tell when the render failed. */
export function renderChart(opts: RenderOptions = {}): HelmResult {
  const args = ['template', opts.release ?? 'agentmon', CHART_DIR, '--namespace', opts.namespace ?? 'agentmon', '--kube-version', KUBE_VERSION];
  for (const f of opts.valuesFiles ?? []) args.push('--values', f);
  if (opts.values !== undefined) {
    const file = path.join(mkdtempSync(path.join(helmHome, 'values-')), 'values.yaml');
    writeFileSync(file, opts.values);
    args.push('--values', file);
  }
  for (const [k, v] of Object.entries(opts.setString ?? {})) args.push('--set-string', `${k}=${v}`);
  return helm(args);
}

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

/** Parses a multi-document YAML stream; refuses YAML errors and documents that are not objects with a kind. */
export function parseManifests(text: string, source = 'manifest'): Manifest[] {
  const out: Manifest[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`${source}: invalid YAML: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) throw new Error(`${source}: a document is not a mapping`);
    const m = value as Manifest;
    if (typeof m.apiVersion !== 'string' || typeof m.kind !== 'string' || typeof m.metadata?.name !== 'string') {
      throw new Error(`${source}: a document lacks apiVersion, kind or metadata.name`);
    }
    out.push(m);
  }
  return out;
}

/** Renders and parses, failing with Helm's own message when the render fails. */
export function renderManifests(opts: RenderOptions = {}): Manifest[] {
  const r = renderChart(opts);
  if (r.status !== 0) throw new Error(`helm template failed (${r.status}): ${r.stderr}`);
  return parseManifests(r.stdout, 'helm template');
}
