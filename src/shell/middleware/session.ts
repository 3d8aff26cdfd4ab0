import session from 'express-session';
import type { CookieOptions, Request, RequestHandler, Response } from 'express';
import type { Config } from '../../config';
import type { Database } from '../../db';
import type { Accounts } from '../../domain/accounts';
import { DatabaseSessionStore } from '../session-store';

/** Idle sessions end after this long. */
const SESSION_TTL_MS = 8 * 3600 * 1000;

export interface SessionMiddleware {
  handler: RequestHandler[];
  /** The account read with the request's session (Accounts.sessionAccount's columns), if it was read. */
  accountOf(req: Request): Record<string, unknown> | undefined;
  /** Signs out: the session's row goes and the browser is told to drop its cookie. */
  end(req: Request, res: Response): Promise<void>;
  close(): void;
}

/**
 * Sessions live in the database (any number of app processes), tagged with their owner for
 * revocation. Nothing is stored for a visitor until the session holds something (a sign-in, a
 * link, a chosen language): `saveUninitialized: false`, and CSRF tokens live in a cookie.
 */
export function sessions(config: Config, db: Database, accounts: Accounts): SessionMiddleware {
  const secure = config.baseUrl.startsWith('https://');
  // Who is signed in is read in the session's own statement: one statement fewer per request.
  const store = new DatabaseSessionStore(db, SESSION_TTL_MS, accounts.sessionAccount);
  const name = secure ? '__Host-sid' : 'sid';
  const cookie: CookieOptions = { httpOnly: true, sameSite: 'lax', secure, path: '/' };
  const handler = session({
    name,
    secret: config.sessionSecret,
    store,
    resave: false,
    saveUninitialized: false,
    // Not `rolling`: it signs and sends the cookie again at every response, where a browser-session
    // cookie never changes; a remembered one is renewed by renewRemembered.
    rolling: false,
    // No maxAge: the cookie ends with the browser ("remember me" gives it one, sign-in.ts); the
    // store ends the session after SESSION_TTL_MS idle whatever the browser keeps.
    cookie,
  });
  const end = (req: Request, res: Response) =>
    new Promise<void>((resolve, reject) => req.session.destroy((err) => (err ? reject(err) : resolve()))).then(() => {
      res.clearCookie(name, cookie);
    });
  return { handler: [handler, renewRemembered], accountOf: (req) => store.companionOf(req), end, close: () => store.close() };
}

/** How often a remembered cookie is set again with its expiry moved forward. */
const RENEW_EVERY_MS = 60 * 1000;

/**
 * A remembered session's cookie (one with an expiry) is set again at most once a minute, its expiry
 * moved forward as at each use: express-session sets such a cookie whenever its session changed, and
 * the session notes when (`renewedAt`, saved with it). Its row's expiry moves forward meanwhile too
 * (the store moves it when it reads the session).
 */
const renewRemembered: RequestHandler = (req, _res, next) => {
  const session = req.session;
  const now = Date.now();
  if (session?.cookie.expires && !(now - (session.renewedAt ?? 0) < RENEW_EVERY_MS)) session.renewedAt = now;
  next();
};

/**
 * A new session id, keeping only `keep` of the old session's data: whenever a session gains a
 * link or an identity, an id planted or seen before (session fixation) is worth nothing.
 */
export async function rotateSession(req: Request, keep: Partial<session.SessionData> = {}): Promise<void> {
  await new Promise<void>((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
  Object.assign(req.session, keep);
}

/**
 * express-session stores a changed session while the response is already going out, so a browser
 * can follow a redirect before the session (a sign-in, a link, a notice) is saved. Saving first
 * makes the next request see it.
 */
export const saveBeforeRedirect: RequestHandler = (req, res, next) => {
  const redirect = res.redirect.bind(res) as (status: number, url: string) => void;
  res.redirect = ((status: number, url: string) => {
    // A visitor's session that holds nothing is not stored at all.
    if (!req.session || Object.keys(req.session).every((key) => key === 'cookie')) return redirect(status, url);
    req.session.save((err) => (err ? next(err) : redirect(status, url)));
  }) as typeof res.redirect;
  next();
};
