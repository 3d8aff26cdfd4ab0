import { Router, type Request } from 'express';
import type { Accounts } from '../../domain/accounts';
import type { LimitName, RateLimits } from '../../domain/rate-limits';
import type { AccessHistory } from '../../domain/access-history';
import { TooManyAttempts } from '../../domain/errors';
import { canonicalName } from '../../lib/names';
import { allowanceOf } from '../../lib/ip';
import { clientIp } from '../../plugin';
import type { DeviceCookies } from '../device-cookies';
import { render } from '../render';
import { rotateSession } from '../middleware/session';

/** Where a signed-in person starts. */
export function homeOf(req: Request): string {
  return req.signedIn?.type === 'owner' ? '/settings/collaborations' : '/account';
}

export function sessionsRouter(accounts: Accounts, rateLimits: RateLimits, accessHistory: AccessHistory, devices: DeviceCookies): Router {
  const router = Router();

  // GET /login
  router.get('/login', (req, res) => {
    if (req.signedIn) return res.redirect(303, homeOf(req));
    render(req, res, { page: 'auth/login' }, { username: '', failed: false });
  });

  // POST /login
  router.post('/login', async (req, res) => {
    const username = String(req.body?.username ?? '');
    const login = canonicalName(username);
    const ip = clientIp(req);
    // A browser that signed in to this account before is counted on its own device cookie; anyone
    // else against the account and the client's address (OWASP device cookies). Counted before the
    // password is checked, so parallel guesses cannot overrun the limit.
    const device = devices.trusted(req, login);
    const counters: Array<[LimitName, string]> = device ? [['signInDevice', device]] : [['signInAccount', login], ['signInIp', allowanceOf(ip)]];
    const verdict = await rateLimits.take(counters);
    if (!verdict.allowed) throw new TooManyAttempts(verdict.retryAfterSeconds);
    const identity = await accounts.signIn(login, String(req.body?.password ?? ''));
    await accessHistory.recordSignIn(login, identity, { ip, userAgent: req.get('User-Agent') });
    if (!identity) return render(req, res, { page: 'auth/login' }, { username, failed: true }, 422);
    // Only this attempt is given back: a stranger's failures on the account keep counting.
    await Promise.all(counters.map(([name, key]) => rateLimits.giveBack(name, key)));
    devices.issue(req, res, login);
    await rotateSession(req, { identity, locale: req.session.locale, ip: ip ?? undefined, userAgent: req.get('User-Agent')?.slice(0, 300) });
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
