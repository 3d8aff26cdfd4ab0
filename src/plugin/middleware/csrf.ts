import crypto from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { doubleCsrf } from 'csrf-csrf';
import { refuseCrossSite } from './fetch-site';

export interface CsrfMiddleware {
  /**
   * Refuses a POST/DELETE without a valid token with 403 (`EBADCSRFTOKEN`), and one a browser says
   * another site started, whatever its token (Fetch Metadata).
   */
  protection: RequestHandler[];
  /** Gives every page its token, as `csrfToken`. */
  token: RequestHandler;
}

/**
 * CSRF protection by the signed double-submit cookie (OWASP CSRF Prevention Cheat Sheet): the token
 * is an HMAC under the app secret, sent in a cookie and again as `_csrf` (forms) or `X-CSRF-Token`
 * (htmx). It needs no server state, so showing a form to a visitor stores nothing. `bindTo` names
 * what a token is bound to besides the cookie (a signed-in session's id, which changes at every
 * sign-in); a token bound to one value is refused under another.
 */
export function csrf(appSecret: string, secure: boolean, bindTo: (req: Request) => string = () => ''): CsrfMiddleware {
  const secret = crypto.createHmac('sha256', appSecret).update('csrf token').digest('base64url');
  const { doubleCsrfProtection, generateCsrfToken } = doubleCsrf({
    getSecret: () => secret,
    getSessionIdentifier: bindTo,
    cookieName: secure ? '__Host-csrf' : 'csrf',
    cookieOptions: { sameSite: 'lax', secure, httpOnly: true, path: '/' },
    getCsrfTokenFromRequest: (req: Request) => {
      const header = req.get('X-CSRF-Token');
      if (header) return header;
      const body: unknown = req.body;
      return body && typeof body === 'object' && '_csrf' in body ? String((body as { _csrf: unknown })._csrf) : undefined;
    },
  });
  return {
    protection: [refuseCrossSite, doubleCsrfProtection],
    token: (req, res, next) => {
      res.locals.csrfToken = generateCsrfToken(req, res);
      next();
    },
  };
}
