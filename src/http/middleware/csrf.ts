import type { Request, RequestHandler } from 'express';
import { csrfSync } from 'csrf-sync';

/**
 * Synchroniser-token CSRF protection: the token lives in the session, forms send it as `_csrf`,
 * htmx as the X-CSRF-Token header. Every POST/DELETE without it is refused with 403.
 */
const { csrfSynchronisedProtection, generateToken } = csrfSync({
  getTokenFromRequest: (req: Request) => {
    const header = req.get('X-CSRF-Token');
    if (header) return header;
    const body: unknown = req.body;
    return body && typeof body === 'object' && '_csrf' in body ? String((body as { _csrf: unknown })._csrf) : undefined;
  },
});

export const csrfProtection: RequestHandler = csrfSynchronisedProtection;

/** Makes the token available to every form of the page. */
export const csrfToken: RequestHandler = (req, res, next) => {
  res.locals.csrfToken = generateToken(req);
  next();
};
