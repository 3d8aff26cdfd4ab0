import { Router } from 'express';
import { requireSignIn } from '../middleware/auth';
import type { MailServerConfig } from '../../config';
import { render } from '../render';

/** A signed-in collaborator's own page. */
export function accountRouter(mailServer: MailServerConfig): Router {
  const router = Router();

  // GET /account
  router.get('/account', requireSignIn, (req, res, next) => {
    if (req.signedIn?.type !== 'collaborator') return next();
    const { collaborator, mailbox } = req.signedIn;
    render(req, res, { page: 'account/show' }, { collaborator, mailbox, mailServer });
  });

  return router;
}
