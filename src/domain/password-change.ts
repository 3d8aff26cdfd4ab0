import type { Transaction } from 'sequelize';
import type { Database } from '../db';
import { WrongPassword } from './errors';
import { hashPassword, verifyPassword } from './passwords';
import { revokeSessions, type Principal } from './sessions';

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
  userAgent?: string | null;
}

/** What a password change writes: the new hash, and the credential version sessions are checked against. */
export interface Credentials {
  passwordHash: string | null;
  credentialVersion: number;
}

/**
 * One kind of account whose holder changes its own password (the owner's mailbox, a collaborator):
 * how to read, check, record and write it. The sequence itself is changeOwnPassword's, the same for both.
 */
export interface PasswordHolder<A extends Credentials> {
  /** Who the sessions to end belong to. */
  principal: Principal;
  /** The stored row, its hash included; NotFound when it is gone. */
  load(): Promise<A>;
  /** Throws PasswordRefused when the new password breaks the policy, with this account's context words. */
  assertAcceptable(password: string, confirmation: string, stored: A): Promise<void>;
  /** Records an event of the holder's own on the account in the activity log. */
  record(action: 'password.change_failed' | 'password.changed', account: A, t: Transaction): Promise<void>;
  /**
   * One transaction on the row re-read under lock (its state checked, when the kind has states):
   * runs `effects`, then what else this kind of account ends or sends on a change, and writes the
   * fields `effects` returned. Resolves to the written row.
   */
  update(stored: A, effects: (current: A, t: Transaction) => Promise<Credentials>): Promise<A>;
}

/**
 * Changes a signed-in person's own password, for every kind of account alike:
 * 1. the current password is verified against the stored hash; a wrong one is recorded
 *    (`password.change_failed`) and changes nothing (WrongPassword);
 * 2. the new one is checked (PasswordRefused) and hashed, before any transaction (bcrypt is slow);
 * 3. in one transaction on the row re-read under lock: a hash changed since step 1 (another tab)
 *    makes the typed current password stale (WrongPassword); every other web session of the holder
 *    ends, the change is recorded (`password.changed`), and the new hash is written with the
 *    credential version bumped, so sessions signed in earlier end at their next request. The
 *    session that asked (`sid`) stays signed in under the returned row's version.
 * (OWASP Authentication Cheat Sheet: re-authenticate before a sensitive change such as the password.)
 */
export async function changeOwnPassword<A extends Credentials>(
  db: Database,
  bcryptCost: number,
  holder: PasswordHolder<A>,
  input: PasswordChange,
  { sid }: RequestContext = {},
): Promise<A> {
  const stored = await holder.load();
  if (!(await verifyPassword(input.currentPassword, stored.passwordHash))) {
    await db.transaction((t) => holder.record('password.change_failed', stored, t));
    throw new WrongPassword();
  }
  await holder.assertAcceptable(input.password, input.passwordConfirmation, stored);
  const passwordHash = await hashPassword(input.password, bcryptCost);
  return holder.update(stored, async (current, t) => {
    // Changed from another tab since it was verified: the typed current password is stale.
    if (current.passwordHash !== stored.passwordHash) throw new WrongPassword();
    await revokeSessions(db, holder.principal, t, sid);
    await holder.record('password.changed', current, t);
    return { passwordHash, credentialVersion: current.credentialVersion + 1 };
  });
}
