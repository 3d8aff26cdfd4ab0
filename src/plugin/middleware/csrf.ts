import crypto from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
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

/** What a form or htmx sent as its token: the `X-CSRF-Token` header, else the `_csrf` field. */
function submittedToken(req: Request): string | undefined {
  const header = req.get('X-CSRF-Token');
  if (header) return header;
  const body: unknown = req.body;
  return body && typeof body === 'object' && '_csrf' in body ? String((body as { _csrf: unknown })._csrf) : undefined;
}

export interface CsrfOptions {
  /** The cookie's name (`__Host-` added over https), distinct from any of a host's. Default `csrf`. */
  cookie?: string;
  /**
   * What a token is bound to besides its cookie (a signed-in session's id, which changes at every
   * sign-in; the owner a host named): a token bound to one value is refused under another, so a
   * cookie planted by a sibling site carries nothing usable. Default: nothing.
   */
  bindTo?(req: Request): string;
}

/**
 * CSRF protection by the signed double-submit cookie (OWASP CSRF Prevention Cheat Sheet): the token
 * is an HMAC under the app secret, sent in a cookie and again as `_csrf` (forms) or `X-CSRF-Token`
 * (htmx). It needs no server state, so showing a form to a visitor stores nothing.
 */
export function csrf(appSecret: string, secure: boolean, { cookie = 'csrf', bindTo = () => '' }: CsrfOptions = {}): CsrfMiddleware {
  const secret = crypto.createHmac('sha256', appSecret).update('csrf token').digest('base64url');
  const cookieName = secure ? `__Host-${cookie}` : cookie;
  const { doubleCsrfProtection, generateCsrfToken } = doubleCsrf({
    getSecret: () => secret,
    getSessionIdentifier: bindTo,
    cookieName,
    cookieOptions: { sameSite: 'lax', secure, httpOnly: true, path: '/' },
    getCsrfTokenFromRequest: submittedToken,
  });
  // The tokens found valid, each with what it is bound to. A valid cookie is never set again (the
  // browser holds it, with no expiry to move forward), whether checked now or before: the answer
  // does not depend on what this process has seen. Bounded: forgetting them costs one check each.
  const valid = new Set<string>();
  return {
    protection: [refuseCrossSite, doubleCsrfProtection],
    token: (req, res, next) => {
      const held: unknown = req.cookies?.[cookieName];
      const known = typeof held === 'string' ? `${bindTo(req)}\n${held}` : undefined;
      let token: string;
      if (known !== undefined && (valid.has(known) || generateCsrfToken(req, CHECK_ONLY) === held)) {
        if (valid.size >= 10_000) valid.clear();
        valid.add(known);
        token = held as string;
      } else {
        token = generateCsrfToken(req, res);
      }
      res.locals.csrfToken = token;
      next();
    },
  };
}

/** A response for generateCsrfToken to check the held cookie with (it gives it back when valid): sets nothing. */
const CHECK_ONLY = { cookie: () => CHECK_ONLY } as unknown as Response;

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * A host's own CSRF token, checked here too: a POST or DELETE whose token is not the one the host
 * gives for this request (`token(req, res)`, never empty) is refused with 403, whatever the host's
 * own protection does or forgets.
 */
export function hostCsrf(token: (req: Request, res: Response) => string): CsrfMiddleware {
  const check: RequestHandler = (req, res, next) => {
    if (!UNSAFE.has(req.method)) return next();
    const expected = Buffer.from(token(req, res) ?? '');
    const given = Buffer.from(submittedToken(req) ?? '');
    const valid = expected.length > 0 && given.length === expected.length && crypto.timingSafeEqual(given, expected);
    next(valid ? undefined : Object.assign(new Error('invalid csrf token'), { status: 403, code: 'EBADCSRFTOKEN' }));
  };
  return {
    protection: [refuseCrossSite, check],
    token: (req, res, next) => {
      res.locals.csrfToken = token(req, res);
      next();
    },
  };
}
