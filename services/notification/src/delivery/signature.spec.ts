import { createHmac } from 'node:crypto';
import { signBody, verifySignature } from './signature.js';

describe('webhook signature', () => {
  it('is sha256=<hex HMAC-SHA256> of the raw body', () => {
    // RFC 4231 test case 2
    expect(signBody('what do ya want for nothing?', 'Jefe')).toBe(
      'sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });

  it('signs the exact bytes, so any change of the body breaks it', () => {
    const body = JSON.stringify({ event: 'firing', alert: { id: 'a1', value: 95.5 } });
    const sig = signBody(body, 'shh');
    expect(sig).toBe(`sha256=${createHmac('sha256', 'shh').update(Buffer.from(body)).digest('hex')}`);
    expect(verifySignature(body, 'shh', sig)).toBe(true);
    expect(verifySignature(body.replace('95.5', '95.6'), 'shh', sig)).toBe(false);
    expect(verifySignature(body, 'other secret', sig)).toBe(false);
    expect(verifySignature(body, 'shh', undefined)).toBe(false);
    expect(verifySignature(body, 'shh', 'sha256=00')).toBe(false);
  });

  it('treats UTF-8 text and its bytes alike', () => {
    const body = '{"summary":"température élevée ✓"}';
    expect(signBody(body, 'k')).toBe(signBody(Buffer.from(body, 'utf8'), 'k'));
  });
});
