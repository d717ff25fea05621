/**
 * The line-protocol fast path against the slow path (parseLineProtocol, the authority): over the
 * conformance rows, the fuzz corpora and fast-check batches written the way clients write them
 * (valid, and broken by random edits), (a) whatever the fast path accepts the slow path accepts, with
 * the same points once the fast path's text is decoded (times in ms, numbers as floats), the same
 * agents, field kinds and latest values; (b) the fast path never accepts what the slow path refuses.
 * Plus what the normal form looks like for the rewrites the fast path makes.
 */
import fc from 'fast-check';
import { decodeLines, encodePoint, type StoredPoint } from '@agentmon/contracts';
import { FUZZ_SEED, goodPoints, malformedLines } from '../../test/support/malformed.js';
import { scanLineProtocol, type FastBatch, type LatestPoint } from './line-protocol.fast.js';
import { parseLineProtocol, type Precision } from './line-protocol.parser.js';
import { oldestBefore, pointLimits, type PointLimits } from './point-rules.js';

const NOW = Date.UTC(2026, 10, 27, 12, 0, 0);
const LIMITS = pointLimits(NOW, 90 * 86_400_000, 900_000);
const MAX_POINTS = 50_000;
const PRECISIONS: Precision[] = ['ns', 'us', 'ms', 's', 'm', 'h'];
const run = (numRuns: number) => ({ seed: FUZZ_SEED, numRuns });

/** The latest value of each field per agent and measurement, as LatestValuesService.observe keeps them. */
function latestOf(points: readonly LatestPoint[]): [string, [number, unknown]][] {
  const out = new Map<string, [number, unknown]>();
  for (const p of points) {
    for (const f in p.fields) {
      const key = `${p.agent_id}\u001f${p.measurement}\u001f${f}`;
      const cur = out.get(key);
      if (!cur || cur[0] <= p.time) out.set(key, [p.time, p.fields[f]]);
    }
  }
  return [...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function kindsOf(points: readonly StoredPoint[]): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const p of points) for (const f in p.fields) (out[`m:${p.measurement}`] ??= {})[`f:${f}`] = typeof p.fields[f];
  return out;
}
function kindsOfFast(fast: FastBatch): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const [m, fields] of fast.fieldKinds) for (const [f, k] of fields) (out[`m:${m}`] ??= {})[`f:${f}`] = k;
  return out;
}

const stats = { fast: 0, slowOnly: 0, refused: 0 };

/** the normal form the fast path wrote, as text */
const textOf = (fast: FastBatch) => fast.lines.toString('utf8');

