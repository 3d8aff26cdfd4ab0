import net from 'node:net';

/** The eight 16-bit groups of a valid IPv6 address (no zone). */
function groupsOf(ipv6: string): number[] {
  // The URL parser writes IPv6 in RFC 5952 form, an embedded IPv4 part as two hex groups.
  const canonical = new URL(`http://[${ipv6}]`).hostname.slice(1, -1);
  const [head = '', tail] = canonical.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
}

function isMappedIpv4(groups: number[]): boolean {
  return groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
}

/**
 * A client address as it may be stored and shown: a valid IPv4 address, or a valid IPv6 address in
 * RFC 5952 form without its zone; an IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, how a dual-stack
 * socket reports IPv4 clients) is its IPv4 address. Anything else (free text from a header) is null.
 */
export function ipAddress(raw: unknown): string | null {
  if (typeof raw !== 'string') return null;
  const text = raw.trim();
  if (net.isIPv4(text)) return text;
  const bare = text.split('%')[0] as string;
  if (!net.isIPv6(bare)) return null;
  const groups = groupsOf(bare);
  if (isMappedIpv4(groups)) return [groups[6] as number, groups[7] as number].flatMap((g) => [g >> 8, g & 0xff]).join('.');
  return new URL(`http://[${bare}]`).hostname.slice(1, -1);
}

/** 127.0.0.0/8 or ::1 (mapped forms included). */
export function isLoopback(ip: string | null): boolean {
  const address = ipAddress(ip);
  if (!address) return false;
  if (net.isIPv4(address)) return address.startsWith('127.');
  return groupsOf(address).every((g, i) => g === (i === 7 ? 1 : 0));
}

/**
 * The allowance a client address counts against in the rate limits: all of loopback is one (the
 * same machine, whether it says 127.0.0.1 or ::1), an IPv4 address is itself, and an IPv6 address
 * is its /64, the smallest prefix a subscriber is given (RFC 6177, RIPE-690), inside which a client
 * picks new addresses at will (RFC 8981). An unknown address is one allowance of its own.
 */
export function allowanceOf(ip: string | null): string {
  const address = ipAddress(ip);
  if (!address) return 'unknown';
  if (isLoopback(address)) return 'loopback';
  if (net.isIPv4(address)) return address;
  const prefix = groupsOf(address).slice(0, 4).map((g) => g.toString(16)).join(':');
  return `${prefix}::/64`;
}

/**
 * Whether the address is of this machine or of a private network, a place no database can name:
 * loopback, RFC 1918 (10/8, 172.16/12, 192.168/16), link-local (169.254/16, fe80::/10) and IPv6
 * unique local addresses (fc00::/7).
 */
export function isLocalNetwork(ip: string | null): boolean {
  const address = ipAddress(ip);
  if (!address) return false;
  if (isLoopback(address)) return true;
  if (net.isIPv4(address)) {
    const [a = 0, b = 0] = address.split('.').map(Number);
    return a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254);
  }
  const first = groupsOf(address)[0] as number;
  return (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80;
}

/**
 * An address short enough to read in a sentence: an IPv4 address whole, an IPv6 address by its
 * network (the first four groups, a subscriber's /64) followed by "…". Null for no valid address.
 */
export function shortAddress(ip: string | null): string | null {
  const address = ipAddress(ip);
  if (!address || net.isIPv4(address)) return address;
  return `${groupsOf(address).slice(0, 4).map((g) => g.toString(16)).join(':')}:…`;
}
