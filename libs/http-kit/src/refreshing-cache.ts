/** The share of its time after which a cached answer still in use is loaded again in the background. */
export const REFRESH_AFTER_SHARE = 0.75;

/** How a RefreshingCache keeps its answers. */
export interface RefreshingCacheOptions {
  /** how long an answer is served (0: none is kept; callers asking at once still share one load) */
  ttlMs: number;
  /** most entries kept (the least recently stored leave first) */
  maxEntries: number;
  now?: () => number;
}

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
 * - what `load` throws is not kept; a refusal that should be kept is a value (null, say);
 * - after `deleteWhere` or `clear` (a revocation), loads already under way are neither kept nor
 *   shared: they may predate the revocation.
 */
export class RefreshingCache<K, V> {
  private readonly entries = new Map<K, Entry<V>>();
  private readonly loading = new Map<K, Promise<V>>();
  private invalidations = 0;
  private readonly refreshAfterMs: number;
  private readonly now: () => number;

  constructor(private readonly opts: RefreshingCacheOptions) {
    this.refreshAfterMs = opts.ttlMs * REFRESH_AFTER_SHARE;
    this.now = opts.now ?? (() => Date.now());
  }

  /**
   * The answer for `key`: from the cache while it lives, else from `load`. `refreshable` tells which
   * cached answers are refreshed ahead (a refusal may simply run out).
   */
  async get(key: K, load: () => Promise<V>, refreshable: (value: V) => boolean = () => true): Promise<V> {
    const now = this.now();
    const hit = this.entries.get(key);
    if (hit && hit.expires > now) {
      if (now >= hit.refreshAt && !this.loading.has(key) && refreshable(hit.value)) {
        this.load(key, load).catch(() => {
          hit.refreshAt = Infinity;
        });
      }
      return hit.value;
    }
    if (hit) this.entries.delete(key);
    return this.loading.get(key) ?? this.load(key, load);
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

  private load(key: K, load: () => Promise<V>): Promise<V> {
    const generation = this.invalidations;
    const loaded: Promise<V> = load()
      .then((value) => {
        if (generation === this.invalidations && this.opts.ttlMs > 0) this.store(key, value);
        return value;
      })
      .finally(() => {
        if (this.loading.get(key) === loaded) this.loading.delete(key);
      });
    this.loading.set(key, loaded);
    return loaded;
  }

  private store(key: K, value: V): void {
    const at = this.now();
    // stored anew, so the key moves to the young end of the bounded map
    this.entries.delete(key);
    this.entries.set(key, { value, expires: at + this.opts.ttlMs, refreshAt: at + this.refreshAfterMs });
    while (this.entries.size > this.opts.maxEntries) this.entries.delete(this.entries.keys().next().value as K);
  }
}
