import { LocalBodies } from './local-bodies.js';

const body = (n: number) => new Uint8Array(n);
const bodies = (maxBytes: number, maxAgeMs = 30_000) => new LocalBodies({ WRITER_LOCAL_BODY_BYTES: maxBytes, WRITER_LOCAL_BODY_MS: maxAgeMs });

describe('bodies handed from the accept path to the writer', () => {
  it('gives each body once, by its stream sequence', () => {
    const b = bodies(1000);
    const data = body(10);
    b.put(1, 'm1', data, 0);
    expect(b.take(2, 'm2')).toBeUndefined();
    expect(b.take(1, 'm1')).toBe(data);
    expect(b.take(1, 'm1')).toBeUndefined();
    expect(b.size).toBe(0);
  });

  it('keeps at most its bytes, dropping the oldest first, and nothing larger than all of them', () => {
    const b = bodies(100);
    b.put(1, 'm1', body(40), 0);
    b.put(2, 'm2', body(40), 1);
    b.put(3, 'm3', body(40), 2);
    expect([b.take(1, 'm1'), b.take(2, 'm2')?.length, b.take(3, 'm3')?.length]).toEqual([undefined, 40, 40]);
    b.put(4, 'm4', body(101), 3);
    expect(b.take(4, 'm4')).toBeUndefined();
    expect(b.size).toBe(0);
  });

  it('drops bodies older than its age limit (another replica wrote their messages)', () => {
    const b = bodies(1000, 5_000);
    b.put(1, 'm1', body(10), 0);
    b.put(2, 'm2', body(10), 4_000);
    b.put(3, 'm3', body(10), 5_001);
    expect([b.take(1, 'm1'), b.take(2, 'm2')?.length, b.take(3, 'm3')?.length]).toEqual([undefined, 10, 10]);
  });

  it('keeps the first body of a message (a publish retried after a lost acknowledgement gets the same sequence), and gives a body only to its own message', () => {
    const b = bodies(1000);
    const first = body(10);
    b.put(1, 'm1', first, 0);
    b.put(1, 'm1', body(20), 1);
    expect(b.take(1, 'm1')).toBe(first);
    expect(b.size).toBe(0);
    // another message under the same sequence (the stream was made anew): never the old body
    b.put(2, 'old', body(10), 2);
    expect(b.take(2, 'new')).toBeUndefined();
    b.put(3, 'old', body(10), 3);
    const fresh = body(30);
    b.put(3, 'new', fresh, 4);
    expect(b.take(3, 'new')).toBe(fresh);
    expect(b.size).toBe(0);
  });

  it('waits for the publish of one id while it is under way, and for nothing else', async () => {
    const b = bodies(1000);
    await b.published('none:l0');
    await b.published(undefined);
    let ok!: () => void;
    let fail!: (e: Error) => void;
    void b.track('a:l0', new Promise<void>((r) => (ok = r)));
    b.track('b:l0', new Promise<void>((_, r) => (fail = r))).catch(() => undefined);
    void b.track('c:l0', new Promise<void>(() => undefined));
    let a = false;
    let f = false;
    const waitA = b.published('a:l0').then(() => (a = true));
    const waitB = b.published('b:l0').then(() => (f = true));
    await new Promise((r) => setImmediate(r));
    expect([a, f]).toEqual([false, false]);
    ok();
    await waitA;
    expect([a, f]).toEqual([true, false]);
    fail(new Error('no responders'));
    await waitB;
    expect(f).toBe(true);
    // done publishes are forgotten; one never answered does not hold up other ids
    await b.published('a:l0');
  });
});
