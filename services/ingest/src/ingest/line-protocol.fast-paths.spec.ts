// The shortcuts the hot path takes (found with bench/ingest-hotpath.mjs) must give exactly what the
// general code gives: timestamps without BigInt, names read by slicing, plain objects for tags and
// fields, the writer's escaping and tag sorting.
import { decodeLines, encodePoint } from '@agentmon/contracts';
import { parseLineProtocol, type Precision } from './line-protocol.parser.js';
import type { PointLimits } from './point-rules.js';

// no clock limits, so every timestamp's conversion can be compared
const OPEN: PointLimits = { receivedAt: 0, oldestMs: -Number.MAX_SAFE_INTEGER, newestMs: Number.MAX_SAFE_INTEGER, maxPointBytes: 900_000 };

function parse(body: string, precision: Precision = 'ns') {
  const out = parseLineProtocol(body, precision, OPEN, 50_000);
  if (!out.ok) throw new Error(`refused: ${JSON.stringify(out.details.list)}`);
  return out.batch;
}

/** milliseconds as BigInt division gives them (truncation toward zero) */
function reference(ts: string, precision: Precision): number {
  const v = BigInt(ts);
  const per = { ns: 1_000_000n, us: 1_000n, ms: 1n } as const;
  return Number(v / per[precision as 'ns' | 'us' | 'ms']);
}

describe('line protocol fast paths', () => {
  it.each(['ns', 'us', 'ms'] as const)('converts %s timestamps of every length exactly as BigInt division does', (precision) => {
    const samples: string[] = ['0', '7', '000123'];
    let digits = '';
    for (let n = 1; n <= 21; n++) {
      digits += String((n * 7) % 10 || 1);
      samples.push(digits, `-${digits}`, '9'.repeat(n), `1${'0'.repeat(n - 1)}`);
    }
    const limit = BigInt(Number.MAX_SAFE_INTEGER) * { ns: 1_000_000n, us: 1_000n, ms: 1n }[precision];
    const inRange = samples.filter((s) => (BigInt(s) < 0n ? -BigInt(s) : BigInt(s)) <= limit);
    const body = inRange.map((ts) => `m,agent_id=a v=1 ${ts}`).join('\n');
    expect(parse(body, precision).points.map((p) => p.time)).toEqual(inRange.map((ts) => reference(ts, precision)));
  });

  it('refuses timestamps whose milliseconds leave the safe range, whatever the path', () => {
    const out = parseLineProtocol(`m,agent_id=a v=1 ${'9'.repeat(16)}`, 'ms', OPEN, 10);
    expect(out.ok).toBe(false);
    const ns = parseLineProtocol(`m,agent_id=a v=1 ${'9'.repeat(22)}`, 'ns', OPEN, 10);
    expect(ns.ok).toBe(false);
  });

  it('keeps names such as __proto__, constructor and toString as plain own properties', () => {
    const b = parse('m,agent_id=a,__proto__=x,constructor=y,toString=z __proto__=1,hasOwnProperty=2,valueOf="s" 1', 'ms');
    const p = b.points[0]!;
    expect(Object.getPrototypeOf(p.tags)).toBe(Object.prototype);
    expect(Object.keys(p.tags)).toEqual(['__proto__', 'constructor', 'toString']);
    expect(Object.keys(p.fields)).toEqual(['__proto__', 'hasOwnProperty', 'valueOf']);
    expect(decodeLines(b.encoded[0]!)).toEqual([{ agent_id: 'a', measurement: 'm', tags: { ['__proto__']: 'x', constructor: 'y', toString: 'z' }, fields: { ['__proto__']: 1, hasOwnProperty: 2, valueOf: 's' }, time: 1 }]);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    // a name that exists on Object.prototype is not a duplicate tag, only a repeated one is
    const twice = parseLineProtocol('m,agent_id=a,toString=1,toString=2 v=1', 'ms', OPEN, 10);
    expect(twice.ok ? [] : twice.details.list).toEqual([{ path: 'lines[0].tags.toString', reason: 'appears twice on the line' }]);
  });

  it('unescapes at the start, the middle and the end of names and values', () => {
    const b = parse('\\ m\\,,agent_id=a,\\=k=v\\ ,k2=\\\\x\\,y\\= f\\ =1,\\,g\\==2 1', 'ms');
    expect(b.points[0]).toEqual({ agent_id: 'a', measurement: ' m,', tags: { '=k': 'v ', k2: '\\x,y=' }, fields: { 'f ': 1, ',g=': 2 }, time: 1 });
  });

  it('tells integer, unsigned and float values apart by their suffix', () => {
    const b = parse('m,agent_id=a i=-12i,u=12u,f=1.5e3,g=-0.25,t=t,F=FALSE 1', 'ms');
    expect(b.points[0]!.fields).toEqual({ i: -12, u: 12, f: 1500, g: -0.25, t: true, F: false });
    for (const bad of ['1.5i', '-1u', '12iu', 'i', 'u', '+1', '1e']) {
      const out = parseLineProtocol(`m,agent_id=a v=${bad} 1`, 'ms', OPEN, 10);
      expect([bad, out.ok]).toEqual([bad, false]);
    }
  });

  it('encodes what it parses: sorted tags, escapes only where needed, __proto__ included', () => {
    const b = parse('m\\ x,zone=z,agent_id=a,__proto__=p,b\\,c=d\\=e v=1,w\\ x="q" 5', 'ms');
    expect(b.encoded[0]).toBe('m\\ x,__proto__=p,agent_id=a,b\\,c=d\\=e,zone=z v=1,w\\ x="q" 5');
    expect(encodePoint(b.points[0]!)).toBe(b.encoded[0]);
    expect(parse(b.encoded[0]!, 'ms').points[0]).toEqual(b.points[0]);
  });
});
