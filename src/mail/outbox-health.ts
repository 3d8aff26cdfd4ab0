import { QueryTypes } from 'sequelize';
import type { Database } from '../db';
import type { Clock } from '../lib/clock';
import type { OutboxKind } from '../models';

/** One lane of the outbox as an operator watches it. */
export interface LaneBacklog {
  /** Never attempted yet and due now. */
  queued: number;
  /** Attempted, failed, to be tried again. */
  retrying: number;
  /** Seconds since the oldest queued or retrying message was queued; null when there is none. */
  oldestAgeSeconds: number | null;
  /** Given up (attempts used up, or cancelled) within the last hour. */
  failedLastHour: number;
}

/**
 * The SMTP server as the outbox sees it: `failing` while emails wait for a retry, since the first
 * failure of the oldest of them; `ok` otherwise. States and times only, never a server's words: they
 * may quote addresses, internal hosts and what the client sent (AUTH), and readiness is public. The
 * words are in the worker's log and in `npm run check:mail`.
 */
export type SmtpState = { state: 'ok' } | { state: 'failing'; since: string };

export interface OutboxHealth {
  emails: LaneBacklog;
  mailServerCommands: LaneBacklog;
  smtp: SmtpState;
}

const LANES: Record<'emails' | 'mailServerCommands', OutboxKind> = { emails: 'email', mailServerCommands: 'doveadm' };
type Count = 'queued' | 'retrying' | 'failedLastHour';
/** Each count is one range of the index (kind, status, next_attempt_at): counted from its entries alone. */
const COUNTS: Record<Count, string> = {
  queued: "status = 'queued' AND next_attempt_at <= :now",
  retrying: "status = 'retrying'",
  failedLastHour: "status = 'failed' AND next_attempt_at > :hourAgo",
};
const HOUR_MS = 3_600_000;

interface CountRow {
  kind: OutboxKind;
  count: Count;
  n: number | string;
  oldest: number | string | null;
}

/**
 * The backlog of both lanes and the SMTP state, in at most two statements whatever the outbox holds: one
 * UNION of index-range aggregates (COUNT and MIN(id), which every secondary index carries), and one
 * primary-key read of the oldest rows.
 */
export async function outboxHealth(db: Database, clock: Clock): Promise<OutboxHealth> {
  const now = clock.now();
  const replacements = { now, hourAgo: new Date(now.getTime() - HOUR_MS) };
  const branches = Object.values(LANES).flatMap((kind) =>
    (Object.keys(COUNTS) as Count[]).map((count) => `SELECT '${kind}' AS kind, '${count}' AS count, COUNT(*) AS n, MIN(id) AS oldest FROM outbox_messages WHERE kind = '${kind}' AND ${COUNTS[count]}`),
  );
  const rows = await db.sequelize.query<CountRow>(branches.join(' UNION ALL '), { type: QueryTypes.SELECT, replacements });
  const counted = (kind: OutboxKind, count: Count) => rows.find((row) => row.kind === kind && row.count === count);
  // Ids grow with time: the lowest of a lane's backlog is its oldest message.
  const oldestIds = Object.values(LANES).map((kind) => {
    const ids = (['queued', 'retrying'] as const).map((count) => counted(kind, count)?.oldest).filter((id) => id !== null && id !== undefined);
    return ids.length ? Math.min(...ids.map(Number)) : null;
  });
  const oldestRetrying = counted('email', 'retrying')?.oldest;
  const wanted = [...oldestIds, oldestRetrying === null || oldestRetrying === undefined ? null : Number(oldestRetrying)].filter((id): id is number => id !== null);
  const firsts = wanted.length
    ? await db.models.OutboxMessage.findAll({ attributes: ['id', 'createdAt', 'firstFailedAt'], where: { id: wanted }, raw: true })
    : [];
  const lane = (kind: OutboxKind, oldestId: number | null): LaneBacklog => {
    const first = firsts.find((row) => row.id === oldestId);
    return {
      queued: Number(counted(kind, 'queued')?.n ?? 0),
      retrying: Number(counted(kind, 'retrying')?.n ?? 0),
      oldestAgeSeconds: first ? Math.max(0, Math.floor((now.getTime() - new Date(first.createdAt).getTime()) / 1000)) : null,
      failedLastHour: Number(counted(kind, 'failedLastHour')?.n ?? 0),
    };
  };
  const [emailsOldest = null, commandsOldest = null] = oldestIds;
  const failing = firsts.find((row) => row.id === Number(oldestRetrying));
  // A row that failed before first failures were kept (migration 013) has only its queueing time.
  const failingSince = failing && (failing.firstFailedAt ?? failing.createdAt);
  return {
    emails: lane('email', emailsOldest),
    mailServerCommands: lane('doveadm', commandsOldest),
    smtp: failingSince ? { state: 'failing', since: new Date(failingSince).toISOString() } : { state: 'ok' },
  };
}
