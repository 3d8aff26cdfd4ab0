import type { Request } from 'express';
import { ipAddress } from '../lib/ip';

/**
 * Each request's client address, found once: Express works `req.ip` out again at each read (the
 * X-Forwarded-For chain against TRUST_PROXY), and an owner's action asks for it several times (its
 * actor, each audit row).
 */
const found = new WeakMap<Request, string | null>();
/**
 * The client's address, the only way the app reads one: Express's `req.ip`, which follows
 * X-Forwarded-For only through the proxies TRUST_PROXY names, when it is a valid IP address; else
 * the socket's peer (a trusted proxy that forwarded junk). Never free text: what this returns is
 * what the access history, the sessions and the activity log store. Null only without a socket.
 */
export function clientIp(req: Request): string | null {
  let ip = found.get(req);
  if (ip === undefined) {
    ip = ipAddress(req.ip) ?? ipAddress(req.socket?.remoteAddress);
    found.set(req, ip);
  }
  return ip;
}

/** Where a request comes from, for the activity log: its address (clientIp) and its User-Agent header (the first 300 characters), each null when absent. */
export function requestOrigin(req: Request): { ip: string | null; userAgent: string | null } {
  return { ip: clientIp(req), userAgent: req.get('User-Agent')?.slice(0, 300) ?? null };
}
