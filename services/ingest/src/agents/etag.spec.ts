import { etagMatches } from './agents.controller.js';

describe('If-None-Match', () => {
  it('matches the same version, weak tags, lists and *', () => {
    expect(etagMatches('"3"', '"3"')).toBe(true);
    expect(etagMatches('W/"3"', '"3"')).toBe(true);
    expect(etagMatches('"1", "3"', '"3"')).toBe(true);
    expect(etagMatches('*', '"3"')).toBe(true);
  });
  it('does not match another version or nothing', () => {
    expect(etagMatches('"2"', '"3"')).toBe(false);
    expect(etagMatches(undefined, '"3"')).toBe(false);
    expect(etagMatches('3', '"3"')).toBe(false);
  });
});
