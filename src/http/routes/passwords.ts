import { Router, type RequestHandler } from 'express';
import type { SelfService } from '../../domain/self-service';
import type { Links } from '../../domain/links';
import type { RateLimits } from '../../domain/rate-limits';
import { InvalidLink, TooManyAttempts, ValidationFailed } from '../../domain/errors';
import type { Link } from '../../models';
import type { MailServerConfig } from '../../config';
import type { AfterResponse } from '../after-response';
import { canonicalName } from '../../lib/names';
import { allowanceOf } from '../../lib/ip';
import { clientIp } from '../client-ip';
import { render } from '../render';
import { rotateSession } from '../middleware/session';

/** Pages that hold a link's secret are never leaked through Referer (none is cached: see app.ts). */
const private_: RequestHandler = (_req, res, next) => {
  res.set('Referrer-Policy', 'no-referrer');
  next();
};

export interface PasswordsOptions {
  minLength: number;
  mailServer: MailServerConfig;
  /** Lifetime of a forgot-password link, told on the answer page. */
  selfResetMinutes: number;
  rateLimits: RateLimits;
  afterResponse: AfterResponse;
}

export function passwordsRouter(
  links: Links,
  selfService: SelfService,
  { minLength, mailServer, selfResetMinutes, rateLimits, afterResponse }: PasswordsOptions,
): Router {
  const router = Router();
  router.use('/password', private_);

  // GET /password/forgot (before /password/:token, which would take "forgot" for a token)
  router.get('/password/forgot', (req, res) => {
    render(req, res, { page: 'password/forgot' }, { username: '', errors: {} });
  });

  // POST /password/forgot
  router.post('/password/forgot', async (req, res) => {
    const username = canonicalName(req.body?.username);
    if (!username) return render(req, res, { page: 'password/forgot' }, { username, errors: { username: 'errors.required' } }, 422);
    // Only the client's own address is counted here. What one account receives is capped in the
    // database (live links per account, domain/self-service.ts), out of a stranger's reach: a
    // per-username refusal here would let anyone stop the user from asking.
    const ip = clientIp(req);
    const verdict = await rateLimits.take([['forgotIp', allowanceOf(ip)]]);
    if (!verdict.allowed) throw new TooManyAttempts(verdict.retryAfterSeconds);
    // No enumeration: the lookup, the link and the email happen only after this answer is out, so
    // its content, status, headers and timing cannot depend on the account. Working the same way
    // for everyone instead would mean faking a transaction for unknown names and still leak
    // through database timing. The prices: a crash in between drops the request (the user asks
    // again), and the work still loads the server a moment later, like any other visitor does.
    afterResponse(res, () => selfService.requestSelfReset(username, { ip }));
    render(req, res, { page: 'password/forgot-sent' }, { minutes: selfResetMinutes });
  });

  async function liveLink(tokenDigest: string | undefined): Promise<Link | null> {
    return tokenDigest ? links.findLiveByDigest(tokenDigest) : null;
  }

  async function showForm(res: Parameters<RequestHandler>[1], link: Link, errors: Record<string, string>, status = 200) {
    const collaborator = await selfService.findForLink(link);
    res.status(status).render('password/new', { collaborator, errors, minLength });
  }

  // GET /password/new
  router.get('/password/new', async (req, res) => {
    const link = await liveLink(req.session.linkDigest);
    if (!link) return res.status(410).render('password/invalid');
    await showForm(res, link, {});
  });

  // POST /password/new
  router.post('/password/new', async (req, res) => {
    const link = await liveLink(req.session.linkDigest);
    if (!link) return res.status(410).render('password/invalid');
    try {
      const collaborator = await selfService.setPasswordWithLink(link, String(req.body?.password ?? ''), String(req.body?.passwordConfirmation ?? ''), { ip: clientIp(req) });
      delete req.session.linkDigest;
      const mailbox = await selfService.mailboxOf(collaborator);
      res.render('password/done', { collaborator, mailbox, mailServer });
    } catch (error) {
      if (error instanceof InvalidLink) return res.status(410).render('password/invalid');
      if (!(error instanceof ValidationFailed)) throw error;
      await showForm(res, link, error.errors, 422);
    }
  });

  // GET /password/:token: never consumes the link (mail scanners open links too). Only a live link
  // is kept, as its digest, under a new session id: a planted session id never receives it. A dead
  // or made-up one stores nothing, and /password/new says the link is no longer valid.
  router.get('/password/:token', async (req, res) => {
    const link = await links.findLive(req.params.token);
    if (link) await rotateSession(req, { locale: req.session.locale, linkDigest: link.tokenDigest });
    else delete req.session.linkDigest;
    res.redirect(303, '/password/new');
  });

  return router;
}
