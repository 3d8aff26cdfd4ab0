import { Router } from 'express';
import type { AccessHistory } from '../../domain/access-history';
import type { Mailbox } from '../../models';
import { render } from '../render';
import { ownerOnly } from '../middleware/owner-only';

/** Settings → Access history: sign-ins of the owner and of the mailbox's collaborators. */
export function accessHistoryRouter(accessHistory: AccessHistory): Router {
  const router = Router();
  router.use('/settings/access-history', ...ownerOnly);

  // GET /settings/access-history
  router.get('/settings/access-history', async (req, res) => {
    const mailbox = req.signedIn?.mailbox as Mailbox;
    const list = await accessHistory.page(mailbox.id, Number(req.query.page ?? 1));
    render(req, res, { page: 'access-history/index', fragment: 'access-history/_table' }, { list });
  });

  return router;
}
