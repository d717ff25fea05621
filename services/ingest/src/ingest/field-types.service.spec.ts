import { jest } from '@jest/globals';
import type { Logger } from 'pino';
import { questionsOf, settled } from '../../test/support/pending.js';
import type { IngestConfig } from '../config.js';
import type { InfluxClient } from '../influx/influx.client.js';
import { FieldTypesService, REFRESH_AFTER_MS, TTL_MS } from './field-types.service.js';
import type { PreparedBatch } from './point-rules.js';

// When batches wait for InfluxDB's field types (unit: InfluxDB is a stand-in whose answers the test
// releases one by one; conflicts against a real InfluxDB are in test/ingest.int-spec.ts).
function setup() {
  const { questions, ask } = questionsOf<[string, string][]>();
  const influx = { fieldKeys: ask } as unknown as InfluxClient;
  const logger = { debug: () => undefined } as unknown as Logger;
  const types = new FieldTypesService(influx, { INFLUX_DATABASE: 'db' } as IngestConfig, logger);
  let now = 1_000_000;
  jest.spyOn(Date, 'now').mockImplementation(() => now);
  return { types, questions, at: (ms: number) => (now = 1_000_000 + ms) };
}

const batch = (value: number | string): PreparedBatch =>
  ({ source: 'json', receivedAt: 0, agents: [], encoded: [], points: [{ measurement: 'agent_metrics', agent_id: 'a', tags: {}, fields: { cpu_usage: value }, time: 0 }] }) as unknown as PreparedBatch;

const check = (types: FieldTypesService, value: number | string) => types.conflicts(batch(value), (i) => `points[${i}]`, 'point');

afterEach(() => jest.restoreAllMocks());

describe('FieldTypesService', () => {
  it('asks InfluxDB once for a measurement however many batches wait for it', async () => {
    const { types, questions } = setup();
    const waiting = [check(types, 1), check(types, 2), check(types, 'x')];
    expect(questions).toHaveLength(1);
    questions[0]!.answer([['cpu_usage', 'float']]);
    const [a, b, c] = await Promise.all(waiting);
    expect(a).toBeNull();
    expect(b).toBeNull();
    expect(c?.details.list[0]).toMatchObject({ path: 'points[0].fields.cpu_usage' });
  });

  it('refreshes a measurement in use in the background: batches are checked at once meanwhile', async () => {
    const { types, questions, at } = setup();
    const first = check(types, 1);
    questions[0]!.answer([['cpu_usage', 'float']]);
    await first;
    at(REFRESH_AFTER_MS - 1);
    expect(await settled(check(types, 1))).toBe(true);
    expect(questions).toHaveLength(1);
    at(REFRESH_AFTER_MS);
    const during = check(types, 'x');
    expect(await settled(during)).toBe(true);
    expect(await during).not.toBeNull();
    expect(await settled(check(types, 1))).toBe(true);
    expect(questions).toHaveLength(2);
    // InfluxDB now holds strings too (another replica wrote them): the refreshed types take them
    questions[1]!.answer([
      ['cpu_usage', 'float'],
      ['cpu_usage', 'string'],
    ]);
    await settled(Promise.resolve());
    expect(await check(types, 'x')).toBeNull();
    // the refreshed entry lives past the first one's expiry without a batch waiting
    at(TTL_MS + 1000);
    expect(await settled(check(types, 1))).toBe(true);
    expect(questions).toHaveLength(2);
  });

  it('keeps the cached types when a background question fails, and asks no more until they expire', async () => {
    const { types, questions, at } = setup();
    const first = check(types, 1);
    questions[0]!.answer([['cpu_usage', 'float']]);
    await first;
    at(REFRESH_AFTER_MS);
    await check(types, 1);
    questions[1]!.fail(new Error('timeout'));
    await settled(Promise.resolve());
    expect(await check(types, 'x')).not.toBeNull();
    expect(questions).toHaveLength(2);
    // expired: the next batch waits for a new answer
    at(TTL_MS);
    const waiting = check(types, 1);
    expect(await settled(waiting)).toBe(false);
    expect(questions).toHaveLength(3);
    questions[2]!.answer([['cpu_usage', 'float']]);
    expect(await waiting).toBeNull();
  });

  it('waits for InfluxDB when a batch brings a field this replica has not seen', async () => {
    const { types, questions } = setup();
    const first = check(types, 1);
    questions[0]!.answer([['memory_usage', 'float']]);
    await first;
    const waiting = check(types, 1);
    expect(await settled(waiting)).toBe(false);
    expect(questions).toHaveLength(2);
    questions[1]!.answer([['cpu_usage', 'string']]);
    expect(await waiting).not.toBeNull();
  });

  it('takes batches unchecked for 10 s when InfluxDB cannot answer, without asking again meanwhile', async () => {
    const { types, questions, at } = setup();
    const first = check(types, 1);
    questions[0]!.fail(new Error('timeout'));
    expect(await first).toBeNull();
    at(9_999);
    // unknown types: nothing to disagree with, and no question per batch while InfluxDB is away
    expect(await settled(check(types, 'x'))).toBe(true);
    expect(await check(types, 'x')).toBeNull();
    expect(questions).toHaveLength(1);
    at(10_000);
    const waiting = check(types, 'x');
    expect(await settled(waiting)).toBe(false);
    questions[1]!.answer([['cpu_usage', 'float']]);
    expect(await waiting).not.toBeNull();
  });
});
