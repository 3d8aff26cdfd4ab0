import type { Request, RequestHandler } from 'express';
import type { Gauge, Registry } from 'prom-client';
import type { Database } from '../db';
import { systemClock, type Clock } from '../lib/clock';
import { outboxHealth, type LaneBacklog } from '../mail/outbox-health';

/** Prometheus metrics of one app process (prom-client): the process's defaults, the outbox, HTTP. */
export interface Metrics {
  registry: Registry;
  /** Observes each response's duration by route pattern and status: mount it before the routes. */
  requestDurations: RequestHandler;
  /** The text exposition format, the outbox figures read now (as `/readyz` reads them). */
  scrape(): Promise<{ contentType: string; text: string }>;
}

const LANES = { emails: 'emails', mailServerCommands: 'mail_server_commands' } as const;
const BACKLOG: Record<keyof LaneBacklog, [name: string, help: string]> = {
  queued: ['pec_outbox_queued', 'Messages never attempted and due now, per lane.'],
  retrying: ['pec_outbox_retrying', 'Messages attempted, failed, to be tried again, per lane.'],
  oldestAgeSeconds: ['pec_outbox_oldest_age_seconds', 'Age of the oldest queued or retrying message, per lane; 0 when there is none.'],
  failedLastHour: ['pec_outbox_failed_last_hour', 'Messages given up within the last hour, per lane.'],
};

/**
 * The route pattern a request matched (`/settings/collaborations/:id`), never its path: a path holds
 * usernames and link tokens, and one label value per path would grow without end. Unmatched: `none`.
 */
function routeOf(req: Request): string {
  const route = req.route as { path?: unknown } | undefined;
  if (!route || route.path === undefined) return 'none';
  const pattern = Array.isArray(route.path) ? route.path.join('|') : String(route.path);
  return `${req.baseUrl}${pattern === '/' && req.baseUrl ? '' : pattern}` || '/';
}

/** A registry of its own (several apps may share one process, a host has its own): see Metrics. */
export function createMetrics(database: Database, clock: Clock = systemClock): Metrics {
  // Required here, not at start: without a METRICS_TOKEN the app never needs it (issue 17, RSS).
  const { Gauge, Histogram, Registry, collectDefaultMetrics } = require('prom-client') as typeof import('prom-client');
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const gauges = Object.fromEntries(
    Object.entries(BACKLOG).map(([key, [name, help]]) => [key, new Gauge({ name, help, labelNames: ['lane'], registers: [registry] })]),
  ) as Record<keyof LaneBacklog, Gauge<'lane'>>;
  const databaseUp = new Gauge({ name: 'pec_database_up', help: '1 when the database answered the outbox counts at this scrape, else 0.', registers: [registry] });
  const smtpFailing = new Gauge({ name: 'pec_smtp_failing', help: '1 while emails wait for a retry (the SMTP server refuses or is unreachable), else 0.', registers: [registry] });
  const durations = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request durations by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });

  const readOutbox = async () => {
    try {
      const health = await outboxHealth(database, clock);
      for (const [lane, label] of Object.entries(LANES) as Array<[keyof typeof LANES, string]>) {
        for (const key of Object.keys(BACKLOG) as Array<keyof LaneBacklog>) gauges[key].set({ lane: label }, health[lane][key] ?? 0);
      }
      smtpFailing.set(health.smtp.state === 'failing' ? 1 : 0);
      databaseUp.set(1);
    } catch {
      // The process's own metrics still tell something; the outbox's would be stale.
      Object.values(gauges).forEach((gauge) => gauge.reset());
      smtpFailing.reset();
      databaseUp.set(0);
    }
  };

  return {
    registry,
    requestDurations: (req, res, next) => {
      const end = durations.startTimer();
      res.once('finish', () => end({ method: req.method, route: routeOf(req), status: String(res.statusCode) }));
      next();
    },
    async scrape() {
      await readOutbox();
      return { contentType: registry.contentType, text: await registry.metrics() };
    },
  };
}
