import { BASE_URL, GOOD_PASSWORD, OWNER_PASSWORD, SESSION_SECRET } from './harness';
import { loadConfig } from '../../src/config';
import { openDatabase, type Database } from '../../src/db';
import { listChanged } from '../../src/db/list-versions';
import { createDomain } from '../../src/domain';
import { systemClock } from '../../src/lib/clock';
import { hashPassword } from '../../src/domain/passwords';

/**
 * For the suites that run app processes on a database of their own: the owner's mailbox and `count`
 * active collaborators (`user<i>/<mailbox>`, password GOOD_PASSWORD), written in bulk. Returns the
 * database, open.
 */
export async function mailboxWithActiveCollaborators(url: string, address: string, count: number): Promise<Database> {
  const db = await openDatabase(url);
  const domain = createDomain(db, loadConfig({ NODE_ENV: 'test', DATABASE_URL: url, SESSION_SECRET, BCRYPT_COST: '4', BASE_URL }), systemClock);
  const mailbox = await domain.accounts.createMailbox(address, OWNER_PASSWORD);
  await domain.rateLimits.close();
  // One hash for everyone: seeding hundreds of accounts must not cost as many bcrypt runs.
  const passwordHash = await hashPassword(GOOD_PASSWORD, 4);
  await db.models.Collaborator.bulkCreate(
    Array.from({ length: count }, (_, i) => ({
      mailboxId: mailbox.id,
      firstName: 'Collaboratore',
      lastName: `Numero ${i}`,
      username: `user${i}/${address}`,
      referenceEmail: `user${i}@example.org`,
      accessLevel: 'mail_clients' as const,
      manageSettings: false,
      status: 'active' as const,
      passwordHash,
      deactivatedAt: null,
    })),
  );
  await listChanged(db.sequelize, { mailboxId: mailbox.id, added: count }, undefined);
  return db;
}
