import { decodeLines, encodePoint } from '@agentmon/contracts';
import { parseLineProtocol, parsePrecision } from './line-protocol.parser.js';
import { pointLimits } from './point-rules.js';

const NOW = Date.UTC(2026, 10, 27, 12, 0, 0);
const DAY = 86_400_000;
const limits = pointLimits(NOW, 90 * DAY, 900_000);
const NS = BigInt(NOW) * 1_000_000n;

function parsed(body: string, precision: Parameters<typeof parseLineProtocol>[1] = 'ns', max = 50_000) {
  const out = parseLineProtocol(body, precision, limits, max);
  if (!out.ok) throw new Error(`refused: ${JSON.stringify(out.details.list)}`);
  return out.batch;
}
function refused(body: string, precision: Parameters<typeof parseLineProtocol>[1] = 'ns', max = 50_000) {
  const out = parseLineProtocol(body, precision, limits, max);
  if (out.ok) throw new Error('expected a refusal');
  return out.details;
}

describe('line protocol parsing', () => {
  it('reads measurement, tags, typed fields and a nanosecond timestamp', () => {
    const b = parsed(`cpu,agent_id=a1,host=h1 usage=45.2,count=3i,big=7u,ok=true,off=F,note="x" ${NS}`);
    expect(b.source).toBe('line');
    expect(b.agents).toEqual([{ id: 'a1' }]);
    expect(b.points).toEqual([{ agent_id: 'a1', measurement: 'cpu', tags: { host: 'h1' }, fields: { usage: 45.2, count: 3, big: 7, ok: true, off: false, note: 'x' }, time: NOW }]);
    expect(decodeLines(b.encoded[0]!)).toEqual([b.points[0]]);
  });

  it('unescapes names and tag values, and strings with quotes, backslashes and newlines', () => {
    const b = parsed(`my\\ m\\,x,agent_id=a,k\\ ey\\,\\==v\\ al\\,\\=ue,p=C:\\Users f\\ ie\\,\\=ld=1,s="say \\"hi\\" \\\\ bye\nsecond line" ${NS}`);
    expect(b.points[0]).toEqual({
      agent_id: 'a',
      measurement: 'my m,x',
      tags: { 'k ey,=': 'v al,=ue', p: 'C:\\Users' },
      fields: { 'f ie,=ld': 1, s: 'say "hi" \\ bye\nsecond line' },
      time: NOW,
    });
  });

  it('skips comments, blank lines and CRLF line ends, and defaults the time to the receipt', () => {
    const b = parsed(`# a comment\n\n  \r\nm,agent_id=a v=1\r\n\nm,agent_id=b v=2 ${NS}\n`);
    expect(b.points.map((p) => [p.agent_id, p.time])).toEqual([
      ['a', NOW],
      ['b', NOW],
    ]);
    expect(b.agents).toEqual([{ id: 'a' }, { id: 'b' }]);
  });

  it.each([
    ['ns', NS.toString()],
    ['us', String(NOW * 1000)],
    ['ms', String(NOW)],
    ['s', String(NOW / 1000)],
    ['m', String(NOW / 60_000)],
    ['h', String(NOW / 3_600_000)],
  ] as const)('converts %s timestamps to milliseconds', (precision, ts) => {
    expect(parsed(`m,agent_id=a v=1 ${ts}`, precision).points[0]!.time).toBe(NOW);
  });

  it('knows the precisions of both write APIs', () => {
    expect(parsePrecision(undefined, 'v2')).toBe('ns');
    expect(parsePrecision('ms', 'v2')).toBe('ms');
    expect(parsePrecision('h', 'v2')).toBeNull();
    expect(parsePrecision('n', 'v1')).toBe('ns');
    expect(parsePrecision('u', 'v1')).toBe('us');
    expect(parsePrecision('h', 'v1')).toBe('h');
    expect(parsePrecision('d', 'v1')).toBeNull();
  });

  it('names every bad line and stores none of them', () => {
    const body = [
      `good,agent_id=a v=1 ${NS}`, // 0
      `nofields,agent_id=a`, // 1
      `m,agent_id=a v= ${NS}`, // 2
      `m,agent_id=a v=abc ${NS}`, // 3
      `m,agent_id=a v=1i2 ${NS}`, // 4
      `m,host=h v=1 ${NS}`, // 5
      `m,agent_id=bad\\ id v=1 ${NS}`, // 6
      `m,agent_id=a v=1 ${NS + 11n * 60n * 1_000_000_000n}`, // 7
      `m,agent_id=a v=1 ${NS - 91n * 86_400n * 1_000_000_000n}`, // 8
      `m,agent_id=a v=1 12x`, // 9
      `m,agent_id=a v=1 ${NS} trailing`, // 10
      `m,agent_id=a time=1 ${NS}`, // 11
      `m,agent_id=a v="now a string" ${NS}`, // 12: m.v was a number on lines 5 and 6
      `good,agent_id=a v="conflict" ${NS}`, // 13
      `m,agent_id=a,=x v=1`, // 14
      `m,agent_id=a v="unterminated`, // 15: a quote runs to the end of the body, as in InfluxDB
    ].join('\n');
    const d = refused(body);
    const paths = d.list.map((x) => x.path);
    expect(paths.sort()).toEqual(
      [
        'lines[1]',
        'lines[2].fields.v',
        'lines[3].fields.v',
        'lines[4].fields.v',
        'lines[5].tags.agent_id',
        'lines[6].tags.agent_id',
        'lines[7].time',
        'lines[8].time',
        'lines[9].time',
        'lines[10]',
        'lines[11].fields.time',
        'lines[12].fields.v',
        'lines[13].fields.v',
        'lines[14].tags',
        'lines[15].fields.v',
      ].sort(),
    );
    expect(d.list.find((x) => x.path === 'lines[13].fields.v')!.reason).toBe('is a string but an earlier line has a number for good.v');
    expect(d.list.find((x) => x.path === 'lines[5].tags.agent_id')!.reason).toBe('is required on every line');
    expect(d.message('line')).toMatch(/^15 invalid lines; nothing was stored/);
  });

  it('refuses more points than allowed', () => {
    const d = refused('m,agent_id=a v=1\nm,agent_id=a v=2\nm,agent_id=a v=3', 'ns', 2);
    expect(d.list).toEqual([{ path: 'lines', reason: 'must hold at most 2 points' }]);
  });

  it('reads back what the encoder writes', () => {
    const point = { agent_id: 'a-1', measurement: 'weird m,x=y', tags: { 'a b': 'c,d=e', dir: 'C:\\x' }, fields: { 's p': 'q"u\\o\nte', n: -1.5e-7, b: true }, time: NOW };
    const b = parsed(encodePoint(point), 'ms');
    expect(b.points[0]).toEqual(point);
  });
});
