import { z } from 'zod';
import type { Database } from '../db';
import type { Config } from '../config';
import type { Collaborator, Mailbox } from '../models';
import { ValidationFailed } from './errors';
import { checkPassword, hashPassword, verifyPassword } from './passwords';
import { PasswordRefused } from './collaborators';
import type { Principal } from './sessions';

/** Who a signed-in session belongs to, with the credential version it signed in under. */
export type SignedIn =
  | { type: 'owner'; mailbox: Mailbox }
  | { type: 'collaborator'; collaborator: Collaborator; mailbox: Mailbox };

export interface SessionIdentity {
  principal: Principal;
  credentialVersion: number;
}

/** Sign-in for owners (the mailbox address) and collaborators (`chosen/mailbox`). */
export class Accounts {
  constructor(
    private readonly db: Database,
    private readonly config: Config,
  ) {}

  /** The identity to keep in the session, or null; the same time is spent either way. */
  async signIn(username: string, password: string): Promise<SessionIdentity | null> {
    const login = String(username ?? '').trim().toLowerCase().slice(0, 300);
    if (login.includes('/')) {
      const collaborator = await this.db.models.Collaborator.findOne({ where: { username: login } });
      const ok = await verifyPassword(String(password ?? ''), collaborator?.status === 'active' ? collaborator.passwordHash : null);
      return ok && collaborator ? { principal: { type: 'collaborator', id: collaborator.id }, credentialVersion: collaborator.credentialVersion } : null;
    }
    const mailbox = await this.db.models.Mailbox.findOne({ where: { address: login } });
    const ok = await verifyPassword(String(password ?? ''), mailbox?.passwordHash ?? null);
    return ok && mailbox ? { principal: { type: 'owner', id: mailbox.id }, credentialVersion: mailbox.credentialVersion } : null;
  }

  /** Who the session is, or null when the account no longer lets it in (revoked, suspended…). */
  async resolve(identity: SessionIdentity): Promise<SignedIn | null> {
    const { principal, credentialVersion } = identity;
    if (principal.type === 'owner') {
      const mailbox = await this.db.models.Mailbox.findByPk(principal.id);
      return mailbox && mailbox.credentialVersion === credentialVersion ? { type: 'owner', mailbox } : null;
    }
    const collaborator = await this.db.models.Collaborator.findByPk(principal.id, { attributes: { exclude: ['passwordHash'] } });
    if (!collaborator || collaborator.status !== 'active' || collaborator.credentialVersion !== credentialVersion) return null;
    const mailbox = await this.db.models.Mailbox.findByPk(collaborator.mailboxId);
    return mailbox ? { type: 'collaborator', collaborator, mailbox } : null;
  }

  async createMailbox(address: string, password: string, { displayName }: { displayName?: string } = {}): Promise<Mailbox> {
    const parsed = z.email().max(254).safeParse(address.trim().toLowerCase());
    if (!parsed.success) throw new ValidationFailed({ address: 'email_format' });
    const problem = checkPassword(password, undefined, { mailbox: parsed.data }, this.config.passwordMinLength);
    if (problem) throw new PasswordRefused(problem);
    const existing = await this.db.models.Mailbox.count({ where: { address: parsed.data } });
    if (existing > 0) throw new ValidationFailed({ address: 'mailbox_exists' });
    return this.db.models.Mailbox.create({
      address: parsed.data,
      displayName: displayName ?? null,
      passwordHash: await hashPassword(password, this.config.bcryptCost),
    });
  }
}
