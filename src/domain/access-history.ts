import { Op, type Transaction } from 'sequelize';
import type { Database } from '../db';
import type { AccessChannel, AccessEvent, AccessOutcome, MailProtocol } from '../models';
import type { Clock } from '../lib/clock';
import type { SessionIdentity } from './accounts';
import { canonicalName } from '../lib/names';
import { ipAddress } from '../lib/ip';
import { dayKey } from '../i18n/dates';
import { listChanged } from '../db/list-versions';
import type { OwnerNotices } from './owner-notices';

/** Whose attempt a row records. */
type Whom = Pick<AccessEvent, 'mailboxId' | 'collaboratorId' | 'principalType' | 'username'>;

export const ACCESS_PAGE_SIZE = 50;
/** How much of a typed username that matched no account is kept: enough to recognise, not a store. */
export const UNKNOWN_USERNAME_LENGTH = 64;

/** Where a sign-in came from, as the web request showed it. */
export interface SignInContext {
  ip?: string | null;
  userAgent?: string | null;
}

/** Where a mail program's sign-in came from, as Dovecot's auth policy report showed it. */
export interface MailSignInContext {
  channel: MailProtocol;
  ip: string | null;
  /** The name and version from the client's IMAP ID, when it sent one. */
  clientName: string | null;
}

export interface AccessPage {
  rows: AccessEvent[];
  total: number;
  page: number;
  pages: number;
}

/**
 * Sign-ins to the web and from mail programs, successful or not, as PEC providers show them to the
 * mailbox owner.
 */
export class AccessHistory {
  /** `notices`: told of each successful mail-program sign-in, to tell the owner of new devices. */
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly notices?: OwnerNotices,
  ) {}

  /**
   * Records one sign-in attempt. A failure is attributed to the account the username names; one that
   * names no account keeps the typed name (truncated; the password is never seen here) and, for
   * `name/mailbox`, goes to that mailbox's history.
   */
  async recordSignIn(username: string, identity: SessionIdentity | null, { ip, userAgent }: SignInContext): Promise<void> {
    const whom = identity ? await this.accountOf(identity) : await this.accountNamed(canonicalName(username));
    await this.insert(whom, 'web', identity !== null, ip, userAgent);
  }

  /**
   * Records one mail program's sign-in attempt, reported by the mail server after it checked the
   * password. Attributed by the username as recordSignIn attributes a web failure: the mail server
   * found the account, so a success names it too.
   */
  async recordMailSignIn(username: string, success: boolean, { channel, ip, clientName }: MailSignInContext): Promise<void> {
    await this.insert(await this.accountNamed(canonicalName(username)), channel, success, ip, clientName, (collaboratorId, t) => this.notices?.mailSignIn(collaboratorId, { channel, clientName, ip }, t));
  }

  /**
   * One row: whose attempt, through which channel, its outcome, the client's address and program. A
   * collaborator's success is the "last access" of its row in the Collaborations list, which shows the
   * day: the list's version is raised with the first success of each day (Italian time), not with each
   * one, since mail programs sign in again every few minutes and the version row is one per mailbox.
   */
  private async insert(
    whom: Whom,
    channel: AccessChannel,
    success: boolean,
    ip: string | null | undefined,
    agent: string | null | undefined,
    /** Runs in the transaction of a collaborator's successful sign-in. */
    succeeded?: (collaboratorId: number, t: Transaction) => Promise<void> | undefined,
  ): Promise<void> {
    const now = this.clock.now();
    const outcome: AccessOutcome = success ? 'success' : 'failure';
    const row = {
      ...whom,
      channel,
      outcome,
      ip: ipAddress(ip),
      userAgent: agent?.slice(0, 300) ?? null,
      createdAt: now,
    };
    const collaboratorId = success ? whom.collaboratorId : null;
    if (collaboratorId === null) return void (await this.db.models.AccessEvent.create(row));
    await this.db.transaction(async (t) => {
      const previous: Date | string | null = await this.db.models.AccessEvent.max('createdAt', { where: { collaboratorId, outcome: 'success' }, transaction: t });
      await this.db.models.AccessEvent.create(row, { transaction: t });
      if (!previous || dayKey(new Date(previous)) !== dayKey(now)) await listChanged(this.db.sequelize, { collaboratorIds: [collaboratorId] }, t);
      await succeeded?.(collaboratorId, t);
    });
  }

  /** The sign-ins of the owner and of the mailbox's collaborators, newest first. */
  async page(mailboxId: number, page: number): Promise<AccessPage> {
    const where = { mailboxId };
    const total = await this.db.models.AccessEvent.count({ where });
    const pages = Math.max(1, Math.ceil(total / ACCESS_PAGE_SIZE));
    const current = Math.min(Math.max(1, Math.floor(page) || 1), pages);
    const rows = await this.db.models.AccessEvent.findAll({
      where,
      order: [['createdAt', 'DESC'], ['id', 'DESC']],
      limit: ACCESS_PAGE_SIZE,
      offset: (current - 1) * ACCESS_PAGE_SIZE,
    });
    return { rows, total, page: current, pages };
  }

  /**
   * Drops the sign-ins recorded before `cutoff`; returns how many. A collaborator whose successes
   * were all that old reads "never" in the list from then on: the lists of those with dropped
   * successes are changed too.
   */
  async prune(cutoff: Date): Promise<number> {
    return this.db.transaction(async (t) => {
      const old = { createdAt: { [Op.lt]: cutoff } };
      const dropped = await this.db.models.AccessEvent.findAll({
        attributes: ['collaboratorId'],
        where: { ...old, outcome: 'success', collaboratorId: { [Op.ne]: null } },
        group: ['collaboratorId'],
        transaction: t,
      });
      await listChanged(this.db.sequelize, { collaboratorIds: dropped.map((event) => event.collaboratorId as number) }, t);
      return this.db.models.AccessEvent.destroy({ where: old, transaction: t });
    });
  }

  private async accountOf({ principal }: SessionIdentity): Promise<Whom> {
    if (principal.type === 'owner') {
      const mailbox = await this.db.models.Mailbox.findByPk(principal.id, { attributes: ['id', 'address'] });
      return { mailboxId: principal.id, collaboratorId: null, principalType: 'owner', username: mailbox?.address ?? '' };
    }
    const collaborator = await this.db.models.Collaborator.findByPk(principal.id, { attributes: ['id', 'mailboxId', 'username'] });
    return { mailboxId: collaborator?.mailboxId ?? null, collaboratorId: principal.id, principalType: 'collaborator', username: collaborator?.username ?? '' };
  }

  /** The same queries whether or not the account exists: the time spent tells nothing more. */
  private async accountNamed(login: string): Promise<Whom> {
    const { Collaborator, Mailbox } = this.db.models;
    const slash = login.lastIndexOf('/');
    const [collaborator, mailbox] = await Promise.all([
      slash >= 0 ? Collaborator.findOne({ where: { username: login }, attributes: ['id', 'mailboxId', 'username'] }) : null,
      Mailbox.findOne({ where: { address: login.slice(slash + 1, slash + 1 + 254) }, attributes: ['id', 'address'] }),
    ]);
    if (collaborator) return { mailboxId: collaborator.mailboxId, collaboratorId: collaborator.id, principalType: 'collaborator', username: collaborator.username };
    if (mailbox && slash < 0) return { mailboxId: mailbox.id, collaboratorId: null, principalType: 'owner', username: mailbox.address };
    return { mailboxId: mailbox?.id ?? null, collaboratorId: null, principalType: 'unknown', username: login.slice(0, UNKNOWN_USERNAME_LENGTH) };
  }
}
