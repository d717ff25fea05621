import { encodeFieldValue, encodePoint, isValidName } from './line-protocol.js';
import { quoteIdent, quoteString } from './influxql.js';

describe('line protocol encoding', () => {
  it('writes measurement, sorted tags with agent_id, fields and the time in ms', () => {
    expect(
      encodePoint({ agent_id: 'agent-7', measurement: 'agent_metrics', tags: { core: 'all', az: 'b' }, fields: { cpu_usage: 45.2, memory_usage: 67 }, time: 1_764_244_800_000 }),
    ).toBe('agent_metrics,agent_id=agent-7,az=b,core=all cpu_usage=45.2,memory_usage=67 1764244800000');
  });

  it('escapes commas and spaces in measurements; commas, = and spaces in keys and tag values', () => {
    expect(encodePoint({ agent_id: 'a', measurement: 'my m,x=1', tags: { 'k ey,=': 'v al,=ue' }, fields: { 'f ie,=ld': 1 }, time: 5 })).toBe(
      'my\\ m\\,x=1,agent_id=a,k\\ ey\\,\\==v\\ al\\,\\=ue f\\ ie\\,\\=ld=1 5',
    );
  });

  it('keeps backslashes that InfluxDB stores literally', () => {
    expect(encodePoint({ agent_id: 'a', measurement: 'C:\\m', tags: { dir: 'C:\\Users' }, fields: { v: 1 }, time: 1 })).toBe('C:\\m,agent_id=a,dir=C:\\Users v=1 1');
  });

  it('quotes strings, escaping quotes and backslashes, and keeps newlines inside the quotes', () => {
    expect(encodeFieldValue('say "hi" \\ bye\nnext')).toBe('"say \\"hi\\" \\\\ bye\nnext"');
  });

  it('writes every number as a float (no i suffix), booleans as true/false', () => {
    expect(encodeFieldValue(5)).toBe('5');
    expect(encodeFieldValue(-0.5)).toBe('-0.5');
    expect(encodeFieldValue(1e21)).toBe('1e+21');
    expect(encodeFieldValue(true)).toBe('true');
    expect(encodeFieldValue(false)).toBe('false');
    expect(() => encodeFieldValue(Number.NaN)).toThrow();
  });

  it('leaves out empty tag values and never lets a point tag replace agent_id', () => {
    expect(encodePoint({ agent_id: 'a', measurement: 'm', tags: { empty: '', agent_id: 'evil' }, fields: { v: 1 }, time: 1 })).toBe('m,agent_id=a v=1 1');
  });

  it('refuses a point without fields', () => {
    expect(() => encodePoint({ agent_id: 'a', measurement: 'm', tags: {}, fields: {}, time: 1 })).toThrow();
  });

  it('tells storable names from the rest', () => {
    expect(isValidName('cpu_usage')).toBe(true);
    expect(isValidName('C:\\Users')).toBe(true);
    expect(isValidName('with space, comma=equals')).toBe(true);
    expect(isValidName('')).toBe(false);
    expect(isValidName('ends\\')).toBe(false);
    expect(isValidName('a\\ b')).toBe(false);
    expect(isValidName('a\\,b')).toBe(false);
    expect(isValidName('tab\there')).toBe(false);
    expect(isValidName('new\nline')).toBe(false);
  });
});

describe('InfluxQL quoting', () => {
  it('quotes identifiers so that no name can end the identifier', () => {
    expect(quoteIdent('cpu')).toBe('"cpu"');
    expect(quoteIdent('a"b')).toBe('"a\\"b"');
    expect(quoteIdent('a\\" ; DROP DATABASE x; --')).toBe('"a\\\\\\" ; DROP DATABASE x; --"');
  });
  it('quotes string literals so that no value can end the literal', () => {
    expect(quoteString("it's")).toBe("'it\\'s'");
    expect(quoteString("x\\' OR 1=1 --")).toBe("'x\\\\\\' OR 1=1 --'");
    expect(quoteString('two\nlines')).toBe("'two\\nlines'");
  });
});
