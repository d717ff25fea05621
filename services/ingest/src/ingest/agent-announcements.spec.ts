import { AgentAnnouncements } from './agent-announcements.js';

const ids = (agents: readonly { id: string }[]) => agents.map((a) => a.id);

describe('agents named in agents messages', () => {
  it('names an agent again only once the interval since it was announced has passed', () => {
    const a = new AgentAnnouncements(1000);
    const batch = [{ id: 'a-1' }, { id: 'a-2' }];
    expect(ids(a.due(batch, 10_000))).toEqual(['a-1', 'a-2']);
    a.announced(batch, 10_000);
    expect(a.due(batch, 10_500)).toEqual([]);
    expect(ids(a.due([{ id: 'a-2' }, { id: 'a-3' }], 10_999))).toEqual(['a-3']);
    expect(ids(a.due(batch, 11_000))).toEqual(['a-1', 'a-2']);
  });

  it('records nothing for a batch whose messages were not stored: its retry names the agents again', () => {
    const a = new AgentAnnouncements(1000);
    const batch = [{ id: 'a-1' }];
    expect(ids(a.due(batch, 5_000))).toEqual(['a-1']);
    // JetStream refused the batch: announced() is not called
    expect(ids(a.due(batch, 5_010))).toEqual(['a-1']);
  });

  it('names an agent again at once when what it says about itself changed', () => {
    const a = new AgentAnnouncements(1000);
    a.announced([{ id: 'a-1', name: 'Planner', tags: { team: 'search' } }], 1_000);
    expect(a.due([{ id: 'a-1', name: 'Planner', tags: { team: 'search' } }], 1_100)).toEqual([]);
    expect(ids(a.due([{ id: 'a-1', name: 'Planner', tags: { team: 'ads' } }], 1_200))).toEqual(['a-1']);
    expect(ids(a.due([{ id: 'a-1' }], 1_300))).toEqual(['a-1']);
  });

  it('names an agent again after the maps rotated it out, and with an interval of 0 every time', () => {
    const a = new AgentAnnouncements(1000);
    a.announced([{ id: 'old' }], 0);
    // announcements every 600 ms rotate the maps: 'old' is dropped, and named again when it comes back
    for (let t = 600; t <= 3_000; t += 600) a.announced([{ id: `a-${t}` }], t);
    expect(ids(a.due([{ id: 'old' }, { id: 'a-3000' }, { id: 'a-2400' }], 3_100))).toEqual(['old']);
    const off = new AgentAnnouncements(0);
    off.announced([{ id: 'a-1' }], 0);
    expect(ids(off.due([{ id: 'a-1' }], 1))).toEqual(['a-1']);
  });

  it('does not count a batch received before the announcement as a reason to name the agent again', () => {
    const a = new AgentAnnouncements(1000);
    a.announced([{ id: 'a-1' }], 2_000);
    // a slower request received earlier is stored after: the registry already has a later last_seen
    expect(a.due([{ id: 'a-1' }], 1_900)).toEqual([]);
  });
});
