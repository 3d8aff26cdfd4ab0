import crypto from 'node:crypto';
import { UniqueConstraintError } from 'sequelize';
import { z } from 'zod';
import type { Database } from '../db';
import { listChanged } from '../db/list-versions';
import type { Config } from '../config';
import { APP_PASSWORD_SCOPES, type AppPassword, type AppPasswordScope, type Collaborator, type MailProtocol } from '../models';
import type { Clock } from '../lib/clock';
import { canonicalName } from '../lib/names';
import { isFitText } from '../lib/text';
import { ipAddress } from '../lib/ip';
import type { Actor } from './actor';
import type { Audit } from './audit';
import type { CollaboratorChanges } from './collaborator-changes';
import { NotFound, TransitionRefused, ValidationFailed, type FieldErrors } from './errors';
import { hashPassword } from './passwords';

/**
 * Lowercase letters and digits without l, o, 0 and 1 (easily mistaken for each other): 32 symbols,
 * 5 bits each, drawn without bias from one random byte each (256 is a multiple of 32).
 */
const ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';
const GROUPS = 5;
const GROUP_LENGTH = 5;
/**
 * The first group identifies the password among the collaborator's (stored in clear, so it adds no
 * strength); the other four carry 20 × 5 = 100 random bits. The mail server's query selects by
 * `SUBSTR(password, 1, PREFIX_LENGTH)` (deploy/dovecot/dovecot-app-passwords-*.conf.ext): keep them equal.
 */
export const PREFIX_LENGTH = GROUP_LENGTH;

/** A new app password, e.g. `k7mqx-4tz9a-hpw2e-nr8cv-3jdsb` (29 characters), from the CSPRNG. */
export function generateAppPassword(): string {
  const bytes = crypto.randomBytes(GROUPS * GROUP_LENGTH);
  const symbols = [...bytes].map((b) => ALPHABET[b & 31]).join('');
  return Array.from({ length: GROUPS }, (_, i) => symbols.slice(i * GROUP_LENGTH, (i + 1) * GROUP_LENGTH)).join('-');
}

export const APP_PASSWORD_NAME_MAX = 80;

const newAppPassword = z.object({
  name: z.string().trim().min(1, 'appPasswords.nameRequired').max(APP_PASSWORD_NAME_MAX, 'appPasswords.nameTooLong').refine(isFitText, 'appPasswords.nameInvalid'),
  scope: z.enum(APP_PASSWORD_SCOPES, 'appPasswords.scopeRequired'),
});
export type NewAppPassword = { name?: unknown; scope?: unknown };

/**
 * The collaborator's app passwords for mail programs (issue 11): created one per device with a name
 * and a scope, shown once (only the hash is kept), revoked one by one by the collaborator, or all at
 * once by a password reset or change, a deactivation or lowered access (CollaboratorChanges.revokeAccess).
 */
