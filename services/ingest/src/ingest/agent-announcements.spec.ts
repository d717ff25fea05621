import { AgentAnnouncements } from './agent-announcements.js';

const ids = (agents: readonly { id: string }[]) => agents.map((a) => a.id);

describe('agents named in agents messages', () => {
  it('names a new agent with its batch, not again within the interval, and as a heartbeat of its own after it', () => {
    const a = new AgentAnnouncements(1000);
    const batch = [{ id: 'a-1' }, { id: 'a-2' }];
    expect(ids(a.due(batch, 10_000, 'line'))).toEqual(['a-1', 'a-2']);
    a.announced(batch, 10_000);
    expect(a.due(batch, 10_500, 'line')).toEqual([]);
    expect(ids(a.due([{ id: 'a-2' }, { id: 'a-3' }], 10_999, 'line'))).toEqual(['a-3']);
    expect(a.heartbeatsQueued).toBe(false);
    // known, named long enough ago: not with the batch, but queued for the next heartbeat message
    expect(a.due(batch, 11_000, 'line')).toEqual([]);
    expect(a.heartbeatsQueued).toBe(true);
    expect(a.takeHeartbeats()).toEqual({ source: 'line', receivedAt: 11_000, agents: batch });
    expect(a.heartbeatsQueued).toBe(false);
    expect(a.takeHeartbeats()).toBeUndefined();
    // the heartbeat counts as a naming: the interval runs from it
    expect(a.due(batch, 11_900, 'line')).toEqual([]);
    expect(a.heartbeatsQueued).toBe(false);
  });

  it('queues one heartbeat per agent and source, with the earliest time any of them was received', () => {
    const a = new AgentAnnouncements(1000);
    a.announced([{ id: 'a-1' }, { id: 'a-2' }, { id: 'j-1', name: 'Planner' }], 0);
    a.due([{ id: 'a-1' }], 2_000, 'line');
    a.due([{ id: 'a-2' }], 2_300, 'line');
    a.due([{ id: 'j-1', name: 'Planner' }], 2_100, 'json');
    // a-1 again before its heartbeat went: still one heartbeat, at its earlier time
    a.due([{ id: 'a-1' }], 3_200, 'line');
    expect(a.takeHeartbeats()).toEqual({ source: 'line', receivedAt: 2_000, agents: [{ id: 'a-1' }, { id: 'a-2' }] });
    expect(a.takeHeartbeats()).toEqual({ source: 'json', receivedAt: 2_100, agents: [{ id: 'j-1', name: 'Planner' }] });
    expect(a.takeHeartbeats()).toBeUndefined();
  });

  it('queues heartbeats that were not stored again, unless the agent was queued or named with news since', () => {
    const a = new AgentAnnouncements(1000);
    a.announced([{ id: 'a-1' }, { id: 'a-2' }, { id: 'a-3', name: 'Old' }], 0);
    a.due([{ id: 'a-1' }, { id: 'a-2' }, { id: 'a-3', name: 'Old' }], 1_000, 'json');
    const taken = a.takeHeartbeats()!;
    // while its message is sent: a-2 comes again (queued anew), a-3 says something new (named with its batch)
    a.due([{ id: 'a-2' }], 2_500, 'json');
    expect(ids(a.due([{ id: 'a-3', name: 'New' }], 2_600, 'json'))).toEqual(['a-3']);
    a.announced([{ id: 'a-3', name: 'New' }], 2_600);
    a.returnHeartbeats(taken);
    expect(a.takeHeartbeats()).toEqual({ source: 'json', receivedAt: 1_000, agents: [{ id: 'a-2' }, { id: 'a-1' }] });
    expect(a.takeHeartbeats()).toBeUndefined();
  });

  it('drops a queued heartbeat when the agent is named with its batch, so the older message cannot undo what the newer said', () => {
    const a = new AgentAnnouncements(1000);
    a.announced([{ id: 'j-1', name: 'Planner', version: '1' }], 0);
    expect(a.due([{ id: 'j-1', name: 'Planner', version: '1' }], 5_000, 'json')).toEqual([]);
    expect(a.heartbeatsQueued).toBe(true);
    expect(a.due([{ id: 'j-1', name: 'Planner', version: '2' }], 5_100, 'json')).toEqual([{ id: 'j-1', name: 'Planner', version: '2' }]);
    expect(a.heartbeatsQueued).toBe(false);
  });

  it('records nothing for a batch whose messages were not stored: its retry names the agents again', () => {
    const a = new AgentAnnouncements(1000);
    const batch = [{ id: 'a-1' }];
    expect(ids(a.due(batch, 5_000, 'line'))).toEqual(['a-1']);
    // JetStream refused the batch: announced() is not called
    expect(ids(a.due(batch, 5_010, 'line'))).toEqual(['a-1']);
    expect(a.heartbeatsQueued).toBe(false);
  });

  it('names an agent with its batch at once when what it says about itself changed', () => {
    const a = new AgentAnnouncements(1000);
    a.announced([{ id: 'a-1', name: 'Planner', tags: { team: 'search' } }], 1_000);
    expect(a.due([{ id: 'a-1', name: 'Planner', tags: { team: 'search' } }], 1_100, 'json')).toEqual([]);
    expect(ids(a.due([{ id: 'a-1', name: 'Planner', tags: { team: 'ads' } }], 1_200, 'json'))).toEqual(['a-1']);
    expect(ids(a.due([{ id: 'a-1' }], 1_300, 'json'))).toEqual(['a-1']);
  });

  it('names an agent with its batch again once it has not been named for two windows, and while shutting down', () => {
    const a = new AgentAnnouncements(1000, 10_000);
    a.announced([{ id: 'old' }], 0);
    // namings every 6 s rotate the maps: 'old' is forgotten, and named with its batch when it comes back
    for (let t = 6_000; t <= 30_000; t += 6_000) a.announced([{ id: `a-${t}` }], t);
    expect(ids(a.due([{ id: 'old' }, { id: 'a-30000' }, { id: 'a-24000' }], 30_100, 'line'))).toEqual(['old']);
    expect(a.takeHeartbeats()).toEqual({ source: 'line', receivedAt: 30_100, agents: [{ id: 'a-24000' }] });
    // shutting down: a known agent is named with its batch, nothing waits
    expect(ids(a.due([{ id: 'a-24000' }], 40_000, 'line', false))).toEqual(['a-24000']);
    expect(a.heartbeatsQueued).toBe(false);
  });

  it('with an interval of 0 names every agent with every batch', () => {
    const off = new AgentAnnouncements(0);
    off.announced([{ id: 'a-1' }], 0);
    expect(ids(off.due([{ id: 'a-1' }], 1, 'line'))).toEqual(['a-1']);
    expect(ids(off.due([{ id: 'a-1' }], 60_000, 'line'))).toEqual(['a-1']);
    expect(off.heartbeatsQueued).toBe(false);
  });

  it('does not count a batch received before the naming as a reason to name the agent again', () => {
    const a = new AgentAnnouncements(1000);
    a.announced([{ id: 'a-1' }], 2_000);
    // a slower request received earlier is stored after: the registry already has a later last_seen
    expect(a.due([{ id: 'a-1' }], 1_900, 'line')).toEqual([]);
    expect(a.heartbeatsQueued).toBe(false);
  });

  it('rotates the maps early once the newer one is full: the oldest agents are forgotten, and named with their batch again', () => {
    const a = new AgentAnnouncements(1000, 600_000, 3);
    // the third agent fills the newer map: all three move to the older one
    a.announced([{ id: 'a-1' }, { id: 'a-2' }, { id: 'a-3' }], 0);
    expect(a.due([{ id: 'a-1' }], 5_000, 'line')).toEqual([]);
    a.announced([{ id: 'a-4' }], 5_000);
    // a-2's heartbeat fills the newer map again: a-3, in the older one, is forgotten
    expect(a.due([{ id: 'a-2' }, { id: 'a-4' }], 6_000, 'line')).toEqual([]);
    expect(ids(a.due([{ id: 'a-3' }], 7_000, 'line'))).toEqual(['a-3']);
    expect(a.takeHeartbeats()).toEqual({ source: 'line', receivedAt: 5_000, agents: [{ id: 'a-1' }, { id: 'a-2' }, { id: 'a-4' }] });
  });
});