/** Both paths over one body; the properties (a) and (b). Returns what the fast path did. */
function compare(body: string, precision: Precision = 'ms', limits: PointLimits = LIMITS, maxPoints = MAX_POINTS): FastBatch | null {
  // as ingest reads a body: bytes to the fast path, their UTF-8 text to the slow path (a lone surrogate
  // that random edits leave in a string becomes U+FFFD in both)
  const bytes = Buffer.from(body);
  const fast = scanLineProtocol(bytes, precision, limits, maxPoints);
  const slow = parseLineProtocol(bytes.toString('utf8'), precision, limits, maxPoints);
  if (!slow.ok) {
    stats.refused++;
    if (fast !== null) throw new Error(`the fast path accepted what the slow path refuses (${JSON.stringify(slow.details.list.slice(0, 2))}): ${JSON.stringify(body.slice(0, 300))}`);
    return null;
  }
  if (fast === null) {
    stats.slowOnly++;
    return null;
  }
  stats.fast++;
  const points = slow.batch.points;
  expect(fast.points).toBe(points.length);
  const text = textOf(fast);
  expect(decodeLines(text)).toEqual(points);
  expect(fast.agents).toEqual(slow.batch.agents.map((a) => a.id));
  expect(kindsOfFast(fast)).toEqual(kindsOf(points));
  expect(latestOf(fast.newestPoints())).toEqual(latestOf(points));
  // the agents' oldest points, for the downsampler's backfill marks: all of them, and those before the first point's time
  expect(fast.oldestBefore(Infinity)).toEqual(oldestBefore(points, Infinity));
  const byAgent = (pairs: [string, number][]) => [...pairs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (points.length > 0) expect(byAgent(fast.oldestBefore(points[0]!.time))).toEqual(byAgent(oldestBefore(points, points[0]!.time)));
  // the normal form: one point a line (the fast path lets no newline into a string), no line end but \n
  if (points.length > 0) expect(text.split('\n')).toHaveLength(points.length);
  expect(text).not.toMatch(/\r|^\n|\n$|\n\n/);
  // numbers as InfluxDB reads the slow path's: no integer suffix, no -0 (the fields are between the
  // first and the last space: names and tags hold no space without a backslash)
  for (const l of points.length > 0 ? text.split('\n') : []) {
    const fields = l.slice(l.indexOf(' ') + 1, l.lastIndexOf(' ')).replace(/"[^"]*"/g, '""');
    expect([l, /(?:^|,)[^=,]+=(?:-?\d+[iu]|-0(?:\.0*)?)(?=,|$)/.test(fields)]).toEqual([l, false]);
  }
  // lines from the body are a view of its bytes, not a copy (small buffers share Node's pool: compare where they lie)
  const inBody = fast.lines.buffer === bytes.buffer && fast.lines.byteOffset >= bytes.byteOffset && fast.lines.byteOffset + fast.lines.length <= bytes.byteOffset + bytes.length;
  if (fast.lines.length > 0) expect(inBody).toBe(fast.fromBody);
  return fast;
}

// ---------------------------------------------------------------- corpora

const A = 'agent_id=a';
const TS = `${BigInt(NOW) * 1_000_000n}`;
/** the rows of line-protocol.conformance.spec.ts and line-protocol.fast-paths.spec.ts, and more */
const ROWS = [
  `cpu,${A},host=h1 usage=1 ${TS}`,
  `cpu,${A} a=1,b=2,c=3 ${TS}`,
  `cpu,${A} v=1`,
  `cpu,${A}`,
  `cpu,${A},host= v=1`,
  `cpu,${A},=h v=1`,
  `cpu,${A} v=`,
  `cpu,${A} v`,
  `cpu,${A} v=1, ${TS}`,
  `cpu,${A},k=1,k=2 v=1`,
  `cpu,${A} v=1,v=2`,
  `cpu,${A} v=1 ${TS} extra`,
  `   cpu,${A} v=1 ${TS}`,
  `cpu,${A}  v=1  ${TS}`,
  `_cpu,${A} v=1`,
  `cpu,${A} time=1`,
  `cpu,${A},time=x v=1`,
  `my\\ cpu\\,total,${A} v=1`,
  `a=b,${A} v=1`,
  `C:\\disk,${A} v=1`,
  `a\\=b,${A} v=1`,
  `cpu,${A},k\\ e\\,y\\==v\\ a\\,l\\=ue v=1`,
  `cpu,${A},k=a=b v=1`,
  `cpu,${A},k=a b=1 v=2`,
  `cpu,${A},dir=C:\\Users v=1`,
  `cpu,${A} f\\ i\\,e\\=ld=1`,
  `cpu,${A} my field=1`,
  `cpu,${A} s="say \\"hi\\" \\\\ o/"`,
  `cpu,${A} s="a, b = c"`,
  `cpu,${A} s="line 1\nline 2"`,
  `cpu,${A} s="open`,
  `cpu,${A} s=hello`,
  `température,${A},lieu=Zürich valeur=1,note="🚀"`,
  `m,${A} v=1.5`,
  `m,${A} v=1`,
  `m,${A} a=1e3,b=-1.2E-5,c=1.e+78,d=.5,e=1.`,
  `m,${A} v=+1`,
  `m,${A} v=1e`,
  `m,${A} v=NaN`,
  `m,${A} v=1e999`,
  `m,${A} v=-42i`,
  `m,${A} a=9223372036854775807i,b=-9223372036854775808i`,
  `m,${A} v=9223372036854775808i`,
  `m,${A} v=+1i`,
  `m,${A} v=1.5i`,
  `m,${A} v=42u`,
  `m,${A} v=18446744073709551615u`,
  `m,${A} v=18446744073709551616u`,
  `m,${A} v=-1u`,
  `m,${A} a=t,b=T,c=true,d=True,e=TRUE`,
  `m,${A} a=f,b=F,c=false,d=False,e=FALSE`,
  `m,${A} v=tRUE`,
  `m,${A} v="1"`,
  `m,${A} v=1\nm,${A} v="x"`,
  `m,${A} v=1 ${BigInt(NOW) * 1_000_000n + 999_999n}`,
  `m,${A} v=1 ${NOW}`,
  `m,${A} v=1 1e18`,
  `m,${A} v=1 +${TS}`,
  `m,${A} v=1 99999999999999999999999`,
  `m,${A} v=1 -${TS}`,
  `m,${A} v=1 0${TS}`,
  `m,${A} v=1 ${BigInt(NOW + 11 * 60_000) * 1_000_000n}`,
  `# a comment\n\n   \n  # an indented comment\r\nm,${A} v=1 ${TS}\r\n\nm,${A} v=2 ${TS}\n# trailing comment`,
  `# header\n\nm,${A} v=oops`,
  `m,${A},k=#1 v=1`,
  `m,agent_id=a,__proto__=x,constructor=y,toString=z __proto__=1,hasOwnProperty=2,valueOf="s" ${TS}`,
  `m,agent_id=a,toString=1,toString=2 v=1`,
  `m,agent_id=a i=-12i,u=12u,f=1.5e3,g=-0.25,t=t,F=FALSE ${TS}`,
  `m,${A} v=-0`,
  `m,${A} v=-0.0,w=0`,
  `m,${A} v=007`,
  `m,${A} v=0.5,w=0i,x=0u`,
  `m,${A},agent_id=b v=1`,
  `m,agent_id=not\u00e9 v=1`,
  `m,agent_id=${'x'.repeat(129)} v=1`,
  `m,${A} v=1 ${TS}\r`,
  `m,${A} v=1 ${TS}\rm,${A} v=2 ${TS}`,
  `m,${A} v=1\t${TS}`,
  `m,${A} s="tab\there" ${TS}`,
  `m,${A} s="" ${TS}`,
  `m,${A} "quoted"=1,k"ey=2 ${TS}`,
  `"m",${A},"t"="v" x=1 ${TS}`,
  `m,${A} v=1 ${TS} `,
  `m,${A} v=1 `,
  `m,${A} v=1 ${TS}\n\n\n`,
  `\n\nm,${A} v=1 ${TS}`,
  `m,${A},host=a v=1 ${TS}\nm,host=a,${A} v=2 ${TS}`,
  `m,${A} v=1,w=2 ${TS}\nm,${A} w=3 ${TS}\nm,${A} v=4,w=5 ${TS}`,
  `m,${A} v=${'1'.repeat(64)}`,
  `m,${A} v=${'1'.repeat(65)}`,
  `m,${A} v=${'9'.repeat(18)}i,w=${'9'.repeat(19)}i`,
];

describe('line protocol fast path against the slow path', () => {
  afterAll(() => {
    // the comparison is worth something only when both outcomes occur often
    expect(stats.fast).toBeGreaterThan(1000);
    expect(stats.refused).toBeGreaterThan(1000);
  });

  it('agrees on the conformance rows, in every precision', () => {
    for (const row of ROWS) for (const p of PRECISIONS) compare(row, p);
    // the same rows with the time limits off, so that every timestamp conversion is compared
    const open: PointLimits = { receivedAt: 0, oldestMs: -Number.MAX_SAFE_INTEGER, newestMs: Number.MAX_SAFE_INTEGER, maxPointBytes: 900_000 };
    for (const row of ROWS) for (const p of PRECISIONS) compare(row, p, open);
  });

  it('agrees on the fuzz corpus: well-formed points, and bodies with one malformed line', () => {
    fc.assert(
      fc.property(goodPoints(NOW), (points) => {
        compare(points.map(encodePoint).join('\n'));
      }),
      run(1000),
    );
    fc.assert(
      fc.property(malformedLines(NOW), ({ body }) => {
        expect(compare(body)).toBeNull();
      }),
      run(2000),
    );
  });

  it('agrees on batches written as clients write them', () => {
    fc.assert(
      fc.property(clientBatch, ({ body, precision }) => {
        compare(body, precision);
      }),
      run(2000),
    );
  });

  it('agrees on client batches broken by random edits', () => {
    fc.assert(
      fc.property(clientBatch, edits, ({ body, precision }, apply) => {
        compare(apply(body), precision);
      }),
      run(4000),
    );
  });

  it('agrees at the limits: points per request', () => {
    fc.assert(
      fc.property(clientBatch, fc.integer({ min: 0, max: 8 }), ({ body, precision }, maxPoints) => {
        compare(body, precision, LIMITS, maxPoints);
      }),
      run(500),
    );
  });

  it('agrees at the limits: the size of a point', () => {
    // about the size of the lines, so that some fit as written and not once encoded (t → true, a time added)
    fc.assert(
      fc.property(clientBatch, fc.integer({ min: 60, max: 600 }), ({ body, precision }, maxPointBytes) => {
        compare(body, precision, { ...LIMITS, maxPointBytes });
      }),
      run(1500),
    );
  });

  it('agrees at the limits: the time window', () => {
    fc.assert(
      fc.property(clientBatch, fc.integer({ min: 0, max: 3_600_000 }), fc.integer({ min: 0, max: 3_600_000 }), ({ body, precision }, a, b) => {
        compare(body, precision, { ...LIMITS, oldestMs: NOW - Math.max(a, b), newestMs: NOW - Math.min(a, b) });
      }),
      run(500),
    );
  });

  it('agrees at the limits: lengths and counts of names and values', () => {
    fc.assert(
      fc.property(longLine, (body) => {
        compare(body);
      }),
      run(300),
    );
  });

  it('takes a 5,000-line batch of 1,000 agents as it is, and reads the newest line of each agent', () => {
    const t0 = NOW - 60_000;
    const lines = Array.from({ length: 5000 }, (_, k) => `peak,agent_id=peak-${k % 1000},host=node-${k % 50},region=eu-west-1 cpu=${(k % 997) / 10},mem=${k % 89} ${t0 + Math.floor(k / 1000)}`);
    const body = lines.join('\n');
    const fast = compare(body)!;
    expect(textOf(fast)).toBe(body);
    expect(fast.fromBody).toBe(true);
    expect(fast.agents).toHaveLength(1000);
    expect(fast.newestPoints()).toEqual(decodeLines(lines.slice(4000).join('\n')).map(({ tags: _, ...p }) => p));
  });
});

describe('the normal form the fast path writes', () => {
  const text = (body: string, precision: Precision = 'ms') => {
    const fast = scanLineProtocol(body, precision, LIMITS, MAX_POINTS);
    return fast === null ? null : textOf(fast);
  };

  it('keeps lines that are already normal as they are, the trailing newline aside', () => {
    const body = `cpu,host=a,agent_id=x usage=1.5,ok=T,s="a b" ${NOW}\nmem,agent_id=y free=12 ${NOW - 1}\n`;
    const fast = compare(body)!;
    expect(textOf(fast)).toBe(body.slice(0, -1));
    expect(fast.fromBody).toBe(true);
  });

  it('converts timestamps of every precision to milliseconds', () => {
    const line = `m,agent_id=a v=1`;
    expect(text(`${line} ${NOW}123456`, 'ns')).toBe(`${line} ${NOW}`);
    expect(text(`${line} ${NOW}999`, 'us')).toBe(`${line} ${NOW}`);
    expect(text(`${line} ${NOW / 1000}`, 's')).toBe(`${line} ${NOW}`);
    expect(text(`${line} ${NOW / 60_000}`, 'm')).toBe(`${line} ${NOW}`);
    expect(text(`${line} ${NOW / 3_600_000}`, 'h')).toBe(`${line} ${NOW}`);
    expect(text(line)).toBe(`${line} ${NOW}`);
  });

  it('drops the suffix of integers, CRLF, comments, blank lines and leading whitespace', () => {
    const body = `# telegraf\r\n  m,agent_id=a i=-12i,u=7u,f=1.25 ${NOW}\r\n\r\n\tm,agent_id=b i=3i ${NOW}\r\n`;
    const fast = compare(body)!;
    expect(textOf(fast)).toBe(`m,agent_id=a i=-12,u=7,f=1.25 ${NOW}\nm,agent_id=b i=3 ${NOW}`);
    expect(fast.fromBody).toBe(false);
  });

  it('takes the escapes the slow path writes, as they are: in names, tag values and strings', () => {
    for (const line of [
      `my\\ cpu\\,total,agent_id=a v=1 ${NOW}`,
      `cpu,agent_id=a,k\\ e\\,y\\==v\\ a\\,l\\=ue v=1 ${NOW}`,
      `cpu,agent_id=a f\\ i\\,e\\=ld=1,g=2,s\\ t="x y" ${NOW}`,
      `cpu,agent_id=a s="say \\"hi\\" \\\\ o/",v=2 ${NOW}`,
      `disk,agent_id=a,path=/mnt/my\\ disk used=1 ${NOW}\ndisk,agent_id=b,path=/mnt/my\\ disk used=2 ${NOW}`,
    ]) {
      const fast = compare(line);
      expect([line, fast?.fromBody]).toEqual([line, true]);
      expect(textOf(fast!)).toBe(line);
    }
    // the latest values read the fields of an escaped line right
    const fast = scanLineProtocol(`m\\ x,agent_id=a,t\\=k=v\\ w f\\,1=1.5,s="a \\"b\\" \\\\",b=t ${NOW}`, 'ms', LIMITS, MAX_POINTS)!;
    expect(fast.newestPoints()).toEqual([{ agent_id: 'a', measurement: 'm x', fields: { 'f,1': 1.5, s: 'a "b" \\', b: true }, time: NOW }]);
  });

  it('reads bytes: UTF-8 names, tag values and strings as the slow path reads them, rewritten or not', () => {
    const lines = [`température,agent_id=a,région=Zürich,城市=東京 valeur=1.5,état="prêt ✓ 🚀" ${NOW}`, `mém\\ oire,agent_id=b,é=ü libre=2,s="\\\\ \\"ô\\"" ${NOW - 1}`];
    const asIs = compare(lines.join('\n'))!;
    expect([textOf(asIs), asIs.fromBody]).toEqual([lines.join('\n'), true]);
    expect(asIs.newestPoints()).toEqual([
      { agent_id: 'a', measurement: 'température', fields: { valeur: 1.5, état: 'prêt ✓ 🚀' }, time: NOW },
      { agent_id: 'b', measurement: 'mém oire', fields: { libre: 2, s: '\\ "ô"' }, time: NOW - 1 },
    ]);
    // ns: every timestamp rewritten, so the output is a copy, with the same characters
    const ns = compare(lines.map((l) => `${l}123456`).join('\r\n'), 'ns')!;
    expect([textOf(ns), ns.fromBody]).toEqual([lines.join('\n'), false]);
  });

  it('keeps lines after comments and blank lines as a view of the body', () => {
    const body = `# from telegraf\n\nm,agent_id=a v=1 ${NOW}\nm,agent_id=b v=2 ${NOW}\n`;
    const fast = compare(body)!;
    expect([textOf(fast), fast.fromBody]).toEqual([`m,agent_id=a v=1 ${NOW}\nm,agent_id=b v=2 ${NOW}`, true]);
  });

  it('grows its output when rewriting makes it longer than the body', () => {
    // a line without a timestamp gets the time of receipt: 14 bytes more each
    const body = Array.from({ length: 200 }, (_, k) => `m,agent_id=a${k % 7} v=${k}`).join('\n');
    const fast = compare(body)!;
    expect(fast.lines.length).toBeGreaterThan(body.length + 64);
    expect(textOf(fast)).toBe(body.split('\n').map((l) => `${l} ${NOW}`).join('\n'));
  });

  it('finds the shape of each measurement again when measurements take turns', () => {
    const shapes = [`cpu,agent_id=a,cpu=total usage=1.5,idle=98`, `mem,agent_id=a used=1i,free=2i`, `disk,agent_id=a,path=/ used_percent=3.25`, `net,agent_id=a up=t`];
    const body = Array.from({ length: 40 }, (_, k) => `${shapes[(k * 7) % 4]} ${NOW - k}`).join('\n');
    const fast = compare(body)!;
    expect(fast.points).toBe(40);
    expect(kindsOfFast(fast)).toEqual({
      'm:cpu': { 'f:usage': 'number', 'f:idle': 'number' },
      'm:mem': { 'f:used': 'number', 'f:free': 'number' },
      'm:disk': { 'f:used_percent': 'number' },
      'm:net': { 'f:up': 'boolean' },
    });
  });

  it('leaves to the slow path what it does not fully understand', () => {
    for (const body of [
      `m,agent_id=a v=1\\ ${NOW}`,
      `C:\\disk,agent_id=a v=1 ${NOW}`,
      `m\\=x,agent_id=a v=1 ${NOW}`,
      `m,agent_id=a,dir=C:\\Users v=1 ${NOW}`,
      `m,agent_id=a,k\\\\=v v=1 ${NOW}`,
      `m,agent_id=a s="C:\\temp" ${NOW}`,
      `m,agent_id=a,k=v\\ v=1 ${NOW}`,
      `m,agent_id=a s="two\nlines" ${NOW}`,
      `m,agent_id=a v=1e3 ${NOW}`,
      `m,agent_id=a v=.5 ${NOW}`,
      `m,agent_id=a v=${'1'.repeat(19)}i ${NOW}`,
      `m,agent_id=a v=1 -${NOW}`,
      `m,agent_id=a  v=1 ${NOW}`,
      `m,agent_id=a v=1,v=2 ${NOW}`,
      `m,host=a v=1 ${NOW}`,
    ]) {
      expect([body, scanLineProtocol(body, 'ms', LIMITS, MAX_POINTS)]).toEqual([body, null]);
    }
  });

  it('collects the kinds of the fields once per line shape', () => {
    const fast = scanLineProtocol(`m,agent_id=a v=1,s="x" ${NOW}\nm,agent_id=b v=2,s="y" ${NOW}\nn,agent_id=a b=t ${NOW}`, 'ms', LIMITS, MAX_POINTS)!;
    expect(kindsOfFast(fast)).toEqual({ 'm:m': { 'f:v': 'number', 'f:s': 'string' }, 'm:n': { 'f:b': 'boolean' } });
    expect(scanLineProtocol(`m,agent_id=a v=1 ${NOW}\nm,agent_id=a,t=x v="1" ${NOW}`, 'ms', LIMITS, MAX_POINTS)).toBeNull();
  });
});

// ---------------------------------------------------------------- generators

const name = fc.stringMatching(/^[a-z_][a-z0-9_.-]{0,11}$/).filter((s) => s !== 'time' && s !== 'agent_id');
const agentId = fc.stringMatching(/^[A-Za-z0-9._:-]{1,20}$/);
/** names of characters of three UTF-8 bytes each (the size limit counts bytes) */
const wide = name.map((n) => n.replace(/[a-z]/g, (c) => String.fromCharCode(0x4e00 + c.charCodeAt(0))));
/** mostly plain tag values; now and then one that needs an escape (the slow path's case) */
const tagValue = fc.oneof({ weight: 9, arbitrary: fc.stringMatching(/^[A-Za-z0-9._:/#"-]{1,16}$/) }, { weight: 1, arbitrary: fc.stringMatching(/^[a-z]{1,4}\\[ ,=][a-z]{1,4}$/) });
const digits = (min: number, max: number) => fc.stringMatching(new RegExp(`^[1-9][0-9]{${min - 1},${max - 1}}$`));
const numberText = fc.oneof(
  fc.tuple(fc.boolean(), digits(1, 6), fc.option(fc.stringMatching(/^[0-9]{1,4}$/), { nil: undefined })).map(([neg, int, frac]) => `${neg ? '-' : ''}${int}${frac === undefined ? '' : `.${frac}`}`),
  fc.constantFrom('0', '0.0', '0.5', '-0.25', '100'),
  fc.tuple(fc.boolean(), digits(1, 19)).map(([neg, int]) => `${neg ? '-' : ''}${int}i`),
  digits(1, 20).map((int) => `${int}u`),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 }).map((v) => String(v)),
);
const booleanText = fc.constantFrom('t', 'T', 'true', 'True', 'TRUE', 'f', 'F', 'false', 'False', 'FALSE');
const stringText = fc
  .string({ maxLength: 20, unit: fc.oneof(fc.constantFrom('a', 'Z', ' ', ',', '=', 'é', '€', '🚀', '#', '0'), fc.constantFrom('x')) })
  .map((s) => `"${s}"`);
/** field names say their kind, mostly, so that a batch keeps one type per field */
const field = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(name, numberText).map(([k, v]) => `n_${k}=${v}`) },
  { weight: 2, arbitrary: fc.tuple(name, booleanText).map(([k, v]) => `b_${k}=${v}`) },
  { weight: 2, arbitrary: fc.tuple(name, stringText).map(([k, v]) => `s_${k}=${v}`) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('v', 'w'), fc.oneof(numberText, booleanText, stringText)).map(([k, v]) => `${k}=${v}`) },
);

