import { QueryTypes, UniqueConstraintError } from 'sequelize';
import type { Database } from '../db';
import type { Clock } from '../lib/clock';
import type { Mailbox } from '../models';
import { isLocale } from '../i18n';
import { canonicalName } from '../lib/names';

/** A mailbox as a host knows it: its own id for it, and its address. */
export interface HostMailbox {
  /** The host's id of the mailbox: a positive whole number, the key of everything kept for it. */
  id: number;
  /** The mailbox address; collaborators' usernames end with it, mail programs open its store. */
  address: string;
  /** `it`, `en` or `es`: the language of emails sent for the mailbox (default Italian). */
  locale?: string | null;
  displayName?: string | null;
}

/** What a record must hold: the host's address, and its language and name when the host gives them. */
type Wanted = Pick<Mailbox, 'address'> & Partial<Pick<Mailbox, 'locale' | 'displayName'>>;

/**
 * What the feature keeps of a host's mailbox, keyed by the host's id: the address (the mail server's
 * `mail_accounts` view reads it) and the language of its emails. Kept in step with what the host
 * says at each owner request; the host's own records stay the host's.
 */
export class MailboxRecords {
  constructor(private readonly db: Database) {}

  /**
   * The record of `mailbox`, created or brought up to date. Read at each call, never kept in memory:
   * what the owner changes here (the two-step rule), any process may have changed. Throws on an id or
   * address no record can hold.
   */
  async record(mailbox: HostMailbox): Promise<Mailbox> {
    const { Mailbox: Model } = this.db.models;
    if (mailbox instanceof Model) return mailbox;
    if (!Number.isSafeInteger(mailbox.id) || mailbox.id <= 0) throw new TypeError(`a mailbox id must be a positive whole number, got ${String(mailbox.id)}`);
    const address = canonicalName(mailbox.address);
    if (!address.includes('@')) throw new TypeError('a mailbox needs its address');
    const wanted: Wanted = { address, ...(isLocale(mailbox.locale) ? { locale: mailbox.locale } : {}), ...(mailbox.displayName !== undefined ? { displayName: mailbox.displayName } : {}) };
    return this.write(mailbox.id, wanted, (record) => Object.entries(wanted).every(([key, value]) => record.get(key as keyof Mailbox) === value));
  }

  private async write(id: number, wanted: Wanted, upToDate: (record: Mailbox) => boolean): Promise<Mailbox> {
    const { Mailbox: Model } = this.db.models;
    const found = await Model.findByPk(id);
    if (found) return upToDate(found) ? found : found.update(wanted);
    try {
      return await Model.create({ id, passwordHash: null, displayName: null, ...wanted });
    } catch (error) {
      // Two first requests at once: the other one made it.
      if (!(error instanceof UniqueConstraintError)) throw error;
      return (await Model.findByPk(id)) as Mailbox;
    }
  }
}

/** How long the domains read from the mailboxes are trusted before a domain not among them is looked up again. */
const DOMAINS_TTL_MS = 60_000;

/**
 * The mail domains this installation serves, for autoconfig and Autodiscover: MAIL_DOMAINS when set,
 * else the domains of the mailboxes in the database. Read with one `SELECT DISTINCT` and kept: a
 * known domain costs no query, an unknown one (gmail.com) at most one per minute, however often it
 * is asked.
 */
export class MailDomains {
  private known: Set<string> = new Set();
  private readAt = -Infinity;

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly configured: readonly string[],
  ) {}

  /** Whether `domain` (lower case) is served. */
  async serves(domain: string): Promise<boolean> {
    if (this.configured.length) return this.configured.includes(domain);
    if (this.known.has(domain)) return true;
    if (this.clock.now().getTime() - this.readAt >= DOMAINS_TTL_MS) await this.read();
    return this.known.has(domain);
  }

  /** Every served domain, sorted. */
  async list(): Promise<string[]> {
    if (this.configured.length) return [...this.configured];
    if (this.clock.now().getTime() - this.readAt >= DOMAINS_TTL_MS) await this.read();
    return [...this.known].sort();
  }

  private async read(): Promise<void> {
    // SUBSTR and INSTR mean the same on SQLite and MariaDB; addresses are stored in lower case.
    const rows = await this.db.sequelize.query<{ domain: string }>(
      "SELECT DISTINCT SUBSTR(address, INSTR(address, '@') + 1) AS domain FROM mailboxes",
      { type: QueryTypes.SELECT },
    );
    this.known = new Set(rows.map((row) => row.domain));
    this.readAt = this.clock.now().getTime();
  }
}
