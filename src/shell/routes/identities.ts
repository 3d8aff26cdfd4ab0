import { Router, type Request, type Response } from 'express';
import { providerLabel, type OidcProviderConfig } from '../../config';
import type { Identities } from '../../domain/identities';
import { principalKey } from '../../domain/sessions';
import { principalOf } from '../../domain/two-step';
import { NotFound, TooManyAttempts, ValidationFailed } from '../../domain/errors';
import { allowanceOf } from '../../lib/ip';
import { clientIp } from '../../plugin';
import { requireSignIn } from '../middleware/auth';
import { rotateSession } from '../middleware/session';
import { AnswerRefused, ProviderUnavailable, type OidcClients, type OidcFlow, type VerifiedSignIn } from '../oidc';
import { redirectWithNotice, render } from '../render';
import { afterFirstStep, countedAttempt, giveBack, homeOf, originOf, requireRecentSignIn, type SignInOptions } from '../sign-in';
import { signedInOf } from './two-step';

export interface IdentitiesOptions extends SignInOptions {
  identities: Identities;
  oidc: OidcClients;
}

/** Why a sign-in or link through a provider ended without one (identities.failed.<reason>), and its status. */
const FAILURES = { expired: 400, refused: 400, unavailable: 502, not_linked: 403, not_admitted: 403 } as const;
type Failure = keyof typeof FAILURES;

/**
 * Sign-in with Google, Microsoft 365 or any OpenID Connect provider of the configuration (issue 16).
 * Settings → Google or Microsoft (`/account/identities`) links and unlinks identities; the sign-in
 * page's buttons post to `/login/oidc/:provider`; the provider sends the browser back to
 * `/login/oidc/:provider/callback`, for a sign-in or a link alike (the flow in the session says which).
 */
