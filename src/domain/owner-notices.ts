import { Op, type Transaction } from 'sequelize';
import { z } from 'zod';
import type { Config } from '../config';
import type { Database } from '../db';
import type { Clock } from '../lib/clock';
import { allowanceOf } from '../lib/ip';
import { digest, newToken, sameSecret } from '../lib/secrets';
import { dayKey, instantToItalianTime } from '../i18n/dates';
import { DEFAULT_LOCALE, isLocale } from '../i18n';
import { OWNER_NOTICE_EVENTS, type Collaborator, type Mailbox, type MailProtocol, type NoticeSetting, type OutboxMessage, type OwnerNoticeEvent } from '../models';
import type { Outbox } from '../mail/outbox';
import { ownerPayload, type NoticeLine } from '../mail/message-types';
import { throttledJob, type ScheduledJob } from '../mail/worker';
import type { Actor } from './actor';
import type { Audit } from './audit';
import { isTokenShaped } from './links';
import { TransitionRefused, ValidationFailed } from './errors';

/** The scheduled jobs look for work at most this often, whatever the worker's polling interval. */
export const NOTICE_JOBS_INTERVAL_MS = 60_000;
/** How many expired invitations one run of the job tells about; the rest wait for the next minute. */
const EXPIRIES_PER_RUN = 100;

/** How long the link that confirms a notification address works: 24 hours. */
export const ADDRESS_LINK_TTL_MS = 24 * 3600 * 1000;
/**
 * At most this many confirmation emails (notice_address) per mailbox in any ADDRESS_LINK_TTL_MS,
 * counted in the outbox: an owner cannot make the installation's sender mail strangers over and over
 * (the security review of the notification address).
 */
export const ADDRESS_LINKS_PER_DAY = 5;

/** An address the owner asked for and has not confirmed: nothing goes to it until then. */
export interface PendingAddress {
  address: string;
  /** When the emailed link stops working. */
  expiresAt: Date;
}

/**
 * An address link as the signed-in owner opens it: `live` (theirs, confirmable), `elsewhere` (the
 * live link of another mailbox: not their page, 404), `invalid` (wrong, expired, used or withdrawn).
 */
export type AddressLinkState = 'live' | 'elsewhere' | 'invalid';

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
  /** The address waiting for confirmation while its link is live, else null. */
  pending: PendingAddress | null;
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

const NO_PENDING = { pendingAddress: null, pendingTokenDigest: null, pendingExpiresAt: null } as const;

/**
 * What a save changes of the events and the delivery, for the activity log: `events` (those now on),
 * `delivery` (immediate or digest), `digestHour`; {} when nothing.
 */
