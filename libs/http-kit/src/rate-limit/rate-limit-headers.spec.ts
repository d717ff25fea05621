import { clientAddressKey } from './client-address.js';
import { rateLimitHeaders } from './rate-limit-headers.js';
import { rateLimitBudget } from './rate-limiter.js';

describe('rateLimitHeaders (draft-ietf-httpapi-ratelimit-headers)', () => {
  const user = rateLimitBudget('api-user', 1200, 60);
  const ip = rateLimitBudget('api-ip', 2400, 60);

  it('lists every budget the request was charged against, as structured-field items', () => {
    const headers = rateLimitHeaders({
      allowed: true,
      retryAfterSeconds: 0,
      checkedBy: 'redis',
      outcomes: [
        { budget: user, allowed: true, remaining: 1199, retryAfterMs: 0, nextUnitMs: 50, fullMs: 50 },
        { budget: ip, allowed: true, remaining: 2399, retryAfterMs: 0, nextUnitMs: 25, fullMs: 25 },
      ],
    });
    expect(headers).toEqual({
      'RateLimit-Policy': '"api-user";q=1200;w=60, "api-ip";q=2400;w=60',
      RateLimit: '"api-user";r=1199;t=1, "api-ip";r=2399;t=1',
    });
  });

  it('on a refusal the refusing budget shows r=0 and t equal to the wait', () => {
    const headers = rateLimitHeaders({
      allowed: false,
      retryAfterSeconds: 3,
      checkedBy: 'redis',
      outcomes: [{ budget: user, allowed: false, remaining: 0, retryAfterMs: 2001, nextUnitMs: 2001, fullMs: 60_000 }],
    });
    expect(headers?.RateLimit).toBe('"api-user";r=0;t=3');
  });

  it('gives no headers for a request that went unchecked', () => {
    expect(rateLimitHeaders({ allowed: true, retryAfterSeconds: 0, checkedBy: 'unchecked', outcomes: [] })).toBeUndefined();
  });
});

describe('clientAddressKey', () => {
  it('keeps IPv4 addresses, also IPv4-mapped ones', () => {
    expect(clientAddressKey('203.0.113.9')).toBe('203.0.113.9');
    expect(clientAddressKey('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(clientAddressKey('::ffff:7f00:1')).toBe('127.0.0.1');
  });

  it('keeps one budget per IPv6 /64', () => {
    expect(clientAddressKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(clientAddressKey('2001:0DB8:0001:0002:ffff::1')).toBe('2001:db8:1:2::/64');
    expect(clientAddressKey('[2001:db8::1]')).toBe('2001:db8:0:0::/64');
    expect(clientAddressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(clientAddressKey('::1')).toBe('0:0:0:0::/64');
  });

  it('puts what is not an address into one shared budget', () => {
    expect(clientAddressKey(undefined)).toBe('unknown');
    expect(clientAddressKey('')).toBe('unknown');
    expect(clientAddressKey('not-an-ip:1:2')).toBe('unknown');
  });
});
