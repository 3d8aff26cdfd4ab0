import type { Request } from 'express';
import { ipAddress } from '../lib/ip';

/**
 * The client's address, the only way the app reads one: Express's `req.ip`, which follows
 * X-Forwarded-For only through the proxies TRUST_PROXY names, when it is a valid IP address; else
 * the socket's peer (a trusted proxy that forwarded junk). Never free text: what this returns is
 * what the access history, the sessions and the activity log store. Null only without a socket.
 */
export function clientIp(req: Request): string | null {
  return ipAddress(req.ip) ?? ipAddress(req.socket?.remoteAddress);
}

/** Where a request comes from, for the activity log: its address (clientIp) and its User-Agent header (the first 300 characters), each null when absent. */
export function requestOrigin(req: Request): { ip: string | null; userAgent: string | null } {
  return { ip: clientIp(req), userAgent: req.get('User-Agent')?.slice(0, 300) ?? null };
}
