import type { Transaction } from 'sequelize';
import type { Database } from '../db';
import { digest } from '../lib/secrets';
import { execute } from '../db/statements';

/**
 * Who a web session belongs to: a mailbox's owner or a collaborator, by id. Stored as the
 * `principal` column of `sessions` (principalKey), by which a person's sessions are listed and ended.
 */
export type Principal = { type: 'owner'; id: number } | { type: 'collaborator'; id: number };

export function principalKey(principal: Principal): string {
  return `${principal.type}:${principal.id}`;
}

/**
 * The `sid` column of a session: the SHA-256 of the cookie's session id, so that whoever reads the
 * database or a backup cannot present a stored row as a cookie.
 */
export function sessionKey(sid: string): string {
  return digest(sid);
}

/** Ends every web session of one person, but the one whose cookie id is `exceptSid`. */
export async function revokeSessions(db: Database, principal: Principal, t: Transaction, exceptSid?: string): Promise<void> {
  if (exceptSid === undefined) await execute(db, 'DELETE FROM sessions WHERE principal = $1', [principalKey(principal)], t);
  else await execute(db, 'DELETE FROM sessions WHERE principal = $1 AND sid <> $2', [principalKey(principal), sessionKey(exceptSid)], t);
}

/**
 * Ends one web session by its cookie id; true only for the one caller that ended it. A pending
 * sign-in is claimed this way before it becomes a session: two requests carrying the same answer at
 * once (a passkey whose counter stays 0) cannot both sign in.
 */
export async function claimSession(db: Database, sid: string): Promise<boolean> {
  return (await db.models.Session.destroy({ where: { sid: sessionKey(sid) } })) === 1;
}
