import { quoteIdent, quoteString } from './influxql.js';

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
