import { decodeLines } from '@agentmon/contracts';
import { scanLineProtocol, type NewestLine } from '../ingest/line-protocol.fast.js';
import { pointLimits } from '../ingest/point-rules.js';
import { PendingLatest, SEP, type LatestByAgent } from './pending-latest.js';

const NOW = Date.UTC(2026, 10, 27, 12, 0, 0);
const LIMITS = pointLimits(NOW, 90 * 86_400_000, 900_000);

function scan(body: string) {
  const fast = scanLineProtocol(body, 'ms', LIMITS, 50_000);
  if (fast === null) throw new Error(`the fast path did not take ${body}`);
  return fast;
}

function plain(values: LatestByAgent): Record<string, [number, unknown]> {
  const out: Record<string, [number, unknown]> = {};
  for (const [agent, fields] of values) for (const [key, v] of fields) out[`${agent}${SEP}${key}`] = [...v];
  return out;
}

/** A line whose decoding is counted. */
function line(agent: string, shape: string, time: number, order: number, value: number, decoded: string[]): NewestLine {
  return {
    agent_id: agent,
    shape,
    time,
    order,
    point: () => {
      decoded.push(`${agent}@${time}`);
      return { agent_id: agent, measurement: 'm', fields: { v: value }, time };
    },
  };
}

describe('PendingLatest', () => {
  it('keeps the same values from undecoded batches as from every point decoded, over many batches', () => {
    const t0 = NOW - 60_000;
    // 20 batches of 500 lines from 50 agents, times going back and forth, two shapes of one measurement
    const bodies = Array.from({ length: 20 }, (_, b) =>
      Array.from({ length: 500 }, (_, k) => {
        const time = t0 + ((b * 37 + k * 11) % 400);
        return k % 3 === 0 ? `m,agent_id=a-${k % 50} v=${b * 1000 + k},w=${k} ${time}` : `m,agent_id=a-${k % 50},host=h v=${b * 1000 + k} ${time}`;
      }).join('\n'),
    );
    const lazy = new PendingLatest();
    const eager = new PendingLatest();
    for (const body of bodies) {
      lazy.observeLines(scan(body).newestLines());
      eager.observe(decodeLines(body));
    }
    const taken = plain(lazy.take());
    expect(Object.keys(taken)).toHaveLength(100);
    expect(taken).toEqual(plain(eager.take()));
  });

  it('decodes only the lines still newest when taken, and only then', () => {
    const decoded: string[] = [];
    const pending = new PendingLatest();
    pending.observeLines([line('a', 's', 10, 0, 1, decoded), line('b', 's', 10, 1, 1, decoded)]);
    pending.observeLines([line('a', 's', 20, 0, 2, decoded)]);
    // older than what a already has: ignored
    pending.observeLines([line('a', 's', 15, 0, 3, decoded), line('b', 's', 30, 0, 4, decoded)]);
    expect(decoded).toEqual([]);
    expect(plain(pending.take())).toEqual({ [`a${SEP}m${SEP}v`]: [20, 2], [`b${SEP}m${SEP}v`]: [30, 4] });
    expect(decoded.sort()).toEqual(['a@20', 'b@30']);
    expect(pending.empty).toBe(true);
    expect(pending.take().size).toBe(0);
  });

  it('lets the later batch win between two lines with one time, and a line win over a decoded point with its time', () => {
    const decoded: string[] = [];
    const pending = new PendingLatest();
    pending.observeLines([line('a', 's1', 10, 5, 1, decoded), line('b', 's2', 10, 9, 5, decoded)]);
    // a: the same shape and time again, earlier in its batch: the later batch wins
    // b: another shape with the same field and time, earlier in a later batch: merged in batch order
    pending.observeLines([line('a', 's1', 10, 0, 2, decoded), line('b', 's1', 10, 0, 6, decoded)]);
    pending.observe([{ agent_id: 'a', measurement: 'm', fields: { v: 9, u: 1 }, time: 10 }]);
    expect(plain(pending.take())).toEqual({ [`a${SEP}m${SEP}v`]: [10, 2], [`a${SEP}m${SEP}u`]: [10, 1], [`b${SEP}m${SEP}v`]: [10, 6] });
  });
});
