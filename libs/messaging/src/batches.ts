const EXPIRED = Symbol('expired');

/**
 * Groups what `source` yields into batches of at most `maxBatch` items. A batch starts with the next
 * item, however long that takes to come, and is yielded as soon as it is full or `maxWaitMs` after
 * that first item, whichever comes first: a lone item waits at most `maxWaitMs`, a backlog fills
 * batches without waiting at all. When the source ends, what is held is yielded at once.
 *
 * The read of the source that the timer interrupted stays pending and brings the first item of the
 * next batch, so the timer never loses an item. Nothing is read from the source while the consumer
 * holds a batch (its items are handled before the next batch is collected).
 */
export async function* batchesOf<T>(source: AsyncIterable<T>, maxBatch: number, maxWaitMs: number): AsyncGenerator<T[], void, undefined> {
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError(`maxBatch must be a positive integer, got ${maxBatch}`);
  if (!(maxWaitMs >= 0)) throw new RangeError(`maxWaitMs must be at least 0, got ${maxWaitMs}`);
  const it = source[Symbol.asyncIterator]();
  let pending: Promise<IteratorResult<T>> | undefined;
  let ended = false;
  try {
    while (!ended) {
      const first = await (pending ?? it.next());
      pending = undefined;
      if (first.done) {
        ended = true;
        return;
      }
      const batch: T[] = [first.value];
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<typeof EXPIRED>((resolve) => (timer = setTimeout(resolve, maxWaitMs, EXPIRED)));
      try {
        while (batch.length < maxBatch) {
          pending = it.next();
          const next = await Promise.race([pending, expired]);
          if (next === EXPIRED) break;
          pending = undefined;
          if (next.done) {
            ended = true;
            break;
          }
          batch.push(next.value);
        }
      } finally {
        clearTimeout(timer);
      }
      yield batch;
    }
  } finally {
    // the consumer stopped early: let the source clean up (behind a read still pending, if any)
    if (!ended) void it.return?.()?.catch(() => undefined);
  }
}

/**
 * Splits a batch, keeping its order, so that every item `alone` picks is a batch of its own and
 * the items between them stay together: `[a, b, X, c]` is `[[a, b], [X], [c]]`.
 */
export function isolate<T>(batch: readonly T[], alone: (item: T) => boolean): T[][] {
  const out: T[][] = [];
  let run: T[] = [];
  for (const item of batch) {
    if (!alone(item)) {
      run.push(item);
      continue;
    }
    if (run.length) out.push(run);
    out.push([item]);
    run = [];
  }
  if (run.length) out.push(run);
  return out;
}
