/**
 * A small in-process cache with a time to live and a size bound (oldest entries go first). Used for
 * answers that may be a few seconds stale: session checks, API key verifications.
 */
export class TtlCache<K, V> {
  private readonly entries = new Map<K, { value: V; expiresAt: number }>();
  private invalidations = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: K): V | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    if (hit.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return hit.value;
  }

  set(key: K, value: V, ttlMs = this.ttlMs): void {
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: this.now() + ttlMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as K;
      this.entries.delete(oldest);
    }
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  /**
   * Changes whenever entries are invalidated (deleteWhere, clear). An answer looked up asynchronously
   * is stored with setIfUnchanged(…, generation read before the lookup), so an answer that was on its
   * way while a revocation arrived is not cached: it may predate the revocation.
   */
  get generation(): number {
    return this.invalidations;
  }

  setIfUnchanged(key: K, value: V, generation: number): boolean {
    if (generation !== this.invalidations) return false;
    this.set(key, value);
    return true;
  }

  /** Forgets every entry the predicate picks (a linear scan: for rare events such as revocations). */
  deleteWhere(pick: (value: V, key: K) => boolean): number {
    this.invalidations++;
    let n = 0;
    for (const [key, hit] of this.entries) {
      if (pick(hit.value, key)) {
        this.entries.delete(key);
        n++;
      }
    }
    return n;
  }

  clear(): void {
    this.invalidations++;
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
