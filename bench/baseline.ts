import crypto from 'node:crypto';
import path from 'node:path';
import express, { type RequestHandler } from 'express';
import { parse as parseCookies } from 'cookie';
import cookieParser from 'cookie-parser';
import { doubleCsrf } from 'csrf-csrf';
import session from 'express-session';
import helmet from 'helmet';
import sqlite3 from 'sqlite3';

/**
 * The ceiling: bare Express 5 + EJS rendering a page of 50 rows padded to the byte size of the real
 * Collaborations page, behind a signed-in check of the same shape (parse the cookie, verify its
 * signature, look the session up) but with the session in memory: no database, no helmet, no i18n.
 * Its markup stays within Latin-1 (`&#8943;` for the menu's ⋯): a page of this size as a two-byte
 * string goes to V8's large-object space (see Html in src/plugin/render.ts), a cost it used to pay
 * and a ceiling must not.
 *
 * STACK=1 serves the same page behind the libraries every signed-in page of the app runs through,
 * configured as src/app.ts configures them, and nothing of ours: helmet with the app's CSP, no-store,
 * express-session with a store that reads the session's one row by SQLite's driver (in memory, its
 * id hashed as the app's store hashes it), cookie-parser and csrf-csrf's token for the page. It is
 * the stack's floor for the list page: a share of the ceiling no page of the app can pass, as it does
 * all of this and more (the bench's "stack floor" line).
 */
const port = Number(process.env.PORT ?? 3999);
const pageBytes = Number(process.env.PAGE_BYTES ?? 30_000);
const secret = process.env.SESSION_SECRET ?? 'baseline';
const STACK = process.env.STACK === '1';

const sign = (value: string) => `${value}.${crypto.createHmac('sha256', secret).update(value).digest('base64').replace(/=+$/, '')}`;
const rows = Array.from({ length: 50 }, (_, i) => ({
  id: 1000 + i,
  name: `Mario Rossi ${i}`,
  username: `user${i}/owner-10000@pec.bench.test`,
  email: `user${i}.1@example.org`,
  access: 'Lettura',
  status: 'active',
  lastEmail: 'Invito, inviata il 22/11/2026',
}));

const app = express();
app.set('views', path.join(__dirname, 'views'));
app.set('view engine', 'ejs');
app.disable('x-powered-by');

if (STACK) useStack();
else useBareSession();

/** The ceiling's own session: a signed cookie checked by hand, the session in a Map. */
function useBareSession(): void {
  const sessions = new Map<string, { user: string; csrfToken: string }>();
  // GET /login: hands out a session, as a sign-in would
  app.get('/login', (_req, res) => {
    const sid = crypto.randomBytes(24).toString('base64url');
    sessions.set(sid, { user: 'owner-10000@pec.bench.test', csrfToken: crypto.randomBytes(18).toString('base64url') });
    res.cookie('sid', `s:${sign(sid)}`, { httpOnly: true, sameSite: 'lax' }).redirect(303, '/page');
  });
  const signedIn: RequestHandler = (req, res, next) => {
    const raw = parseCookies(req.headers.cookie ?? '').sid ?? '';
    const signed = raw.startsWith('s:') ? raw.slice(2) : '';
    const sid = signed.slice(0, signed.lastIndexOf('.'));
    const expected = Buffer.from(sign(sid));
    const given = Buffer.from(signed);
    const session = expected.length === given.length && crypto.timingSafeEqual(expected, given) ? sessions.get(sid) : undefined;
    if (!session) return res.redirect(303, '/login');
    res.locals.user = session.user;
    next();
  };
  app.use('/page', signedIn);
}

/** The app's libraries, as src/app.ts sets them up (STACK=1). */
function useStack(): void {
  const db = new sqlite3.Database(':memory:');
  db.run('CREATE TABLE sessions (sid TEXT PRIMARY KEY, data TEXT NOT NULL, expires TEXT NOT NULL)');
  const key = (sid: string) => crypto.createHash('sha256').update(sid).digest('base64url');
  class Store extends session.Store {
    override get(sid: string, callback: (err: unknown, data?: session.SessionData | null) => void): void {
      db.all('SELECT data FROM sessions WHERE sid = ?1 AND expires > ?2', [key(sid), new Date().toISOString()], (err, found: Array<{ data: string }>) => {
        if (err) return callback(err);
        callback(null, found[0] ? (JSON.parse(found[0].data) as session.SessionData) : null);
      });
    }
    override set(sid: string, data: session.SessionData, callback?: (err?: unknown) => void): void {
      db.run('INSERT OR REPLACE INTO sessions VALUES (?1, ?2, ?3)', [key(sid), JSON.stringify(data), '9999-12-31'], (err) => callback?.(err ?? undefined));
    }
    override destroy(sid: string, callback?: (err?: unknown) => void): void {
      db.run('DELETE FROM sessions WHERE sid = ?1', [key(sid)], (err) => callback?.(err ?? undefined));
    }
  }
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
  const { generateCsrfToken } = doubleCsrf({
    getSecret: () => csrfSecret,
    getSessionIdentifier: (req) => req.sessionID,
    cookieName: 'csrf',
    cookieOptions: { sameSite: 'lax', secure: false, httpOnly: true, path: '/' },
  });
  app.get('/login', (req, res, next) => {
    (req.session as { user?: string }).user = 'owner-10000@pec.bench.test';
    req.session.save((err) => (err ? next(err) : res.redirect(303, '/page')));
  });
  app.use('/page', (req, res, next) => {
    const user = (req.session as { user?: string }).user;
    if (!user) return res.redirect(303, '/login');
    res.locals.user = user;
    res.locals.csrfToken = generateCsrfToken(req, res);
    next();
  });
}

let padding = '';
function renderPage(user: string): Promise<string> {
  return new Promise((resolve, reject) =>
    app.render('page', { title: 'Collaborazioni', user, rows, padding }, (err, html) => (err ? reject(err) : resolve(html))),
  );
}

// GET /page (signed in: see above)
app.get('/page', (_req, res) => {
  res.render('page', { title: 'Collaborazioni', user: res.locals.user as string, rows, padding });
});

// GET /healthz
app.get('/healthz', (_req, res) => res.type('text').send('ok'));

renderPage('owner-10000@pec.bench.test')
  .then((html) => {
    padding = 'x'.repeat(Math.max(0, pageBytes - Buffer.byteLength(html)));
    app.listen(port, () => console.log(`baseline listening on ${port}`));
  })
  .catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
