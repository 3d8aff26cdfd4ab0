import { UniqueConstraintError } from 'sequelize';
import type { Database } from '../db';
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

/**
 * What the feature keeps of a host's mailbox, keyed by the host's id: the address (the mail server's
 * `mail_accounts` view reads it) and the language of its emails. Kept in step with what the host
 * says at each owner request; the host's own records stay the host's.
 */
export class MailboxRecords {
  constructor(private readonly db: Database) {}

  /** The record of `mailbox`, created or brought up to date. Throws on an id or address no record can hold. */
  async record(mailbox: HostMailbox): Promise<Mailbox> {
    const { Mailbox: Model } = this.db.models;
    if (mailbox instanceof Model) return mailbox;
    if (!Number.isSafeInteger(mailbox.id) || mailbox.id <= 0) throw new TypeError(`a mailbox id must be a positive whole number, got ${String(mailbox.id)}`);
    const address = canonicalName(mailbox.address);
    if (!address.includes('@')) throw new TypeError('a mailbox needs its address');
    const wanted = { address, ...(isLocale(mailbox.locale) ? { locale: mailbox.locale } : {}), ...(mailbox.displayName !== undefined ? { displayName: mailbox.displayName } : {}) };
    const found = await Model.findByPk(mailbox.id);
    if (found) {
      const changed = Object.entries(wanted).some(([key, value]) => found.get(key as keyof Mailbox) !== value);
      return changed ? found.update(wanted) : found;
    }
    try {
      return await Model.create({ id: mailbox.id, passwordHash: null, displayName: null, ...wanted });
    } catch (error) {
      // Two first requests at once: the other one made it.
      if (!(error instanceof UniqueConstraintError)) throw error;
      return (await Model.findByPk(mailbox.id)) as Mailbox;
    }
  }
}
