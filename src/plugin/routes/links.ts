import { Router, type Request, type Response } from 'express';
import { InvalidLink, TooManyAttempts, ValidationFailed } from '../../domain/errors';
import type { Link } from '../../models';
import { canonicalName } from '../../lib/names';
import { mailSetup, SECURITY_LABELS } from '../../mail/mail-setup';
import { allowanceOf } from '../../lib/ip';
import { clientIp, requestOrigin } from '../client-ip';
import type { Feature } from '../context';

/** The opened link, sealed in the browser between the emailed address and the form. */
const LINK = 'pec_link';

/**
 * The collaborator's side of the emailed links and "forgot password", mounted at `urls.password`.
 * No session is needed, the host's or ours: opening a link seals its token into a cookie of this
 * path (a copy of the database never holds it; a planted cookie is simply replaced), and the form
 * reads it back. Every page here holds a link's secret: never cached, never sent as a Referer.
 */
export function linksRouter(feature: Feature): Router {
  const { domain, pages, urls, cookies, afterResponse } = feature;
  const { config, links, selfService, rateLimits } = domain;
  const minLength = config.passwordMinLength;
  const router = Router();

  router.use((_req, res, next) => {
    res.set('Referrer-Policy', 'no-referrer');
    next();
  });

  async function openedLink(req: Request): Promise<Link | null> {
    const token = cookies.get(req, LINK);
    return token ? links.findLive(token) : null;
  }

  const invalid = (req: Request, res: Response) => pages.render(req, res, { page: 'plugin/password/invalid' }, {}, 410);

  /** The form for a live link; the invalid-link page when its account is gone or its access has ended. */
  async function showForm(req: Request, res: Response, link: Link, errors: Record<string, string>, status = 200) {
    let collaborator;
    try {
      collaborator = await selfService.findForLink(link);
    } catch (error) {
      if (error instanceof InvalidLink) return invalid(req, res);
      throw error;
    }
    await pages.render(req, res, { page: 'plugin/password/new' }, { collaborator, errors, minLength }, status);
  }

  // GET /password/forgot (before /password/:token, which would take "forgot" for a token)
  router.get('/forgot', async (req, res) => {
    await pages.render(req, res, { page: 'plugin/password/forgot' }, { username: '', errors: {} });
  });

  // POST /password/forgot
  router.post('/forgot', async (req, res) => {
    const username = canonicalName(req.body?.username);
    if (!username) return pages.render(req, res, { page: 'plugin/password/forgot' }, { username, errors: { username: 'errors.required' } }, 422);
    // Only the client's own address is counted here. What one account receives is capped in the
    // database (live links per account, domain/collaborators.ts), out of a stranger's reach: a
    // per-username refusal here would let anyone stop the user from asking.
    const ip = clientIp(req);
    const verdict = await rateLimits.take([['forgotIp', allowanceOf(ip)]]);
    if (!verdict.allowed) throw new TooManyAttempts(verdict.retryAfterSeconds);
    // No enumeration: the lookup, the link and the email happen only after this answer is out, so
    // its content, status, headers and timing cannot depend on the account. Working the same way
    // for everyone instead would mean faking a transaction for unknown names and still leak
    // through database timing. The prices: a crash in between drops the request (the user asks
    // again), and the work still loads the server a moment later, like any other visitor does.
    const { userAgent } = requestOrigin(req);
    afterResponse(res, () => selfService.requestSelfReset(username, { ip, userAgent }));
    await pages.render(req, res, { page: 'plugin/password/forgot-sent' }, { minutes: Math.round(config.linkTtl.self_reset / 60) });
  });

  // GET /password/new
  router.get('/new', async (req, res) => {
    const link = await openedLink(req);
    if (!link) return invalid(req, res);
    await showForm(req, res, link, {});
  });

  // POST /password/new
  router.post('/new', async (req, res) => {
    const link = await openedLink(req);
    if (!link) return invalid(req, res);
    try {
      const collaborator = await selfService.setPasswordWithLink(link, String(req.body?.password ?? ''), String(req.body?.passwordConfirmation ?? ''), requestOrigin(req));
      cookies.clear(res, LINK, urls.password);
      const mailbox = await selfService.mailboxOf(collaborator);
      await pages.render(req, res, { page: 'plugin/password/done' }, { collaborator, mailSetup: mailSetup(config.mailServer, { mailbox: mailbox.address, login: collaborator.username }), securityLabels: SECURITY_LABELS });
    } catch (error) {
      if (error instanceof InvalidLink) return invalid(req, res);
      if (!(error instanceof ValidationFailed)) throw error;
      await showForm(req, res, link, error.errors, 422);
    }
  });

  // GET /password/:token: never consumes the link (mail scanners open links too). Only a live link
  // is kept; a dead or made-up one keeps nothing, and /password/new says the link is no longer valid.
  router.get('/:token', async (req, res) => {
    const link = await links.findLive(req.params.token);
    if (link) cookies.set(res, LINK, req.params.token, { path: urls.password, maxAgeMs: config.linkTtl[link.purpose] * 1000 });
    else cookies.clear(res, LINK, urls.password);
    res.redirect(303, `${urls.password}/new`);
  });

  return router;
}
