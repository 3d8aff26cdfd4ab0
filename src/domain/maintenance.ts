import type { Audit } from './audit';
import type { AccessHistory } from './access-history';
import type { Clock } from '../lib/clock';
import { throttledJob, type ScheduledJob } from '../mail/worker';

/** The activity log and the access history are kept this long, then pruned. */
export const RETENTION_MONTHS = 6;
/** Pruning runs at most this often, whatever the worker's polling interval. */
export const MAINTENANCE_INTERVAL_MS = 3600 * 1000;

export interface Pruned {
  auditEvents: number;
  accessEvents: number;
}

/** The oldest moment still kept: the same day and time, RETENTION_MONTHS calendar months ago (UTC). */
export function retentionCutoff(now: Date): Date {
  const cutoff = new Date(now);
  const day = cutoff.getUTCDate();
  cutoff.setUTCDate(1);
  cutoff.setUTCMonth(cutoff.getUTCMonth() - RETENTION_MONTHS);
  // 31 August minus six months is the last day of February, not 3 March.
  const lastDay = new Date(Date.UTC(cutoff.getUTCFullYear(), cutoff.getUTCMonth() + 1, 0)).getUTCDate();
  cutoff.setUTCDate(Math.min(day, lastDay));
  return cutoff;
}

/** Housekeeping the worker runs on its schedule: retention of the logs. */
export class Maintenance implements ScheduledJob {
  readonly name = 'retention';
  /** Prunes when an hour has passed since the last run in this process; null when not yet due. */
  readonly runIfDue: () => Promise<Pruned | null>;

  constructor(clock: Clock, audit: Audit, accessHistory: AccessHistory) {
    this.runIfDue = throttledJob(this.name, clock, MAINTENANCE_INTERVAL_MS, async () => {
      const cutoff = retentionCutoff(clock.now());
      return { auditEvents: await audit.prune(cutoff), accessEvents: await accessHistory.prune(cutoff) };
    }).runIfDue;
  }
}
