import type { Database } from '../db';
import { systemClock, type Clock } from '../lib/clock';
import { outboxHealth, type OutboxHealth } from '../mail/outbox-health';

/**
 * What `/readyz` answers (JSON): `ok`, `degraded` or `unavailable`. `httpStatus` is 503 only for
 * `unavailable` (the database does not answer): this process can then serve nothing, and a load
 * balancer should send its requests elsewhere. A backlog of emails or mail-server commands is
 * `degraded` with 200: an SMTP server or a Dovecot that is down is down for every app process alike,
 * so taking them out of the balancer would turn an email delay into a site that answers nobody, while
 * the outbox keeps every message and its worker sends them once the server is back.
 */
export interface Readiness {
  status: 'ok' | 'degraded' | 'unavailable';
  httpStatus: 200 | 503;
  database: 'reachable' | 'unreachable';
  /** Absent when the database is unreachable. */
  outbox?: Pick<OutboxHealth, 'emails' | 'mailServerCommands'>;
  smtp?: OutboxHealth['smtp'];
}

/** Retries and messages given up in the last hour make a lane's state degraded. */
const troubled = (lane: OutboxHealth['emails']) => lane.retrying > 0 || lane.failedLastHour > 0;

/**
 * The readiness of an app process on `database`: for the standalone app's `/readyz`, and for a host
 * that mounts the feature and has a readiness probe of its own. Throws only when the database answers
 * `SELECT 1` but not the outbox's counts (a bug, not an outage).
 */
export async function readiness(database: Database, clock: Clock = systemClock): Promise<Readiness> {
  try {
    await database.sequelize.query('SELECT 1');
  } catch {
    return { status: 'unavailable', httpStatus: 503, database: 'unreachable' };
  }
  const { emails, mailServerCommands, smtp } = await outboxHealth(database, clock);
  const status = troubled(emails) || troubled(mailServerCommands) ? 'degraded' : 'ok';
  return { status, httpStatus: 200, database: 'reachable', outbox: { emails, mailServerCommands }, smtp };
}
