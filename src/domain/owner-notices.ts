import { Op, UniqueConstraintError, type Transaction } from 'sequelize';
import { z } from 'zod';
import type { Config } from '../config';
import type { Database } from '../db';
import type { Clock } from '../lib/clock';
import { allowanceOf } from '../lib/ip';
import { dayKey } from '../i18n/dates';
import { DEFAULT_LOCALE, isLocale } from '../i18n';
import { OWNER_NOTICE_EVENTS, type Collaborator, type Mailbox, type MailProtocol, type OutboxMessage, type OwnerNoticeEvent } from '../models';
import type { Outbox } from '../mail/outbox';
import { ownerPayload, type NoticeLine } from '../mail/message-types';
import type { ScheduledJob } from '../mail/worker';
import { ValidationFailed } from './errors';

/** The scheduled jobs look for work at most this often, whatever the worker's polling interval. */
export const NOTICE_JOBS_INTERVAL_MS = 60_000;
/** How many expired invitations one run of the job tells about; the rest wait for the next minute. */
const EXPIRIES_PER_RUN = 100;

/** The mailbox a notice is about, as its owner reads it. */
export type NoticeMailbox = Pick<Mailbox, 'id' | 'address' | 'displayName' | 'locale'>;

/** What happened, to whom and when; `detail` is a fact in the collaborator's data (a server's refusal…). */
export interface NoticeFact {
  collaborator: Pick<Collaborator, 'id' | 'firstName' | 'lastName' | 'username'>;
  at: Date;
  detail?: string | null;
}

/** The owner's choices, as the settings page shows them. */
export interface NoticeChoices {
  /** Where notices go: the mailbox itself unless another address was set. */
  address: string;
  /** True when `address` is the mailbox (nothing else set). */
  addressIsMailbox: boolean;
  events: OwnerNoticeEvent[];
  /** The hour (0–23, Italian time) of the daily digest; null: each notice at once. */
  digestHour: number | null;
}

/** The settings form as posted: `address` ('' for the mailbox), `events`, `delivery` and `digestHour`. */
export interface NoticeForm {
  address: string;
  events: string[];
  delivery: string;
  digestHour: string;
}

const form = z.object({
  address: z.string().trim().max(254, 'too_long').pipe(z.union([z.literal(''), z.email('email_format')])),
  delivery: z.enum(['immediate', 'digest'], 'invalid'),
  digestHour: z.string().regex(/^\d{1,2}$/, 'invalid').transform(Number).pipe(z.number().max(23, 'invalid')),
});

const romeHour = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', hourCycle: 'h23', timeZone: 'Europe/Rome' });

/** The hour (0–23) the clocks in Italy show at `now`. */
export function italianHour(now: Date): number {
  return Number(romeHour.format(now));
}

/** The language of the owner's notices: the mailbox's, else Italian. */
const localeOf = (mailbox: NoticeMailbox) => (isLocale(mailbox.locale) ? mailbox.locale : DEFAULT_LOCALE);

/**
 * The notification address of a mailbox: the address its owner set under Collaborations →
 * Notifications, else the mailbox itself. Reads in `t` when given.
 */
export async function noticeAddressOf(db: Database, mailbox: Pick<Mailbox, 'id' | 'address'>, t?: Transaction): Promise<string> {
  const row = await db.models.NoticeSetting.findByPk(mailbox.id, { attributes: ['address'], transaction: t });
  return row?.address ?? mailbox.address;
}

/**
 * The device of a mail program's sign-in: the network it came from (allowanceOf: the IPv4 address,
 * the IPv6 /64, as the sign-in limits count a client) and the program's name from its IMAP ID without
 * the version (an update is no new device). '' for a program that gave no name (SMTP has no IMAP ID).
 */
export function mailDevice(clientName: string | null, ip: string | null): { network: string; program: string } {
  const program = (clientName ?? '').replace(/\s+v?\d[\w.+-]*$/i, '').trim().toLowerCase();
  return { network: allowanceOf(ip), program };
}

/**
 * What the owner is told about collaborators: each event at once by email, or stored for one daily
 * digest, as the owner chose (Collaborations → Notifications); events turned off are dropped. Every
 * notice is queued in the transaction of the change that causes it.
 */
