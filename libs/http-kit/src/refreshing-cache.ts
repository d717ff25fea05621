/** The share of its time after which a cached answer still in use is loaded again in the background. */
export const REFRESH_AFTER_SHARE = 0.75;

/** How a RefreshingCache keeps its answers. */
export interface RefreshingCacheOptions<V = unknown> {
  /** how long an answer is served (0: none is kept; callers asking at once still share one load) */
  ttlMs: number;
  /** how long this answer is served, where that differs by answer (a failure kept briefly, say); default ttlMs */
  ttlOf?: (value: V) => number;
  /** most entries kept (the least recently stored leave first) */
  maxEntries: number;
  now?: () => number;
}

/** Loads an answer; `current` is the cached answer when this is a refresh ahead of its expiry. */
export type Loader<V> = (current?: V) => Promise<V>;

const always = () => true;

interface Entry<V> {
  value: V;
  expires: number;
  /** from then on a request of the key starts a background refresh */
  refreshAt: number;
}

/**
 * A bounded in-process cache of another service's answers (is this API key valid, is this session
 * active) for hot paths that must not wait for that service while a key is in use:
 * - callers asking for a key that is not cached share one load;
 * - a key still asked for once REFRESH_AFTER_SHARE of its time has passed is loaded again in the
 *   background while its callers go on being answered from the cache, so a busy key never makes
 *   them wait (without it, every busy key's requests stalled behind one question every ttlMs:
 *   docs/benchmarks.md, item 33);
 * - nothing is served past its time: when a refresh fails or has not come back by then, the next
 *   caller waits for a load, as on a miss; a failed refresh is not tried again before that, so a
 *   service that is down does not draw a question per request;
 * - what `load` throws is not kept; a refusal that should be kept is a value (null, say), which
 *   `ttlOf` may keep for less long than an answer;
 * - a cached answer the caller finds unusable (`usable`: it lacks what the caller needs) is loaded
 *   again, and the caller waits, as on a miss;
 * - after `deleteWhere` or `clear` (a revocation), loads already under way are neither kept nor
 *   shared: they may predate the revocation.
 */
export class RefreshingCache<K, V> {
  private readonly entries = new Map<K, Entry<V>>();
  private readonly loading = new Map<K, Promise<V>>();
  private invalidations = 0;
  private readonly now: () => number;

  constructor(private readonly opts: RefreshingCacheOptions<V>) {
    this.now = opts.now ?? (() => Date.now());
  }

  /**
   * The answer for `key`: from the cache while it lives (and is `usable`), else from `load`.
   * `refreshable` tells which cached answers are refreshed ahead (a refusal may simply run out);
   * `load` is given the cached answer when it refreshes one. Answers must not be undefined.
   */
  async get(key: K, load: Loader<V>, refreshable: (value: V) => boolean = always, usable: (value: V) => boolean = always): Promise<V> {
    const hit = this.cached(key, load, refreshable, usable);
    if (hit !== undefined) return hit;
    return this.loading.get(key) ?? this.load(key, load);
  }

  /**
   * `get` for a hot path that should not wait a turn when the answer is cached: the live, usable
   * answer (refreshed ahead when due), or undefined when `get` would have to load it.
   */
  cached(key: K, load: Loader<V>, refreshable: (value: V) => boolean = always, usable: (value: V) => boolean = always): V | undefined {
    const hit = this.entries.get(key);
    if (hit === undefined) return undefined;
    const now = this.now();
    if (hit.expires <= now) {
      this.entries.delete(key);
      return undefined;
    }
    if (!usable(hit.value)) return undefined;
    if (now >= hit.refreshAt && !this.loading.has(key) && refreshable(hit.value)) {
      this.load(key, load, hit.value).catch(() => {
        hit.refreshAt = Infinity;
      });
    }
    return hit.value;
  }

  /** The live answer for `key`, if one is cached; nothing is loaded or refreshed. */
  peek(key: K): V | undefined {
    const hit = this.entries.get(key);
    return hit !== undefined && hit.expires > this.now() ? hit.value : undefined;
  }

  /** Forgets every entry the predicate picks (a linear scan: for rare events such as revocations). */
  deleteWhere(pick: (value: V, key: K) => boolean): number {
    this.invalidate();
    let n = 0;
    for (const [key, entry] of this.entries) {
      if (pick(entry.value, key)) {
        this.entries.delete(key);
        n++;
      }
    }
    return n;
  }

  clear(): void {
    this.invalidate();
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  private invalidate(): void {
    this.invalidations++;
    // callers from now on ask anew rather than share an answer asked for before
    this.loading.clear();
  }

  private load(key: K, load: Loader<V>, current?: V): Promise<V> {
    const generation = this.invalidations;
    const loaded: Promise<V> = load(current)
      .then((value) => {
        if (generation === this.invalidations) this.store(key, value);
        return value;
      })
      .finally(() => {
        if (this.loading.get(key) === loaded) this.loading.delete(key);
      });
    this.loading.set(key, loaded);
    return loaded;
  }

  private store(key: K, value: V): void {
    const ttlMs = this.opts.ttlOf?.(value) ?? this.opts.ttlMs;
    if (ttlMs <= 0) return;
    const at = this.now();
    // stored anew, so the key moves to the young end of the bounded map
    this.entries.delete(key);
    this.entries.set(key, { value, expires: at + ttlMs, refreshAt: at + ttlMs * REFRESH_AFTER_SHARE });
    while (this.entries.size > this.opts.maxEntries) this.entries.delete(this.entries.keys().next().value as K);
  }
}
