import { decideTransition, isDue, startsFiring } from './alert-lifecycle.js';

describe('alert lifecycle', () => {
  const t0 = 1_700_000_000_000;

  it('nothing happens while the condition does not hold and no alert is open', () => {
    expect(decideTransition(null, false, t0, 0)).toEqual({ kind: 'none' });
  });

  it('for: 0s fires on the first breaching point', () => {
    const t = decideTransition(null, true, t0, 0);
    expect(t).toEqual({ kind: 'open', status: 'firing' });
    expect(startsFiring(t)).toBe(true);
  });

  it('with a for, the condition opens a pending alert', () => {
    const t = decideTransition(null, true, t0, 60_000);
    expect(t).toEqual({ kind: 'open', status: 'pending' });
    expect(startsFiring(t)).toBe(false);
  });

  it('pending stays pending until for has elapsed, then fires', () => {
    const pending = { status: 'pending' as const, startedAt: t0 };
    expect(decideTransition(pending, true, t0 + 59_999, 60_000)).toEqual({ kind: 'refresh' });
    const promote = decideTransition(pending, true, t0 + 60_000, 60_000);
    expect(promote).toEqual({ kind: 'promote' });
    expect(startsFiring(promote)).toBe(true);
  });

  it('a firing alert that still holds is only refreshed (fires once)', () => {
    const firing = { status: 'firing' as const, startedAt: t0 };
    const t = decideTransition(firing, true, t0 + 3_600_000, 60_000);
    expect(t).toEqual({ kind: 'refresh' });
    expect(startsFiring(t)).toBe(false);
  });

  it('a firing alert whose condition clears resolves', () => {
    expect(decideTransition({ status: 'firing', startedAt: t0 }, false, t0 + 1, 0)).toEqual({ kind: 'resolve' });
  });

  it('a pending alert whose condition clears is closed without having fired', () => {
    expect(decideTransition({ status: 'pending', startedAt: t0 }, false, t0 + 1, 60_000)).toEqual({ kind: 'close' });
  });

  it('isDue compares elapsed time with for', () => {
    expect(isDue(t0, t0 + 1_999, 2_000)).toBe(false);
    expect(isDue(t0, t0 + 2_000, 2_000)).toBe(true);
  });
});
