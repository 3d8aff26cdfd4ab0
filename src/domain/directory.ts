import { Op, type WhereOptions } from 'sequelize';
import type { Database } from '../db';
import type { AppPassword, AuditEvent, Collaborator, Link, LinkState, Mailbox, OutboxMessage } from '../models';
import type { Outbox } from '../mail/outbox';
import type { Clock } from '../lib/clock';
import type { Audit } from './audit';
import type { Links } from './links';
import type { AppPasswords } from './app-passwords';
import { NotFound } from './errors';
import type { TwoStep } from './two-step';

export const PAGE_SIZE = 50;

/** What a row of the list shows besides the account, for a set of collaborators, by id. */
export interface RowFacts {
  lastEmails: Map<number, OutboxMessage>;
  /** The ids of those with two-step verification on. */
  twoStep: Set<number>;
  /** How many app passwords each has (none: absent). */
  appPasswords: Map<number, number>;
}

export interface CollaboratorPage extends RowFacts {
  rows: Collaborator[];
  total: number;
  page: number;
  pages: number;
  query: string;
}

export interface CollaboratorDetails {
  /** The latest links, newest first, each with its state at the domain clock's now. */
  links: Array<{ link: Link; state: LinkState }>;
  emails: OutboxMessage[];
  activity: AuditEvent[];
  /** The Dovecots (host:port) where mail programs may still be connected: a kick failed there and is still being retried. */
  pendingKicks: string[];
  /** Whether two-step verification is on. */
  twoStep: boolean;
  /** The collaborator's app passwords: names, scopes and last uses, never the hashes. */
  appPasswords: AppPassword[];
}

/** The owner's read side: the list, one collaborator, its details. Changes nothing. */
export class Directory {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly links: Links,
    private readonly outbox: Outbox,
    private readonly audit: Audit,
    private readonly twoStep: TwoStep,
    private readonly appPasswords: AppPasswords,
  ) {}

  /** One page of the mailbox's collaborators (PAGE_SIZE a page), by last then first name, searched by `query`. */
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
    return { rows, ...(await this.rowFacts(rows.map((r) => r.id))), total, page: current, pages, query: q };
  }

  /** The facts the list shows of these collaborators' rows (a page, or one row after an action). */
  async rowFacts(ids: number[]): Promise<RowFacts> {
    const [lastEmails, twoStep, appPasswords] = await Promise.all([
      this.outbox.lastEmails(ids),
      this.twoStep.collaboratorsWithTwoStep(ids),
      this.appPasswords.countsOf(ids),
    ]);
    return { lastEmails, twoStep, appPasswords };
  }

  /**
   * A collaborator of this mailbox; another mailbox's looks exactly like a missing one. An id is
   * written one way only (`5`, never `05`, `5.0` or `0x5`): one address per page.
   */
  async find(mailbox: Mailbox, id: number | string): Promise<Collaborator> {
    const key = /^[1-9]\d{0,15}$/.test(String(id)) ? Number(id) : NaN;
    const found = Number.isSafeInteger(key)
      ? await this.db.models.Collaborator.findOne({ where: { id: key, mailboxId: mailbox.id } })
      : null;
    if (!found) throw new NotFound('collaborator');
    return found;
  }

  async details(collaborator: Collaborator): Promise<CollaboratorDetails> {
    const [links, emails, activity, pendingKicks, twoStep, appPasswords] = await Promise.all([
      this.links.history(collaborator),
      this.outbox.emailsOf(collaborator.id),
      this.audit.list(collaborator.mailboxId, { collaboratorId: collaborator.id, limit: 50 }),
      this.outbox.pendingKicks(collaborator.id),
      this.twoStep.isOn({ type: 'collaborator', id: collaborator.id }),
      this.appPasswords.list(collaborator),
    ]);
    const now = this.clock.now();
    return { links: links.map((link) => ({ link, state: link.stateAt(now) })), emails, activity, pendingKicks, twoStep, appPasswords };
  }
}
