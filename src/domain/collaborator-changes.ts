import type { Transaction } from 'sequelize';
import type { Database } from '../db';
import { listChanged, raisingOnce } from '../db/list-versions';
import { execute } from '../db/statements';
import type { Config } from '../config';
import type { AccessLevel, Collaborator, LinkPurpose, Mailbox } from '../models';
import type { EmailTemplate } from '../mail/message-types';
import type { Outbox } from '../mail/outbox';
import type { MailServerCommand } from '../mail/doveadm';
import type { Actor } from './actor';
import type { Audit, AuditAction, AuditRecord } from './audit';
import type { Links } from './links';
import type { OwnerNotices } from './owner-notices';
import { NotFound } from './errors';
import { transition, type AccountEvent } from './state-machine';
import { revokeSessions } from './sessions';

const LINK_EMAIL: Record<LinkPurpose, EmailTemplate> = {
  invitation: 'invitation',
  owner_reset: 'owner_reset',
  self_reset: 'self_reset',
};

/**
 * What every change of a collaborator account is built from, whoever makes it (the owner's
 * Collaborations, the collaborator's SelfService): the row re-read under lock and checked against
 * the state machine, access ended, links issued and emails queued in the same transaction.
 */
export class CollaboratorChanges {
  constructor(
    private readonly db: Database,
    private readonly config: Config,
    private readonly links: Links,
    private readonly outbox: Outbox,
    private readonly audit: Audit,
    /** What the owner is told of a change (OwnerNotices.notify), in the change's transaction. */
    readonly notices: OwnerNotices,
  ) {}

  /**
   * Runs one transition: re-reads the row inside the transaction (another tab may have acted
   * first), checks the state machine (TransitionRefused), applies the effects and the new state,
   * and raises the list's version once. `mailbox` is the collaborator's mailbox when the caller
   * has it already (the signed-in owner's), else it is read.
   */
  async change(
    collaborator: Collaborator,
    event: AccountEvent,
    effects: (c: Collaborator, mailbox: Mailbox, t: Transaction) => Promise<Partial<Collaborator>>,
    mailbox?: Mailbox,
  ): Promise<Collaborator> {
    transition(collaborator.status, event);
    return this.db.transaction(async (t) => {
      const current = await this.reload(collaborator, t);
      const status = transition(current.status, event) as Collaborator['status'];
      const its = mailbox?.id === current.mailboxId ? mailbox : await this.mailboxOf(current, t);
      return raisingOnce(this.db.sequelize, { mailboxId: current.mailboxId, collaboratorIds: [current.id] }, t, async () => {
        const fields = await effects(current, its, t);
        return this.write(current, { ...fields, status }, t);
      });
    });
  }

  /**
   * Writes the `fields` that differ from `c` in one plain UPDATE (none when none differs, as
   * Model#update) and sets them on `c`, which it returns. `updated_at` is the system's time, as
   * Sequelize writes it.
   */
  private async write(c: Collaborator, fields: Partial<Collaborator>, t: Transaction): Promise<Collaborator> {
    const attributes = this.db.models.Collaborator.getAttributes();
    const changed = Object.entries(fields).filter(([name, value]) => !sameValue(c.get(name as keyof Collaborator), value));
    if (changed.length === 0) return c;
    const updatedAt = new Date();
    const columns = [...changed.map(([name]) => attributes[name as keyof typeof attributes]?.field ?? name), 'updated_at'];
    const sets = columns.map((column, i) => `${column} = $${i + 1}`).join(', ');
    await execute(this.db, `UPDATE collaborators SET ${sets} WHERE id = $${columns.length + 1}`, [...changed.map(([, value]) => value), updatedAt, c.id], t);
    c.set({ ...Object.fromEntries(changed), updatedAt }, { raw: true });
    return c;
  }

  /** The row as stored, locked until the transaction ends (on every node: Database.claim); NotFound once removed. */
  async reload(collaborator: Collaborator, t: Transaction): Promise<Collaborator> {
    const current = await this.db.claim(this.db.models.Collaborator, collaborator.id, t);
    if (!current) throw new NotFound('collaborator');
    return current;
  }

  async mailboxOf(collaborator: Collaborator, t?: Transaction): Promise<Mailbox> {
    const mailbox = await this.db.models.Mailbox.findByPk(collaborator.mailboxId, { transaction: t });
    if (!mailbox) throw new NotFound('mailbox');
    return mailbox;
  }

