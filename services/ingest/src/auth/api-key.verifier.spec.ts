import { jest } from '@jest/globals';
import { AppError, type Principal } from '@agentmon/contracts';
import { REFRESH_AFTER_SHARE } from '@agentmon/http-kit';
import type { RpcClient } from '@agentmon/messaging';
import { questionsOf, settled } from '../../test/support/pending.js';
import type { IngestConfig } from '../config.js';
import { ApiKeyVerifier } from './api-key.verifier.js';

// The cache's timing (unit: auth is a stand-in whose answers the test releases one by one; the
// verifier against the real auth service over NATS is in test/agent-keys.int-spec.ts).
const TTL = 10_000;
const KEY = 'amk_0123456789abcdefghij';
const principal = (id = 'key-1') => ({ id, user_id: 'user-1', permissions: ['ingest:write'] }) as unknown as Principal;

function setup() {
  const { questions, ask } = questionsOf<Principal>();
  const rpc = { request: ask } as unknown as RpcClient;
  const verifier = new ApiKeyVerifier(rpc, { API_KEY_CACHE_MS: TTL, API_KEY_CACHE_SIZE: 100 } as IngestConfig);
  let now = 1_000_000;
  jest.spyOn(Date, 'now').mockImplementation(() => now);
  return { verifier, questions, at: (ms: number) => (now = 1_000_000 + ms) };
}

/** A key verified once and used again at three quarters of its cache time: its refresh is question 2. */
async function refreshing() {
  const s = setup();
  const first = s.verifier.verify(KEY);
  s.questions[0]!.answer(principal());
  await first;
  s.at(TTL * REFRESH_AFTER_SHARE);
  await s.verifier.verify(KEY);
  return s;
}

afterEach(() => jest.restoreAllMocks());

describe('ApiKeyVerifier cache', () => {
  it('asks auth once for a key, then answers from the cache', async () => {
    const { verifier, questions, at } = setup();
    const first = verifier.verify(KEY);
    const second = verifier.verify(KEY);
    expect(questions).toHaveLength(1);
    questions[0]!.answer(principal());
    await expect(first).resolves.toMatchObject({ id: 'key-1' });
    await expect(second).resolves.toMatchObject({ id: 'key-1' });
    at(TTL * REFRESH_AFTER_SHARE - 1);
    await verifier.verify(KEY);
    expect(questions).toHaveLength(1);
  });

  it('refreshes a key in use in the background: no request waits for auth, the entry lives on', async () => {
    // served from the cache at once, while one question goes to auth
    const { verifier, questions, at } = await refreshing();
    expect(await settled(verifier.verify(KEY))).toBe(true);
    expect(questions).toHaveLength(2);
    at(TTL * REFRESH_AFTER_SHARE + 100);
    questions[1]!.answer(principal());
    await settled(Promise.resolve());
    // past the first answer's cache time: the refreshed answer serves, nobody waits
    at(TTL + 1000);
    expect(await settled(verifier.verify(KEY))).toBe(true);
    expect(questions).toHaveLength(2);
  });

  it('never serves an answer past its cache time: a refresh still out then makes requests wait', async () => {
    const { verifier, questions, at } = await refreshing();
    expect(questions).toHaveLength(2);
    at(TTL);
    const waiting = verifier.verify(KEY);
    expect(await settled(waiting)).toBe(false);
    // it shares the refresh under way rather than asking again
    expect(questions).toHaveLength(2);
    questions[1]!.answer(principal());
    await expect(waiting).resolves.toMatchObject({ id: 'key-1' });
  });

  it('after a failed refresh, asks no more until the entry runs out; then the request gets the 503', async () => {
    const { verifier, questions, at } = await refreshing();
    questions[1]!.fail(new Error('no responders'));
    await settled(Promise.resolve());
    for (let i = 0; i < 10; i++) await expect(verifier.verify(KEY)).resolves.toMatchObject({ id: 'key-1' });
    expect(questions).toHaveLength(2);
    at(TTL);
    const after = verifier.verify(KEY);
    expect(questions).toHaveLength(3);
    questions[2]!.fail(new Error('no responders'));
    await expect(after).rejects.toMatchObject({ statusCode: 503 });
  });

  it('a refresh that finds the key revoked refuses it from then on', async () => {
    const { verifier, questions } = await refreshing();
    questions[1]!.fail(new AppError('unauthorized', 'API key is not valid'));
    await settled(Promise.resolve());
    await expect(verifier.verify(KEY)).rejects.toMatchObject({ statusCode: 401 });
    expect(questions).toHaveLength(2);
  });

  it('does not keep the answer of a refresh that was on its way when the key was revoked', async () => {
    const { verifier, questions } = await refreshing();
    verifier.revokeKey('key-1');
    questions[1]!.answer(principal());
    await settled(Promise.resolve());
    // forgotten: the next request asks again
    const next = verifier.verify(KEY);
    expect(questions).toHaveLength(3);
    questions[2]!.fail(new AppError('unauthorized', 'API key is not valid'));
    await expect(next).rejects.toMatchObject({ statusCode: 401 });
  });

  it('lets a refusal expire instead of refreshing it', async () => {
    const { verifier, questions, at } = setup();
    const first = verifier.verify(KEY);
    questions[0]!.fail(new AppError('unauthorized', 'API key is not valid'));
    await expect(first).rejects.toMatchObject({ statusCode: 401 });
    at(TTL * REFRESH_AFTER_SHARE + 1);
    await expect(verifier.verify(KEY)).rejects.toMatchObject({ statusCode: 401 });
    expect(questions).toHaveLength(1);
    at(TTL);
    void verifier.verify(KEY).catch(() => undefined);
    expect(questions).toHaveLength(2);
  });
});
