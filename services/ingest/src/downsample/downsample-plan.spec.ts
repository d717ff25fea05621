import { agentsStatement, chunked, downsampleLevels, downsampleStatement, nextRunAt, runRange } from './downsample-plan.js';

const M = 60_000;
const H = 60 * M;
const [oneMinute, oneHour] = downsampleLevels({ DOWNSAMPLE_1M_EVERY_MS: 5 * M, DOWNSAMPLE_1H_EVERY_MS: 30 * M });
const T = Date.UTC(2026, 10, 27, 10, 5, 0, 200); // 10:05:00.200

describe('downsampling plan', () => {
  it('levels: the 1-minute one every 5 minutes reaching 5 minutes back, the 1-hour one every 30 minutes reaching an hour back', () => {
    expect(oneMinute).toEqual({ rp: 'agg_1m', bucketMs: M, everyMs: 5 * M, lateMs: 5 * M });
    expect(oneHour).toEqual({ rp: 'agg_1h', bucketMs: H, everyMs: 30 * M, lateMs: H });
  });

  it('runs start at whole multiples of the period', () => {
    expect(nextRunAt(oneMinute!, T)).toBe(Date.UTC(2026, 10, 27, 10, 10));
    expect(nextRunAt(oneHour!, T)).toBe(Date.UTC(2026, 10, 27, 10, 30));
    expect(nextRunAt(oneMinute!, Date.UTC(2026, 10, 27, 10, 10))).toBe(Date.UTC(2026, 10, 27, 10, 15));
  });

  it('a run on schedule covers from one period before the previous run began to the end of the current bucket', () => {
    const previous = Date.UTC(2026, 10, 27, 10, 0, 0, 150);
    expect(runRange(oneMinute!, T, previous, 24 * H)).toEqual({ from: Date.UTC(2026, 10, 27, 9, 55), to: Date.UTC(2026, 10, 27, 10, 6) });
    // the hour: the previous hour again and the current one, partly
    expect(runRange(oneHour!, Date.UTC(2026, 10, 27, 10, 30, 0, 10), Date.UTC(2026, 10, 27, 10, 0, 0, 10), 24 * H)).toEqual({
      from: Date.UTC(2026, 10, 27, 9),
      to: Date.UTC(2026, 10, 27, 11),
    });
  });

  it('at a bucket boundary the bucket that just began is included', () => {
    const at = Date.UTC(2026, 10, 27, 10, 10);
    expect(runRange(oneMinute!, at, at - 5 * M, 24 * H).to).toBe(at + M);
  });

  it('after an outage a run reaches back to the last run, at most the catch-up limit; without a record, an hour', () => {
    expect(runRange(oneMinute!, T, T - 3 * H, 24 * H).from).toBe(Date.UTC(2026, 10, 27, 7, 0));
    expect(runRange(oneMinute!, T, T - 3 * 24 * H, 24 * H).from).toBe(Date.UTC(2026, 10, 26, 10, 5));
    expect(runRange(oneMinute!, T, undefined, 24 * H).from).toBe(Date.UTC(2026, 10, 27, 9, 0));
    // a record from the future (clock change) does not shorten the run below one period and the late margin
    expect(runRange(oneMinute!, T, T + H, 24 * H).from).toBe(Date.UTC(2026, 10, 27, 9, 55));
  });

  it('agents in groups, in order', () => {
    expect(chunked(['a', 'b', 'c', 'd', 'e'], 2)).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(chunked([], 100)).toEqual([]);
  });

  it('statements quote every name and value', () => {
    expect(downsampleStatement('agentmon', oneMinute!, ['a-1', "it's"], 60_000, 180_000)).toBe(
      `SELECT mean(*), min(*), max(*), count(*), sum(*) INTO "agentmon"."agg_1m".:MEASUREMENT FROM "agentmon"."raw"./.*/ ` +
        `WHERE ("agent_id" = 'a-1' OR "agent_id" = 'it\\'s') AND time >= 60000ms AND time < 180000ms GROUP BY time(1m), *`,
    );
    expect(downsampleStatement('agentmon', oneHour!, ['a'], 0, H)).toContain('INTO "agentmon"."agg_1h".:MEASUREMENT');
    expect(downsampleStatement('agentmon', oneHour!, ['a'], 0, H)).toContain('GROUP BY time(60m), *');
    expect(agentsStatement('agentmon', 0, H)).toBe(`SHOW TAG VALUES ON "agentmon" FROM "raw"./.*/ WITH KEY = "agent_id" WHERE time >= 0ms AND time < 3600000ms`);
  });
});
