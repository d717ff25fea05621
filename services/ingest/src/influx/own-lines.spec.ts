import { OwnLines } from './own-lines.js';

const bytes = (n: number, fill = 0x61) => new Uint8Array(n).fill(fill);

describe('OwnLines', () => {
  it('gives the lines kept under an id once, and then holds nothing of them', () => {
    const own = new OwnLines(100);
    const lines = bytes(10);
    own.keep('b:l0', lines);
    expect(own.heldBytes).toBe(10);
    expect(own.take('b:l0')).toBe(lines);
    expect(own.take('b:l0')).toBeUndefined();
    expect(own.heldBytes).toBe(0);
    expect(own.take('never kept')).toBeUndefined();
  });

  it('holds at most its budget: the oldest go first', () => {
    const own = new OwnLines(100);
    own.keep('a', bytes(40));
    own.keep('b', bytes(40));
    own.keep('c', bytes(40));
    expect(own.heldBytes).toBe(80);
    expect(own.take('a')).toBeUndefined();
    expect(own.take('b')?.length).toBe(40);
    expect(own.take('c')?.length).toBe(40);
  });

  it('keeps nothing larger than its budget, and a budget of 0 keeps nothing', () => {
    const own = new OwnLines(100);
    own.keep('big', bytes(101));
    expect(own.take('big')).toBeUndefined();
    const none = new OwnLines(0);
    none.keep('a', bytes(1));
    expect(none.take('a')).toBeUndefined();
    expect(none.heldBytes).toBe(0);
  });

  it('an id kept again holds the newer lines and counts them once', () => {
    const own = new OwnLines(100);
    own.keep('a', bytes(30, 0x61));
    own.keep('a', bytes(20, 0x62));
    expect(own.heldBytes).toBe(20);
    expect(own.take('a')?.[0]).toBe(0x62);
  });
});