export class OwnerNotices {
  /** The daily digest, for `domain.scheduled`. */
  readonly digests: ScheduledJob;
  /** Invitations that expired unused, for `domain.scheduled`. */
  readonly expiries: ScheduledJob;

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly config: Config,
    private readonly outbox: Outbox,
  ) {
    this.digests = this.throttled('owner-digests', () => this.sendDueDigests());
    this.expiries = this.throttled('invitation-expiries', () => this.tellExpiredInvitations());
  }

  /**
   * Tells the owner of `mailbox` that `event` happened to `fact.collaborator` at `fact.at`, inside
   * `t` (the transaction of the change): nothing when the owner turned that event off, one email now
   * (owner_notice, to the notification address, in the mailbox's language) when notices go at once,
   * else a row for the next digest.
   */
  async notify(mailbox: NoticeMailbox, event: OwnerNoticeEvent, fact: NoticeFact, t: Transaction): Promise<void> {
    const choices = await this.choices(mailbox, t);
    if (!choices.events.includes(event)) return;
    const { id, firstName, lastName, username } = fact.collaborator;
    const detail = fact.detail ? fact.detail.slice(0, 300) : null;
    if (choices.digestHour !== null) {
      await this.db.models.OwnerNotice.create({ mailboxId: mailbox.id, event, collaboratorId: id, firstName, lastName, username, detail, occurredAt: fact.at }, { transaction: t });
      return;
    }
    const line = this.line({ event, collaboratorId: id, firstName, lastName, username, detail, occurredAt: fact.at }, true);
    await this.send(mailbox, choices.address, 'owner_notice', [line], t);
  }

  /** The notification address of `mailbox` (noticeAddressOf). */
  addressOf(mailbox: Pick<Mailbox, 'id' | 'address'>, t?: Transaction): Promise<string> {
    return noticeAddressOf(this.db, mailbox, t);
  }

  /** The owner's choices; the defaults (every event, at once, to the mailbox) until saved. */
  async choices(mailbox: Pick<Mailbox, 'id' | 'address'>, t?: Transaction): Promise<NoticeChoices> {
    const row = await this.db.models.NoticeSetting.findByPk(mailbox.id, { transaction: t });
    const off = new Set((row?.eventsOff ?? '').split(',').filter(Boolean));
    return {
      address: row?.address ?? mailbox.address,
      addressIsMailbox: !row?.address,
      events: OWNER_NOTICE_EVENTS.filter((event) => !off.has(event)),
      digestHour: row?.digestHour ?? null,
    };
  }

  /**
   * Saves the owner's choices; ValidationFailed (`address`: email_format or too_long; `digestHour`:
   * invalid) changes nothing. An address equal to the mailbox's, or none, means the mailbox. Turning
   * the digest off sends the notices it was keeping at once, as one digest, in the same transaction.
   */
  async save(mailbox: NoticeMailbox, input: NoticeForm): Promise<NoticeChoices> {
    const parsed = form.safeParse({ ...input, digestHour: input.delivery === 'digest' ? input.digestHour : '0' });
    if (!parsed.success) throw new ValidationFailed(Object.fromEntries(parsed.error.issues.map((issue) => [String(issue.path[0]), issue.message])));
    const { address, delivery, digestHour } = parsed.data;
    const own = address === '' || address.toLowerCase() === mailbox.address.toLowerCase();
    const eventsOff = OWNER_NOTICE_EVENTS.filter((event) => !input.events.includes(event)).join(',');
    await this.db.transaction(async (t) => {
      const fields = { address: own ? null : address, eventsOff, digestHour: delivery === 'digest' ? digestHour : null };
      const [row, created] = await this.db.models.NoticeSetting.findOrCreate({ where: { mailboxId: mailbox.id }, defaults: { mailboxId: mailbox.id, digestDay: null, ...fields }, transaction: t });
      if (!created) await row.update(fields, { transaction: t });
      if (fields.digestHour === null) await this.sendStored(mailbox, t);
    });
    return this.choices(mailbox);
  }

  /** email_failed, in the transaction that marks an email to a collaborator failed for good. */
  async emailFailed(message: Pick<OutboxMessage, 'mailboxId' | 'collaboratorId'>, reason: string, t: Transaction): Promise<void> {
    if (message.mailboxId === null || message.collaboratorId === null) return;
    const [mailbox, collaborator] = await Promise.all([
      this.db.models.Mailbox.findByPk(message.mailboxId, { transaction: t }),
      this.db.models.Collaborator.findByPk(message.collaboratorId, { attributes: ['id', 'firstName', 'lastName', 'username'], transaction: t }),
    ]);
    if (mailbox && collaborator) await this.notify(mailbox, 'email_failed', { collaborator, at: this.clock.now(), detail: reason }, t);
  }

  /**
   * new_mail_device, in the transaction that records a successful mail-program sign-in: once per
   * device (mailDevice) and collaborator, claimed by a unique row so that the several connections a
   * program opens at once tell it once. A sign-in without a program name is from a known device when
   * any program of the collaborator signed in from its network; a named program on a network known
   * only from unnamed sign-ins is recorded without a second notice.
   */
  async mailSignIn(collaboratorId: number, sign: { channel: MailProtocol; clientName: string | null; ip: string | null }, t: Transaction): Promise<void> {
    if (sign.channel === 'doveadm') return;
    const { network, program } = mailDevice(sign.clientName, sign.ip);
    const { MailDevice, Collaborator, Mailbox } = this.db.models;
    // A network (an address, a /64, `loopback` or `unknown`) holds no LIKE wildcard.
    const known = await MailDevice.findAll({ attributes: ['device'], where: { collaboratorId, device: { [Op.like]: `${network}|%` } }, transaction: t });
    if (program === '' ? known.length > 0 : known.some((row) => row.device === `${network}|${program}`)) return;
    const now = this.clock.now();
    try {
      // A savepoint: a simultaneous sign-in that recorded the device first leaves this transaction usable.
      await this.db.sequelize.transaction({ transaction: t }, (inner) => MailDevice.create({ collaboratorId, device: `${network}|${program}`.slice(0, 200), firstSeenAt: now }, { transaction: inner }));
    } catch (error) {
      if (error instanceof UniqueConstraintError) return;
      throw error;
    }
    if (known.length > 0) return;
    const collaborator = await Collaborator.findByPk(collaboratorId, { attributes: ['id', 'firstName', 'lastName', 'username', 'mailboxId'], transaction: t });
    const mailbox = collaborator && (await Mailbox.findByPk(collaborator.mailboxId, { transaction: t }));
    if (!collaborator || !mailbox) return;
    const detail = `${sign.clientName ?? sign.channel.toUpperCase()}, ${network}`;
    await this.notify(mailbox, 'new_mail_device', { collaborator, at: now, detail }, t);
  }

  /**
   * The digests due now: for each mailbox whose hour (Italian time) has come today and whose digest
   * for today was not claimed yet, one conditional update claims the day, then one email tells what
   * was stored (none when nothing was). The hour skipped when the clocks go forward is passed, so the
   * next run sends it; the hour repeated when they go back finds the day claimed.
   */
  async sendDueDigests(): Promise<{ digests: number } | null> {
    const now = this.clock.now();
    const today = dayKey(now);
    const hour = italianHour(now);
    const due = { digestHour: { [Op.lte]: hour }, [Op.or]: [{ digestDay: null }, { digestDay: { [Op.ne]: today } }] };
    const rows = await this.db.models.NoticeSetting.findAll({ attributes: ['mailboxId'], where: due });
    let digests = 0;
    for (const { mailboxId } of rows) {
      await this.db.transaction(async (t) => {
        const [claimed] = await this.db.models.NoticeSetting.update({ digestDay: today }, { where: { mailboxId, ...due }, transaction: t });
        const mailbox = claimed === 1 ? await this.db.models.Mailbox.findByPk(mailboxId, { transaction: t }) : null;
        if (mailbox && (await this.sendStored(mailbox, t))) digests += 1;
      });
    }
    return digests > 0 ? { digests } : null;
  }

  /**
   * invitation_expired for each invitation link that expired unredeemed and unrevoked and was not told
   * yet: claimed by a conditional update of its `expiry_noticed_at`, so two workers tell it once.
   */
  async tellExpiredInvitations(): Promise<{ expired: number } | null> {
    const { Link, Collaborator, Mailbox } = this.db.models;
    const now = this.clock.now();
    const untold = { purpose: 'invitation', usedAt: null, revokedAt: null, expiryNoticedAt: null, expiresAt: { [Op.lte]: now } } as const;
    const links = await Link.findAll({ attributes: ['id', 'collaboratorId', 'expiresAt'], where: untold, order: [['id', 'ASC']], limit: EXPIRIES_PER_RUN });
    let told = 0;
    for (const link of links) {
      await this.db.transaction(async (t) => {
        const [claimed] = await Link.update({ expiryNoticedAt: now }, { where: { id: link.id, ...untold }, transaction: t });
        const collaborator = claimed === 1 ? await Collaborator.findByPk(link.collaboratorId, { attributes: ['id', 'firstName', 'lastName', 'username', 'mailboxId', 'status'], transaction: t }) : null;
        const mailbox = collaborator?.status === 'pending' ? await Mailbox.findByPk(collaborator.mailboxId, { transaction: t }) : null;
        if (!collaborator || !mailbox) return;
        await this.notify(mailbox, 'invitation_expired', { collaborator, at: link.expiresAt }, t);
        told += 1;
      });
    }
    return told > 0 ? { expired: told } : null;
  }

  /** Sends the stored notices of `mailbox` as one digest and forgets them; false when there were none. */
  private async sendStored(mailbox: NoticeMailbox, t: Transaction): Promise<boolean> {
    const { OwnerNotice, Collaborator } = this.db.models;
    const stored = await OwnerNotice.findAll({ where: { mailboxId: mailbox.id }, order: [['occurredAt', 'ASC'], ['id', 'ASC']], transaction: t });
    if (stored.length === 0) return false;
    const ids = stored.map((notice) => notice.collaboratorId).filter((id): id is number => id !== null);
    const present = new Set((await Collaborator.findAll({ attributes: ['id'], where: { id: ids, mailboxId: mailbox.id }, transaction: t })).map((c) => c.id));
    const lines = stored.map((notice) => this.line(notice, notice.collaboratorId !== null && present.has(notice.collaboratorId)));
    await this.send(mailbox, await this.addressOf(mailbox, t), 'owner_digest', lines, t);
    await OwnerNotice.destroy({ where: { id: stored.map((notice) => notice.id) }, transaction: t });
    return true;
  }

  /** A notice as the email shows it, linking the collaborator's details page, or the list once the account is gone. */
  private line(notice: { event: OwnerNoticeEvent; collaboratorId: number | null; firstName: string; lastName: string; username: string; detail: string | null; occurredAt: Date }, exists: boolean): NoticeLine {
    const base = this.config.ownerPagesUrl;
    return {
      event: notice.event,
      name: `${notice.firstName} ${notice.lastName}`,
      username: notice.username,
      at: notice.occurredAt.toISOString(),
      ...(notice.detail ? { detail: notice.detail } : {}),
      url: exists && notice.collaboratorId !== null ? `${base}/${notice.collaboratorId}` : base,
    };
  }

  private async send(mailbox: NoticeMailbox, to: string, template: 'owner_notice' | 'owner_digest', notices: NoticeLine[], t: Transaction): Promise<void> {
    await this.outbox.enqueueEmail(
      {
        template,
        to,
        locale: localeOf(mailbox),
        mailboxId: mailbox.id,
        // None: a notice is no email to a collaborator (not in its row, and its failure tells nobody).
        collaboratorId: null,
        payload: ownerPayload(mailbox, { notices }),
      },
      t,
    );
  }

  /** A scheduled job that looks for work at most once per NOTICE_JOBS_INTERVAL_MS in this process. */
  private throttled(name: string, run: () => Promise<object | null>): ScheduledJob {
    let last: number | null = null;
    return {
      name,
      runIfDue: async () => {
        const now = this.clock.now().getTime();
        if (last !== null && now - last < NOTICE_JOBS_INTERVAL_MS) return null;
        last = now;
        return run();
      },
    };
  }
}