function timestamp(ms: number, precision: Precision, sub: number): string {
  switch (precision) {
    case 'ns':
      return `${ms}${String(sub % 1_000_000).padStart(6, '0')}`;
    case 'us':
      return `${ms}${String(sub % 1000).padStart(3, '0')}`;
    case 'ms':
      return String(ms);
    case 's':
      return String(Math.floor(ms / 1000));
    case 'm':
      return String(Math.floor(ms / 60_000));
    case 'h':
      return String(Math.floor(ms / 3_600_000));
  }
}

const line = (precision: Precision) =>
  fc
    .record({
      measurement: fc.oneof(name, fc.constantFrom('cpu', 'mem', 'disk'), wide),
      agent: fc.oneof(agentId, fc.constantFrom('a1', 'a2')),
      tags: fc.array(fc.tuple(name, tagValue), { maxLength: 3 }),
      agentAt: fc.nat(),
      fields: fc.array(field, { minLength: 1, maxLength: 4 }),
      time: fc.option(fc.tuple(fc.integer({ min: NOW - 3_600_000, max: NOW }), fc.nat()), { freq: 5, nil: undefined }),
    })
    .map(({ measurement, agent, tags, agentAt, fields, time }) => {
      const pairs = tags.map(([k, v]) => `${k}=${v}`);
      pairs.splice(agentAt % (pairs.length + 1), 0, `agent_id=${agent}`);
      return `${measurement},${pairs.join(',')} ${fields.join(',')}${time === undefined ? '' : ` ${timestamp(time[0], precision, time[1])}`}`;
    });

