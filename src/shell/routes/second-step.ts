import { Router, type Request, type Response } from 'express';
import type { Accounts, SignedIn } from '../../domain/accounts';
import { principalOf, type TwoStep } from '../../domain/two-step';
import { TooManyAttempts } from '../../domain/errors';
import { clientIp, requestOrigin } from '../../plugin';
import type { PendingSignIn } from '../types';
import { render } from '../render';
import { finishSignIn, giveBack, signInCounters, type SignInOptions } from '../sign-in';

/**
 * The account a pending sign-in is for, as stored now; null, and the pending sign-in dropped, once it
 * no longer lets anyone in (reset, deactivated, password changed since).
 */
export async function pendingAccount(accounts: Accounts, req: Request): Promise<{ pending: PendingSignIn; signedIn: SignedIn } | null> {
  const pending = req.session?.secondStep;
  if (!pending) return null;
  const signedIn = await accounts.resolve(pending.identity);
  if (signedIn) return { pending, signedIn };
  delete req.session.secondStep;
  return null;
}

/** The second-step page of `signedIn`'s pending sign-in; `error` a key under `secondStep.errors`. */
export async function showSecondStep(twoStep: TwoStep, req: Request, res: Response, signedIn: SignedIn, error: string | null, status = 200): Promise<void> {
  const methods = await twoStep.statusOf(principalOf(signedIn));
  return render(req, res, { page: 'auth/two-step' }, { methods, error, account: req.session.secondStep?.login ?? '' }, status);
}

/**
 * One attempt at the second step of the browser's pending sign-in: counted on the sign-in's counters
 * before `check` runs (it answers null when passed, else the `secondStep.errors` key to show),
 * recorded in the access history, then the sign-in finished or the page shown again with the error.
 */
export async function attemptSecondStep(
  { accounts, rateLimits, accessHistory, twoStep, devices, clock }: SignInOptions,
  req: Request,
  res: Response,
  check: (pending: PendingSignIn, signedIn: SignedIn) => Promise<string | null>,
): Promise<void> {
  const found = await pendingAccount(accounts, req);
  if (!found) return res.redirect(303, '/login');
  const { pending, signedIn } = found;
  const counters = signInCounters(req, devices, pending.login);
  const verdict = await rateLimits.take(counters);
  if (!verdict.allowed) throw new TooManyAttempts(verdict.retryAfterSeconds);
  const error = await check(pending, signedIn);
  await accessHistory.recordSignIn(pending.login, error ? null : pending.identity, { ip: clientIp(req), userAgent: req.get('User-Agent') });
  if (error) return showSecondStep(twoStep, req, res, signedIn, error, 422);
  // One pending sign-in, one session: a second request that passed at the same moment gets nothing.
  if (!(await accounts.claimSession(req.sessionID))) return res.redirect(303, '/login');
  await giveBack(rateLimits, counters);
  await finishSignIn(req, res, { accounts, devices, clock }, pending);
}

/** /login/two-step: after the password, a code from the authenticator app or a recovery code (passkeys: passkeys.ts). */
export function secondStepRouter(options: SignInOptions): Router {
  const { accounts, twoStep } = options;
  const router = Router();

  // GET /login/two-step
  router.get('/login/two-step', async (req, res) => {
    const found = await pendingAccount(accounts, req);
    if (!found) return res.redirect(303, '/login');
    await showSecondStep(twoStep, req, res, found.signedIn, null);
  });

  // POST /login/two-step: a six-digit code or a recovery code; a wrong one counts like a wrong password.
  router.post('/login/two-step', (req, res) =>
    attemptSecondStep(options, req, res, async (_pending, signedIn) => {
      const code = String(req.body?.code ?? '').slice(0, 64);
      if (!code.trim()) return 'missing';
      return (await twoStep.verifyCode(signedIn, code, requestOrigin(req))) ? null : 'wrong';
    }),
  );

  return router;
}
