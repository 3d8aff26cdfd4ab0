import { Op, UniqueConstraintError, type Transaction, type WhereOptions } from 'sequelize';
import { z } from 'zod';
import type { Database } from '../db';
import type { Config } from '../config';
import { ACCESS_LEVELS, type AccessLevel, type Collaborator, type Link, type LinkPurpose, type Mailbox, type OutboxMessage, type AuditEvent } from '../models';
import type { EmailTemplate } from '../mail/message-types';
import type { Outbox } from '../mail/outbox';
import type { Clock } from '../lib/clock';
import type { Actor } from './actor';
import type { Audit, AuditAction } from './audit';
import type { Links } from './links';
import { InvalidLink, NotFound, TooManyEmails, TransitionRefused, ValidationFailed, WrongPassword, type FieldErrors } from './errors';
import { allows, transition, type AccountEvent } from './state-machine';
import { checkPassword, hashPassword, verifyPassword, type PasswordProblem } from './passwords';
import { revokeSessions } from './sessions';
import { canonicalName } from '../lib/names';
import { isFitText } from '../lib/text';

export const PAGE_SIZE = 50;

/**
 * Control characters (CR/LF included) could forge mail headers; those and the other characters no
 * XML may hold (U+FFFF, unpaired surrogates…) would break the mail-program profile.
 */
const name = z.string().trim().min(1, 'required').max(80, 'too_long').refine(isFitText, 'invalid');

const newCollaborator = z.object({
  firstName: name,
  lastName: name,
  username: z
    .string()
    .trim()
    .toLowerCase()
    .min(1, 'required')
    .regex(/^[a-z0-9._-]{3,40}$/, 'username_format'),
  referenceEmail: z.string().trim().min(1, 'required').max(254, 'too_long').pipe(z.email('email_format')),
  accessLevel: z.enum(ACCESS_LEVELS, 'required'),
  manageSettings: z.preprocess((v) => v === true || v === 'on' || v === 'true' || v === '1', z.boolean()),
});

export type NewCollaborator = z.input<typeof newCollaborator>;

const accessChange = newCollaborator.pick({ accessLevel: true, manageSettings: true });
export type AccessInput = z.input<typeof accessChange>;

export interface CollaboratorPage {
  rows: Collaborator[];
  lastEmails: Map<number, OutboxMessage>;
  total: number;
  page: number;
  pages: number;
  query: string;
}

export interface CollaboratorDetails {
  links: Link[];
  emails: OutboxMessage[];
  activity: AuditEvent[];
}

/** Maps a refused password to the form field it belongs to, as a message key with parameters. */
export class PasswordRefused extends ValidationFailed {
  constructor(readonly problem: PasswordProblem) {
    super({ [problem.reason === 'mismatch' ? 'passwordConfirmation' : 'password']: `password.${problem.reason}` });
  }
}

/** The fields of a password change form. */
export interface PasswordChange {
  currentPassword: string;
  password: string;
  passwordConfirmation: string;
}

/** The web session making a request: it stays signed in after its own password change. */
export interface RequestContext {
  sid?: string;
  ip?: string | null;
}

/** The emails an owner's actions send, with the owner's own words (names) in the greeting: what MAIL_LIMIT_* counts. */
const OWNER_EMAILS: readonly EmailTemplate[] = ['invitation', 'owner_reset', 'deactivated'];

const LINK_EMAIL: Record<LinkPurpose, EmailTemplate> = {
  invitation: 'invitation',
  owner_reset: 'owner_reset',
  self_reset: 'self_reset',
};

/**
 * The collaborator accounts of a mailbox: every state change is here, each in one transaction with
 * its link, email, session revocations and activity record.
 */
