import { IngestConfigSchema } from './config.js';

describe('ingest configuration: downsampling', () => {
  it('defaults: 1-minute aggregates every 5 minutes, hourly ones every 30, 50 agents per query, pauses twice a query, 24 h of catch-up', () => {
    const c = IngestConfigSchema.parse({});
    expect([c.DOWNSAMPLE_1M_EVERY_MS, c.DOWNSAMPLE_1H_EVERY_MS, c.DOWNSAMPLE_AGENTS_PER_QUERY, c.DOWNSAMPLE_PAUSE_RATIO, c.DOWNSAMPLE_CATCH_UP_MS]).toEqual([
      300_000, 1_800_000, 50, 2, 86_400_000,
    ]);
  });

  it('refuses periods that are not whole minutes, naming the variable', () => {
    const r = IngestConfigSchema.safeParse({ DOWNSAMPLE_1M_EVERY_MS: '90000', DOWNSAMPLE_1H_EVERY_MS: '0' });
    expect(r.success).toBe(false);
    const issues = r.error!.issues.map((i) => [i.path.join('.'), i.message]);
    expect(issues).toEqual(
      expect.arrayContaining([
        ['DOWNSAMPLE_1M_EVERY_MS', 'must be a whole number of minutes in ms (60000, 300000, …)'],
        ['DOWNSAMPLE_1H_EVERY_MS', expect.stringMatching(/greater than 0|too small/i)],
      ]),
    );
  });

  it('downsamples in a worker thread unless told not to, and refuses what is not a yes or a no', () => {
    expect(IngestConfigSchema.parse({}).DOWNSAMPLE_THREAD).toBe(true);
    expect(IngestConfigSchema.parse({ DOWNSAMPLE_THREAD: 'false' }).DOWNSAMPLE_THREAD).toBe(false);
    const r = IngestConfigSchema.safeParse({ DOWNSAMPLE_THREAD: 'sometimes' });
    expect(r.error?.issues.map((i) => i.path.join('.'))).toEqual(['DOWNSAMPLE_THREAD']);
  });

  it('takes a pause ratio of 0 (no pauses) and refuses a negative one', () => {
    expect(IngestConfigSchema.parse({ DOWNSAMPLE_PAUSE_RATIO: '0' }).DOWNSAMPLE_PAUSE_RATIO).toBe(0);
    expect(IngestConfigSchema.safeParse({ DOWNSAMPLE_PAUSE_RATIO: '-1' }).success).toBe(false);
  });
});
