import type { MigrationContext } from '../src/db/migrate';

type Step = (context: { context: MigrationContext }) => Promise<void>;

// What a mail server may read: a row only for an active account allowed in mail programs.
// Outside mail servers depend on this name and these columns: keep them.
export const up: Step = async ({ context: { sequelize } }) => {
  await sequelize.query(`
    CREATE VIEW mail_accounts AS
    SELECT c.username AS username, c.password_hash AS password_hash, m.address AS mailbox
    FROM collaborators c JOIN mailboxes m ON m.id = c.mailbox_id
    WHERE c.status = 'active' AND c.access_level = 'mail_clients' AND c.password_hash IS NOT NULL`);
};

export const down: Step = async ({ context: { sequelize } }) => {
  await sequelize.query('DROP VIEW mail_accounts');
};
