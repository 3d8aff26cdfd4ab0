import type { Audit } from './audit';
import type { AccessHistory } from './access-history';
import type { Clock } from '../lib/clock';
import type { ScheduledJob } from '../mail/worker';

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

/** Housekeeping the worker runs between deliveries: retention of the logs. */
export class Maintenance implements ScheduledJob {
  readonly name = 'retention';
  private lastRun: number | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly audit: Audit,
    private readonly accessHistory: AccessHistory,
  ) {}

  /** Prunes when an hour has passed since the last run in this process; null when not yet due. */
  async runIfDue(): Promise<Pruned | null> {
    const now = this.clock.now();
    if (this.lastRun !== null && now.getTime() - this.lastRun < MAINTENANCE_INTERVAL_MS) return null;
    this.lastRun = now.getTime();
    const cutoff = retentionCutoff(now);
    return { auditEvents: await this.audit.prune(cutoff), accessEvents: await this.accessHistory.prune(cutoff) };
  }
}
