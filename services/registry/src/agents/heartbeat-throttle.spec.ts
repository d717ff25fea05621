import { HeartbeatThrottle, infoKey } from './heartbeat-throttle.js';

describe('heartbeat write throttle', () => {
  const T = 1_000_000;

  it('writes agents it has not written, then skips them within the throttle', () => {
    const t = new HeartbeatThrottle(1000);
    expect(t.needsWrite({ id: 'a' }, T)).toBe(true);
    t.wrote({ id: 'a' }, 'online', T);
    expect(t.needsWrite({ id: 'a' }, T + 999)).toBe(false);
    expect(t.needsWrite({ id: 'a' }, T + 1000)).toBe(true);
    // a redelivered older message changes nothing either
    expect(t.needsWrite({ id: 'a' }, T - 5000)).toBe(false);
    expect(t.needsWrite({ id: 'b' }, T)).toBe(true);
  });

  it('writes new info or tags at once; an agent that says only its id brings nothing new', () => {
    const t = new HeartbeatThrottle(1000);
    const info = { id: 'a', name: 'A', tags: { env: 'prod' } };
    t.wrote(info, 'online', T);
    expect(t.needsWrite({ ...info }, T + 10)).toBe(false);
    expect(t.needsWrite({ id: 'a' }, T + 10)).toBe(false);
    expect(t.needsWrite({ ...info, tags: { env: 'dev' } }, T + 10)).toBe(true);
    expect(t.needsWrite({ ...info, version: '2' }, T + 10)).toBe(true);
    // what it said before stays the reference after an id-only write
    t.wrote({ id: 'a' }, 'online', T + 1500);
    expect(t.needsWrite(info, T + 1600)).toBe(false);
  });

  it('never skips an offline agent (it comes back online) and forgets agents whose status changed elsewhere', () => {
    const t = new HeartbeatThrottle(1000);
    t.wrote({ id: 'a' }, 'offline', T); // a stale backlog kept it offline
    expect(t.needsWrite({ id: 'a' }, T + 10)).toBe(true);

    t.wrote({ id: 'b' }, 'online', T);
    t.statusIs('b', 'online'); // its own event: nothing to forget
    expect(t.needsWrite({ id: 'b' }, T + 10)).toBe(false);
    t.statusIs('b', 'offline'); // another replica's sweep
    expect(t.needsWrite({ id: 'b' }, T + 10)).toBe(true);

    t.wrote({ id: 'c' }, 'degraded', T);
    expect(t.needsWrite({ id: 'c' }, T + 10)).toBe(false);
    t.forget('c');
    expect(t.needsWrite({ id: 'c' }, T + 10)).toBe(true);

    t.wrote({ id: 'd' }, 'online', T);
    t.forgetAll();
    expect(t.size).toBe(0);
  });

  it('a zero throttle writes every time', () => {
    const t = new HeartbeatThrottle(0);
    t.wrote({ id: 'a' }, 'online', T);
    expect(t.needsWrite({ id: 'a' }, T)).toBe(true);
  });

  it('keys info by what the agent said', () => {
    expect(infoKey({ id: 'a' })).toBe('');
    expect(infoKey({ id: 'a', name: undefined })).toBe('');
    expect(infoKey({ id: 'a', name: 'A' })).not.toBe(infoKey({ id: 'a', name: 'B' }));
  });
});
