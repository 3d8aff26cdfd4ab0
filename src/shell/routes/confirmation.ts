import { Router, type Request } from 'express';
import { requireSignIn } from '../middleware/auth';
import { render } from '../render';
import { countedAttempt, type SignInOptions } from '../sign-in';

/** Where a confirmation may lead back to: our own settings and account pages, nowhere else. */
function backOf(req: Request): string {
  const back = String(req.query.back ?? req.body?.back ?? '');
  return /^\/(settings|account)(\/[A-Za-z0-9/_-]*)?$/.test(back) ? back : '/';
}

/**
 * /settings/confirmation: the current password again before changing how one signs in, when the
 * sign-in is older than RECENT_SIGN_IN_MS (requireRecentSignIn sends here).
 */
export function confirmationRouter({ accounts, rateLimits, clock }: Pick<SignInOptions, 'accounts' | 'rateLimits' | 'clock'>): Router {
  const router = Router();
  router.use('/settings/confirmation', requireSignIn);

  // GET /settings/confirmation?back=<path>
  router.get('/settings/confirmation', (req, res) => render(req, res, { page: 'settings/confirmation' }, { back: backOf(req), error: null }));

  // POST /settings/confirmation (currentPassword, back)
  router.post('/settings/confirmation', async (req, res) => {
    const signedIn = req.signedIn;
    if (!signedIn) throw new Error('requireSignIn lets only signed-in people through');
    const confirmed = await countedAttempt(rateLimits, req, () => accounts.checkPassword(signedIn, String(req.body?.currentPassword ?? '')));
    if (!confirmed) return render(req, res, { page: 'settings/confirmation' }, { back: backOf(req), error: 'password.wrong_current' }, 422);
    req.session.verifiedAt = clock.now().getTime();
    res.redirect(303, backOf(req));
  });

  return router;
}
