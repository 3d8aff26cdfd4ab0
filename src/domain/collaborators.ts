import { UniqueConstraintError, type Transaction } from 'sequelize';
import { z } from 'zod';
import type { Database } from '../db';
import { listChanged } from '../db/list-versions';
import type { Config } from '../config';
import { ACCESS_LEVELS, type Collaborator, type Mailbox } from '../models';
import type { EmailTemplate } from '../mail/message-types';
import type { Outbox } from '../mail/outbox';
import type { Clock } from '../lib/clock';
import { canonicalName } from '../lib/names';
import { isFitText } from '../lib/text';
import { searchRows } from '../lib/search-words';
import type { Actor } from './actor';
import type { Audit } from './audit';
import type { Links } from './links';
import type { TwoStep } from './two-step';
import type { CollaboratorChanges } from './collaborator-changes';
import { TooManyEmails, ValidationFailed, type FieldErrors } from './errors';
import { transition } from './state-machine';
import { system } from './actor';
import { accessEndOf, remindedEndFor, type AccessEndInput } from './access-end';

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

/** The add form's fields; `accessEndDate`/`accessEndTime` (Italian time, both or neither) end its access by itself. */
export type NewCollaborator = z.input<typeof newCollaborator> & AccessEndInput;

const accessChange = newCollaborator.pick({ accessLevel: true, manageSettings: true });
export type AccessInput = z.input<typeof accessChange>;

const nameChange = newCollaborator.pick({ firstName: true, lastName: true });
export type NameInput = z.input<typeof nameChange>;

const emailChange = newCollaborator.pick({ referenceEmail: true });
export type EmailInput = z.input<typeof emailChange>;

/** The first error of each field, as a message key. */
function fieldErrors(error: z.ZodError): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of error.issues) {
    const field = String(issue.path[0]);
    errors[field] ??= issue.code === 'invalid_type' ? 'required' : issue.message;
  }
  return errors;
}

/**
 * Who acts (the owner) and, when the caller has it already, the mailbox of the collaborator acted
 * on (the signed-in owner's record): it is then not read again.
 */
export interface OwnerAction {
  actor: Actor;
  mailbox?: Mailbox;
}

/** The emails an owner's actions send, with the owner's own words (names) in the greeting: what MAIL_LIMIT_* counts. */
const OWNER_EMAILS: readonly EmailTemplate[] = ['invitation', 'owner_reset', 'deactivated'];

/**
 * The owner's transitions of the collaborator accounts of a mailbox (create, reset, resend,
 * deactivate, reactivate, rename, recreate for a corrected reference email, change access, remove),
 * each in one transaction with its link, email, session revocations and activity record. The list
 * and details are the Directory's; the collaborator's own password flows are SelfService's.
 */
