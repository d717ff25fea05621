import { isIPv4, isIPv6 } from 'node:net';

/**
 * The part of a client address a per-address budget is kept for: an IPv4 address as it is (also
 * when written IPv4-mapped, `::ffff:10.0.0.1`), and for IPv6 its /64 prefix, because one client
 * (one home or one VM) usually holds a whole /64 and could otherwise pick a fresh address per
 * request. Anything else (no address, a unix socket) is `unknown`, which then shares one budget.
 */
export function clientAddressKey(ip: string | undefined): string {
  if (!ip) return 'unknown';
  const bare = ip.trim().replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (isIPv4(bare)) return bare;
  if (!isIPv6(bare)) return 'unknown';
  const groups = expandIPv6(bare);
  if (groups.slice(0, 5).every((g) => g === '0') && groups[5] === 'ffff') {
    const [hi, lo] = [parseInt(groups[6]!, 16), parseInt(groups[7]!, 16)];
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return `${groups.slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, lower-case without leading zeros. */
function expandIPv6(ip: string): string[] {
  let text = ip.toLowerCase();
  // an embedded IPv4 tail (::1.2.3.4, 64:ff9b::1.2.3.4) becomes two groups
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1]!.split('.').map(Number) as [number, number, number, number];
    text = text.slice(0, -v4[1]!.length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? (text.split('::') as [string, string]) : [text, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((g) => parseInt(g, 16).toString(16));
}
