import { mergeSightings } from './telemetry-sightings.js';

describe('merging the agents of several telemetry messages', () => {
  const T = 1_700_000_000_000;

  it('keeps each agent once, with the latest time it was received', () => {
    const merged = mergeSightings([
      { received_at: T + 10, agents: [{ id: 'a' }, { id: 'b' }] },
      // a redelivered older message after a newer one
      { received_at: T, agents: [{ id: 'a' }, { id: 'c' }] },
      { received_at: T + 20, agents: [{ id: 'b' }] },
    ]);
    expect(merged).toEqual([
      { info: { id: 'a' }, at: T + 10 },
      { info: { id: 'b' }, at: T + 20 },
      { info: { id: 'c' }, at: T },
    ]);
  });

  it('merges what an agent said in message order: later fields win, tags merge key by key, silence changes nothing', () => {
    const first = { id: 'a', name: 'A', version: '1', tags: { env: 'prod', rack: 'r1' } };
    const merged = mergeSightings([
      { received_at: T, agents: [first] },
      { received_at: T + 1, agents: [{ id: 'a' }] },
      { received_at: T + 2, agents: [{ id: 'a', version: '2', host: 'h', tags: { rack: 'r2', zone: 'z' } }] },
      { received_at: T + 3, agents: [{ id: 'a', name: undefined }] },
    ]);
    expect(merged).toEqual([{ info: { id: 'a', name: 'A', version: '2', host: 'h', tags: { env: 'prod', rack: 'r2', zone: 'z' } }, at: T + 3 }]);
    // the messages themselves are left as they were
    expect(first).toEqual({ id: 'a', name: 'A', version: '1', tags: { env: 'prod', rack: 'r1' } });
  });

  it('merges an agent listed twice in one message the same way', () => {
    expect(mergeSightings([{ received_at: T, agents: [{ id: 'a', name: 'A', tags: { x: '1' } }, { id: 'a', tags: { y: '2' } }] }])).toEqual([
      { info: { id: 'a', name: 'A', tags: { x: '1', y: '2' } }, at: T },
    ]);
  });

  it('has nothing for messages without agents', () => {
    expect(mergeSightings([])).toEqual([]);
    expect(mergeSightings([{ received_at: T, agents: [] }])).toEqual([]);
  });
});
