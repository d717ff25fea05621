import { IngestConfigSchema } from '../config.js';
import { ingestBudgets, ingestCharges } from './ingest-budgets.js';

describe('ingest rate-limit budgets', () => {
  const budgets = ingestBudgets(IngestConfigSchema.parse({}));

  it('has documented defaults', () => {
    expect(budgets).toEqual({ key: { name: 'ingest-key', limit: 6000, windowSeconds: 60 }, ip: { name: 'ingest-ip', limit: 12000, windowSeconds: 60 } });
  });

  it('charges the presented key (as a hash that is not the key) and the client address', () => {
    const charges = ingestCharges(budgets, 'amk_secretKeyValue0001', '::ffff:10.1.2.3');
    expect(charges.map((c) => c.budget.name)).toEqual(['ingest-key', 'ingest-ip']);
    expect(charges[0]!.key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(charges[0]!.key).not.toContain('secretKeyValue');
    expect(ingestCharges(budgets, 'amk_secretKeyValue0001', '10.9.9.9')[0]!.key).toBe(charges[0]!.key);
    expect(ingestCharges(budgets, 'amk_secretKeyValue0002', '10.9.9.9')[0]!.key).not.toBe(charges[0]!.key);
    expect(charges[1]!.key).toBe('10.1.2.3');
  });

  it('charges only the address without a key, and nothing a budget of 0 switched off', () => {
    expect(ingestCharges(budgets, undefined, '10.1.2.3').map((c) => c.budget.name)).toEqual(['ingest-ip']);
    const off = ingestBudgets(IngestConfigSchema.parse({ INGEST_MAX_PER_KEY: '0', INGEST_MAX_PER_IP: '0' }));
    expect(ingestCharges(off, 'amk_secretKeyValue0001', '10.1.2.3')).toEqual([]);
  });
});
