import { Op, QueryTypes } from 'sequelize';
import type { Database } from '../db';
import type { Config } from '../config';
import type { Collaborator, Mailbox } from '../models';
import type { Clock } from '../lib/clock';
import type { Outbox } from '../mail/outbox';
import type { EmailToQueue } from '../mail/outbox';
import { ownerPayload } from '../mail/message-types';
import type { ScheduledJob } from '../mail/worker';
import { italianTimeToInstant } from '../i18n/dates';
import type { Collaborations } from './collaborators';
import { NotFound, TransitionRefused } from './errors';
import { noticeAddressOf } from './owner-notices';

/** The form's fields for the end of access: Italian date (`YYYY-MM-DD`) and time (`HH:MM`); both empty: no end. */
export interface AccessEndInput {
  accessEndDate?: string;
  accessEndTime?: string;
}

const DAY_MS = 24 * 3600 * 1000;
/** Accounts ended, or reminders sent, per query: a backlog (the worker was down) goes in small batches. */
export const ACCESS_END_BATCH = 20;

/**
 * The end the owner typed, as an instant; `{ endsAt: null }` for none (both fields empty). Errors
 * (message keys): `access_end_format` (one field missing, or malformed, or no such day), and
 * `access_end_past` (not after `now`: an end must lie ahead when it is set).
 */
export function accessEndOf(input: AccessEndInput, now: Date): { endsAt: Date | null } | { error: string } {
  const date = (input.accessEndDate ?? '').trim();
  const time = (input.accessEndTime ?? '').trim();
  if (date === '' && time === '') return { endsAt: null };
  const endsAt = italianTimeToInstant(date, time);
  if (!endsAt) return { error: 'access_end_format' };
  if (endsAt.getTime() <= now.getTime()) return { error: 'access_end_past' };
  return { endsAt };
}

/**
 * What `remindedEndAt` starts as for an end set at `now`: the end itself when it is already within
 * `days` of now (such an end gets no reminder: the owner has just chosen it, and a reminder now would
 * only repeat it), else null (the reminder is armed). Setting another end re-arms it.
 */
export function remindedEndFor(endsAt: Date | null, now: Date, days: number): Date | null {
  return endsAt && endsAt.getTime() - days * DAY_MS <= now.getTime() ? endsAt : null;
}

/**
 * The worker's scheduled job (every second, in its own lane) for access that ends at a date:
 * - ends every account whose end is at or before the domain clock's now (Collaborations.endAccess),
 *   including ends passed while no process ran, oldest first, ACCESS_END_BATCH at a time;
 * - sends each owner one reminder ACCESS_REMINDER_DAYS before an end, once per end.
 * Several workers may run it at once: an ending is a state transition under the row's lock (the
 * loser finds the row deactivated: TransitionRefused, nothing done), a reminder a conditional update
 * of `reminded_end_at` that only one transaction can make.
 */
export class AccessEnds implements ScheduledJob {
  readonly name = 'access-end';

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly config: Config,
    private readonly outbox: Outbox,
    private readonly collaborations: Collaborations,
  ) {}

  async runIfDue(): Promise<{ ended: number; reminded: number } | null> {
    const ended = await this.endDue();
    const reminded = await this.remindDue();
    return ended + reminded > 0 ? { ended, reminded } : null;
  }

  /** Ends the accounts whose end has come; returns how many this call ended. */
  async endDue(): Promise<number> {
    let ended = 0;
    for (;;) {
      const due = await this.db.models.Collaborator.findAll({
        where: { accessEndsAt: { [Op.lte]: this.clock.now() }, status: { [Op.ne]: 'deactivated' } },
        order: [['accessEndsAt', 'ASC'], ['id', 'ASC']],
        limit: ACCESS_END_BATCH,
      });
      for (const c of due) if (await this.end(c)) ended += 1;
      if (due.length < ACCESS_END_BATCH) return ended;
    }
  }

  /** One ending; false when another worker or the owner came first. */
  private async end(c: Collaborator): Promise<boolean> {
    try {
      await this.collaborations.endAccess(c);
      return true;
    } catch (error) {
      if (error instanceof TransitionRefused || error instanceof NotFound) return false;
      throw error;
    }
  }

  /** Sends the reminders now due, one per end; returns how many this call sent. */
  async remindDue(): Promise<number> {
    const now = this.clock.now();
    const due = await this.db.sequelize.query<{ id: number }>(
      `SELECT id FROM collaborators WHERE access_ends_at > :now AND access_ends_at <= :horizon
        AND status <> 'deactivated' AND (reminded_end_at IS NULL OR reminded_end_at <> access_ends_at)
        ORDER BY access_ends_at, id LIMIT ${ACCESS_END_BATCH}`,
      { replacements: { now, horizon: new Date(now.getTime() + this.config.accessReminderDays * DAY_MS) }, type: QueryTypes.SELECT },
    );
    let sent = 0;
    for (const { id } of due) if (await this.remind(Number(id))) sent += 1;
    return sent;
  }

  /**
   * Claims the reminder of one account's current end (`reminded_end_at` := `access_ends_at`, only if
   * not yet so) and queues it in the same transaction; false when another worker claimed it first.
   */
  private async remind(id: number): Promise<boolean> {
    return this.db.transaction(async (t) => {
      const [, claimed] = await this.db.sequelize.query(
        `UPDATE collaborators SET reminded_end_at = access_ends_at WHERE id = :id AND access_ends_at IS NOT NULL
          AND status <> 'deactivated' AND (reminded_end_at IS NULL OR reminded_end_at <> access_ends_at)`,
        { replacements: { id }, transaction: t, type: QueryTypes.UPDATE },
      );
      if (claimed !== 1) return false;
      const c = await this.db.models.Collaborator.findByPk(id, { transaction: t });
      const mailbox = c && (await this.db.models.Mailbox.findByPk(c.mailboxId, { transaction: t }));
      if (!c?.accessEndsAt || !mailbox) return false;
      await this.outbox.enqueueEmail(this.reminderEmail(c, mailbox, c.accessEndsAt, await noticeAddressOf(this.db, mailbox, t)), t);
      return true;
    });
  }

  /**
   * The owner's reminder, to the notification address (noticeAddressOf) whatever events the owner
   * chose to be told of, and at once even with a daily digest (it asks for a decision before a
   * moment): the collaborator named, the end, and the link to the page that extends it.
   */
  private reminderEmail(c: Collaborator, mailbox: Mailbox, endsAt: Date, to: string): EmailToQueue {
    return {
      template: 'access_end_reminder',
      to,
      locale: mailbox.locale,
      mailboxId: mailbox.id,
      collaboratorId: null,
      link: `${this.config.ownerPagesUrl}/${c.id}/extension`,
      payload: ownerPayload(mailbox, { collaborator: c.fullName, username: c.username, accessEndsAt: endsAt.toISOString() }),
    };
  }
}