export class Collaborations {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly config: Config,
    private readonly links: Links,
    private readonly outbox: Outbox,
    private readonly audit: Audit,
  ) {}

  async list(mailbox: Mailbox, { query = '', page = 1 }: { query?: string; page?: number } = {}): Promise<CollaboratorPage> {
    const where: WhereOptions<Collaborator> = { mailboxId: mailbox.id };
    const q = query.trim().slice(0, 100);
    if (q) {
      const like = `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      // Usernames are canonical (lowercase) and compared exactly; names and emails case-insensitively.
      const usernameLike = like.toLowerCase();
      Object.assign(where, {
        [Op.or]: [
          { firstName: { [Op.like]: like } },
          { lastName: { [Op.like]: like } },
          { username: { [Op.like]: usernameLike } },
          { referenceEmail: { [Op.like]: like } },
        ],
      });
    }
    const total = await this.db.models.Collaborator.count({ where });
    const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
    const current = Math.min(Math.max(1, Math.floor(page) || 1), pages);
    const rows = await this.db.models.Collaborator.findAll({
      where,
      attributes: { exclude: ['passwordHash'] },
      order: [['lastName', 'ASC'], ['firstName', 'ASC'], ['id', 'ASC']],
      limit: PAGE_SIZE,
      offset: (current - 1) * PAGE_SIZE,
    });
    const lastEmails = await this.outbox.lastEmails(rows.map((r) => r.id));
    return { rows, lastEmails, total, page: current, pages, query: q };
  }

  /** A collaborator of this mailbox; another mailbox's looks exactly like a missing one. */
  async find(mailbox: Mailbox, id: number | string): Promise<Collaborator> {
    const key = Number(id);
    const found = Number.isSafeInteger(key) && key > 0
      ? await this.db.models.Collaborator.findOne({ where: { id: key, mailboxId: mailbox.id } })
      : null;
    if (!found) throw new NotFound('collaborator');
    return found;
  }

  async details(collaborator: Collaborator): Promise<CollaboratorDetails> {
    const [links, emails, activity] = await Promise.all([
      this.links.history(collaborator),
      this.outbox.emailsOf(collaborator.id),
      this.audit.list(collaborator.mailboxId, { collaboratorId: collaborator.id, limit: 50 }),
    ]);
    return { links, emails, activity };
  }

  async lastEmail(collaborator: Collaborator): Promise<OutboxMessage | undefined> {
    return (await this.outbox.lastEmails([collaborator.id])).get(collaborator.id);
  }

  // owner creates → pending; invitation link and email
  async create(mailbox: Mailbox, input: NewCollaborator, { actor }: { actor: Actor }): Promise<Collaborator> {
    const data = this.validate(mailbox, input);
    try {
      return await this.db.transaction(async (t) => {
        await this.assertMailRoom(mailbox, data.referenceEmail, t);
        const collaborator = await this.db.models.Collaborator.create(
          {
            mailboxId: mailbox.id,
            firstName: data.firstName,
            lastName: data.lastName,
            username: `${data.username}/${mailbox.address}`,
            referenceEmail: data.referenceEmail,
            accessLevel: data.accessLevel,
            manageSettings: data.manageSettings,
            status: 'pending',
            passwordHash: null,
            locale: mailbox.locale,
            deactivatedAt: null,
          },
          { transaction: t },
        );
        await this.audit.record(actor, 'collaborator.created', collaborator, t, { accessLevel: data.accessLevel });
        await this.sendLink(collaborator, mailbox, 'invitation', actor, 'link.sent', t);
        return collaborator;
      });
    } catch (error) {
      if (error instanceof UniqueConstraintError) throw new ValidationFailed({ username: 'username_taken' });
      throw error;
    }
  }

  private validate(mailbox: Mailbox, input: NewCollaborator): z.output<typeof newCollaborator> {
    const parsed = newCollaborator.safeParse(input);
    const errors: FieldErrors = {};
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const field = String(issue.path[0]);
        errors[field] ??= issue.code === 'invalid_type' ? 'required' : issue.message;
      }
    } else if (canonicalName(parsed.data.referenceEmail) === canonicalName(mailbox.address)) {
      errors.referenceEmail = 'email_is_mailbox';
    }
    if (!parsed.success || Object.keys(errors).length > 0) throw new ValidationFailed(errors);
    return parsed.data;
  }

  // active → suspended: the password stops working everywhere at once
  async resetPassword(collaborator: Collaborator, { actor }: { actor: Actor }): Promise<Collaborator> {
    return this.change(collaborator, 'reset', async (c, mailbox, t) => {
      await this.assertMailRoom(mailbox, c.referenceEmail, t);
      await this.revokeAccess(c, t);
      await this.audit.record(actor, 'password.reset', c, t);
      await this.sendLink(c, mailbox, 'owner_reset', actor, 'link.sent', t);
      return { passwordHash: null, credentialVersion: c.credentialVersion + 1 };
    });
  }

  // pending / suspended → same: a fresh link, earlier ones dead
  async resendLink(collaborator: Collaborator, { actor }: { actor: Actor }): Promise<Collaborator> {
    return this.change(collaborator, 'resend', async (c, mailbox, t) => {
      await this.assertMailRoom(mailbox, c.referenceEmail, t);
      await this.sendLink(c, mailbox, c.status === 'pending' ? 'invitation' : 'owner_reset', actor, 'link.resent', t);
      return {};
    });
  }

  // active / pending / suspended → deactivated
  async deactivate(collaborator: Collaborator, { actor }: { actor: Actor }): Promise<Collaborator> {
    return this.change(collaborator, 'deactivate', async (c, mailbox, t) => {
      await this.links.revokeAll(c, t);
      await this.revokeAccess(c, t);
      await this.audit.record(actor, 'collaborator.deactivated', c, t);
      await this.email(c, mailbox, 'deactivated', t);
      return { passwordHash: null, credentialVersion: c.credentialVersion + 1, deactivatedAt: this.clock.now() };
    });
  }

  // active / pending / suspended → same, with other permissions; mail programs lose access at once when lowered
  async changeAccess(collaborator: Collaborator, input: AccessInput, { actor }: { actor: Actor }): Promise<Collaborator> {
    const parsed = accessChange.safeParse(input);
    if (!parsed.success) throw new ValidationFailed({ accessLevel: 'required' });
    const { accessLevel, manageSettings } = parsed.data;
    return this.change(collaborator, 'change_access', async (c, _mailbox, t) => {
      if (accessLevel !== 'mail_clients') await this.kickMailPrograms(c, c.accessLevel, t);
      await this.audit.record(actor, 'access.changed', c, t, { from: c.accessLevel, to: accessLevel, manageSettings });
      return { accessLevel, manageSettings };
    });
  }

  // deactivated → gone; the username is free again, the activity stays
  async remove(collaborator: Collaborator, { actor }: { actor: Actor }): Promise<void> {
    transition(collaborator.status, 'remove');
    await this.db.transaction(async (t) => {
      const current = await this.reload(collaborator, t);
      transition(current.status, 'remove');
      await this.audit.record(actor, 'collaborator.removed', current, t);
      await current.destroy({ transaction: t });
    });
  }

  /**
   * pending / suspended → active with a valid link and an acceptable password. The link is
   * consumed by one conditional update in the same transaction as the password write, so of
   * simultaneous submissions exactly one wins; the others get InvalidLink.
   */
  async setPasswordWithLink(link: Link, password: string, confirmation: string, { ip }: { ip?: string | null } = {}): Promise<Collaborator> {
    const collaborator = await this.findForLink(link);
    const mailbox = await this.mailboxOf(collaborator);
    this.assertPassword(password, confirmation, collaborator, mailbox);
    const passwordHash = await hashPassword(password, this.config.bcryptCost);
    const event: AccountEvent = link.purpose === 'self_reset' ? 'redeem_self_reset' : 'redeem';
    const actor: Actor = { type: 'collaborator', id: collaborator.id, name: collaborator.username, ip };
    return this.db.transaction(async (t) => {
      // The account row first, then its links: the order every owner transition locks them in, so a
      // redemption racing a resend or a deactivation waits for it instead of deadlocking with it.
      const current = await this.reload(collaborator, t);
      if (!(await this.links.consume(link, t))) throw new InvalidLink();
      const status = transition(current.status, event);
      await current.update({ status: status as Collaborator['status'], passwordHash, credentialVersion: current.credentialVersion + 1 }, { transaction: t });
      await this.links.revokeAll(current, t);
      if (event === 'redeem_self_reset') await this.revokeAccess(current, t);
      await this.audit.record(actor, 'password.set', current, t);
      await this.email(current, mailbox, 'password_set', t);
      return current;
    });
  }

  /**
   * active → active with a new password, the current one required. Every other web session ends and
   * mail programs must sign in again; the session that made the change (`sid`) stays signed in under
   * the returned credential version. A wrong current password is recorded and changes nothing.
   */
  async changeOwnPassword(collaborator: Collaborator, input: PasswordChange, { sid, ip }: RequestContext = {}): Promise<Collaborator> {
    transition(collaborator.status, 'change_password');
    const actor: Actor = { type: 'collaborator', id: collaborator.id, name: collaborator.username, ip };
    const stored = await this.db.models.Collaborator.findByPk(collaborator.id);
    if (!stored) throw new NotFound('collaborator');
    if (!(await verifyPassword(input.currentPassword, stored.passwordHash))) {
      await this.db.transaction((t) => this.audit.record(actor, 'password.change_failed', stored, t));
      throw new WrongPassword();
    }
    const mailbox = await this.mailboxOf(stored);
    this.assertPassword(input.password, input.passwordConfirmation, stored, mailbox);
    const passwordHash = await hashPassword(input.password, this.config.bcryptCost);
    return this.change(stored, 'change_password', async (c, m, t) => {
      // Changed from another tab since it was verified: the typed current password is stale.
      if (c.passwordHash !== stored.passwordHash) throw new WrongPassword();
      // A forgot-password link sent before the change must not set the password after it.
      await this.links.revokeAll(c, t);
      await this.revokeAccess(c, t, sid);
      await this.audit.record(actor, 'password.changed', c, t);
      await this.email(c, m, 'password_changed', t);
      return { passwordHash, credentialVersion: c.credentialVersion + 1 };
    });
  }

  /**
   * "Forgot password" for a username: an active account gets a short-lived link by email and
   * nothing else changes on it (a stranger can neither suspend nor lock anyone out). Any other
   * username is ignored without a trace: the caller answers the same either way.
   *
   * Anyone may ask, so a request never revokes the links already sent: they stay good side by side,
   * and redeeming any of them ends them all. What one account receives is capped in the database:
   * while FORGOT_LIMIT_PER_USERNAME of its links are live, a request sends nothing. A stranger's
   * requests can therefore never leave the user without a link: whenever one is not sent, that many
   * live links are already in the user's inbox.
   */
  async requestSelfReset(username: string, { ip }: RequestContext = {}): Promise<void> {
    const login = canonicalName(username);
    if (!login.includes('/')) return;
    const found = await this.db.models.Collaborator.findOne({ where: { username: login }, attributes: { exclude: ['passwordHash'] } });
    if (!found || !allows(found.status, 'request_self_reset')) return;
    const actor: Actor = { type: 'anonymous', id: null, name: found.username, ip };
    try {
      await this.change(found, 'request_self_reset', async (c, mailbox, t) => {
        // Counted under the account's row lock: simultaneous requests cannot pass the cap together.
        if ((await this.links.liveCount(c, 'self_reset', t)) >= this.config.rateLimits.forgotLinksPerAccount) return {};
        await this.sendLink(c, mailbox, 'self_reset', actor, 'link.sent', t, { keepEarlier: true });
        return {};
      });
    } catch (error) {
      // Suspended or deactivated by the owner meanwhile: such accounts get nothing.
      if (!(error instanceof TransitionRefused)) throw error;
    }
  }

  async findForLink(link: Link): Promise<Collaborator> {
    const collaborator = await this.db.models.Collaborator.findByPk(link.collaboratorId, { attributes: { exclude: ['passwordHash'] } });
    if (!collaborator) throw new InvalidLink();
    return collaborator;
  }

  assertPassword(password: string, confirmation: string | undefined, collaborator: Collaborator, mailbox: Mailbox): void {
    const problem = checkPassword(
      password,
      confirmation,
      { username: collaborator.username, mailbox: mailbox.address, firstName: collaborator.firstName, lastName: collaborator.lastName },
      this.config.passwordMinLength,
    );
    if (problem) throw new PasswordRefused(problem);
  }

  async mailboxOf(collaborator: Collaborator, t?: Transaction): Promise<Mailbox> {
    const mailbox = await this.db.models.Mailbox.findByPk(collaborator.mailboxId, { transaction: t });
    if (!mailbox) throw new NotFound('mailbox');
    return mailbox;
  }

  /**
   * Runs one owner transition: re-reads the row inside the transaction (another tab may have
   * acted first), checks the state machine, applies the effects and the new state.
   */
  private async change(
    collaborator: Collaborator,
    event: AccountEvent,
    effects: (c: Collaborator, mailbox: Mailbox, t: Transaction) => Promise<Partial<Collaborator>>,
  ): Promise<Collaborator> {
    transition(collaborator.status, event);
    return this.db.transaction(async (t) => {
      const current = await this.reload(collaborator, t);
      const status = transition(current.status, event) as Collaborator['status'];
      const mailbox = await this.mailboxOf(current, t);
      const fields = await effects(current, mailbox, t);
      return current.update({ ...fields, status }, { transaction: t });
    });
  }

  private async reload(collaborator: Collaborator, t: Transaction): Promise<Collaborator> {
    const current = await this.db.models.Collaborator.findByPk(collaborator.id, { transaction: t, lock: t.LOCK.UPDATE });
    if (!current) throw new NotFound('collaborator');
    return current;
  }

  /** Ends web sessions now and asks the mail server to drop mail-program connections. */
  private async revokeAccess(c: Collaborator, t: Transaction, keepSid?: string): Promise<void> {
    await revokeSessions(this.db, { type: 'collaborator', id: c.id }, t, keepSid);
    await this.kickMailPrograms(c, c.accessLevel, t);
  }

  /**
   * Open IMAP/SMTP connections outlive a password change: the mail server is asked to drop them,
   * through the outbox (retried, never lost). `level` is the access the account had until now.
   */
  private async kickMailPrograms(c: Collaborator, level: AccessLevel, t: Transaction): Promise<void> {
    if (this.config.mailServer.doveadmUrl && level === 'mail_clients') {
      await this.outbox.enqueueMailServerKick(c.username, { mailboxId: c.mailboxId, collaboratorId: c.id }, t);
    }
  }

  private async sendLink(
    c: Collaborator,
    mailbox: Mailbox,
    purpose: LinkPurpose,
    actor: Actor,
    action: AuditAction,
    t: Transaction,
    { keepEarlier = false }: { keepEarlier?: boolean } = {},
  ) {
    const { link, token } = keepEarlier ? await this.links.issueAnother(c, purpose, t) : await this.links.issue(c, purpose, t);
    await this.email(c, mailbox, LINK_EMAIL[purpose], t, { link: `${this.config.baseUrl}/password/${token}`, expiresAt: link.expiresAt });
    await this.audit.record(actor, action, c, t, { purpose, expiresAt: link.expiresAt.toISOString() });
  }

  /**
   * Refuses (TooManyEmails, 429) an owner action whose email would go over MAIL_LIMIT_PER_RECIPIENT
   * (to this address from this mailbox) or MAIL_LIMIT_PER_MAILBOX within the window: nobody gets
   * unlimited emails, with an owner's words in them, through the platform. Call it first in the
   * transaction: it locks the mailbox row, so two actions of one mailbox are counted one after the other.
   */
  private async assertMailRoom(mailbox: Mailbox, recipient: string, t: Transaction): Promise<void> {
    const { windowSeconds, perRecipient, perMailbox } = this.config.mailLimits;
    await this.db.models.Mailbox.findByPk(mailbox.id, { attributes: ['id'], transaction: t, lock: t.LOCK.UPDATE });
    const now = this.clock.now().getTime();
    const since = new Date(now - windowSeconds * 1000);
    const limits = [
      { scope: 'recipient' as const, limit: perRecipient, recipient },
      { scope: 'mailbox' as const, limit: perMailbox, recipient: undefined },
    ];
    for (const { scope, limit, recipient: to } of limits) {
      const { count, oldest } = await this.outbox.countEmails({ mailboxId: mailbox.id, templates: OWNER_EMAILS, since, recipient: to }, t);
      if (count < limit) continue;
      // Room again once the oldest counted email leaves the window.
      const retryAfter = Math.max(1, Math.ceil(((oldest?.getTime() ?? now) + windowSeconds * 1000 - now) / 1000));
      throw new TooManyEmails(scope, limit, windowSeconds / 3600, retryAfter);
    }
  }

  private async email(c: Collaborator, mailbox: Mailbox, template: EmailTemplate, t: Transaction, extra: { link?: string; expiresAt?: Date } = {}) {
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
          accessLevel: c.accessLevel,
          expiresAt: extra.expiresAt?.toISOString(),
        },
      },
      t,
    );
  }
}
