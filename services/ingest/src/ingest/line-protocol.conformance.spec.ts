/**
 * The parser against the InfluxDB line-protocol reference, one row per rule: the syntax
 * `measurement[,tag=v…] field=v[,field=v…] [timestamp]`, the escaping of each element (measurement:
 * comma and space; tag keys, tag values and field keys: comma, equals sign and space; string field
 * values: double quote and backslash), the field types (float, `i` integer, `u` unsigned, booleans,
 * strings), optional timestamps in each precision, comments and blank lines. Where the reference and
 * InfluxDB 1.x differ or the reference is silent, the row says what InfluxDB 1.x does (checked
 * against influxd 1.6) and what we do.
 */
import type { StoredPoint } from '@agentmon/contracts';
import { parseLineProtocol, type Precision } from './line-protocol.parser.js';
import { pointLimits } from './point-rules.js';

const NOW = Date.UTC(2026, 10, 27, 12, 0, 0);
const limits = pointLimits(NOW, 90 * 86_400_000, 900_000);
const TS = `${BigInt(NOW) * 1_000_000n}`;

type Expect = Partial<Omit<StoredPoint, 'agent_id'>> | { refused: string; reason?: RegExp };

function check(line: string, expected: Expect, precision: Precision = 'ns'): void {
  const out = parseLineProtocol(line, precision, limits, 50_000);
  if ('refused' in expected) {
    if (out.ok) throw new Error(`accepted ${JSON.stringify(out.batch.points)}`);
    expect(out.details.list.map((d) => d.path)).toContain(expected.refused);
    if (expected.reason) expect(out.details.list.find((d) => d.path === expected.refused)!.reason).toMatch(expected.reason);
    return;
  }
  if (!out.ok) throw new Error(`refused ${JSON.stringify(out.details.list)}`);
  expect(out.batch.points).toHaveLength(1);
  expect(out.batch.points[0]).toMatchObject(expected);
}

const A = 'agent_id=a';

