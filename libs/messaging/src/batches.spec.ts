import { batchesOf, isolate } from './batches.js';

/** A source that yields what the test pushes, when it pushes it, and stays open until ended. */
class Feed<T> implements AsyncIterable<T> {
  private readonly queued: T[] = [];
  private waiting: ((r: IteratorResult<T>) => void) | undefined;
  private ended = false;
  returned = false;

  push(...values: T[]): void {
    for (const value of values) {
      const w = this.waiting;
      this.waiting = undefined;
      if (w) w({ value, done: false });
      else this.queued.push(value);
    }
  }

  end(): void {
    this.ended = true;
    const w = this.waiting;
    this.waiting = undefined;
    w?.({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        if (this.queued.length) return Promise.resolve({ value: this.queued.shift()!, done: false });
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (this.waiting = resolve));
      },
      return: () => {
        this.returned = true;
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}

const HOUR = 3_600_000;

describe('batchesOf', () => {
  it('fills batches from a backlog without waiting, and yields what it holds when the source ends', async () => {
    const feed = new Feed<number>();
    feed.push(1, 2, 3, 4, 5);
    // the wait is an hour: the test would time out if a full batch waited for it
    const batches = batchesOf(feed, 2, HOUR);
    expect(await batches.next()).toEqual({ value: [1, 2], done: false });
    expect(await batches.next()).toEqual({ value: [3, 4], done: false });
    const last = batches.next();
    feed.end();
    expect(await last).toEqual({ value: [5], done: false });
    expect(await batches.next()).toEqual({ value: undefined, done: true });
  });

  it('delivers a lone item after the wait though the source stays open, and loses nothing to the timer', async () => {
    const feed = new Feed<string>();
    const batches = batchesOf(feed, 3, 10);
    feed.push('a');
    expect(await batches.next()).toEqual({ value: ['a'], done: false });
    // the read the timer interrupted is still pending: it brings the first item of the next batch
    feed.push('b', 'c', 'd', 'e');
    expect(await batches.next()).toEqual({ value: ['b', 'c', 'd'], done: false });
    expect(await batches.next()).toEqual({ value: ['e'], done: false });
    feed.push('f');
    feed.end();
    expect(await batches.next()).toEqual({ value: ['f'], done: false });
    expect(await batches.next()).toEqual({ value: undefined, done: true });
  });

  it('never yields an empty batch: it waits for a first item however long that takes', async () => {
    const feed = new Feed<number>();
    const batches = batchesOf(feed, 10, 1);
    const first = batches.next();
    await new Promise((r) => setTimeout(r, 20));
    feed.push(7);
    expect(await first).toEqual({ value: [7], done: false });
    feed.end();
    expect(await batches.next()).toEqual({ value: undefined, done: true });
  });

  it('holds batches of one item when maxBatch is 1', async () => {
    const feed = new Feed<number>();
    feed.push(1, 2);
    feed.end();
    const seen: number[][] = [];
    for await (const b of batchesOf(feed, 1, HOUR)) seen.push(b);
    expect(seen).toEqual([[1], [2]]);
  });

  it('lets the source clean up when the consumer stops early', async () => {
    const feed = new Feed<number>();
    feed.push(1, 2, 3);
    for await (const b of batchesOf(feed, 2, HOUR)) {
      expect(b).toEqual([1, 2]);
      break;
    }
    expect(feed.returned).toBe(true);
  });

  it('refuses limits that make no batch', async () => {
    await expect(batchesOf(new Feed<number>(), 0, 10).next()).rejects.toThrow(RangeError);
    await expect(batchesOf(new Feed<number>(), 1.5, 10).next()).rejects.toThrow(RangeError);
    await expect(batchesOf(new Feed<number>(), 1, -1).next()).rejects.toThrow(RangeError);
  });
});

describe('isolate', () => {
  const upper = (s: string) => s === s.toUpperCase();

  it('gives each picked item a batch of its own, keeping the others together and the order', () => {
    expect(isolate(['a', 'b', 'X', 'c'], upper)).toEqual([['a', 'b'], ['X'], ['c']]);
    expect(isolate(['X', 'Y', 'a'], upper)).toEqual([['X'], ['Y'], ['a']]);
    expect(isolate(['a', 'b'], upper)).toEqual([['a', 'b']]);
    expect(isolate(['X'], upper)).toEqual([['X']]);
    expect(isolate([], upper)).toEqual([]);
  });
});