/** A batch: lines in one precision, with the line ends, comments, blank lines and indentation clients produce. */
const clientBatch = fc.constantFrom(...PRECISIONS).chain((precision) =>
  fc
    .record({
      lines: fc.array(line(precision), { minLength: 1, maxLength: 8 }),
      crlf: fc.boolean(),
      extras: fc.array(fc.tuple(fc.nat(), fc.constantFrom('# comment', '', '   ', '#')), { maxLength: 2 }),
      indent: fc.option(fc.constantFrom(' ', '  ', '\t'), { freq: 6, nil: undefined }),
      trailing: fc.boolean(),
    })
    .map(({ lines, crlf, extras, indent, trailing }) => {
      const all = indent === undefined ? [...lines] : lines.map((l, i) => (i === 0 ? indent + l : l));
      for (const [at, extra] of extras) all.splice(at % (all.length + 1), 0, extra);
      const eol = crlf ? '\r\n' : '\n';
      return { body: all.join(eol) + (trailing ? eol : ''), precision };
    }),
);

/** One to three random edits of a body: a character inserted, one removed, a part repeated. */
const edit = fc.oneof(
  fc.tuple(fc.nat(), fc.constantFrom(',', ' ', '=', '"', '\\', '\n', '\r', '\t', '#', '-', '.', 'i', 'u', 'e', '0', '9', 't', 'x', '\u0000', '\u007f', 'é', '_')).map(
    ([at, c]) =>
      (s: string) => {
        const i = at % (s.length + 1);
        return s.slice(0, i) + c + s.slice(i);
      },
  ),
  fc.nat().map((at) => (s: string) => {
    const i = at % Math.max(1, s.length);
    return s.slice(0, i) + s.slice(i + 1);
  }),
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 12 })).map(([at, n]) => (s: string) => {
    const i = at % Math.max(1, s.length);
    return s.slice(0, i + n) + s.slice(i, i + n) + s.slice(i + n);
  }),
);
const edits = fc.array(edit, { minLength: 1, maxLength: 3 }).map((list) => (s: string) => list.reduce((acc, f) => f(acc), s));

