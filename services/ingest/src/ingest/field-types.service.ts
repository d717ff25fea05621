import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { REFRESH_AFTER_SHARE, RefreshingCache } from '@agentmon/http-kit';
import { INGEST_CONFIG, type IngestConfig } from '../config.js';
import { InfluxClient } from '../influx/influx.client.js';
import { LOGGER } from '../logger.token.js';
import { Details, KIND_NAME, type FieldKind, type PreparedBatch } from './point-rules.js';

type Kind = FieldKind;
/** what InfluxDB holds for a measurement: field → the kinds it was written with; null: InfluxDB could not be asked */
type Fields = Map<string, Set<Kind>> | null;
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

/** only what InfluxDB answered is asked about again ahead of its expiry; not knowing simply runs out */
const answered = (fields: Fields) => fields !== null;

/**
 * InfluxDB keeps one type per field (per shard) and refuses a point that disagrees, after the batch
 * was acknowledged. To refuse such a point at the edge instead, the accept path compares each field
 * with the types InfluxDB already holds for the measurement (SHOW FIELD KEYS, cached per replica in a
 * RefreshingCache and updated by every accepted batch). When InfluxDB cannot answer within a second
 * the measurement is taken unchecked for UNKNOWN_TTL_MS: accepting must not depend on InfluxDB.
 *
 * Batches wait for InfluxDB only when a measurement is unknown, its types have expired, or a batch
 * brings a field this replica has not seen (another replica may have written it since); then every
 * batch that needs the answer shares one question. A measurement in use is asked about again in the
 * background once three quarters of TTL_MS have passed, while its batches go on being checked against
 * what is cached: without that, every busy measurement held all of its batches behind a SHOW FIELD
 * KEYS every five minutes. A background question that fails leaves the cached types as they are
 * until they expire.
 */
@Injectable()
export class FieldTypesService {
  private readonly cache = new RefreshingCache<string, Fields>({
    ttlMs: TTL_MS,
    ttlOf: (fields) => (fields === null ? UNKNOWN_TTL_MS : TTL_MS),
    maxEntries: MAX_MEASUREMENTS,
  });

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
      const known = this.cache.peek(p.measurement);
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
      const known = this.cache.peek(m);
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
      const known = this.cache.peek(p.measurement);
      if (!known) continue;
      for (const f in p.fields) addKind(known, f, typeof p.fields[f] as Kind);
    }
  }

  /** `remember` for a batch given as measurement → field → kind. */
  rememberKinds(kinds: ReadonlyMap<string, ReadonlyMap<string, Kind>>): void {
    for (const [m, fields] of kinds) {
      const known = this.cache.peek(m);
      if (!known) continue;
      for (const [f, kind] of fields) addKind(known, f, kind);
    }
  }

  /**
   * Has the cache answer for every measurement of the batch, waiting only where it must ask
   * InfluxDB: a measurement not cached, expired, or whose cached fields lack one of the batch's.
   */
  private async refresh(byMeasurement: ReadonlyMap<string, { keys(): Iterable<string> }>): Promise<void> {
    let waits: Promise<Fields>[] | undefined;
    for (const [m, fields] of byMeasurement) {
      const load = (current?: Fields) => this.load(m, current !== undefined);
      const usable = (known: Fields) => known === null || hasAll(known, fields.keys());
      if (this.cache.cached(m, load, answered, usable) === undefined) (waits ??= []).push(this.cache.get(m, load, answered, usable));
    }
    if (waits) await Promise.all(waits);
  }

  /**
   * What InfluxDB holds for the measurement. When it cannot be asked: null (the measurement goes
   * unchecked for a while), or, for a background refresh, the error (the cached types stay).
   */
  private async load(measurement: string, refreshing: boolean): Promise<Fields> {
    try {
      const fields = new Map<string, Set<Kind>>();
      for (const [key, type] of await this.influx.fieldKeys(this.config.INFLUX_DATABASE, 'raw', measurement, { timeoutMs: LOOKUP_TIMEOUT_MS })) {
        const kind = KIND_OF_INFLUX[type];
        if (kind) addKind(fields, key, kind);
      }
      return fields;
    } catch (err) {
      if (refreshing) throw err;
      this.logger.debug({ err: (err as Error).message, measurement }, 'field types unknown; batch taken unchecked');
      return null;
    }
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
