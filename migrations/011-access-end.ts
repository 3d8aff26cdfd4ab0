import { DataTypes } from 'sequelize';
import type { MigrationContext } from '../src/db/migrate';

type Step = (context: { context: MigrationContext }) => Promise<void>;

/**
 * "Now" as each database compares it with a stored DATE(3) column. MariaDB stores UTC (Sequelize's
 * timezone '+00:00') and UTC_TIMESTAMP(3) is UTC. SQLite stores text, `2026-03-29 01:30:00.000 +00:00`:
 * its first 23 characters against strftime's `2026-03-29 01:30:00.000` (UTC) compare as instants do,
 * where the whole text would read as later than the same instant.
 */
const stillOpen = (dialect: string, column: string) =>
  dialect === 'sqlite'
    ? `(${column} IS NULL OR substr(${column}, 1, 23) > strftime('%Y-%m-%d %H:%M:%f', 'now'))`
    : `(${column} IS NULL OR ${column} > UTC_TIMESTAMP(3))`;

const WEB_PASSWORD_UNLESS_TWO_STEP = `CASE WHEN m.two_step_required = 1 OR EXISTS (SELECT 1 FROM second_factors f
      WHERE f.principal_type = 'collaborator' AND f.principal_id = c.id) THEN NULL ELSE c.password_hash END`;

// The definitions of 006 (mail_accounts) and 007 (mail_app_passwords), `until` added to their
// conditions. Names and columns stay: mail servers outside the project read them.
const mailAccounts = (until: string) => `
    CREATE VIEW mail_accounts AS
    SELECT c.username AS username, ${WEB_PASSWORD_UNLESS_TWO_STEP} AS password_hash, m.address AS mailbox
    FROM collaborators c JOIN mailboxes m ON m.id = c.mailbox_id
    WHERE c.status = 'active' AND c.access_level = 'mail_clients' AND c.password_hash IS NOT NULL${until}`;
const mailAppPasswords = (until: string) => `
    CREATE VIEW mail_app_passwords AS
    SELECT c.username AS username, a.prefix AS prefix, s.service AS service, a.password_hash AS password_hash,
      m.address AS mailbox, a.id AS app_password
    FROM app_passwords a
    JOIN collaborators c ON c.id = a.collaborator_id
    JOIN mailboxes m ON m.id = c.mailbox_id
    JOIN app_password_services s ON s.scope = a.scope
    WHERE c.status = 'active' AND c.access_level = 'mail_clients'${until}`;

async function redefineViews(sequelize: MigrationContext['sequelize'], until: string): Promise<void> {
  await sequelize.query('DROP VIEW mail_accounts');
  await sequelize.query(mailAccounts(until));
  await sequelize.query('DROP VIEW mail_app_passwords');
  await sequelize.query(mailAppPasswords(until));
}

/**
 * Access until a date (access-end): the instant (UTC) a collaborator's access ends by itself, and the
 * end the owner's reminder was sent (or waived) for. The worker ends the accounts whose end has come
 * and reminds the owners of the ends near, both by the index on `access_ends_at` (only accounts not
 * yet ended keep one). The mail servers' views hide an account from its end on, before the worker
 * has ended it.
 */
export const up: Step = async ({ context: { sequelize, queryInterface: q } }) => {
  await q.addColumn('collaborators', 'access_ends_at', { type: DataTypes.DATE(3), allowNull: true });
  await q.addColumn('collaborators', 'reminded_end_at', { type: DataTypes.DATE(3), allowNull: true });
  await q.addIndex('collaborators', ['access_ends_at'], { name: 'collaborators_access_end' });
  await redefineViews(sequelize, ` AND ${stillOpen(sequelize.getDialect(), 'c.access_ends_at')}`);
};

export const down: Step = async ({ context: { sequelize, queryInterface: q } }) => {
  await redefineViews(sequelize, '');
  await q.removeIndex('collaborators', 'collaborators_access_end');
  await q.removeColumn('collaborators', 'reminded_end_at');
  await q.removeColumn('collaborators', 'access_ends_at');
};
