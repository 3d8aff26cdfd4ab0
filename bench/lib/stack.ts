import crypto from 'node:crypto';
import cookieParser from 'cookie-parser';
import { doubleCsrf } from 'csrf-csrf';
import type { Express } from 'express';
import session from 'express-session';
import helmet from 'helmet';
import type sqlite3 from 'sqlite3';

/** A session's key in the `sessions` table (sid TEXT PRIMARY KEY, data TEXT, expires TEXT): its id hashed, as the app's store keeps it. */
export const sessionKey = (sid: string): string => crypto.createHash('sha256').update(sid).digest('base64url');

/**
 * The libraries every signed-in request of the app runs through, set up on `app` as src/app.ts sets
 * them up, and nothing of ours: helmet with the app's CSP, no-store, express-session on a store that
 * reads the session's one row of `db`'s `sessions` by the driver, cookie-parser, and csrf-csrf's
 * double-submit token bound to the session (sent back in `X-CSRF-Token`). What bench/baseline.ts
 * (STACK=1) and bench/floor.ts measure as the stack's floor.
 */
export function appLibraries(app: Express, db: sqlite3.Database, secret: string): ReturnType<typeof doubleCsrf> {
  class Store extends session.Store {
    override get(sid: string, callback: (err: unknown, data?: session.SessionData | null) => void): void {
      db.all('SELECT data FROM sessions WHERE sid = ?1 AND expires > ?2', [sessionKey(sid), new Date().toISOString()], (err, found: Array<{ data: string }>) => {
        if (err) return callback(err);
        callback(null, found[0] ? (JSON.parse(found[0].data) as session.SessionData) : null);
      });
    }
    override set(sid: string, data: session.SessionData, callback?: (err?: unknown) => void): void {
      db.run('INSERT OR REPLACE INTO sessions VALUES (?1, ?2, ?3)', [sessionKey(sid), JSON.stringify(data), '9999-12-31'], (err) => callback?.(err ?? undefined));
    }
    override destroy(sid: string, callback?: (err?: unknown) => void): void {
      db.run('DELETE FROM sessions WHERE sid = ?1', [sessionKey(sid)], (err) => callback?.(err ?? undefined));
    }
  }
  app.disable('x-powered-by');
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: { defaultSrc: ["'self'"], scriptSrc: ["'self'"], styleSrc: ["'self'"], imgSrc: ["'self'", 'data:'], objectSrc: ["'none'"], baseUri: ["'none'"], frameAncestors: ["'none'"], formAction: ["'self'"] },
      },
      strictTransportSecurity: false,
      referrerPolicy: { policy: 'same-origin' },
    }),
  );
  app.use((_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });
  app.use(session({ name: 'sid', secret, store: new Store(), resave: false, saveUninitialized: false, rolling: false, cookie: { httpOnly: true, sameSite: 'lax', secure: false, path: '/' } }));
  app.use(cookieParser());
  const csrfSecret = crypto.createHmac('sha256', secret).update('csrf token').digest('base64url');
  return doubleCsrf({
    getSecret: () => csrfSecret,
    getSessionIdentifier: (req) => req.sessionID,
    cookieName: 'csrf',
    cookieOptions: { sameSite: 'lax', secure: false, httpOnly: true, path: '/' },
    getCsrfTokenFromRequest: (req) => req.get('X-CSRF-Token'),
  });
}
