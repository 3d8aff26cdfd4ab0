import { Router, type RequestHandler } from 'express';
import type { Database } from '../../db';
import type { Clock } from '../../lib/clock';
import { readiness, type Metrics } from '../../plugin';
import { isLoopback } from '../../lib/ip';
import { sameSecret } from '../../lib/secrets';
import { readFileOutbox } from '../../mail/transport';
import { render } from '../render';

/** The paths healthRouter answers (mounted there alone: any other request passes it by). */
export const HEALTH_PATHS = ['/healthz', '/readyz'];

/** GET /healthz (the database answers: cheap, for liveness) and GET /readyz (plugin/readiness.ts). */
export function healthRouter(db: Database, clock: Clock): Router {
  const router = Router();
  // GET /healthz
  router.get('/healthz', async (_req, res) => {
    try {
      await db.sequelize.query('SELECT 1');
      res.set('Cache-Control', 'no-store').type('text').send('ok');
    } catch {
      res.status(503).type('text').send('database unavailable');
    }
  });
  // GET /readyz
  router.get('/readyz', async (_req, res) => {
    const { httpStatus, ...state } = await readiness(db, clock);
    res.status(httpStatus).set('Cache-Control', 'no-store').json(state);
  });
  return router;
}

/**
 * GET /metrics for Prometheus, behind `Authorization: Bearer <METRICS_TOKEN>` (Prometheus's scrape
 * config `authorization: { credentials_file: … }`); 401 otherwise. Mounted only when a token is set.
 */
export const METRICS_PATH = '/metrics';

export function metricsRouter(metrics: Metrics, token: string): Router {
  const router = Router();
  // GET /metrics
  router.get(METRICS_PATH, async (req, res) => {
    const given = /^Bearer +(.+)$/i.exec(req.get('Authorization') ?? '')?.[1];
    if (given === undefined || !sameSecret(given, token)) {
      res.status(401).set('WWW-Authenticate', 'Bearer realm="metrics"').set('Cache-Control', 'no-store').type('text').send('unauthorized');
      return;
    }
    const { contentType, text } = await metrics.scrape();
    res.set('Cache-Control', 'no-store').type(contentType).send(text);
  });
  return router;
}

/**
 * The development outbox shows live links: only a browser on this machine may see it. The socket's
 * peer decides, never X-Forwarded-For (anyone can write it, and TRUST_PROXY may believe it); and a
 * request relayed by a proxy on this machine, which carries a forwarding header, is refused too,
 * since its real client may be anywhere. The Host must be this machine's or BASE_URL's name: a page
 * of any site whose name an attacker points at 127.0.0.1 (DNS rebinding) would otherwise read it
 * from the developer's own browser. Anyone else gets the 404 of a missing page.
 */
function thisMachineOnly(baseUrl: string): RequestHandler {
  const ownNames = new Set(['localhost', '127.0.0.1', '[::1]', new URL(baseUrl).hostname.toLowerCase()]);
  return (req, _res, next) => {
    const relayed = ['X-Forwarded-For', 'Forwarded', 'X-Real-IP'].some((header) => req.get(header) !== undefined);
    const host = (req.get('Host') ?? '').toLowerCase().replace(/:\d+$/, '');
    next(isLoopback(req.socket.remoteAddress ?? null) && !relayed && ownNames.has(host) ? undefined : 'router');
  };
}

/** Development only: the emails the file outbox holds. */
export function devMailRouter(folder: string, baseUrl: string): Router {
  const router = Router();
  router.use('/dev/mail', thisMachineOnly(baseUrl));
  // GET /dev/mail
  router.get('/dev/mail', async (req, res) => {
    render(req, res, { page: 'dev/mail' }, { messages: await readFileOutbox(folder) });
  });
  return router;
}