/** Lines with a name, value or count at its limit, or one past it. */
const around = (limit: number) => fc.integer({ min: limit - 2, max: limit + 1 });
const longLine = fc.oneof(
  around(256).map((n) => `${'m'.repeat(n)},agent_id=a v=1 ${NOW}`),
  around(128).map((n) => `m,agent_id=a,${'k'.repeat(n)}=v v=1 ${NOW}`),
  around(256).map((n) => `m,agent_id=a,k=${'v'.repeat(n)} v=1 ${NOW}`),
  around(128).map((n) => `m,agent_id=${'a'.repeat(n)} v=1 ${NOW}`),
  around(256).map((n) => `m,agent_id=a ${'f'.repeat(n)}=1 ${NOW}`),
  around(65_536).map((n) => `m,agent_id=a s="${'x'.repeat(n)}" ${NOW}`),
  around(256).map((n) => `m,agent_id=a,${Array.from({ length: n }, (_, i) => `t${i}=v`).join(',')} v=1 ${NOW}`),
  around(1000).map((n) => `m,agent_id=a ${Array.from({ length: n }, (_, i) => `f${i}=1`).join(',')} ${NOW}`),
  around(18).map((n) => `m,agent_id=a v=${'9'.repeat(n)}i,u=${'9'.repeat(n)}u ${NOW}`),
  around(64).map((n) => `m,agent_id=a v=${'1'.repeat(n - 2)}.5 ${NOW}`),
);