export function identitiesRouter(options: IdentitiesOptions): Router {
  const { accounts, identities, oidc, twoStep, rateLimits, accessHistory, clock } = options;
  const router = Router();

  /** The configured provider the path names; 404 for any other. */
  function providerOf(req: Request): OidcProviderConfig {
    const provider = oidc.provider(String(req.params.provider));
    if (!provider) throw new NotFound('provider');
    return provider;
  }

  async function showIdentities(req: Request, res: Response, { errors = {}, provider = '' }: { errors?: Record<string, string>; provider?: string } = {}, status = 200) {
    const signedIn = signedInOf(req);
    const principal = principalOf(signedIn);
    const linked = await identities.listOf(principal);
    const twoStepOn = await twoStep.isOn(principal);
    await render(req, res, { page: 'account/identities' }, { linked, providers: oidc.names, label: providerLabel, twoStepOn, errors, provider: providerLabel(provider) }, status);
  }

  function fail(req: Request, res: Response, provider: OidcProviderConfig, reason: Failure, purpose: OidcFlow['purpose'] = 'sign-in') {
    return render(req, res, { page: 'auth/oidc-failed' }, { reason, provider: providerLabel(provider.name), purpose }, FAILURES[reason]);
  }

  /** The session's flow for this provider, removed as it is read; null when absent, for another provider or expired. */
  function takeFlow(req: Request, provider: OidcProviderConfig): OidcFlow | null {
    const flow = req.session?.oidcFlow;
    if (!flow) return null;
    delete req.session.oidcFlow;
    return flow.provider === provider.name && flow.expiresAt > clock.now().getTime() ? flow : null;
  }

  /** The provider's checked answer, or the failure to show. */
  async function verify(provider: OidcProviderConfig, flow: OidcFlow, req: Request): Promise<VerifiedSignIn | Failure> {
    try {
      return await oidc.finish(provider, flow, req.originalUrl.split('?')[1] ?? '');
    } catch (error) {
      if (error instanceof ProviderUnavailable) return 'unavailable';
      if (error instanceof AnswerRefused) return 'refused';
      throw error;
    }
  }

  router.use('/account/identities', requireSignIn, (_req, _res, next) => next(oidc.names.length ? undefined : 'router'));

  // GET /account/identities
  router.get('/account/identities', (req, res) => showIdentities(req, res));

  // POST /account/identities (`provider`): off to the provider, back at the callback.
  router.post('/account/identities', requireRecentSignIn(clock, '/account/identities'), async (req, res) => {
    const provider = oidc.provider(String(req.body?.provider ?? ''));
    if (!provider) throw new NotFound('provider');
    try {
      const { url, flow } = await oidc.start(provider, 'link', principalKey(principalOf(signedInOf(req))));
      req.session.oidcFlow = flow;
      res.redirect(303, url);
    } catch (error) {
      if (!(error instanceof ProviderUnavailable)) throw error;
      await fail(req, res, provider, 'unavailable', 'link');
    }
  });

  // POST /account/identities/:id/removal (`currentPassword`, or `code` when two-step verification is on)
  router.post('/account/identities/:id/removal', async (req, res) => {
    const id = String(req.params.id);
    if (!/^[1-9]\d{0,9}$/.test(id)) throw new NotFound('identity');
    const signedIn = signedInOf(req);
    const password = String(req.body?.currentPassword ?? '');
    const code = String(req.body?.code ?? '').slice(0, 64);
    const withCode = !password && code.trim() !== '' && (await twoStep.isOn(principalOf(signedIn)));
    const proved = await countedAttempt(rateLimits, req, async () =>
      withCode ? (await twoStep.verifyCode(signedIn, code, originOf(req))) !== null : accounts.checkPassword(signedIn, password),
    );
    if (!proved) return showIdentities(req, res, { errors: { [`unlink-${id}`]: withCode ? 'wrong_code' : 'wrong_password' } }, 422);
    const unlinked = await identities.unlink(signedIn, Number(id), originOf(req));
    if (!unlinked) throw new NotFound('identity');
    redirectWithNotice(req, res, '/account/identities', res.locals.t('identities.notice.unlinked', { provider: providerLabel(unlinked.provider) }));
  });

  // POST /login/oidc/:provider: the sign-in page's button; off to the provider, in a fresh session.
  router.post('/login/oidc/:provider', async (req, res) => {
    const provider = providerOf(req);
    if (req.signedIn) return res.redirect(303, homeOf(req));
    try {
      const { url, flow } = await oidc.start(provider, 'sign-in');
      await rotateSession(req, { oidcFlow: flow, locale: req.session.locale });
      res.redirect(303, url);
    } catch (error) {
      if (!(error instanceof ProviderUnavailable)) throw error;
      await fail(req, res, provider, 'unavailable');
    }
  });

  // GET /login/oidc/:provider/callback: the provider's answer, for the flow this browser started.
  router.get('/login/oidc/:provider/callback', async (req, res) => {
    const provider = providerOf(req);
    const flow = takeFlow(req, provider);
    if (!flow) return fail(req, res, provider, 'expired');
    if (flow.purpose === 'link') return linkTo(req, res, provider, flow);
    // One flow, one sign-in: a second request with the same session (a replay) finds it claimed.
    if (!(await accounts.claimSession(req.sessionID))) return fail(req, res, provider, 'expired');
    // Counted like a password attempt from this address, given back when someone signs in.
    const counters: Parameters<typeof giveBack>[1] = [['signInIp', allowanceOf(clientIp(req))]];
    const verdict = await rateLimits.take(counters);
    if (!verdict.allowed) throw new TooManyAttempts(verdict.retryAfterSeconds);
    const verified = await verify(provider, flow, req);
    if (typeof verified === 'string') return fail(req, res, provider, verified);
    const principal = await identities.find(verified.issuer, verified.subject);
    const account = principal && (await accounts.signInAs(principal));
    if (!account) return fail(req, res, provider, 'not_linked');
    const context = { ip: clientIp(req), userAgent: req.get('User-Agent') };
    if (!account.identity) {
      await accessHistory.recordSignIn(account.login, null, context);
      return fail(req, res, provider, 'not_admitted');
    }
    await giveBack(rateLimits, counters);
    // The provider's own second factor counts as our second step; without one, ours is asked as after a password.
    await afterFirstStep(req, res, options, { identity: account.identity, login: account.login, remember: false }, { secondFactorUsed: verified.multiFactor });
  });

  /** The callback of a link: to the signed-in account that started it, and to no other. */
  async function linkTo(req: Request, res: Response, provider: OidcProviderConfig, flow: OidcFlow) {
    const signedIn = req.signedIn;
    if (!signedIn || principalKey(principalOf(signedIn)) !== flow.account) return fail(req, res, provider, 'expired', 'link');
    const verified = await verify(provider, flow, req);
    if (typeof verified === 'string') return fail(req, res, provider, verified, 'link');
    try {
      await identities.link(signedIn, verified, originOf(req));
    } catch (error) {
      if (!(error instanceof ValidationFailed)) throw error;
      return showIdentities(req, res, { errors: error.errors, provider: provider.name }, 409);
    }
    redirectWithNotice(req, res, '/account/identities', res.locals.t('identities.notice.linked', { provider: providerLabel(provider.name) }));
  }

  return router;
}
