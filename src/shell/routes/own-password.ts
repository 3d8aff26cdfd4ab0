import { Router, type Request, type Response } from 'express';
import type { Accounts } from '../../domain/accounts';
import type { SelfService } from '../../domain/self-service';
import type { PasswordChange } from '../../domain/password-change';
import type { RateLimits } from '../../domain/rate-limits';
import { principalKey } from '../../domain/sessions';
import { TooManyAttempts, ValidationFailed, WrongPassword } from '../../domain/errors';
import { requireSignIn } from '../middleware/auth';
import { requestOrigin } from '../../plugin';
import { redirectWithNotice, render } from '../render';
import { rotateSession } from '../middleware/session';

export interface OwnPasswordOptions {
  accounts: Accounts;
  selfService: SelfService;
  rateLimits: RateLimits;
  minLength: number;
}

/** Settings → Password: the signed-in owner or collaborator changes its own password. */
export function ownPasswordRouter({ accounts, selfService, rateLimits, minLength }: OwnPasswordOptions): Router {
  const router = Router();
  router.use('/settings/password', requireSignIn);

  function showForm(req: Request, res: Response, errors: Record<string, string>, status = 200) {
    const username = req.signedIn?.type === 'collaborator' ? req.signedIn.collaborator.username : req.signedIn?.mailbox.address;
    render(req, res, { page: 'settings/password' }, { username, errors, minLength }, status);
  }

  /** The new credential version, after the change; the session that asked stays signed in. */
  function change(req: Request, input: PasswordChange): Promise<number> {
    const context = { sid: req.sessionID, ...requestOrigin(req) };
    const signedIn = req.signedIn;
    if (signedIn?.type === 'collaborator') return selfService.changeOwnPassword(signedIn.collaborator, input, context).then((c) => c.credentialVersion);
    if (signedIn?.type === 'owner') return accounts.changeOwnerPassword(signedIn.mailbox, input, context).then((m) => m.credentialVersion);
    throw new Error('requireSignIn lets only signed-in people through');
  }

  // GET /settings/password
  router.get('/settings/password', (req, res) => showForm(req, res, {}));

  // POST /settings/password
  router.post('/settings/password', async (req, res) => {
    const identity = req.session.identity;
    if (!identity) throw new Error('a signed-in session has an identity');
    const account = principalKey(identity.principal);
    // Counted before the current password is checked: parallel guesses cannot overrun the limit.
    const verdict = await rateLimits.take([['passwordChange', account]]);
    if (!verdict.allowed) throw new TooManyAttempts(verdict.retryAfterSeconds);
    const input: PasswordChange = {
      currentPassword: String(req.body?.currentPassword ?? ''),
      password: String(req.body?.password ?? ''),
      passwordConfirmation: String(req.body?.passwordConfirmation ?? ''),
    };
    try {
      identity.credentialVersion = await change(req, input);
    } catch (error) {
      if (!(error instanceof ValidationFailed)) throw error;
      // Only a wrong current password is a guess; a refused new password is not.
      if (!(error instanceof WrongPassword)) await rateLimits.giveBack('passwordChange', account);
      return showForm(req, res, error.errors, 422);
    }
    await rateLimits.clear('passwordChange', account);
    // A new credential, a new session id: one seen before the change is worth nothing after it.
    const { locale, ip, userAgent } = req.session;
    await rotateSession(req, { identity, locale, ip, userAgent });
    redirectWithNotice(req, res, '/settings/password', res.locals.t('notice.passwordChanged'));
  });

  return router;
}
