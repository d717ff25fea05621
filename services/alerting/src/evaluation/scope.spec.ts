import { agentInScope, scopeNeedsAgentFacts } from './scope.js';

describe('rule scope', () => {
  const facts = { tags: { env: 'prod', team: 'search' }, groups: ['g1', 'g2'] };

  it('an empty scope means every agent', () => {
    expect(agentInScope({}, 'any')).toBe(true);
    expect(scopeNeedsAgentFacts({})).toBe(false);
    expect(scopeNeedsAgentFacts({ agent_ids: [], tags: {}, group_ids: [] })).toBe(false);
  });

  it('agent_ids lists the agents', () => {
    expect(agentInScope({ agent_ids: ['a', 'b'] }, 'a')).toBe(true);
    expect(agentInScope({ agent_ids: ['a', 'b'] }, 'c')).toBe(false);
  });

  it('tags must all match', () => {
    expect(scopeNeedsAgentFacts({ tags: { env: 'prod' } })).toBe(true);
    expect(agentInScope({ tags: { env: 'prod' } }, 'a', facts)).toBe(true);
    expect(agentInScope({ tags: { env: 'prod', team: 'ads' } }, 'a', facts)).toBe(false);
    expect(agentInScope({ tags: { env: 'prod' } }, 'a')).toBe(false);
  });

  it('group_ids needs one common group', () => {
    expect(agentInScope({ group_ids: ['g9', 'g2'] }, 'a', facts)).toBe(true);
    expect(agentInScope({ group_ids: ['g9'] }, 'a', facts)).toBe(false);
  });

  it('all parts of a scope must hold', () => {
    expect(agentInScope({ agent_ids: ['a'], tags: { env: 'prod' }, group_ids: ['g1'] }, 'a', facts)).toBe(true);
    expect(agentInScope({ agent_ids: ['b'], tags: { env: 'prod' } }, 'a', facts)).toBe(false);
  });
});
