import { Router } from 'express';
import { ownerOf, type Feature } from '../context';

/**
 * Settings → Access history: sign-ins of the owner and of the mailbox's collaborators. Answers
 * `/access-history` under where it is mounted, behind the owner guard.
 */
export function accessHistoryRouter({ domain: { accessHistory }, pages }: Feature): Router {
  const router = Router();

  // GET /settings/access-history
  router.get('/access-history', async (req, res) => {
    const list = await accessHistory.page(ownerOf(res).id, Number(req.query.page ?? 1));
    await pages.render(req, res, { page: 'plugin/access-history/index', fragment: 'plugin/access-history/_table' }, { list });
  });

  return router;
}
