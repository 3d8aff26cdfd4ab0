import { Router, type Request } from 'express';
import type { PasskeyChallenge, Passkeys } from '../../domain/passkeys';
import { NotFound, ValidationFailed } from '../../domain/errors';
import { requireSignIn } from '../middleware/auth';
import { redirectWithNotice, render } from '../render';
import { deviceOf } from '../../lib/user-agent';
import { attemptSecondStep, pendingAccount } from './second-step';
import { originOf, type SignInOptions } from '../sign-in';
import { showTwoStepSettings, signedInOf } from './two-step';

export interface PasskeysOptions extends SignInOptions {
  passkeys: Passkeys;
}

/** The session's challenge, removed as it is read: each one answers one request at most. */
function takeChallenge(req: Request): PasskeyChallenge | undefined {
  const challenge = req.session.passkeyChallenge;
  delete req.session.passkeyChallenge;
  return challenge;
}

/** The name a passkey gets when none is typed: the browser and system it was made on, else `fallback`. */
function deviceName(req: Request, fallback: string): string {
  const { browser, system } = deviceOf(req.get('User-Agent'));
  return [browser, system].filter(Boolean).join(', ') || fallback;
}

/**
 * Passkeys (WebAuthn): added and removed under Settings → Two-step verification, used at the second
 * step of sign-in. public/js/passkeys.js asks for the options (JSON, token in `X-CSRF-Token`), lets
 * the browser create or use the passkey, and posts its answer as the `response` field of a plain
 * form; the answers are those of the code forms (303, 422 with the page). Without JavaScript the
 * passkey forms stay hidden and the code forms work.
 */
export function passkeysRouter(options: PasskeysOptions): Router {
  const { accounts, passkeys, twoStep } = options;
  const router = Router();
  router.use('/settings/two-step/passkeys', requireSignIn);

  // POST /settings/two-step/passkeys/options: for navigator.credentials.create()
  router.post('/settings/two-step/passkeys/options', async (req, res) => {
    const { options, challenge } = await passkeys.registrationOptions(signedInOf(req));
    req.session.passkeyChallenge = challenge;
    res.json(options);
  });

  // POST /settings/two-step/passkeys (`name`, `response`): the first passkey shows the recovery codes, once.
  router.post('/settings/two-step/passkeys', async (req, res) => {
    const name = String(req.body?.name ?? '');
    try {
      const codes = await passkeys.register(signedInOf(req), takeChallenge(req), String(req.body?.response ?? ''), name, deviceName(req, res.locals.t('twoStep.passkeys.defaultName')), originOf(req));
      if (codes) return render(req, res, { page: 'settings/recovery-codes' }, { codes, justEnabled: true });
      redirectWithNotice(req, res, '/settings/two-step', res.locals.t('twoStep.notice.passkeyAdded'));
    } catch (error) {
      if (!(error instanceof ValidationFailed)) throw error;
      const errors = Object.fromEntries(Object.entries(error.errors).map(([field, code]) => [field, `twoStep.passkeys.errors.${code}`]));
      return showTwoStepSettings(twoStep, req, res, { errors, passkeyName: name.slice(0, 200) }, 422);
    }
  });

  // POST /settings/two-step/passkeys/:id/removal: refused (409) for the last second factor.
  router.post('/settings/two-step/passkeys/:id/removal', async (req, res) => {
    const id = String(req.params.id);
    if (!/^[1-9]\d{0,9}$/.test(id)) throw new NotFound('passkey');
    try {
      if (!(await twoStep.removePasskey(signedInOf(req), Number(id), originOf(req)))) throw new NotFound('passkey');
    } catch (error) {
      if (!(error instanceof ValidationFailed)) throw error;
      return showTwoStepSettings(twoStep, req, res, { errors: { passkeys: 'twoStep.passkeys.errors.last_factor' } }, 409);
    }
    redirectWithNotice(req, res, '/settings/two-step', res.locals.t('twoStep.notice.passkeyRemoved'));
  });

  // POST /login/two-step/passkey/options: for navigator.credentials.get(), between password and second step only.
  router.post('/login/two-step/passkey/options', async (req, res) => {
    const found = await pendingAccount(accounts, req);
    if (!found) return res.status(401).json({ error: 'no_sign_in' });
    const { options, challenge } = await passkeys.signInOptions(found.pending.identity.principal);
    if (!options.allowCredentials?.length) return res.status(404).json({ error: 'no_passkey' });
    req.session.passkeyChallenge = challenge;
    res.json(options);
  });

  // POST /login/two-step/passkey (`response`): a failed assertion counts like a wrong code.
  router.post('/login/two-step/passkey', (req, res) =>
    attemptSecondStep(options, req, res, async (pending) =>
      (await passkeys.verifySignIn(pending.identity.principal, takeChallenge(req), String(req.body?.response ?? ''))) ? null : 'passkey',
    ),
  );

  return router;
}
