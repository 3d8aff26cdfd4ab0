import type { Transaction } from 'sequelize';
import type { Database } from '../db';

/** How a web session names who is signed in (the `principal` column of `sessions`). */
export type Principal = { type: 'owner'; id: number } | { type: 'collaborator'; id: number };

export function principalKey(principal: Principal): string {
  return `${principal.type}:${principal.id}`;
}

/** Ends every web session of one person. Stale sessions are also refused on their next request. */
export async function revokeSessions(db: Database, principal: Principal, t: Transaction, exceptSid?: string): Promise<void> {
  const sessions = await db.models.Session.findAll({ attributes: ['sid'], where: { principal: principalKey(principal) }, transaction: t });
  const doomed = sessions.map((s) => s.sid).filter((sid) => sid !== exceptSid);
  if (doomed.length > 0) await db.models.Session.destroy({ where: { sid: doomed }, transaction: t });
}
