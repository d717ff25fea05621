import type { Severity } from './types';

/**
 * GET /api/v2/dashboard/overview answers "counts of agents by status, firing alerts by severity,
 * ingest rate" (CONTRACT.md). The gateway sends
 *   {agents: {total, online, offline, degraded} | null,
 *    alerts: {firing, pending, by_severity: {critical, warning, info}} | null,
 *    ingest: {points_per_second, requests_per_second} | null,
 *    unavailable: ['registry' | 'alerting' | 'ingest', ...], generated_at}
 * where a part is null when its service did not answer. The reader also accepts close variants
 * (alerts.firing as a by-severity object, agents_by_status, a bare number for the ingest rate).
 */
export interface Overview {
  agents: { total: number; online: number; offline: number; degraded: number } | null;
  alerts: Record<Severity, number> | null;
  ingest: { points_per_second: number; requests_per_second: number | null } | null;
  /** services whose part of the overview is missing */
  unavailable: string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function pick(o: Obj, ...keys: string[]): unknown {
  for (const k of keys) if (o[k] !== undefined) return o[k];
  return undefined;
}

function pickObj(o: Obj, ...keys: string[]): Obj | undefined {
  for (const k of keys) if (isObj(o[k])) return o[k];
  return undefined;
}

export function readOverview(body: unknown): Overview {
  const o: Obj = isObj(body) ? body : {};

  let agents: Overview['agents'] = null;
  let a = pick(o, 'agents', 'agents_by_status', 'agent_counts');
  if (isObj(a) && isObj(a.by_status)) a = { ...a.by_status, total: a.total };
  if (isObj(a)) {
    const online = num(a.online) ?? 0;
    const offline = num(a.offline) ?? 0;
    const degraded = num(a.degraded) ?? 0;
    agents = { online, offline, degraded, total: num(a.total) ?? online + offline + degraded };
  }

  let alerts: Overview['alerts'] = null;
  let al = pick(o, 'alerts', 'alerts_by_severity', 'firing_alerts');
  if (isObj(al)) al = pickObj(al, 'by_severity', 'firing_by_severity', 'firing') ?? al;
  if (isObj(al)) alerts = { critical: num(al.critical) ?? 0, warning: num(al.warning) ?? 0, info: num(al.info) ?? 0 };

  let ingest: Overview['ingest'] = null;
  const ing = pick(o, 'ingest', 'ingest_rate');
  if (num(ing) !== null) ingest = { points_per_second: num(ing) as number, requests_per_second: null };
  else if (isObj(ing)) {
    const pps = num(pick(ing, 'points_per_second', 'rate', 'per_second'));
    if (pps !== null) ingest = { points_per_second: pps, requests_per_second: num(ing.requests_per_second) };
  }

  const unavailable = Array.isArray(o.unavailable) ? o.unavailable.filter((x): x is string => typeof x === 'string') : [];
  return { agents, alerts, ingest, unavailable };
}
