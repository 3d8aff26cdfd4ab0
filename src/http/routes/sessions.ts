import { Router, type Request } from 'express';
import type { Accounts } from '../../domain/accounts';
import type { RateLimits } from '../../domain/rate-limits';
import type { AccessHistory } from '../../domain/access-history';
import { TooManyAttempts } from '../../domain/errors';
import { render } from '../render';
import { rotateSession } from '../middleware/session';

/** Where a signed-in person starts. */
export function homeOf(req: Request): string {
  return req.signedIn?.type === 'owner' ? '/settings/collaborations' : '/account';
}

export function sessionsRouter(accounts: Accounts, rateLimits: RateLimits, accessHistory: AccessHistory): Router {
  const router = Router();

  // GET /login
  router.get('/login', (req, res) => {
    if (req.signedIn) return res.redirect(303, homeOf(req));
    render(req, res, { page: 'auth/login' }, { username: '', failed: false });
  });

  // POST /login
  router.post('/login', async (req, res) => {
    const username = String(req.body?.username ?? '');
    const ip = req.ip ?? '';
    // Counted before the password is checked, so parallel guesses cannot overrun the limit.
    const verdict = await rateLimits.take([['signInAccount', username], ['signInIp', ip]]);
    if (!verdict.allowed) throw new TooManyAttempts(verdict.retryAfterSeconds);
    const identity = await accounts.signIn(username, String(req.body?.password ?? ''));
    await accessHistory.recordSignIn(username, identity, { ip: req.ip, userAgent: req.get('User-Agent') });
    if (!identity) return render(req, res, { page: 'auth/login' }, { username, failed: true }, 422);
    await Promise.all([rateLimits.clear('signInAccount', username), rateLimits.giveBack('signInIp', ip)]);
    await rotateSession(req, { identity, locale: req.session.locale, ip: req.ip, userAgent: req.get('User-Agent')?.slice(0, 300) });
    res.redirect(303, identity.principal.type === 'owner' ? '/settings/collaborations' : '/account');
  });

  // POST /logout: the row goes (a request still in flight cannot save it back), and the browser is
  // told to drop what it cached of the signed-in pages.
  router.post('/logout', async (req, res) => {
    await new Promise<void>((resolve, reject) => req.session.destroy((err) => (err ? reject(err) : resolve())));
    res.set('Clear-Site-Data', '"cache"');
    res.redirect(303, '/login');
  });

  return router;
}
