import { Op, QueryTypes } from 'sequelize';
import { z } from 'zod';
import type { Database } from '../db';
import { LIST_STATE_WITH_MAILBOX, createList, keepListState } from '../db/list-versions';
import { PlainReader } from '../db/records';
import type { Config } from '../config';
import type { Collaborator, Mailbox, Session } from '../models';
import { NotFound, ValidationFailed } from './errors';
import { assertPassword, hashPassword, verifyPassword } from './passwords';
import { changeOwnPassword, type PasswordChange, type RequestContext } from './password-change';
import type { Actor } from './actor';
import type { Audit } from './audit';
import { claimSession, principalKey, revokeSessions, type Principal } from './sessions';
import { canonicalName } from '../lib/names';
import type { Locale } from '../i18n';
import type { Clock } from '../lib/clock';

/**
 * The signed-in person of one request, resolved from its session's SessionIdentity: the owner with
 * the mailbox, or the collaborator with its account and mailbox, as stored now. What handlers and
 * pages use (`req.signedIn`).
 */
export type SignedIn =
  | { type: 'owner'; mailbox: Mailbox }
  | { type: 'collaborator'; collaborator: Collaborator; mailbox: Mailbox };

/**
 * What a web session keeps of its sign-in (`session.identity`): its Principal and the credential
 * version the account had then. Not another "who": a password change, reset or deactivation bumps
 * the version, and resolve() then refuses the session.
 */
export interface SessionIdentity {
  principal: Principal;
  credentialVersion: number;
}

