import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { REFRESH_AFTER_SHARE } from '@agentmon/http-kit';
import { INGEST_CONFIG, type IngestConfig } from '../config.js';
import { InfluxClient } from '../influx/influx.client.js';
import { LOGGER } from '../logger.token.js';
import { Details, KIND_NAME, type FieldKind, type PreparedBatch } from './point-rules.js';

type Kind = FieldKind;
const KIND_OF_INFLUX: Record<string, Kind> = { float: 'number', integer: 'number', unsigned: 'number', boolean: 'boolean', string: 'string' };
/** how long what InfluxDB said about a measurement is trusted */
export const TTL_MS = 5 * 60_000;
/** after this long a measurement in use is asked about again in the background (its batches do not wait) */
export const REFRESH_AFTER_MS = TTL_MS * REFRESH_AFTER_SHARE;
/** how long a measurement stays unchecked after InfluxDB could not be asked */
const UNKNOWN_TTL_MS = 10_000;
/** the hot path waits this long at most for InfluxDB */
const LOOKUP_TIMEOUT_MS = 1000;
const MAX_MEASUREMENTS = 10_000;

interface Entry {
  /** null: InfluxDB could not be asked; the measurement is not checked until `expires` */
  fields: Map<string, Set<Kind>> | null;
  expires: number;
  /** from then on a batch of the measurement starts a background refresh */
  refreshAt: number;
}

/**
 * InfluxDB keeps one type per field (per shard) and refuses a point that disagrees, after the batch
 * was acknowledged. To refuse such a point at the edge instead, the accept path compares each field
 * with the types InfluxDB already holds for the measurement (SHOW FIELD KEYS, cached per replica and
 * updated by every accepted batch). When InfluxDB cannot answer within a second the batch is taken
 * unchecked: accepting must not depend on InfluxDB.
 *
 * Batches wait for InfluxDB only when a measurement is unknown, its types have expired, or a batch
 * brings a field this replica has not seen; then every batch that needs the answer shares one
 * question. A measurement in use is asked about again in the background once three quarters of
 * TTL_MS have passed, while its batches go on being checked against what is cached: without that,
 * every busy measurement held all of its batches behind a SHOW FIELD KEYS (one per batch, at once)
 * every five minutes. A background question that fails leaves the cached types as they are.
 */
@Injectable()
export class FieldTypesService {
  private readonly cache = new Map<string, Entry>();
  /** questions to InfluxDB under way, by measurement */
  private readonly loading = new Map<string, Promise<void>>();

