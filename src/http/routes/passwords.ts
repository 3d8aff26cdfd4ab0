import { Router, type RequestHandler } from 'express';
import type { Collaborations } from '../../domain/collaborators';
import type { Links } from '../../domain/links';
import { InvalidLink, ValidationFailed } from '../../domain/errors';
import type { Link } from '../../models';
import type { MailServerConfig } from '../../config';

/** Pages that hold a link's secret: never cached, never leaked through Referer. */
const private_: RequestHandler = (_req, res, next) => {
  res.set({ 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' });
  next();
};

export function passwordsRouter(links: Links, collaborations: Collaborations, { minLength, mailServer }: { minLength: number; mailServer: MailServerConfig }): Router {
  const router = Router();
  router.use('/password', private_);

  async function liveLink(token: string | undefined): Promise<Link | null> {
    return token ? links.findLive(token) : null;
  }

  async function showForm(res: Parameters<RequestHandler>[1], link: Link, errors: Record<string, string>, status = 200) {
    const collaborator = await collaborations.findForLink(link);
    res.status(status).render('password/new', { collaborator, errors, minLength });
  }

  // GET /password/new
  router.get('/password/new', async (req, res) => {
    const link = await liveLink(req.session.linkToken);
    if (!link) return res.status(410).render('password/invalid');
    await showForm(res, link, {});
  });

  // POST /password/new
  router.post('/password/new', async (req, res) => {
    const link = await liveLink(req.session.linkToken);
    if (!link) return res.status(410).render('password/invalid');
    try {
      const collaborator = await collaborations.setPasswordWithLink(link, String(req.body?.password ?? ''), String(req.body?.passwordConfirmation ?? ''), { ip: req.ip });
      delete req.session.linkToken;
      const mailbox = await collaborations.mailboxOf(collaborator);
      res.render('password/done', { collaborator, mailbox, mailServer });
    } catch (error) {
      if (error instanceof InvalidLink) return res.status(410).render('password/invalid');
      if (!(error instanceof ValidationFailed)) throw error;
      await showForm(res, link, error.errors, 422);
    }
  });

  // GET /password/:token: never consumes the link (mail scanners open links too)
  router.get('/password/:token', (req, res) => {
    req.session.linkToken = req.params.token;
    res.redirect(303, '/password/new');
  });

  return router;
}
