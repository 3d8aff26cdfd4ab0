import { Router } from 'express';
import type { Database } from '../../db';
import { readFileOutbox } from '../../mail/transport';
import { render } from '../render';

export function healthRouter(db: Database): Router {
  const router = Router();
  // GET /healthz
  router.get('/healthz', async (_req, res) => {
    try {
      await db.sequelize.query('SELECT 1');
      res.type('text').send('ok');
    } catch {
      res.status(503).type('text').send('database unavailable');
    }
  });
  return router;
}

/** Development only: the emails the file outbox holds. */
export function devMailRouter(folder: string): Router {
  const router = Router();
  // GET /dev/mail
  router.get('/dev/mail', async (req, res) => {
    res.set('Cache-Control', 'no-store');
    render(req, res, { page: 'dev/mail' }, { messages: await readFileOutbox(folder) });
  });
  return router;
}
