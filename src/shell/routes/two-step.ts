import { Router, type Request, type RequestHandler, type Response } from 'express';
import type { Accounts, SignedIn } from '../../domain/accounts';
import type { RateLimits } from '../../domain/rate-limits';
import { principalOf, type TwoStep } from '../../domain/two-step';
import { principalKey } from '../../domain/sessions';
import { TooManyAttempts, ValidationFailed } from '../../domain/errors';
import { clientIp } from '../../plugin';
import { requireSignIn } from '../middleware/auth';
import { redirectWithNotice, render } from '../render';
import { sendTo } from '../sign-in';

export interface TwoStepOptions {
  accounts: Accounts;
  twoStep: TwoStep;
  rateLimits: RateLimits;
}

/** The paths a collaborator who must set up two-step verification may reach before doing so. */
const SETUP_PATHS = /^\/(settings\/two-step(\/|$)|logout$|settings\/language$)/;

export function signedInOf(req: Request): SignedIn {
  if (!req.signedIn) throw new Error('requireSignIn lets only signed-in people through');
  return req.signedIn;
}

/** The name an authenticator app lists the account under. */
function accountName(signedIn: SignedIn): string {
  return signedIn.type === 'owner' ? signedIn.mailbox.address : signedIn.collaborator.username;
}

/**
 * Settings → Two-step verification: `errors` maps a field to a message key; `passkeyName` is what
 * was typed as a new passkey's name, shown again after a refusal.
 */
export async function showTwoStepSettings(
  twoStep: TwoStep,
  req: Request,
  res: Response,
  { errors = {}, passkeyName = '' }: { errors?: Record<string, string>; passkeyName?: string } = {},
  status = 200,
): Promise<void> {
  const signedIn = signedInOf(req);
  const current = await twoStep.statusOf(principalOf(signedIn));
  const required = signedIn.type === 'collaborator' && signedIn.mailbox.twoStepRequired;
  return render(req, res, { page: 'settings/two-step' }, { twoStep: current, required, errors, passkeyName, username: accountName(signedIn) }, status);
}

/**
 * The owner's policy: a collaborator of a mailbox that requires two-step verification and has none
 * is taken to set it up, before anything else, at every request until it is on.
 */
export function requireTwoStepSetup(twoStep: TwoStep): RequestHandler {
  return async (req, res, next) => {
    const signedIn = req.signedIn;
    if (signedIn?.type !== 'collaborator' || !signedIn.mailbox.twoStepRequired || SETUP_PATHS.test(req.path)) return next();
    if (await twoStep.isOn(principalOf(signedIn))) return next();
    sendTo(req, res, '/settings/two-step');
  };
}

/** Settings → Two-step verification, for the owner and for collaborators. */
export function twoStepRouter({ accounts, twoStep, rateLimits }: TwoStepOptions): Router {
  const router = Router();
  router.use('/settings/two-step', requireSignIn);

  const showSettings = (req: Request, res: Response, errors: Record<string, string> = {}, status = 200) => showTwoStepSettings(twoStep, req, res, { errors }, status);

  /** The set-up page: a new secret, or after a wrong code the same one (the app may already hold it). */
  async function showTotpSetup(req: Request, res: Response, error: string | null, status = 200) {
    const offer = await twoStep.offerTotp(accountName(signedInOf(req)), error ? req.session.totpOffer : undefined);
    req.session.totpOffer = offer.sealed;
    return render(req, res, { page: 'settings/two-step-totp' }, { offer, error }, status);
  }

  /** The current password, counted like a password change's (a guess at it is one). */
  async function passwordChecked(req: Request): Promise<boolean> {
    const identity = req.session.identity;
    if (!identity) throw new Error('a signed-in session has an identity');
    const account = principalKey(identity.principal);
    const verdict = await rateLimits.take([['passwordChange', account]]);
    if (!verdict.allowed) throw new TooManyAttempts(verdict.retryAfterSeconds);
    const ok = await accounts.checkPassword(signedInOf(req), String(req.body?.currentPassword ?? ''));
    if (ok) await rateLimits.giveBack('passwordChange', account);
    return ok;
  }

  const origin = (req: Request) => ({ ip: clientIp(req), sid: req.sessionID });

  // GET /settings/two-step
  router.get('/settings/two-step', (req, res) => showSettings(req, res));

  // GET /settings/two-step/totp: a new secret to scan or type, confirmed by its first code.
  router.get('/settings/two-step/totp', (req, res) => showTotpSetup(req, res, null));

  // POST /settings/two-step/totp
  router.post('/settings/two-step/totp', async (req, res) => {
    const sealed = req.session.totpOffer;
    if (!sealed) return res.redirect(303, '/settings/two-step/totp');
    try {
      const codes = await twoStep.enableTotp(signedInOf(req), sealed, String(req.body?.code ?? '').slice(0, 16), origin(req));
      delete req.session.totpOffer;
      if (codes) return render(req, res, { page: 'settings/recovery-codes' }, { codes, justEnabled: true });
      redirectWithNotice(req, res, '/settings/two-step', res.locals.t('twoStep.notice.totpAdded'));
    } catch (error) {
      if (!(error instanceof ValidationFailed)) throw error;
      return showTotpSetup(req, res, `twoStep.errors.${error.errors.code}`, 422);
    }
  });

  // POST /settings/two-step/recovery-codes: ten new codes, the current password required.
  router.post('/settings/two-step/recovery-codes', async (req, res) => {
    if (!(await passwordChecked(req))) return showSettings(req, res, { renewPassword: 'password.wrong_current' }, 422);
    const codes = await twoStep.regenerateRecoveryCodes(signedInOf(req), origin(req));
    render(req, res, { page: 'settings/recovery-codes' }, { codes, justEnabled: false });
  });

  // POST /settings/two-step/deactivation: the current password and a code.
  router.post('/settings/two-step/deactivation', async (req, res) => {
    const signedIn = signedInOf(req);
    if (signedIn.type === 'collaborator' && signedIn.mailbox.twoStepRequired) return showSettings(req, res, { offCode: 'twoStep.errors.required' }, 409);
    if (!(await passwordChecked(req))) return showSettings(req, res, { offPassword: 'password.wrong_current' }, 422);
    try {
      await twoStep.turnOff(signedIn, String(req.body?.code ?? '').slice(0, 64), origin(req));
    } catch (error) {
      if (!(error instanceof ValidationFailed)) throw error;
      return showSettings(req, res, { offCode: 'twoStep.errors.code_wrong' }, 422);
    }
    redirectWithNotice(req, res, '/settings/two-step', res.locals.t('twoStep.notice.off'));
  });

  return router;
}