  constructor(
    @Inject(InfluxClient) private readonly influx: InfluxClient,
    @Inject(INGEST_CONFIG) private readonly config: IngestConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Problems of the batch's points with stored field types, or null. */
  async conflicts(batch: PreparedBatch, label: (index: number) => string, what: string): Promise<{ details: Details; what: string } | null> {
    const byMeasurement = new Map<string, Set<string>>();
    for (const p of batch.points) {
      let fields = byMeasurement.get(p.measurement);
      if (!fields) byMeasurement.set(p.measurement, (fields = new Set()));
      for (const f in p.fields) fields.add(f);
    }
    await this.refresh(byMeasurement);

    const details = new Details();
    batch.points.forEach((p, i) => {
      const known = this.cache.get(p.measurement)?.fields;
      if (!known) return;
      for (const f in p.fields) {
        const kinds = known.get(f);
        const kind = typeof p.fields[f] as Kind;
        if (kinds && !kinds.has(kind)) {
          const stored = [...kinds].map((k) => KIND_NAME[k]).join(' or ');
          details.add(i, `${label(i)}.fields.${f}`, `is ${KIND_NAME[kind]} but ${p.measurement}.${f} already holds ${stored}`);
        }
      }
    });
    return details.empty ? null : { details, what };
  }

  /**
   * Whether any field of a batch, given as measurement → field → kind (what the line-protocol fast
   * path collects once per distinct line shape), disagrees with the stored types. The caller names
   * the offending points by checking the batch again point by point (`conflicts`).
   */
  async anyConflict(kinds: ReadonlyMap<string, ReadonlyMap<string, Kind>>): Promise<boolean> {
    await this.refresh(kinds);
    for (const [m, fields] of kinds) {
      const known = this.cache.get(m)?.fields;
      if (!known) continue;
      for (const [f, kind] of fields) {
        const stored = known.get(f);
        if (stored && !stored.has(kind)) return true;
      }
    }
    return false;
  }

  /** Records the types of an accepted batch, so the next batch is checked against them at once. */
  remember(batch: PreparedBatch): void {
    for (const p of batch.points) {
      const e = this.cache.get(p.measurement);
      if (!e?.fields) continue;
      for (const f in p.fields) addKind(e.fields, f, typeof p.fields[f] as Kind);
    }
  }

  /** `remember` for a batch given as measurement → field → kind. */
  rememberKinds(kinds: ReadonlyMap<string, ReadonlyMap<string, Kind>>): void {
    for (const [m, fields] of kinds) {
      const e = this.cache.get(m);
      if (!e?.fields) continue;
      for (const [f, kind] of fields) addKind(e.fields, f, kind);
    }
  }

  /** Asks InfluxDB about the measurements whose cached types are missing, old or lack a field of the batch. */
  private async refresh(byMeasurement: ReadonlyMap<string, { keys(): Iterable<string> }>): Promise<void> {
    const now = Date.now();
    const stale: string[] = [];
    for (const [m, fields] of byMeasurement) {
      const e = this.cache.get(m);
      if (!e || e.expires <= now) stale.push(m);
      // a field this replica has not seen may have been written by another one since
      else if (e.fields !== null && !hasAll(e.fields, fields.keys())) stale.push(m);
      else if (e.fields !== null && now >= e.refreshAt && !this.loading.has(m)) void this.loadOnce(m, e);
    }
    if (stale.length > 0) await Promise.all(stale.map((m) => this.loadOnce(m)));
  }

  /** One question per measurement at a time; `current`: a background refresh of these cached types. */
  private loadOnce(measurement: string, current?: Entry): Promise<void> {
    const under = this.loading.get(measurement);
    if (under) return under;
    const asked: Promise<void> = this.load(measurement, current).finally(() => {
      if (this.loading.get(measurement) === asked) this.loading.delete(measurement);
    });
    this.loading.set(measurement, asked);
    return asked;
  }

  private async load(measurement: string, current?: Entry): Promise<void> {
    const db = this.config.INFLUX_DATABASE;
    let entry: Entry;
    try {
      const fields = new Map<string, Set<Kind>>();
      for (const [key, type] of await this.influx.fieldKeys(db, 'raw', measurement, { timeoutMs: LOOKUP_TIMEOUT_MS })) {
        const kind = KIND_OF_INFLUX[type];
        if (!kind) continue;
        let kinds = fields.get(key);
        if (!kinds) fields.set(key, (kinds = new Set()));
        kinds.add(kind);
      }
      const at = Date.now();
      entry = { fields, expires: at + TTL_MS, refreshAt: at + REFRESH_AFTER_MS };
    } catch (err) {
      this.logger.debug({ err: (err as Error).message, measurement }, 'field types unknown; batch taken unchecked');
      if (current && this.cache.get(measurement) === current) {
        // a background refresh: keep checking against what is cached until it expires
        current.refreshAt = current.expires;
        return;
      }
      const at = Date.now();
      entry = { fields: null, expires: at + UNKNOWN_TTL_MS, refreshAt: at + UNKNOWN_TTL_MS };
    }
    this.cache.delete(measurement);
    this.cache.set(measurement, entry);
    while (this.cache.size > MAX_MEASUREMENTS) this.cache.delete(this.cache.keys().next().value!);
  }
}

function hasAll(fields: ReadonlyMap<string, unknown>, keys: Iterable<string>): boolean {
  for (const f of keys) if (!fields.has(f)) return false;
  return true;
}

function addKind(fields: Map<string, Set<Kind>>, field: string, kind: Kind): void {
  let kinds = fields.get(field);
  if (!kinds) fields.set(field, (kinds = new Set()));
  kinds.add(kind);
}
