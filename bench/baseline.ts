import crypto from 'node:crypto';
import path from 'node:path';
import express, { type RequestHandler } from 'express';
import { parse as parseCookies } from 'cookie';
import sqlite3 from 'sqlite3';
import { appLibraries } from './lib/stack';

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
  const { generateCsrfToken } = appLibraries(app, db, secret);
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
