import { Router } from 'express';
import { TooManyAttempts } from '../../domain/errors';
import { canonicalName } from '../../lib/names';
import { clientIp } from '../../plugin';
import type { SessionMiddleware } from '../middleware/session';
import { render } from '../render';
import { afterFirstStep, giveBack, homeOf, signInCounters, type SignInOptions } from '../sign-in';

export function sessionsRouter(options: SignInOptions, session: Pick<SessionMiddleware, 'end'>): Router {
  const { accounts, rateLimits, accessHistory, devices } = options;
  const router = Router();

  // GET /login
  router.get('/login', (req, res) => {
    if (req.signedIn) return res.redirect(303, homeOf(req));
    if (req.session?.secondStep) return res.redirect(303, '/login/two-step');
    render(req, res, { page: 'auth/login' }, { username: '', failed: false, remember: false });
  });

  // POST /login: the password; then the second step when the account has one.
  router.post('/login', async (req, res) => {
    const username = String(req.body?.username ?? '');
    const remember = req.body?.remember === 'yes';
    const login = canonicalName(username);
    const ip = clientIp(req);
    // Counted before the password is checked, so parallel guesses cannot overrun the limit.
    const counters = signInCounters(req, devices, login);
    const verdict = await rateLimits.take(counters);
    if (!verdict.allowed) throw new TooManyAttempts(verdict.retryAfterSeconds);
    const identity = await accounts.signIn(login, String(req.body?.password ?? ''));
    const context = { ip, userAgent: req.get('User-Agent') };
    if (!identity) {
      await accessHistory.recordSignIn(login, null, context);
      return render(req, res, { page: 'auth/login' }, { username, failed: true, remember }, 422);
    }
    // The right password is no guess; each second-step code counts on the same counters.
    await giveBack(rateLimits, counters);
    await afterFirstStep(req, res, options, { identity, login, remember });
  });

  // POST /logout: the row goes (a request still in flight cannot save it back), and the browser is
  // told to drop the session's cookie and what it cached of the signed-in pages.
  router.post('/logout', async (req, res) => {
    await session.end(req, res);
    res.set('Clear-Site-Data', '"cache"');
    res.redirect(303, '/login');
  });

  return router;
}