export class Collaborations {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly config: Config,
    private readonly links: Links,
    private readonly outbox: Outbox,
    private readonly audit: Audit,
    private readonly changes: CollaboratorChanges,
    private readonly twoStep: TwoStep,
  ) {}

  // owner creates → pending; invitation link and email
  async create(mailbox: Mailbox, input: NewCollaborator, { actor }: { actor: Actor }): Promise<Collaborator> {
    const { accessEndsAt, ...data } = await this.validate(mailbox, input);
    try {
      return await this.db.transaction(async (t) => {
        await this.assertMailRoom(mailbox, data.referenceEmail, t);
        const collaborator = await this.insertPending(
          {
            mailboxId: mailbox.id,
            firstName: data.firstName,
            lastName: data.lastName,
            username: `${data.username}/${mailbox.address}`,
            referenceEmail: data.referenceEmail,
            accessLevel: data.accessLevel,
            manageSettings: data.manageSettings,
            locale: mailbox.locale,
            accessEndsAt,
            remindedEndAt: remindedEndFor(accessEndsAt, this.clock.now(), this.config.accessReminderDays),
          },
          t,
        );
        await listChanged(this.db.sequelize, { mailboxId: mailbox.id, added: 1 }, t);
        // One record for the addition, the invitation it sends included: a second one would read as
        // a second action of the owner's in the activity log.
        await this.changes.sendLink(collaborator, mailbox, 'invitation', actor, 'collaborator.created', t, { detail: { accessLevel: data.accessLevel, ...(accessEndsAt ? { accessEndsAt: accessEndsAt.toISOString() } : {}) } });
        return collaborator;
      });
    } catch (error) {
      if (error instanceof UniqueConstraintError) throw new ValidationFailed({ username: 'username_taken' });
      throw error;
    }
  }

  /** A new pending account (no password yet), with its search words: an addition's and a recreation's row. */
  private async insertPending(
    fields: Pick<Collaborator, 'mailboxId' | 'firstName' | 'lastName' | 'username' | 'referenceEmail' | 'accessLevel' | 'manageSettings' | 'locale' | 'accessEndsAt' | 'remindedEndAt'>,
    t: Transaction,
  ): Promise<Collaborator> {
    // The domain's clock, like every other time the pages show (Sequelize would take the system's).
    const collaborator = await this.db.models.Collaborator.create({ ...fields, status: 'pending', passwordHash: null, deactivatedAt: null, createdAt: this.clock.now() }, { transaction: t });
    await this.indexForSearch(collaborator, t);
    return collaborator;
  }

  /** The keys the list's search finds this collaborator by, with its names (migrations/015-search-keys.ts); `c` as it is from now on. */
  private async indexForSearch(c: Pick<Collaborator, 'id' | 'mailboxId' | 'firstName' | 'lastName' | 'username' | 'referenceEmail'>, t: Transaction): Promise<void> {
    await this.db.sequelize.getQueryInterface().bulkInsert('collaborator_search_keys', searchRows(c), { transaction: t });
  }

  /**
   * The new collaborator's fields, or ValidationFailed with every field's first error at once (the
   * form shows them together): format, the mailbox as reference email, a username already taken.
   * The insert still catches a username taken in between (create).
   */
  private async validate(mailbox: Mailbox, input: NewCollaborator): Promise<z.output<typeof newCollaborator> & { accessEndsAt: Date | null }> {
    const parsed = newCollaborator.safeParse(input);
    const errors: FieldErrors = parsed.success ? {} : fieldErrors(parsed.error);
    const accessEnd = accessEndOf(input, this.clock.now());
    if ('error' in accessEnd) errors.accessEnd = accessEnd.error;
    // Checked on their own field, whatever the others hold.
    const email = newCollaborator.shape.referenceEmail.safeParse(input.referenceEmail);
    if (email.success && canonicalName(email.data) === canonicalName(mailbox.address)) errors.referenceEmail = 'email_is_mailbox';
    const username = newCollaborator.shape.username.safeParse(input.username);
    if (username.success && (await this.db.models.Collaborator.count({ where: { username: `${username.data}/${mailbox.address}` } })) > 0) {
      errors.username = 'username_taken';
    }
    if (!parsed.success || 'error' in accessEnd || Object.keys(errors).length > 0) throw new ValidationFailed(errors);
    return { ...parsed.data, accessEndsAt: accessEnd.endsAt };
  }

  // active → suspended: the password stops working everywhere at once
  async resetPassword(collaborator: Collaborator, { actor, mailbox }: OwnerAction): Promise<Collaborator> {
    return this.changes.change(collaborator, 'reset', async (c, its, t) => {
      await this.assertMailRoom(its, c.referenceEmail, t);
      await this.changes.revokeAccess(c, t);
      // The owner's reset is the recovery path: the collaborator sets up its second step again.
      await this.twoStep.removeAllOf({ type: 'collaborator', id: c.id }, t);
      await this.changes.sendLink(c, its, 'owner_reset', actor, 'link.sent', t, { before: [{ action: 'password.reset' }] });
      return { passwordHash: null, credentialVersion: c.credentialVersion + 1 };
    }, mailbox);
  }

  // pending / suspended → same: a fresh link, earlier ones dead
  async resendLink(collaborator: Collaborator, { actor, mailbox }: OwnerAction): Promise<Collaborator> {
    return this.changes.change(collaborator, 'resend', async (c, its, t) => {
      await this.assertMailRoom(its, c.referenceEmail, t);
      await this.changes.sendLink(c, its, c.status === 'pending' ? 'invitation' : 'owner_reset', actor, 'link.resent', t);
      return {};
    }, mailbox);
  }

  // active / pending / suspended → deactivated
  async deactivate(collaborator: Collaborator, { actor, mailbox }: OwnerAction): Promise<Collaborator> {
    return this.changes.change(collaborator, 'deactivate', async (c, its, t) => {
      await this.audit.record(actor, 'collaborator.deactivated', c, t);
      await this.changes.email(c, its, 'deactivated', t);
      return this.closeAccess(c, t);
    }, mailbox);
  }

  /**
   * active / pending / suspended → deactivated, by itself, once the end of access the owner set has
   * come (the worker's AccessEnds): as the owner's deactivation, recorded as the system's, with its
   * own email to the collaborator naming the end and the owner's `access_ended` notice. TransitionRefused when already deactivated (another worker, or the
   * owner, came first); NotFound once removed.
   */
  async endAccess(collaborator: Collaborator): Promise<Collaborator> {
    return this.changes.change(collaborator, 'end_access', async (c, mailbox, t) => {
      const endedAt = c.accessEndsAt ?? this.clock.now();
      await this.audit.record(system, 'collaborator.access_ended', c, t, { accessEndsAt: endedAt.toISOString() });
      await this.changes.email(c, mailbox, 'access_ended', t, { accessEndsAt: endedAt });
      await this.changes.notices.notify(mailbox, 'access_ended', { collaborator: c, at: endedAt }, t);
      return this.closeAccess(c, t);
    });
  }

  /**
   * What a deactivation ends, in its transaction: links, web sessions, app passwords, mail programs
   * (kicked through the outbox's mail-server lane), second factors, the password; and the end of
   * access, so that a reactivated account does not end again at once.
   */
  private async closeAccess(c: Collaborator, t: Transaction): Promise<Partial<Collaborator>> {
    await this.links.revokeAll(c, t);
    await this.changes.revokeAccess(c, t);
    await this.twoStep.removeAllOf({ type: 'collaborator', id: c.id }, t);
    return { passwordHash: null, credentialVersion: c.credentialVersion + 1, deactivatedAt: this.clock.now(), accessEndsAt: null, remindedEndAt: null };
  }

  /**
   * active / pending / suspended → same, with the end of access set (`accessEndDate`, `accessEndTime`:
   * Italian time, read as italianTimeToInstant does), moved, or removed (both empty). Refused
   * (ValidationFailed on `accessEnd`): a malformed date or time, or a moment not after now. An end
   * within ACCESS_REMINDER_DAYS gets no reminder (remindedEndFor).
   */
  async setAccessEnd(collaborator: Collaborator, input: AccessEndInput, { actor }: { actor: Actor }): Promise<Collaborator> {
    const parsed = accessEndOf(input, this.clock.now());
    if ('error' in parsed) throw new ValidationFailed({ accessEnd: parsed.error });
    const { endsAt } = parsed;
    return this.changes.change(collaborator, 'set_access_end', async (c, _mailbox, t) => {
      await this.audit.record(actor, 'access_end.changed', c, t, { accessEndsAt: endsAt?.toISOString() ?? null });
      return { accessEndsAt: endsAt, remindedEndAt: remindedEndFor(endsAt, this.clock.now(), this.config.accessReminderDays) };
    });
  }

  // active / pending / suspended → same, with other permissions; mail programs lose access at once when lowered
  async changeAccess(collaborator: Collaborator, input: AccessInput, { actor }: { actor: Actor }): Promise<Collaborator> {
    const parsed = accessChange.safeParse(input);
    if (!parsed.success) throw new ValidationFailed({ accessLevel: 'required' });
    const { accessLevel, manageSettings } = parsed.data;
    return this.changes.change(collaborator, 'change_access', async (c, _mailbox, t) => {
      if (accessLevel !== 'mail_clients') {
        await this.changes.kickMailPrograms(c, c.accessLevel, t);
        await this.changes.revokeAppPasswords(c, t);
      } else if (c.accessLevel !== 'mail_clients') {
        await this.changes.flushMailServerCache(c, accessLevel, t);
      }
      await this.audit.record(actor, 'access.changed', c, t, { from: c.accessLevel, to: accessLevel, manageSettings });
      return { accessLevel, manageSettings };
    });
  }

  // active / pending / suspended → same, with the names corrected (in the list, its search and every later email)
  async rename(collaborator: Collaborator, input: NameInput, { actor }: { actor: Actor }): Promise<Collaborator> {
    const parsed = nameChange.safeParse(input);
    if (!parsed.success) throw new ValidationFailed(fieldErrors(parsed.error));
    const { firstName, lastName } = parsed.data;
    return this.changes.change(collaborator, 'rename', async (c, _mailbox, t) => {
      await this.db.sequelize.query('DELETE FROM collaborator_search_keys WHERE collaborator_id = ?', { replacements: [c.id], transaction: t });
      await this.indexForSearch({ id: c.id, mailboxId: c.mailboxId, username: c.username, referenceEmail: c.referenceEmail, firstName, lastName }, t);
      await this.audit.record(actor, 'collaborator.renamed', c, t, { from: { firstName: c.firstName, lastName: c.lastName }, to: { firstName, lastName } });
      return { firstName, lastName };
    });
  }

  // deactivated → pending: a new invitation to the same reference email undoes a deactivation
  async reactivate(collaborator: Collaborator, { actor }: { actor: Actor }): Promise<Collaborator> {
    return this.changes.change(collaborator, 'reactivate', async (c, mailbox, t) => {
      await this.assertMailRoom(mailbox, c.referenceEmail, t);
      // One record, the invitation it sends included (as an addition's).
      await this.changes.sendLink(c, mailbox, 'invitation', actor, 'collaborator.reactivated', t);
      return { deactivatedAt: null };
    });
  }

  /**
   * active / pending / suspended → a new pending account for a corrected reference email, in ONE
   * transaction: the reference email of an account is never edited (PEC), so a new row (new id) takes
   * the same username, names, language, permissions and end of access, and the old row goes, with everything it
   * gave (sessions, app passwords, mail programs, second factors; its links and search words by
   * ON DELETE CASCADE). Every committed state has exactly one account with the username. Nothing more
   * goes to the old address: no deactivation notice, and its unsent emails are cancelled. The
   * invitation goes to the corrected address. Refused: a bad address, the mailbox's own, or the
   * same as before (ValidationFailed); a deactivated account (TransitionRefused).
   */
  async recreate(collaborator: Collaborator, input: EmailInput, { actor }: { actor: Actor }): Promise<Collaborator> {
    transition(collaborator.status, 'recreate');
    const mailbox = await this.changes.mailboxOf(collaborator);
    const referenceEmail = this.correctedEmail(mailbox, collaborator, input);
    return this.db.transaction(async (t) => {
      const old = await this.changes.reload(collaborator, t);
      transition(old.status, 'recreate');
      await this.assertMailRoom(mailbox, referenceEmail, t);
      await this.changes.revokeAccess(old, t);
      await this.forget(old, t);
      await this.outbox.cancelEmails(old.id, t);
      // The username is unique: the old row goes first, in the same transaction, so no reader ever sees neither.
      await old.destroy({ transaction: t });
      const { mailboxId, firstName, lastName, username, accessLevel, manageSettings, locale, accessEndsAt, remindedEndAt } = old;
      const fresh = await this.insertPending({ mailboxId, firstName, lastName, username, referenceEmail, accessLevel, manageSettings, locale, accessEndsAt, remindedEndAt }, t);
      // One row out (-1), one in (+1): the count stays, the version moves.
      await listChanged(this.db.sequelize, { mailboxId: old.mailboxId, added: 0 }, t);
      // The same action on both ids, so that either account's history tells where the other went;
      // the new one's record includes the invitation it sends (as an addition's).
      const detail = { from: old.id, to: fresh.id };
      await this.audit.record(actor, 'collaborator.recreated', old, t, detail);
      await this.changes.sendLink(fresh, mailbox, 'invitation', actor, 'collaborator.recreated', t, { detail });
      return fresh;
    });
  }

  /** The corrected reference email: valid, not the mailbox, not the one it corrects (ValidationFailed). */
  private correctedEmail(mailbox: Mailbox, collaborator: Collaborator, input: EmailInput): string {
    const parsed = emailChange.safeParse(input);
    if (!parsed.success) throw new ValidationFailed(fieldErrors(parsed.error));
    const email = canonicalName(parsed.data.referenceEmail);
    if (email === canonicalName(mailbox.address)) throw new ValidationFailed({ referenceEmail: 'email_is_mailbox' });
    if (email === canonicalName(collaborator.referenceEmail)) throw new ValidationFailed({ referenceEmail: 'email_unchanged' });
    return parsed.data.referenceEmail;
  }

  /**
   * What goes with an account's row (removal, recreation): its second factors and recovery codes, and
   * the Google or Microsoft identities linked to it, so that such an identity can be linked again (to
   * the recreated account, say) and no later account inherits it. A reset or a deactivation keeps the
   * links, blocked like the password (the row stays).
   */
  private async forget(c: Collaborator, t: Transaction): Promise<void> {
    await this.twoStep.removeAllOf({ type: 'collaborator', id: c.id }, t);
    await this.db.models.LinkedIdentity.destroy({ where: { principalType: 'collaborator', principalId: c.id }, transaction: t });
  }

  // deactivated → gone; the username is free again, the activity stays
  async remove(collaborator: Collaborator, { actor }: { actor: Actor }): Promise<void> {
    transition(collaborator.status, 'remove');
    await this.db.transaction(async (t) => {
      const current = await this.changes.reload(collaborator, t);
      transition(current.status, 'remove');
      await this.audit.record(actor, 'collaborator.removed', current, t);
      await this.forget(current, t);
      await current.destroy({ transaction: t });
      await listChanged(this.db.sequelize, { mailboxId: current.mailboxId, added: -1 }, t);
    });
  }

  /**
   * Refuses (TooManyEmails, 429) an owner action whose email would go over MAIL_LIMIT_PER_RECIPIENT
   * (to this address from this mailbox) or MAIL_LIMIT_PER_MAILBOX within the window: nobody gets
   * unlimited emails, with an owner's words in them, through the platform. Call it first in the
   * transaction: it locks the mailbox row (on every node of a cluster: Database.claim), so two
   * actions of one mailbox are counted one after the other.
   */
  private async assertMailRoom(mailbox: Mailbox, recipient: string, t: Transaction): Promise<void> {
    const { windowSeconds, perRecipient, perMailbox } = this.config.mailLimits;
    // SQLite's transactions already run one at a time (BEGIN IMMEDIATE): only MariaDB needs the row lock (lock does nothing on SQLite).
    await this.db.lock(this.db.models.Mailbox, mailbox.id, t);
    const now = this.clock.now().getTime();
    const since = new Date(now - windowSeconds * 1000);
    const limits = [
      { scope: 'recipient' as const, limit: perRecipient, recipient },
      { scope: 'mailbox' as const, limit: perMailbox, recipient: undefined },
    ];
    const counts = await this.outbox.countEmailsEach(limits.map(({ limit, recipient: to }) => ({ mailboxId: mailbox.id, templates: OWNER_EMAILS, since, recipient: to, atMost: limit })), t);
    for (const [i, { scope, limit }] of limits.entries()) {
      const { count, oldest } = counts[i] as { count: number; oldest: Date | null };
      if (count < limit) continue;
      // Room again once the oldest counted email leaves the window.
      const retryAfter = Math.max(1, Math.ceil(((oldest?.getTime() ?? now) + windowSeconds * 1000 - now) / 1000));
      throw new TooManyEmails(scope, limit, windowSeconds / 3600, retryAfter);
    }
  }
}
