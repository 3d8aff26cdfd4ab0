import { Router, type Request, type RequestHandler, type Response } from 'express';
import type { Accounts, SignedIn } from '../../domain/accounts';
import type { RateLimits } from '../../domain/rate-limits';
import { principalOf, type TwoStep } from '../../domain/two-step';
import { ValidationFailed } from '../../domain/errors';
import { requireSignIn } from '../middleware/auth';
import { redirectWithNotice, render } from '../render';
import { countedAttempt, originOf, sendTo } from '../sign-in';

export interface TwoStepOptions {
  accounts: Accounts;
  twoStep: TwoStep;
  rateLimits: RateLimits;
}

/** The paths a collaborator who must set up two-step verification may reach before doing so. */
const SETUP_PATHS = /^\/(settings\/(two-step(\/|$)|confirmation$|language$)|logout$)/;

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
    const signedIn = signedInOf(req);
    const offer = await twoStep.offerTotp(accountName(signedIn), error ? req.session.totpOffer : undefined);
    req.session.totpOffer = offer.sealed;
    const replacing = (await twoStep.statusOf(principalOf(signedIn))).totp;
    const mailPrograms = signedIn.type === 'collaborator' && signedIn.collaborator.accessLevel === 'mail_clients';
    return render(req, res, { page: 'settings/two-step-totp' }, { offer, error, replacing, mailPrograms }, status);
  }

  /** The current password, typed in the form. */
  const passwordOf = (req: Request) => accounts.checkPassword(signedInOf(req), String(req.body?.currentPassword ?? ''));


  // GET /settings/two-step
  router.get('/settings/two-step', (req, res) => showSettings(req, res));

  // GET /settings/two-step/totp: a new secret to scan or type, confirmed by its first code.
  router.get('/settings/two-step/totp', (req, res) => showTotpSetup(req, res, null));

  // POST /settings/two-step/totp
  router.post('/settings/two-step/totp', async (req, res) => {
    const sealed = req.session.totpOffer;
    if (!sealed) return res.redirect(303, '/settings/two-step/totp');
    const code = String(req.body?.code ?? '').slice(0, 16);
    if (!code.trim()) return showTotpSetup(req, res, 'twoStep.errors.code_missing', 422);
    try {
      const codes = await twoStep.enableTotp(signedInOf(req), sealed, code, originOf(req));
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
    if (!(await countedAttempt(rateLimits, req, () => passwordOf(req)))) return showSettings(req, res, { renewPassword: 'password.wrong_current' }, 422);
    const codes = await twoStep.regenerateRecoveryCodes(signedInOf(req), originOf(req));
    render(req, res, { page: 'settings/recovery-codes' }, { codes, justEnabled: false });
  });

  // POST /settings/two-step/deactivation: the current password and a code.
  router.post('/settings/two-step/deactivation', async (req, res) => {
    const signedIn = signedInOf(req);
    if (signedIn.type === 'collaborator' && signedIn.mailbox.twoStepRequired) return showSettings(req, res, { offCode: 'twoStep.errors.required' }, 409);
    // The password and the code are one attempt: a wrong code counts like a wrong password.
    let wrong: Record<string, string> = { offPassword: 'password.wrong_current' };
    const turnedOff = await countedAttempt(rateLimits, req, async () => {
      if (!(await passwordOf(req))) return false;
      wrong = { offCode: 'twoStep.errors.code_wrong' };
      return twoStep.turnOff(signedIn, String(req.body?.code ?? '').slice(0, 64), originOf(req)).then(
        () => true,
        (error: unknown) => {
          if (error instanceof ValidationFailed) return false;
          throw error;
        },
      );
    });
    if (!turnedOff) return showSettings(req, res, wrong, 422);
    redirectWithNotice(req, res, '/settings/two-step', res.locals.t('twoStep.notice.off'));
  });

  return router;
}
