import path from 'node:path';
import express, { type Request } from 'express';
import cookieParser from 'cookie-parser';
import { collaborations, loadConfig, openDatabase, type Collaborations } from 'pec-collaborations';

/** The host's own mailboxes and its own sign-in (a cookie naming one of them: a stand-in for a real one). */
export const MAILBOXES = [
  { id: 7001, address: 'studio.bianchi@pec.example.it', name: 'Studio Bianchi' },
  { id: 7002, address: 'notaio.neri@pec.example.it', name: 'Notaio Neri' },
];
const signedIn = (req: Request) => MAILBOXES.find((m) => String(m.id) === req.signedCookies.host_user) ?? null;

/** A host webmail with Settings → Collaborations mounted under /admin/collaborators. */
export async function createHostApp(env: Record<string, string | undefined> = process.env): Promise<{ app: express.Express; feature: Collaborations }> {
  const app = express();
  app.set('views', path.join(__dirname, 'views')).set('view engine', 'ejs');
  app.use(cookieParser('the host secret, its own business'));

  // The feature, in about ten lines.
  const config = loadConfig(env);
  const feature = collaborations({
    config,
    database: await openDatabase(config.databaseUrl),
    mountPath: '/admin/collaborators',
    layout: 'layout',
    resolveOwner: (req) => signedIn(req),
    signInUrl: '/',
  });
  app.use('/admin/collaborators', feature);

  // The host's own pages.
  app.get('/', (req, res) => res.render('home', { title: 'Webmail', user: signedIn(req), mailboxes: MAILBOXES }));
  app.post('/sign-in/:id', (req, res) => res.cookie('host_user', req.params.id, { signed: true, httpOnly: true, sameSite: 'lax' }).redirect(303, '/admin/collaborators'));
  return { app, feature };
}
