import session from 'express-session';
import connectSessionSequelize from 'connect-session-sequelize';
import type { RequestHandler } from 'express';
import type { Config } from '../../config';
import type { Database } from '../../db';
import { principalKey } from '../../domain/sessions';

const SequelizeStore = connectSessionSequelize(session.Store);

/** Idle sessions end after this long. */
const SESSION_TTL_MS = 8 * 3600 * 1000;

export interface SessionMiddleware {
  handler: RequestHandler;
  close(): void;
}

/** How often a session's idle expiry moves forward in the database; an 8-hour idle limit is kept to this. */
const TOUCH_EVERY_MS = 60 * 1000;

/**
 * express-session "touches" the stored session on every request, and a touch is a write. On SQLite,
 * with one writer at a time, page views would queue behind owner actions for the write lock (measured
 * in bench/: owner actions stalled). So a process touches each session at most once a minute.
 */
function throttleTouches(store: InstanceType<typeof SequelizeStore>): void {
  const touch = store.touch.bind(store);
  const touchedAt = new Map<string, number>();
  store.touch = (sid, data, callback) => {
    const now = Date.now();
    if (now - (touchedAt.get(sid) ?? 0) < TOUCH_EVERY_MS) return callback?.(null);
    // Bounded: forgetting every session only costs one early touch each.
    if (touchedAt.size >= 10_000) touchedAt.clear();
    touchedAt.set(sid, now);
    touch(sid, data, callback);
  };
}

/** Sessions live in the database (any number of app processes), tagged with their owner for revocation. */
export function sessions(config: Config, db: Database): SessionMiddleware {
  const secure = config.baseUrl.startsWith('https://');
  const store = new SequelizeStore({
    db: db.sequelize,
    table: 'Session',
    expiration: SESSION_TTL_MS,
    checkExpirationInterval: 15 * 60 * 1000,
    extendDefaultFields: (defaults: { data: string; expires: Date }, data: session.SessionData) => ({
      ...defaults,
      principal: data.identity ? principalKey(data.identity.principal) : null,
      ip: data.ip ?? null,
      userAgent: data.userAgent ?? null,
    }),
  });
  throttleTouches(store);
  const handler = session({
    name: secure ? '__Host-sid' : 'sid',
    secret: config.sessionSecret,
    store,
    resave: false,
    saveUninitialized: false,
    rolling: true,
    cookie: { httpOnly: true, sameSite: 'lax', secure, maxAge: SESSION_TTL_MS, path: '/' },
  });
  return { handler, close: () => store.stopExpiringSessions() };
}

/**
 * express-session stores a changed session while the response is already going out, so a browser
 * can follow a redirect before the session (a sign-in, a link token, a notice) is saved. Saving
 * first makes the next request see it.
 */
export const saveBeforeRedirect: RequestHandler = (req, res, next) => {
  const redirect = res.redirect.bind(res) as (status: number, url: string) => void;
  res.redirect = ((status: number, url: string) => {
    if (!req.session) return redirect(status, url);
    req.session.save((err) => (err ? next(err) : redirect(status, url)));
  }) as typeof res.redirect;
  next();
};
