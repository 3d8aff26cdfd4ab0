import type { Request, RequestHandler } from 'express';
import type { Accounts } from '../../domain/accounts';
import { rotateSession } from './session';

/**
 * Finds who the session belongs to. A session whose account was suspended, deactivated or whose
 * password changed since sign-in is ended here, at its next request. `accountOf`: the account as the
 * session's own statement read it (Accounts.sessionAccount, SessionMiddleware.accountOf), if it did.
 */
export function identify(accounts: Accounts, accountOf: (req: Request) => Record<string, unknown> | undefined): RequestHandler {
  return async (req, _res, next) => {
    const identity = req.session?.identity;
    if (!identity) return next();
    const signedIn = await accounts.resolve(identity, accountOf(req));
    if (signedIn) {
      req.signedIn = signedIn;
      return next();
    }
    await rotateSession(req);
    next();
  };
}

/** Signed-in people only; others are sent to /login (htmx follows HX-Redirect). */
export const requireSignIn: RequestHandler = (req, res, next) => {
  if (req.signedIn) return next();
  if (req.get('HX-Request') === 'true') {
    res.set('HX-Redirect', '/login').status(401).end();
    return;
  }
  res.redirect(303, '/login');
};