  /**
   * Everything a password gave ends with it (an owner's reset or deactivation, a password reset or
   * change): web sessions now (but `keepSid`'s), app passwords, and the mail server is asked to drop
   * mail-program connections. An app password made from a stolen session does not outlive the
   * password change that follows the theft (as Google does).
   */
  async revokeAccess(c: Collaborator, t: Transaction, keepSid?: string): Promise<void> {
    await revokeSessions(this.db, { type: 'collaborator', id: c.id }, t, keepSid);
    await this.revokeAppPasswords(c, t);
    await this.kickMailPrograms(c, c.accessLevel, t);
  }

  /**
   * Open IMAP/POP3/submission connections outlive a password change: every Dovecot is asked to drop
   * them and forget the cached password, through the outbox's mail-server lane (retried until it goes
   * through). `level` is the access the account had until now.
   */
  async kickMailPrograms(c: Collaborator, level: AccessLevel, t: Transaction): Promise<void> {
    if (level === 'mail_clients') await this.tellMailServers('kick', c, t);
  }

  /**
   * A password that mail programs may now use (set, or access raised to mail programs): every
   * Dovecot forgets what its auth cache holds for the user (the old password, or "unknown user"), so
   * the new password works at the first attempt when `auth_cache_size` is on. `level` is the access
   * the account has from now on.
   */
  async flushMailServerCache(c: Collaborator, level: AccessLevel, t: Transaction): Promise<void> {
    if (level === 'mail_clients') await this.tellMailServers('flush', c, t);
  }

  private async tellMailServers(command: MailServerCommand, c: Collaborator, t: Transaction): Promise<void> {
    const { doveadmUrls } = this.config.mailServer;
    await this.outbox.enqueueMailServerCommand(command, c.username, doveadmUrls, { mailboxId: c.mailboxId, collaboratorId: c.id }, t);
  }

  /**
   * Issues a link (revoking the earlier ones unless `keepEarlier`), emails it and records `action`,
   * whose detail holds the link's purpose and expiry besides `detail`, after the `before` records
   * (in the same statement).
   */
  async sendLink(
    c: Collaborator,
    mailbox: Mailbox,
    purpose: LinkPurpose,
    actor: Actor,
    action: AuditAction,
    t: Transaction,
    { keepEarlier = false, detail = {}, before = [] }: { keepEarlier?: boolean; detail?: Record<string, unknown>; before?: readonly AuditRecord[] } = {},
  ): Promise<void> {
    const { expiresAt, token } = keepEarlier ? await this.links.issueAnother(c, purpose, t) : await this.links.issue(c, purpose, t);
    await this.email(c, mailbox, LINK_EMAIL[purpose], t, { link: `${this.config.linksUrl}/${token}`, expiresAt });
    await this.audit.recordAll(actor, [...before, { action, detail: { ...detail, purpose, expiresAt: expiresAt.toISOString() } }], c, t);
  }

  /**
   * Every app password of the account ends (revokeAccess, access lowered below mail programs), in the
   * caller's transaction; the caller also kicks the mail programs.
   */
  async revokeAppPasswords(c: Collaborator, t: Transaction): Promise<void> {
    await execute(this.db, 'DELETE FROM app_passwords WHERE collaborator_id = $1', [c.id], t);
    await listChanged(this.db.sequelize, { mailboxId: c.mailboxId }, t);
  }

  /** Queues one email to the collaborator's reference address, in its language. */
  async email(
    c: Collaborator,
    mailbox: Mailbox,
    template: EmailTemplate,
    t: Transaction,
    extra: { link?: string; expiresAt?: Date; accessEndsAt?: Date; appPassword?: { name: string; createdAt: Date }; identityProvider?: string } = {},
  ): Promise<void> {
    await this.outbox.enqueueEmail(
      {
        template,
        to: c.referenceEmail,
        locale: c.locale,
        mailboxId: mailbox.id,
        collaboratorId: c.id,
        link: extra.link,
        payload: {
          firstName: c.firstName,
          lastName: c.lastName,
          username: c.username,
          mailbox: mailbox.address,
          ...(mailbox.displayName ? { ownerName: mailbox.displayName } : {}),
          accessLevel: c.accessLevel,
          expiresAt: extra.expiresAt?.toISOString(),
          // The end of access, when the account has one (an invitation tells it; access_ended names it).
          accessEndsAt: (extra.accessEndsAt ?? c.accessEndsAt)?.toISOString(),
          appPassword: extra.appPassword && { name: extra.appPassword.name, createdAt: extra.appPassword.createdAt.toISOString() },
          identityProvider: extra.identityProvider,
        },
      },
      t,
    );
  }
}

/** Whether a stored value and a new one are the same (instants by their time). */
function sameValue(stored: unknown, next: unknown): boolean {
  if (stored instanceof Date || next instanceof Date) return stored instanceof Date && next instanceof Date && stored.getTime() === next.getTime();
  return (stored ?? null) === (next ?? null);
}
