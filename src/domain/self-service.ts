import type { Database } from '../db';
import { listChanged } from '../db/list-versions';
import type { Config } from '../config';
import type { Collaborator, Link, Mailbox } from '../models';
import { canonicalName } from '../lib/names';
import type { Actor } from './actor';
import type { Audit } from './audit';
import type { Links } from './links';
import type { CollaboratorChanges } from './collaborator-changes';
import type { OwnerNotices } from './owner-notices';
import type { Clock } from '../lib/clock';
import { InvalidLink, NotFound, TransitionRefused } from './errors';
import { allows, transition, type AccountEvent } from './state-machine';
import { assertPassword, hashPassword } from './passwords';
import { changeOwnPassword, type PasswordChange, type RequestContext } from './password-change';

/**
 * The collaborator's own password flows: setting it through a link, changing it, asking for a
 * forgot-password link. Each change is one transaction with its link, email, session revocations and
 * activity record.
 */
export class SelfService {
  constructor(
    private readonly db: Database,
    private readonly config: Config,
    private readonly links: Links,
    private readonly audit: Audit,
    private readonly changes: CollaboratorChanges,
    private readonly notices: OwnerNotices,
    private readonly clock: Clock,
  ) {}

  /**
   * pending / suspended → active with a valid link and an acceptable password. The link is
   * consumed by one conditional update in the same transaction as the password write, so of
   * simultaneous submissions exactly one wins; the others get InvalidLink.
   */
  async setPasswordWithLink(link: Link, password: string, confirmation: string, { ip, userAgent }: RequestContext = {}): Promise<Collaborator> {
    const collaborator = await this.findForLink(link);
    const mailbox = await this.mailboxOf(collaborator);
    this.assertPassword(password, confirmation, collaborator, mailbox);
    const passwordHash = await hashPassword(password, this.config.bcryptCost);
    const event: AccountEvent = link.purpose === 'self_reset' ? 'redeem_self_reset' : 'redeem';
    const actor: Actor = { type: 'collaborator', id: collaborator.id, name: collaborator.username, ip, userAgent };
    return this.db.transaction(async (t) => {
      // The account row first, then its links: the order every owner transition locks them in, so a
      // redemption racing a resend or a deactivation waits for it instead of deadlocking with it.
      const current = await this.changes.reload(collaborator, t);
      if (!(await this.links.consume(link, t))) throw new InvalidLink();
      const from = current.status;
      const status = transition(from, event);
      await current.update({ status: status as Collaborator['status'], passwordHash, credentialVersion: current.credentialVersion + 1 }, { transaction: t });
      await listChanged(this.db.sequelize, { mailboxId: current.mailboxId }, t);
      await this.links.revokeAll(current, t);
      // A kick flushes the auth cache too; otherwise a flush alone lets the new password in at once.
      if (event === 'redeem_self_reset') await this.changes.revokeAccess(current, t);
      else await this.changes.flushMailServerCache(current, current.accessLevel, t);
      await this.audit.record(actor, 'password.set', current, t);
      await this.changes.email(current, mailbox, 'password_set', t);
      // The owner is told of an invitation accepted and of a forgotten password replaced, not of its own reset's end.
      const told = event === 'redeem_self_reset' ? 'password_self_reset' : from === 'pending' ? 'invitation_accepted' : null;
      if (told) await this.notices.notify(mailbox, told, { collaborator: current, at: this.clock.now() }, t);
      return current;
    });
  }

  /**
   * active → active with a new password, the current one required. Every other web session ends and
   * mail programs must sign in again; the session that made the change (`sid`) stays signed in under
   * the returned credential version. A wrong current password is recorded and changes nothing.
   */
  async changeOwnPassword(collaborator: Collaborator, input: PasswordChange, { sid, ip, userAgent }: RequestContext = {}): Promise<Collaborator> {
    transition(collaborator.status, 'change_password');
    const actor: Actor = { type: 'collaborator', id: collaborator.id, name: collaborator.username, ip, userAgent };
    return changeOwnPassword(this.db, this.config.bcryptCost, {
      principal: { type: 'collaborator', id: collaborator.id },
      load: async () => {
        const stored = await this.db.models.Collaborator.findByPk(collaborator.id);
        if (!stored) throw new NotFound('collaborator');
        return stored;
      },
      assertAcceptable: async (password, confirmation, stored) => this.assertPassword(password, confirmation, stored, await this.mailboxOf(stored)),
      record: (action, c, t) => this.audit.record(actor, action, c, t),
      update: (stored, effects) =>
        this.changes.change(stored, 'change_password', async (c, mailbox, t) => {
          const fields = await effects(c, t);
          // A forgot-password link sent before the change must not set the password after it.
          await this.links.revokeAll(c, t);
          await this.changes.revokeAppPasswords(c, t);
          await this.changes.kickMailPrograms(c, c.accessLevel, t);
          await this.changes.email(c, mailbox, 'password_changed', t);
          return fields;
        }),
    }, input, { sid });
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
  async requestSelfReset(username: string, { ip, userAgent }: RequestContext = {}): Promise<void> {
    const login = canonicalName(username);
    if (!login.includes('/')) return;
    const found = await this.db.models.Collaborator.findOne({ where: { username: login }, attributes: { exclude: ['passwordHash'] } });
    if (!found || !allows(found.status, 'request_self_reset')) return;
    const actor: Actor = { type: 'anonymous', id: null, name: found.username, ip, userAgent };
    try {
      await this.changes.change(found, 'request_self_reset', async (c, mailbox, t) => {
        // Counted under the account's row lock: simultaneous requests cannot pass the cap together.
        if ((await this.links.liveCount(c, 'self_reset', t)) >= this.config.rateLimits.forgotLinksPerAccount) return {};
        await this.changes.sendLink(c, mailbox, 'self_reset', actor, 'link.sent', t, { keepEarlier: true });
        return {};
      });
    } catch (error) {
      // Suspended or deactivated by the owner meanwhile: such accounts get nothing.
      if (!(error instanceof TransitionRefused)) throw error;
    }
  }

  /** The account a link is for, without its hash; InvalidLink once the account is gone. */
  async findForLink(link: Link): Promise<Collaborator> {
    const collaborator = await this.db.models.Collaborator.findByPk(link.collaboratorId, { attributes: { exclude: ['passwordHash'] } });
    if (!collaborator) throw new InvalidLink();
    return collaborator;
  }

  /** The password policy (passwords.ts) with the account's names and mailbox as context words; PasswordRefused. */
  assertPassword(password: string, confirmation: string | undefined, collaborator: Collaborator, mailbox: Mailbox): void {
    assertPassword(
      password,
      confirmation,
      { username: collaborator.username, mailbox: mailbox.address, firstName: collaborator.firstName, lastName: collaborator.lastName },
      this.config.passwordMinLength,
    );
  }

  /** The mailbox the collaborator works in. */
  mailboxOf(collaborator: Collaborator): Promise<Mailbox> {
    return this.changes.mailboxOf(collaborator);
  }
}
