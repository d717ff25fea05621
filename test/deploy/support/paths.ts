import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root and the deployment files the tests check. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const CHART_DIR = path.join(ROOT, 'helm', 'agentmon');
export const CHART_CI_DIR = path.join(CHART_DIR, 'ci');
export const K8S_DIR = path.join(ROOT, 'k8s');
export const FIXTURES_DIR = path.join(ROOT, 'test', 'deploy', 'fixtures');

/** The Kubernetes version the chart is rendered for (helm --kube-version) and validated against. */
export const KUBE_VERSION = '1.33.0';

/** The components the chart deploys, with the port each listens on by default. */
export const COMPONENTS = {
  gateway: 8000,
  ingest: 8001,
  auth: 8002,
  registry: 8003,
  alerting: 8004,
  notification: 8005,
  web: 3000,
} as const;
export type Component = keyof typeof COMPONENTS;
export const COMPONENT_NAMES = Object.keys(COMPONENTS) as Component[];