/** Sign-in for owners (the mailbox address) and collaborators (`chosen/mailbox`). */
export class Accounts {
  /**
   * The account of a session row `s`, found by its `principal` column ("owner:12", "collaborator:34"),
   * with its mailbox's list state: columns and joins to read a session with its account in one
   * statement (the session store's read), whose row resolve() then takes instead of reading again.
   */
  readonly sessionAccount: { columns: string; joins: string };
  /** resolve()'s reads, one plain statement each (never a password hash). */
  private readonly mailboxes: PlainReader<Mailbox>;
  private readonly collaborators: PlainReader<Collaborator>;
  private readonly ownerSql: string;
  private readonly collaboratorSql: string;

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly config: Config,
    private readonly audit: Audit,
  ) {
    const secret = { exclude: ['passwordHash'] };
    this.mailboxes = new PlainReader(db.models.Mailbox, db.sequelize, 'm', secret);
    this.collaborators = new PlainReader(db.models.Collaborator, db.sequelize, 'c', secret);
    this.ownerSql = `SELECT ${this.mailboxes.columns} FROM mailboxes m WHERE m.id = ?`;
    this.collaboratorSql = `SELECT ${this.collaborators.columns}, ${this.mailboxes.columns} FROM collaborators c JOIN mailboxes m ON m.id = c.mailbox_id WHERE c.id = ?`;
    // principalKey(): the id after "owner:" (6 characters) or "collaborator:" (13).
    const idAfter = (prefix: string) => `CAST(SUBSTR(s.principal, ${prefix.length + 1}) AS INTEGER)`;
    this.sessionAccount = {
      columns: `s.principal AS s_principal, ${this.collaborators.columns}, ${this.mailboxes.columns}, ${LIST_STATE_WITH_MAILBOX.columns}`,
      joins: `LEFT JOIN collaborators c ON s.principal LIKE 'collaborator:%' AND c.id = ${idAfter('collaborator:')}
        LEFT JOIN mailboxes m ON m.id = CASE WHEN s.principal LIKE 'owner:%' THEN ${idAfter('owner:')} ELSE c.mailbox_id END
        ${LIST_STATE_WITH_MAILBOX.joins}`,
    };
  }

  /**
   * Whether the account lets anyone in now: active, and its end of access (if any) still ahead. Past
   * the end it is refused at once, before the worker's AccessEnds has deactivated it.
   */
  private admits(collaborator: Collaborator | null): collaborator is Collaborator {
    return collaborator?.status === 'active' && !collaborator.accessEndedAt(this.clock.now());
  }

  /** The identity to keep in the session, or null; the same time is spent either way. */
  async signIn(username: string, password: string): Promise<SessionIdentity | null> {
    const login = canonicalName(username);
    if (login.includes('/')) {
      const collaborator = await this.db.models.Collaborator.findOne({ where: { username: login } });
      const ok = await verifyPassword(String(password ?? ''), this.admits(collaborator) ? collaborator.passwordHash : null);
      return ok && collaborator ? { principal: { type: 'collaborator', id: collaborator.id }, credentialVersion: collaborator.credentialVersion } : null;
    }
    const mailbox = await this.db.models.Mailbox.findOne({ where: { address: login } });
    const ok = await verifyPassword(String(password ?? ''), mailbox?.passwordHash ?? null);
    return ok && mailbox ? { principal: { type: 'owner', id: mailbox.id }, credentialVersion: mailbox.credentialVersion } : null;
  }

  /**
   * A sign-in proved another way (a linked OpenID Connect identity, issue 16): the account's sign-in
   * name (mailbox address or username, the rate-limit, device-cookie and history key) and the
   * identity to keep in the session, null when the account lets nobody in now (the same admits() as
   * the password: suspended, deactivated, access ended). Null altogether when the account is gone.
   */
  async signInAs(principal: Principal): Promise<{ login: string; identity: SessionIdentity | null } | null> {
    if (principal.type === 'owner') {
      const mailbox = await this.db.models.Mailbox.findByPk(principal.id);
      return mailbox && { login: mailbox.address, identity: { principal, credentialVersion: mailbox.credentialVersion } };
    }
    const collaborator = await this.db.models.Collaborator.findByPk(principal.id, { attributes: { exclude: ['passwordHash'] } });
    if (!collaborator) return null;
    return { login: collaborator.username, identity: this.admits(collaborator) ? { principal, credentialVersion: collaborator.credentialVersion } : null };
  }

  /**
   * Who the session is, or null when the account no longer lets it in (revoked, suspended…). Asked at
   * every signed-in request: `withSession`, the row of the session's read (sessionAccount), when it
   * holds this identity's account (an owner's list state kept for Directory.listState); else one plain
   * statement (the collaborator with its mailbox in one).
   */
  async resolve(identity: SessionIdentity, withSession?: Record<string, unknown>): Promise<SignedIn | null> {
    const { principal, credentialVersion } = identity;
    const row =
      withSession?.s_principal === principalKey(principal)
        ? withSession
        : await this.db.sequelize.query<Record<string, unknown>>(principal.type === 'owner' ? this.ownerSql : this.collaboratorSql, {
            replacements: [principal.id],
            type: QueryTypes.SELECT,
            plain: true,
          });
    const mailbox = row && this.mailboxes.read(row);
    if (!row || !mailbox) return null;
    if (principal.type === 'owner') {
      if (mailbox.credentialVersion !== credentialVersion) return null;
      keepListState(mailbox, row);
      return { type: 'owner', mailbox };
    }
    const collaborator = this.collaborators.read(row);
    if (!this.admits(collaborator) || collaborator.credentialVersion !== credentialVersion) return null;
    return { type: 'collaborator', collaborator, mailbox };
  }

  /** Whether `password` is the signed-in person's current password (read again, never from the session). */
  async checkPassword(signedIn: SignedIn, password: string): Promise<boolean> {
    const stored =
      signedIn.type === 'owner'
        ? await this.db.models.Mailbox.findByPk(signedIn.mailbox.id, { attributes: ['passwordHash'] })
        : await this.db.models.Collaborator.findByPk(signedIn.collaborator.id, { attributes: ['passwordHash'] });
    return verifyPassword(String(password ?? ''), stored?.passwordHash ?? null);
  }

  /** Keeps the language the person chose; pages and their emails follow it. */
  async setLocale(signedIn: SignedIn, locale: Locale): Promise<void> {
    if (signedIn.type === 'owner') await signedIn.mailbox.update({ locale });
    else await signedIn.collaborator.update({ locale });
  }

  /** Keeps `locale` on the account of `principal`: the language picked on the sign-in page, at sign-in. */
  async setLocaleOf(principal: Principal, locale: Locale): Promise<void> {
    if (principal.type === 'owner') await this.db.models.Mailbox.update({ locale }, { where: { id: principal.id } });
    else await this.db.models.Collaborator.update({ locale }, { where: { id: principal.id } });
  }

  /** The person's open web sessions, the most recently used first. */
  async sessionsOf(principal: Principal): Promise<Session[]> {
    return this.db.models.Session.findAll({
      attributes: ['sid', 'ip', 'userAgent', 'createdAt', 'updatedAt'],
      // Session expiry is written by the session store in real time, not by the domain clock.
      where: { principal: principalKey(principal), expires: { [Op.gt]: new Date() } },
      order: [['updatedAt', 'DESC'], ['sid', 'ASC']],
    });
  }

  /** Ends the session whose cookie id is `sid`: true for the one caller that ended it (claimSession). */
  async claimSession(sid: string): Promise<boolean> {
    return claimSession(this.db, sid);
  }

  /** "Sign out everywhere else": every session of the person but the one asking. */
  async endOtherSessions(principal: Principal, keepSid: string): Promise<void> {
    await this.db.transaction((t) => revokeSessions(this.db, principal, t, keepSid));
  }

  /**
   * The owner's own password, by the same sequence as a collaborator's (changeOwnPassword): the
   * current one required, the policy with the mailbox address as context word, other sessions ended,
   * the session that made the change (`sid`) kept.
   */
  async changeOwnerPassword(mailbox: Mailbox, input: PasswordChange, { sid, ip, userAgent }: RequestContext = {}): Promise<Mailbox> {
    const actor: Actor = { type: 'owner', id: mailbox.id, name: mailbox.address, ip, userAgent };
    return changeOwnPassword(this.db, this.config.bcryptCost, {
      principal: { type: 'owner', id: mailbox.id },
      load: async () => {
        const stored = await this.db.models.Mailbox.findByPk(mailbox.id);
        if (!stored) throw new NotFound('mailbox');
        return stored;
      },
      assertAcceptable: async (password, confirmation, stored) =>
        assertPassword(password, confirmation, { mailbox: stored.address }, this.config.passwordMinLength),
      record: (action, m, t) => this.audit.recordOwner(actor, action, m, t),
      update: (_stored, effects) =>
        this.db.transaction(async (t) => {
          const current = await this.db.models.Mailbox.findByPk(mailbox.id, { transaction: t, lock: t.LOCK.UPDATE });
          if (!current) throw new NotFound('mailbox');
          return current.update(await effects(current, t), { transaction: t });
        }),
    }, input, { sid });
  }

  async createMailbox(address: string, password: string, { displayName }: { displayName?: string } = {}): Promise<Mailbox> {
    const parsed = z.email().max(254).safeParse(canonicalName(address));
    if (!parsed.success) throw new ValidationFailed({ address: 'email_format' });
    assertPassword(password, undefined, { mailbox: parsed.data }, this.config.passwordMinLength);
    const existing = await this.db.models.Mailbox.count({ where: { address: parsed.data } });
    if (existing > 0) throw new ValidationFailed({ address: 'mailbox_exists' });
    const passwordHash = await hashPassword(password, this.config.bcryptCost);
    return this.db.transaction(async (t) => {
      const mailbox = await this.db.models.Mailbox.create({ address: parsed.data, displayName: displayName ?? null, passwordHash }, { transaction: t });
      await createList(this.db.sequelize, mailbox.id, t);
      return mailbox;
    });
  }
}
