import type { Request, RequestHandler, Response } from 'express';
import type { Accounts, SessionIdentity } from '../domain/accounts';
import type { AccessHistory } from '../domain/access-history';
import type { LimitName, RateLimits } from '../domain/rate-limits';
import type { Origin, TwoStep } from '../domain/two-step';
import { principalKey } from '../domain/sessions';
import { TooManyAttempts } from '../domain/errors';
import type { Clock } from '../lib/clock';
import { allowanceOf } from '../lib/ip';
import { clientIp, requestOrigin } from '../plugin';
import type { DeviceCookies } from './device-cookies';
import { rotateSession } from './middleware/session';
import { isLocale } from '../i18n';

/** The cookie's life when "Remember me on this device" was ticked, renewed at each use; without it the cookie ends with the browser. */
export const REMEMBER_MS = 30 * 24 * 3600 * 1000;
/** Time allowed between the password and the second step. */
export const SECOND_STEP_MS = 10 * 60 * 1000;
/**
 * How long after signing in, or confirming the password, a session may change how its holder signs in
 * (second factors, app passwords): a stolen cookie alone cannot add the thief's own (GitHub's "sudo mode").
 */
export const RECENT_SIGN_IN_MS = 10 * 60 * 1000;

/** The paths a session between the password and the second step may reach. */
const SECOND_STEP_PATHS = /^\/(login\/two-step(\/|$)|logout$|settings\/language$)/;

/** What the sign-in routes (password, second step, passkeys, confirmation) work with. */
export interface SignInOptions {
  accounts: Accounts;
  rateLimits: RateLimits;
  accessHistory: AccessHistory;
  twoStep: TwoStep;
  devices: DeviceCookies;
  clock: Clock;
}

/** Where a signed-in person starts. */
const HOME = { owner: '/settings/collaborations', collaborator: '/account' } as const;

export function homeOf(req: Request): string {
  return HOME[req.signedIn?.type ?? 'collaborator'];
}

/**
 * The sign-in attempt counters of one browser for one account: its device cookie when it signed in
 * to the account before, else the account and the client's address (OWASP device cookies). The
 * password and every second-step code count against the same ones.
 */
export function signInCounters(req: Request, devices: DeviceCookies, login: string): Array<[LimitName, string]> {
  const device = devices.trusted(req, login);
  return device ? [['signInDevice', device]] : [['signInAccount', login], ['signInIp', allowanceOf(clientIp(req))]];
}

/** Where a change to the sign-in comes from, for the record, and the session that made it (kept when others end). */
export function originOf(req: Request): Origin {
  return { ...requestOrigin(req), sid: req.sessionID };
}

/** Gives back the attempts of a sign-in that succeeded: a stranger's failures on the account keep counting. */
export async function giveBack(rateLimits: RateLimits, counters: Array<[LimitName, string]>): Promise<void> {
  await Promise.all(counters.map(([name, key]) => rateLimits.giveBack(name, key)));
}

/**
 * Ends a sign-in: a fresh session id holding the identity, the device cookie renewed, a longer life
 * when "remember me" was ticked, the language picked before signing in kept on the account (as the
 * language form does once signed in), and the person sent to their start page.
 */
export async function finishSignIn(
  req: Request,
  res: Response,
  { accounts, devices, clock }: Pick<SignInOptions, 'accounts' | 'devices' | 'clock'>,
  signIn: { identity: SessionIdentity; login: string; remember: boolean },
): Promise<void> {
  devices.issue(req, res, signIn.login);
  // Only a language picked in this session: the browser's own (Accept-Language) never overrides the account's.
  if (isLocale(req.session.locale)) await accounts.setLocaleOf(signIn.identity.principal, req.session.locale);
  const verifiedAt = clock.now().getTime();
  await rotateSession(req, { identity: signIn.identity, verifiedAt, locale: req.session.locale, ip: clientIp(req) ?? undefined, userAgent: req.get('User-Agent')?.slice(0, 300) });
  if (signIn.remember) req.session.cookie.maxAge = REMEMBER_MS;
  res.redirect(303, HOME[signIn.identity.principal.type]);
}

/**
 * A first step passed (the password, or a provider's sign-in): on to our second step when the account
 * has one and `secondFactorUsed` is false (a provider's token saying it asked for one), else signed in
 * and recorded in the access history.
 */
export async function afterFirstStep(
  req: Request,
  res: Response,
  options: SignInOptions,
  signIn: { identity: SessionIdentity; login: string; remember: boolean },
  { secondFactorUsed = false }: { secondFactorUsed?: boolean } = {},
): Promise<void> {
  if (!secondFactorUsed && (await options.twoStep.isOn(signIn.identity.principal))) {
    await rotateSession(req, { secondStep: { ...signIn, until: Date.now() + SECOND_STEP_MS }, locale: req.session.locale });
    return res.redirect(303, '/login/two-step');
  }
  await options.accessHistory.recordSignIn(signIn.login, signIn.identity, { ip: clientIp(req), userAgent: req.get('User-Agent') });
  await finishSignIn(req, res, options, signIn);
}

/** Sends elsewhere: a plain 303, or for htmx an HX-Redirect it follows. */
export function sendTo(req: Request, res: Response, to: string): void {
  if (req.get('HX-Request') === 'true') {
    res.set('HX-Redirect', to).status(401).end();
    return;
  }
  res.redirect(303, to);
}

/**
 * Lets through a session that signed in or confirmed its password within RECENT_SIGN_IN_MS; any other
 * is sent to confirm it first, then back to the page asked for (a GET) or the page of the form (`formPage`).
 */
export function requireRecentSignIn(clock: Clock, formPage: string): RequestHandler {
  return (req, res, next) => {
    if (clock.now().getTime() - (req.session?.verifiedAt ?? 0) <= RECENT_SIGN_IN_MS) return next();
    const back = req.method === 'GET' ? req.originalUrl : formPage;
    sendTo(req, res, `/settings/confirmation?back=${encodeURIComponent(back)}`);
  };
}

/**
 * One attempt of the signed-in person at something only they should know (the current password, a
 * code), counted on the account's `passwordChange` counter before `check` runs and given back only
 * when it passed: guesses cannot go on unseen. 429 (TooManyAttempts) past the limit.
 */
export async function countedAttempt(rateLimits: RateLimits, req: Request, check: () => Promise<boolean>): Promise<boolean> {
  const identity = req.session.identity;
  if (!identity) throw new Error('a signed-in session has an identity');
  const account = principalKey(identity.principal);
  const verdict = await rateLimits.take([['passwordChange', account]]);
  if (!verdict.allowed) throw new TooManyAttempts(verdict.retryAfterSeconds);
  const passed = await check();
  if (passed) await rateLimits.giveBack('passwordChange', account);
  return passed;
}

/**
 * A session that passed the password but not the second step reaches the second-step page, sign-out
 * and the language form, and nothing else; once its time is up it holds nothing.
 */
export const holdAtSecondStep: RequestHandler = (req, res, next) => {
  const pending = req.session?.secondStep;
  if (!pending) return next();
  if (pending.until < Date.now()) {
    delete req.session.secondStep;
    return next();
  }
  if (SECOND_STEP_PATHS.test(req.path)) return next();
  sendTo(req, res, '/login/two-step');
};