function choiceChanges(row: Pick<NoticeSetting, 'eventsOff' | 'digestHour'>, next: { eventsOff: string; digestHour: number | null }): Record<string, unknown> {
  const changed: Record<string, unknown> = {};
  if (row.eventsOff !== next.eventsOff) changed.events = OWNER_NOTICE_EVENTS.filter((event) => !next.eventsOff.split(',').includes(event));
  if ((row.digestHour === null) !== (next.digestHour === null)) changed.delivery = next.digestHour === null ? 'immediate' : 'digest';
  if (next.digestHour !== null && row.digestHour !== next.digestHour) changed.digestHour = next.digestHour;
  return changed;
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
    private readonly audit: Audit,
  ) {
    this.digests = throttledJob('owner-digests', clock, NOTICE_JOBS_INTERVAL_MS, () => this.sendDueDigests());
    this.expiries = throttledJob('invitation-expiries', clock, NOTICE_JOBS_INTERVAL_MS, () => this.tellExpiredInvitations());
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
    const pending = row && this.pendingLive(row) ? { address: row.pendingAddress as string, expiresAt: row.pendingExpiresAt as Date } : null;
    return {
      address: row?.address ?? mailbox.address,
      addressIsMailbox: !row?.address,
      events: OWNER_NOTICE_EVENTS.filter((event) => !off.has(event)),
      digestHour: row?.digestHour ?? null,
      pending,
    };
  }

  /**
   * Saves the owner's choices for `actor`; ValidationFailed (`address`: email_format, too_long or
   * address_links_limit; `digestHour`: invalid) changes nothing. An address equal to the mailbox's,
   * or none, means the mailbox, at once, and withdraws any pending one. Any other address is only
   * pending (see requestAddress) until confirmed; saving the pending address again while its link is
   * live sends nothing. Turning the digest off sends the notices it was keeping at once, as one
   * digest, in the same transaction. What changed is recorded (notices.changed).
   */
  async save(mailbox: Mailbox, input: NoticeForm, { actor }: { actor: Actor }): Promise<NoticeChoices> {
    const parsed = form.safeParse({ ...input, digestHour: input.delivery === 'digest' ? input.digestHour : '0' });
    if (!parsed.success) throw new ValidationFailed(Object.fromEntries(parsed.error.issues.map((issue) => [String(issue.path[0]), issue.message])));
    const { address, delivery, digestHour } = parsed.data;
    const own = address === '' || address.toLowerCase() === mailbox.address.toLowerCase();
    const eventsOff = OWNER_NOTICE_EVENTS.filter((event) => !input.events.includes(event)).join(',');
    const fields = { eventsOff, digestHour: delivery === 'digest' ? digestHour : null };
    await this.db.transaction(async (t) => {
      const row = await this.settingOf(mailbox, t);
      const changed: Record<string, unknown> = choiceChanges(row, fields);
      const confirmed = own ? null : address;
      if (confirmed?.toLowerCase() === row.address?.toLowerCase()) {
        if (this.pendingLive(row)) changed.address = confirmed ?? mailbox.address;
        await row.update({ ...fields, address: confirmed, ...NO_PENDING }, { transaction: t });
      } else if (own) {
        changed.address = mailbox.address;
        await row.update({ ...fields, address: null, ...NO_PENDING }, { transaction: t });
      } else {
        await row.update(fields, { transaction: t });
        if (!(this.pendingLive(row) && row.pendingAddress?.toLowerCase() === address.toLowerCase())) await this.requestAddress(mailbox, row, address, actor, t);
      }
      if (Object.keys(changed).length > 0) await this.audit.recordOwner(actor, 'notices.changed', mailbox, t, changed);
      if (fields.digestHour === null) await this.sendStored(mailbox, t);
    });
    return this.choices(mailbox);
  }

  /**
   * Sends the link for the pending address again, with a new token (the earlier link stops working),
   * at the owner's explicit request: it counts toward ADDRESS_LINKS_PER_DAY (ValidationFailed
   * `address: address_links_limit` beyond it). TransitionRefused (409) when no address is pending.
   */
  async resendAddressLink(mailbox: Mailbox, { actor }: { actor: Actor }): Promise<NoticeChoices> {
    await this.db.transaction(async (t) => {
      const row = await this.db.models.NoticeSetting.findByPk(mailbox.id, { transaction: t });
      if (!row || !this.pendingLive(row)) throw new TransitionRefused('not pending', 'resend');
      await this.requestAddress(mailbox, row, row.pendingAddress as string, actor, t);
    });
    return this.choices(mailbox);
  }

  /** What an emailed address link is to the owner of `mailbox` (AddressLinkState). Changes nothing. */
  async addressLink(mailbox: Pick<Mailbox, 'id'>, token: string): Promise<AddressLinkState> {
    const row = await this.db.models.NoticeSetting.findByPk(mailbox.id);
    if (row && this.tokenMatches(row, token)) return 'live';
    if (!isTokenShaped(token)) return 'invalid';
    const elsewhere = await this.db.models.NoticeSetting.count({ where: { pendingTokenDigest: digest(token), pendingExpiresAt: { [Op.gt]: this.clock.now() } } });
    return elsewhere > 0 ? 'elsewhere' : 'invalid';
  }

  /**
   * Confirms the pending address of `mailbox` with the emailed `token`: from now on notices and
   * reminders go there (notices.address_confirmed); returns that address. Null, changing nothing, when the token is not
   * the live one (wrong, expired, already used, withdrawn). Single use: of simultaneous confirmations
   * one conditional update wins.
   */
  async confirmAddress(mailbox: Mailbox, token: string, { actor }: { actor: Actor }): Promise<string | null> {
    return this.db.transaction(async (t) => {
      const row = await this.db.models.NoticeSetting.findByPk(mailbox.id, { transaction: t });
      if (!row || !this.tokenMatches(row, token)) return null;
      const address = row.pendingAddress as string;
      const [claimed] = await this.db.models.NoticeSetting.update({ address, ...NO_PENDING }, { where: { mailboxId: mailbox.id, pendingTokenDigest: row.pendingTokenDigest }, transaction: t });
      if (claimed !== 1) return null;
      await this.audit.recordOwner(actor, 'notices.address_confirmed', mailbox, t, { address });
      return address;
    });
  }

  /** The settings row of `mailbox`, created with the defaults when there is none yet. */
  private async settingOf(mailbox: Pick<Mailbox, 'id'>, t: Transaction): Promise<NoticeSetting> {
    const defaults = { mailboxId: mailbox.id, address: null, eventsOff: '', digestHour: null, digestDay: null, ...NO_PENDING };
    const [row] = await this.db.models.NoticeSetting.findOrCreate({ where: { mailboxId: mailbox.id }, defaults, transaction: t });
    return row;
  }

  /** True while `row` has a pending address whose link has not expired. */
  private pendingLive(row: NoticeSetting): boolean {
    return row.pendingAddress !== null && row.pendingExpiresAt !== null && row.pendingExpiresAt.getTime() > this.clock.now().getTime();
  }

  /** True when `token` is the live link of `row`: its digest compared in constant time. */
  private tokenMatches(row: NoticeSetting, token: string): boolean {
    if (!this.pendingLive(row) || row.pendingTokenDigest === null || !isTokenShaped(token)) return false;
    return sameSecret(digest(token), row.pendingTokenDigest);
  }

  /**
   * Makes `address` the pending one with a fresh token (any earlier link stops working), and emails
   * the link to it (notice_address, in the mailbox's language): ValidationFailed
   * (`address: address_links_limit`) once ADDRESS_LINKS_PER_DAY such emails left this mailbox in the
   * last ADDRESS_LINK_TTL_MS. Records notices.address_requested.
   */
  private async requestAddress(mailbox: Mailbox, row: NoticeSetting, address: string, actor: Actor, t: Transaction): Promise<void> {
    // SQLite's transactions already run one at a time: only MariaDB needs the row lock to count safely.
    if (this.db.dialect === 'mysql') await this.db.claim(this.db.models.Mailbox, mailbox.id, t);
    const now = this.clock.now().getTime();
    const since = new Date(now - ADDRESS_LINK_TTL_MS);
    const { count } = await this.outbox.countEmails({ mailboxId: mailbox.id, templates: ['notice_address'], since, atMost: ADDRESS_LINKS_PER_DAY }, t);
    if (count >= ADDRESS_LINKS_PER_DAY) throw new ValidationFailed({ address: 'address_links_limit' });
    const token = newToken();
    const expiresAt = new Date(now + ADDRESS_LINK_TTL_MS);
    await row.update({ pendingAddress: address, pendingTokenDigest: digest(token), pendingExpiresAt: expiresAt }, { transaction: t });
    await this.outbox.enqueueEmail(
      {
        template: 'notice_address',
        to: address,
        locale: localeOf(mailbox),
        mailboxId: mailbox.id,
        collaboratorId: null,
        payload: ownerPayload(mailbox, { expiresAt: expiresAt.toISOString() }),
        link: `${this.config.ownerPagesUrl}/notifications/address/${token}`,
      },
      t,
    );
    await this.audit.recordOwner(actor, 'notices.address_requested', mailbox, t, { address, expiresAt: expiresAt.toISOString() });
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
   * device (mailDevice) and collaborator, recorded under the collaborator's row lock so that the
   * several connections a program opens at once tell it once. A sign-in without a program name is from a known device when
   * any program of the collaborator signed in from its network; a named program on a network known
   * only from unnamed sign-ins is recorded without a second notice.
   */
  async mailSignIn(collaboratorId: number, sign: { channel: MailProtocol; clientName: string | null; ip: string | null }, t: Transaction): Promise<void> {
    if (sign.channel === 'doveadm') return;
    const { network, program } = mailDevice(sign.clientName, sign.ip);
    const { MailDevice, Collaborator, Mailbox } = this.db.models;
    // A network (an address, a /64, `loopback` or `unknown`) holds no LIKE wildcard.
    const knownDevices = () => MailDevice.findAll({ attributes: ['device'], where: { collaboratorId, device: { [Op.like]: `${network}|%` } }, transaction: t });
    const isKnown = (known: Array<{ device: string }>) => (program === '' ? known.length > 0 : known.some((row) => row.device === `${network}|${program}`));
    if (isKnown(await knownDevices())) return;
    // A device not seen yet (rare): the collaborator's row is claimed, so that the several connections a
    // program opens at once record it once, in turn, with no failed insert (a unique-key error would
    // roll back, on MariaDB, the whole sign-in report's transaction).
    const collaborator = await this.db.claim(Collaborator, collaboratorId, t);
    if (!collaborator) return;
    const known = await knownDevices();
    if (isKnown(known)) return;
    const now = this.clock.now();
    await MailDevice.create({ collaboratorId, device: `${network}|${program}`.slice(0, 200), firstSeenAt: now }, { transaction: t });
    if (known.length > 0) return;
    const mailbox = await Mailbox.findByPk(collaborator.mailboxId, { transaction: t });
    if (!mailbox) return;
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
    const hour = Number(instantToItalianTime(now).time.slice(0, 2));
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
}