describe('line protocol reference', () => {
  describe('syntax', () => {
    it.each<[string, string, Expect]>([
      ['measurement, tags, fields and timestamp', `cpu,${A},host=h1 usage=1 ${TS}`, { measurement: 'cpu', tags: { host: 'h1' }, fields: { usage: 1 }, time: NOW }],
      ['several fields', `cpu,${A} a=1,b=2,c=3 ${TS}`, { fields: { a: 1, b: 2, c: 3 } }],
      ['the timestamp is optional (time of receipt)', `cpu,${A} v=1`, { time: NOW }],
      ['at least one field is required', `cpu,${A}`, { refused: 'lines[0]', reason: /has no fields/ }],
      ['a tag needs a value', `cpu,${A},host= v=1`, { refused: 'lines[0].tags.host', reason: /empty value/ }],
      ['a tag needs a key', `cpu,${A},=h v=1`, { refused: 'lines[0].tags', reason: /empty tag key/ }],
      ['a field needs a value', `cpu,${A} v=`, { refused: 'lines[0].fields.v', reason: /missing its value/ }],
      ['a field needs "="', `cpu,${A} v`, { refused: 'lines[0].fields.v', reason: /missing "="/ }],
      ['a trailing comma after the fields is an empty field key', `cpu,${A} v=1, ${TS}`, { refused: 'lines[0]', reason: /unescaped space in a field key/ }],
      ['one tag twice is refused (InfluxDB 1.x: "duplicate tags")', `cpu,${A},k=1,k=2 v=1`, { refused: 'lines[0].tags.k', reason: /appears twice/ }],
      ['one field twice: the last wins (as in InfluxDB 1.x)', `cpu,${A} v=1,v=2`, { fields: { v: 2 } }],
      ['text after the timestamp is refused', `cpu,${A} v=1 ${TS} extra`, { refused: 'lines[0]', reason: /unexpected text/ }],
      ['leading whitespace is ignored (as in InfluxDB 1.x)', `   cpu,${A} v=1 ${TS}`, { measurement: 'cpu' }],
      ['several spaces between the parts are taken (as in InfluxDB 1.x)', `cpu,${A}  v=1  ${TS}`, { fields: { v: 1 }, time: NOW }],
      ['a measurement may begin with _ (InfluxDB 2.x reserves it; 1.x takes it)', `_cpu,${A} v=1`, { measurement: '_cpu' }],
      ['"time" is not a field key', `cpu,${A} time=1`, { refused: 'lines[0].fields.time', reason: /reserved/ }],
      ['"time" is not a tag key', `cpu,${A},time=x v=1`, { refused: 'lines[0].tags.time', reason: /reserved/ }],
    ])('%s', (_what, line, expected) => check(line, expected));
  });

  describe('special characters and escaping', () => {
    it.each<[string, string, Expect]>([
      ['measurement: escaped comma and space', `my\\ cpu\\,total,${A} v=1`, { measurement: 'my cpu,total' }],
      ['measurement: an unescaped "=" is a plain character', `a=b,${A} v=1`, { measurement: 'a=b' }],
      ['measurement: a literal backslash before another character stays', `C:\\disk,${A} v=1`, { measurement: 'C:\\disk' }],
      ['measurement: \\= is refused (InfluxDB 1.x stores "=", the 2.x reference keeps "\\=")', `a\\=b,${A} v=1`, { refused: 'lines[0].measurement' }],
      ['tag key and value: escaped comma, equals sign and space', `cpu,${A},k\\ e\\,y\\==v\\ a\\,l\\=ue v=1`, { tags: { 'k e,y=': 'v a,l=ue' } }],
      ['tag value: an unescaped "=" is refused (InfluxDB 1.x: "invalid tag format")', `cpu,${A},k=a=b v=1`, { refused: 'lines[0].tags.k', reason: /unescaped "="/ }],
      ['tag value: an unescaped space ends the tags (here "v=2" is then no timestamp)', `cpu,${A},k=a b=1 v=2`, { refused: 'lines[0].time', reason: /invalid timestamp/ }],
      ['tag value: a literal backslash', `cpu,${A},dir=C:\\Users v=1`, { tags: { dir: 'C:\\Users' } }],
      ['tag value: `\\` is one backslash (the 2.x reference; InfluxDB 1.x keeps two)', `cpu,${A},dir=C:\\\\x v=1`, { tags: { dir: 'C:\\x' } }],
      ['tag value: a backslash at the end is refused (InfluxDB 1.x cannot store it faithfully)', `cpu,${A},dir=C:\\\\ v=1`, { refused: 'lines[0].tags.dir', reason: /backslash/ }],
      ['field key: escaped comma, equals sign and space', `cpu,${A} f\\ i\\,e\\=ld=1`, { fields: { 'f i,e=ld': 1 } }],
      ['field key: an unescaped space is refused', `cpu,${A} my field=1`, { refused: 'lines[0]' }],
      ['string value: escaped double quote and backslash', `cpu,${A} s="say \\"hi\\" \\\\ o/"`, { fields: { s: 'say "hi" \\ o/' } }],
      ['string value: a backslash before another character stays', `cpu,${A} s="C:\\temp\\n"`, { fields: { s: 'C:\\temp\\n' } }],
      ['string value: commas, spaces and equals signs need no escaping', `cpu,${A} s="a, b = c"`, { fields: { s: 'a, b = c' } }],
      ['string value: may hold a newline (as InfluxDB 1.x takes it)', `cpu,${A} s="line 1\nline 2"`, { fields: { s: 'line 1\nline 2' } }],
      ['string value: an unterminated quote is refused', `cpu,${A} s="open`, { refused: 'lines[0].fields.s', reason: /closing quote/ }],
      ['string value: unquoted text is refused', `cpu,${A} s=hello`, { refused: 'lines[0].fields.s', reason: /invalid value/ }],
      ['unicode in every part', `température,${A},lieu=Zürich valeur=1,note="🚀"`, { measurement: 'température', tags: { lieu: 'Zürich' }, fields: { valeur: 1, note: '🚀' } }],
    ])('%s', (_what, line, expected) => check(line, expected));
  });

  describe('field types', () => {
    it.each<[string, string, Expect]>([
      ['float', `m,${A} v=1.5`, { fields: { v: 1.5 } }],
      ['float without decimals', `m,${A} v=1`, { fields: { v: 1 } }],
      ['float in scientific notation', `m,${A} a=1e3,b=-1.2E-5,c=1.e+78,d=.5,e=1.`, { fields: { a: 1000, b: -1.2e-5, c: 1e78, d: 0.5, e: 1 } }],
      ['float: a leading "+" is refused (InfluxDB: invalid)', `m,${A} v=+1`, { refused: 'lines[0].fields.v' }],
      ['float: an exponent without digits is refused', `m,${A} v=1e`, { refused: 'lines[0].fields.v' }],
      ['float: NaN is refused', `m,${A} v=NaN`, { refused: 'lines[0].fields.v' }],
      ['float: out of the double range is refused', `m,${A} v=1e999`, { refused: 'lines[0].fields.v', reason: /finite/ }],
      ['integer (stored as a float)', `m,${A} v=-42i`, { fields: { v: -42 } }],
      ['integer: the signed 64-bit range', `m,${A} a=9223372036854775807i,b=-9223372036854775808i`, { fields: { a: 9223372036854775807, b: -9223372036854775808 } }],
      ['integer: beyond the signed 64-bit range is refused', `m,${A} v=9223372036854775808i`, { refused: 'lines[0].fields.v', reason: /out of range/ }],
      ['integer: a leading "+" is refused', `m,${A} v=+1i`, { refused: 'lines[0].fields.v' }],
      ['integer: a decimal point is refused', `m,${A} v=1.5i`, { refused: 'lines[0].fields.v' }],
      ['unsigned (stored as a float)', `m,${A} v=42u`, { fields: { v: 42 } }],
      ['unsigned: the 64-bit range', `m,${A} v=18446744073709551615u`, { fields: { v: 18446744073709551615 } }],
      ['unsigned: beyond the range is refused', `m,${A} v=18446744073709551616u`, { refused: 'lines[0].fields.v', reason: /out of range/ }],
      ['unsigned: negative is refused', `m,${A} v=-1u`, { refused: 'lines[0].fields.v' }],
      ['booleans: t T true True TRUE', `m,${A} a=t,b=T,c=true,d=True,e=TRUE`, { fields: { a: true, b: true, c: true, d: true, e: true } }],
      ['booleans: f F false False FALSE', `m,${A} a=f,b=F,c=false,d=False,e=FALSE`, { fields: { a: false, b: false, c: false, d: false, e: false } }],
      ['booleans: other spellings are refused', `m,${A} v=tRUE`, { refused: 'lines[0].fields.v' }],
      ['string', `m,${A} v="1"`, { fields: { v: '1' } }],
      ['one batch, one type per field', `m,${A} v=1\nm,${A} v="x"`, { refused: 'lines[1].fields.v', reason: /earlier line has a number/ }],
    ])('%s', (_what, line, expected) => check(line, expected));
  });

  describe('timestamps and precision', () => {
    it.each<[Precision, string]>([
      ['ns', TS],
      ['us', String(NOW * 1000)],
      ['ms', String(NOW)],
      ['s', String(NOW / 1000)],
      ['m', String(NOW / 60_000)],
      ['h', String(NOW / 3_600_000)],
    ])('precision %s', (precision, ts) => check(`m,${A} v=1 ${ts}`, { time: NOW }, precision));

    it.each<[string, string, Expect]>([
      ['nanoseconds below a millisecond are dropped', `m,${A} v=1 ${BigInt(NOW) * 1_000_000n + 999_999n}`, { time: NOW }],
      ['a timestamp in another unit than the precision is out of range', `m,${A} v=1 ${NOW}`, { refused: 'lines[0].time', reason: /older than the raw retention/ }],
      ['an exponent is refused', `m,${A} v=1 1e18`, { refused: 'lines[0].time' }],
      ['a "+" is refused', `m,${A} v=1 +${TS}`, { refused: 'lines[0].time' }],
      ['beyond int64 is refused', `m,${A} v=1 99999999999999999999999`, { refused: 'lines[0].time' }],
      ['more than 10 minutes ahead is refused', `m,${A} v=1 ${BigInt(NOW + 11 * 60_000) * 1_000_000n}`, { refused: 'lines[0].time', reason: /future/ }],
    ])('%s', (_what, line, expected) => check(line, expected));
  });

  describe('comments, blank lines and line ends', () => {
    it('skips comment lines, blank lines and whitespace-only lines; takes \\n and \\r\\n', () => {
      const body = `# a comment\n\n   \n  # an indented comment\r\nm,${A} v=1 ${TS}\r\n\nm,${A} v=2 ${TS}\n# trailing comment`;
      const out = parseLineProtocol(body, 'ns', limits, 50_000);
      expect(out.ok && out.batch.points.map((p) => p.fields.v)).toEqual([1, 2]);
      expect(out.ok && out.batch.lines).toEqual([4, 6]);
    });
    it('counts lines from 0 in error paths, comments and blank lines included', () => {
      const out = parseLineProtocol(`# header\n\nm,${A} v=oops`, 'ns', limits, 50_000);
      expect(!out.ok && out.details.list).toEqual([{ path: 'lines[2].fields.v', reason: expect.stringContaining('invalid value') }]);
    });
    it('does not take a "#" inside a line as a comment', () => {
      check(`m,${A},k=#1 v=1`, { tags: { k: '#1' } });
    });
  });
});
