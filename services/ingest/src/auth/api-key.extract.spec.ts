import { extractApiKey } from './api-key.extract.js';

const KEY = 'amk_0123456789abcdefABCDEF_-xyz';
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

describe('API key extraction', () => {
  it.each([
    ['Bearer', { authorization: `Bearer ${KEY}` }],
    ['X-API-Key', { 'x-api-key': KEY }],
    ['Token (InfluxDB 2.x clients)', { authorization: `Token ${KEY}` }],
    ['a lower-case scheme', { authorization: `bearer ${KEY}` }],
  ])('takes %s', (_name, headers) => expect(extractApiKey({ headers })).toBe(KEY));

  it('takes Basic auth and ?u=&p= only on the 1.x write endpoint', () => {
    expect(extractApiKey({ headers: { authorization: basic('telegraf', KEY) }, influxV1: true })).toBe(KEY);
    expect(extractApiKey({ headers: { authorization: basic('telegraf', KEY) } })).toBeUndefined();
    expect(extractApiKey({ headers: {}, query: { u: 'x', p: KEY }, influxV1: true })).toBe(KEY);
    expect(extractApiKey({ headers: {}, query: { u: 'x', p: KEY } })).toBeUndefined();
  });

  it('ignores what is not an amk_ key (JWTs, garbage) and falls back to the next source', () => {
    expect(extractApiKey({ headers: { authorization: 'Bearer eyJhbGciOi.x.y' } })).toBeUndefined();
    expect(extractApiKey({ headers: { authorization: 'Bearer eyJhbGciOi.x.y', 'x-api-key': KEY } })).toBe(KEY);
    expect(extractApiKey({ headers: { 'x-api-key': 'amk_' } })).toBeUndefined();
    expect(extractApiKey({ headers: {} })).toBeUndefined();
  });
});