export class AppPasswords {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly config: Config,
    private readonly audit: Audit,
    private readonly changes: CollaboratorChanges,
  ) {}

  /** The collaborator's app passwords, oldest first, without their hashes. */
  list(collaborator: Collaborator): Promise<AppPassword[]> {
    return this.db.models.AppPassword.findAll({
      where: { collaboratorId: collaborator.id },
      attributes: { exclude: ['passwordHash'] },
      order: [['createdAt', 'ASC'], ['id', 'ASC']],
    });
  }

  /**
   * Creates one for an active collaborator with mail-program access and returns it with the password,
   * which is never stored nor shown again. In the same transaction: the activity record and the
   * email to the reference address. ValidationFailed (name, scope) changes nothing; TransitionRefused
   * when the account is not active, lost mail-program access, or its password changed since
   * `collaborator` was read (an app password must not outlive the password that made it).
   */
  async create(collaborator: Collaborator, input: NewAppPassword, { actor }: { actor: Actor }): Promise<{ appPassword: AppPassword; password: string }> {
    const data = validate(input);
    // Hashed before the transaction: bcrypt would hold the write lock for its whole time (SQLite).
    // A prefix taken meanwhile by a concurrent creation breaks the unique index: draw again.
    for (let attempt = 1; ; attempt += 1) {
      const taken = new Set((await this.db.models.AppPassword.findAll({ where: { collaboratorId: collaborator.id }, attributes: ['prefix'] })).map((a) => a.prefix));
      let password = generateAppPassword();
      while (taken.has(password.slice(0, PREFIX_LENGTH))) password = generateAppPassword();
      const passwordHash = await hashPassword(password, this.config.bcryptCost);
      try {
        const appPassword = await this.db.transaction(async (t) => {
          const current = await this.changes.reload(collaborator, t);
          const stale = current.credentialVersion !== collaborator.credentialVersion;
          if (stale || current.status !== 'active' || current.accessLevel !== 'mail_clients') throw new TransitionRefused(current.status, 'create_app_password');
          const now = this.clock.now();
          const created = await this.db.models.AppPassword.create(
            { collaboratorId: current.id, name: data.name, prefix: password.slice(0, PREFIX_LENGTH), passwordHash, scope: data.scope, lastUsedAt: null, lastProtocol: null, lastIp: null, createdAt: now, updatedAt: now },
            { transaction: t },
          );
          await listChanged(this.db.sequelize, { mailboxId: current.mailboxId }, t);
          await this.audit.record(actor, 'app_password.created', current, t, { name: data.name, scope: data.scope });
          await this.changes.email(current, await this.changes.mailboxOf(current, t), 'app_password_created', t, { appPassword: { name: data.name, createdAt: now } });
          return created;
        });
        return { appPassword, password };
      } catch (error) {
        if (!(error instanceof UniqueConstraintError) || attempt >= 3) throw error;
      }
    }
  }

  /**
   * Revokes one of the collaborator's own app passwords (NotFound for anyone else's). Dovecot is asked
   * to drop the user's open sessions and forget its cached passwords, within the mail-server lane's
   * seconds: the other devices sign in again by themselves, this one no longer can.
   */
  async revoke(collaborator: Collaborator, id: number | string, { actor }: { actor: Actor }): Promise<AppPassword> {
    const key = /^[1-9]\d{0,15}$/.test(String(id)) ? Number(id) : NaN;
    if (!Number.isSafeInteger(key)) throw new NotFound('app password');
    return this.db.transaction(async (t) => {
      const current = await this.changes.reload(collaborator, t);
      const found = await this.db.models.AppPassword.findOne({ where: { id: key, collaboratorId: current.id }, transaction: t });
      if (!found) throw new NotFound('app password');
      await found.destroy({ transaction: t });
      await listChanged(this.db.sequelize, { mailboxId: current.mailboxId }, t);
      await this.audit.record(actor, 'app_password.revoked', current, t, { name: found.name });
      await this.changes.kickMailPrograms(current, current.accessLevel, t);
      return found;
    });
  }

  /**
   * From Dovecot's report of a successful sign-in with an app password (`%{passdb:app_password}`):
   * when, over which service and from where it was last used. Only if that app password belongs to
   * the account that signed in; anything else is ignored.
   */
  async recordUse(id: number, login: string, protocol: MailProtocol, ip: string): Promise<void> {
    const collaborator = await this.db.models.Collaborator.findOne({ where: { username: canonicalName(login) }, attributes: ['id'] });
    if (!collaborator) return;
    await this.db.models.AppPassword.update(
      { lastUsedAt: this.clock.now(), lastProtocol: protocol, lastIp: ipAddress(ip) },
      { where: { id, collaboratorId: collaborator.id } },
    );
  }
}

function validate(input: NewAppPassword): { name: string; scope: AppPasswordScope } {
  const parsed = newAppPassword.safeParse(input);
  if (parsed.success) return parsed.data;
  const errors: FieldErrors = {};
  for (const issue of parsed.error.issues) {
    const field = String(issue.path[0]);
    errors[field] ??= issue.code === 'invalid_type' && field === 'name' ? 'appPasswords.nameRequired' : issue.message;
  }
  throw new ValidationFailed(errors);
}
