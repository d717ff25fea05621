import { brotliCompressSync } from 'node:zlib';
import { MAX_LINES_BYTES, TelemetryLines, TelemetryLinesError, compressLines, decompressLines, encodeFieldValue, encodePoint, isValidName } from './telemetry-lines.js';

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


describe('TelemetryLines (the stream form of accepted points)', () => {
  const points = [
    { agent_id: 'agent-1', measurement: 'agent_metrics', tags: { az: 'b' }, fields: { cpu_usage: 45.2, up: true }, time: 1_764_244_800_000 },
    { agent_id: 'agent-2', measurement: 'my m,x=1', tags: { 'k ey,=': 'v al,=ue' }, fields: { 'f ie,=ld': -1.5e-7, note: 'say "hi" \\ bye\nnext line' }, time: 1_764_244_800_001 },
    { agent_id: 'agent-1', measurement: 'C:\\m', tags: { dir: 'C:\\Users', __proto__: 'x' }, fields: { v: 0, off: false }, time: 5 },
  ];

  it('decodes exactly what it encoded: names with escapes, strings with quotes, backslashes and newlines', () => {
    const lines = TelemetryLines.fromPoints(points);
    expect(lines.points()).toEqual(points);
    // from the bytes alone, as a consumer receives them
    expect(new TelemetryLines(lines.data).points()).toEqual(points);
  });

  it('keeps only the lines of the measurements and agents asked for', () => {
    const lines = TelemetryLines.fromPoints(points);
    expect(lines.points({ measurements: new Set(['agent_metrics']) })).toEqual([points[0]]);
    expect(lines.points({ agents: new Set(['agent-1']) })).toEqual([points[0], points[2]]);
    expect(lines.points({ agents: new Set(['agent-2']), measurements: new Set(['agent_metrics']) })).toEqual([]);
  });

  it('reads the spellings of booleans line protocol allows, as ingest passes them on', () => {
    const lines = TelemetryLines.fromText('m,agent_id=a b1=T,b2=False,b3=t,n=-0 12\nm,agent_id=b x=1e3 13');
    expect(lines.points()).toEqual([
      { agent_id: 'a', measurement: 'm', tags: {}, fields: { b1: true, b2: false, b3: true, n: 0 }, time: 12 },
      { agent_id: 'b', measurement: 'm', tags: {}, fields: { x: 1000 }, time: 13 },
    ]);
  });

  it.each([
    ['a line without agent_id', 'm v=1 1'],
    ['a line without timestamp', 'm,agent_id=a v=1'],
    ['a line without fields', 'm,agent_id=a 1'],
    ['an integer suffix', 'm,agent_id=a v=1i 1'],
    ['an unterminated string', 'm,agent_id=a v="open 1'],
    ['text after the timestamp', 'm,agent_id=a v=1 1 2'],
    ['a fractional timestamp', 'm,agent_id=a v=1 1.5'],
  ])('refuses text that is not in the normal form: %s', (_what, text) => {
    expect(() => TelemetryLines.fromText(text).points()).toThrow(TelemetryLinesError);
  });

  describe('compressed (evt.ingest.telemetry.lines.br.v1)', () => {
    it('gives back the same bytes and points, decompressing only when first read', () => {
      const lines = TelemetryLines.fromPoints(points);
      const packed = lines.compressed;
      const received = TelemetryLines.fromCompressed(packed);
      expect(received.compressed).toBe(packed);
      expect(Buffer.from(received.data).equals(Buffer.from(lines.data))).toBe(true);
      expect(received.points()).toEqual(points);
    });

    it('makes a batch of repetitive lines several times smaller', () => {
      const text = Array.from({ length: 5000 }, (_, i) => `agent_metrics,agent_id=agent-${i % 1000},host=node-${i % 50} cpu_usage=${(i * 7.3) % 100},memory_usage=${i % 97} ${1_764_244_800_000 + i}`).join('\n');
      const data = Buffer.from(text);
      const packed = compressLines(data);
      expect(packed.length).toBeLessThan(data.length / 4);
      expect(Buffer.from(decompressLines(packed)).toString()).toBe(text);
    });

    it('refuses bytes that are not a compressed message, and one that would decompress to more than a message holds', () => {
      expect(() => TelemetryLines.fromCompressed(Buffer.from('m,agent_id=a v=1 1')).points()).toThrow(TelemetryLinesError);
      const bomb = brotliCompressSync(Buffer.alloc(MAX_LINES_BYTES + 1, 0x61));
      expect(bomb.length).toBeLessThan(1024 * 1024);
      expect(() => decompressLines(bomb)).toThrow(/cannot be decompressed/);
    });
  });
});
