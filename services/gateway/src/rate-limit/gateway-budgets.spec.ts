import type { Principal } from '@agentmon/contracts';
import { GatewayConfigSchema } from '../config.js';
import { apiCharges, gatewayBudgets, loginCharges } from './gateway-budgets.js';

const user: Principal = { kind: 'user', id: 'sess-1', user_id: 'user-42', username: 'ana', role: 'viewer', permissions: ['read'] };
const key: Principal = { kind: 'api_key', id: 'key-7', user_id: 'user-42', username: 'ana', role: 'viewer', permissions: ['read'] };

describe('gateway rate-limit budgets', () => {
  const budgets = gatewayBudgets(GatewayConfigSchema.parse({}));

  it('has documented defaults', () => {
    expect(budgets).toEqual({
      apiUser: { name: 'api-user', limit: 1200, windowSeconds: 60 },
      apiKey: { name: 'api-key', limit: 1200, windowSeconds: 60 },
      apiIp: { name: 'api-ip', limit: 3000, windowSeconds: 60 },
      loginUser: { name: 'login-user', limit: 20, windowSeconds: 60 },
      loginIp: { name: 'login-ip', limit: 200, windowSeconds: 60 },
    });
  });

  it('charges an API request to its user or its key, and always to its address', () => {
    expect(apiCharges(budgets, user, '203.0.113.9').map((c) => [c.budget.name, c.key])).toEqual([
      ['api-user', 'user-42'],
      ['api-ip', '203.0.113.9'],
    ]);
    // a key is a budget of its own, apart from its creator's sessions
    expect(apiCharges(budgets, key, '::ffff:203.0.113.9').map((c) => [c.budget.name, c.key])).toEqual([
      ['api-key', 'key-7'],
      ['api-ip', '203.0.113.9'],
    ]);
    expect(apiCharges(budgets, undefined, '2001:db8:1:2::99').map((c) => [c.budget.name, c.key])).toEqual([['api-ip', '2001:db8:1:2::/64']]);
  });

  it('leaves out API budgets configured as 0', () => {
    const off = gatewayBudgets(GatewayConfigSchema.parse({ API_MAX_PER_IP: '0', API_MAX_PER_USER: '0' }));
    expect(apiCharges(off, user, '203.0.113.9')).toEqual([]);
    expect(apiCharges(off, key, '203.0.113.9').map((c) => c.budget.name)).toEqual(['api-key']);
  });

  it('charges a login per username (hashed; case and spaces do not escape it) and per address', () => {
    const [a, ip] = loginCharges(budgets, 'Admin', '198.51.100.4');
    const [b] = loginCharges(budgets, ' admin ', '192.0.2.1');
    expect(a!.key).toBe(b!.key);
    expect(a!.key).not.toContain('admin');
    expect(a!.key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(ip).toMatchObject({ budget: { name: 'login-ip' }, key: '198.51.100.4' });
  });

  it('refuses login budgets that would switch brute-force protection off', () => {
    expect(GatewayConfigSchema.safeParse({ LOGIN_MAX_PER_USER: '0' }).success).toBe(false);
    expect(GatewayConfigSchema.safeParse({ API_RATE_WINDOW_S: '0' }).success).toBe(false);
  });
});
