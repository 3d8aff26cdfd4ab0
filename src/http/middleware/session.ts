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
