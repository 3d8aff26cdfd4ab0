import { DataTypes } from 'sequelize';
import type { MigrationContext } from '../src/db/migrate';

type Step = (context: { context: MigrationContext }) => Promise<void>;

/**
 * App passwords (issue 11): one per device of a collaborator with mail-program access, shown once,
 * only its bcrypt hash kept. `prefix` (its first characters, unique per collaborator) lets the mail
 * server pick the one row a login may match: a query returning several rows fails every login.
 */
export const up: Step = async ({ context: { sequelize, queryInterface: q } }) => {
  await q.createTable('app_passwords', {
    id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
    collaborator_id: { type: DataTypes.INTEGER, allowNull: false, references: { model: 'collaborators', key: 'id' }, onDelete: 'CASCADE' },
    name: { type: DataTypes.STRING(80), allowNull: false },
    prefix: { type: DataTypes.STRING(16), allowNull: false },
    password_hash: { type: DataTypes.STRING(60), allowNull: false },
    scope: { type: DataTypes.STRING(16), allowNull: false },
    last_used_at: { type: DataTypes.DATE(3) },
    last_protocol: { type: DataTypes.STRING(16) },
    last_ip: { type: DataTypes.STRING(64) },
    created_at: { type: DataTypes.DATE(3), allowNull: false },
    updated_at: { type: DataTypes.DATE(3), allowNull: false },
  });
  await q.addIndex('app_passwords', ['collaborator_id', 'prefix'], { name: 'app_passwords_prefix', unique: true });
  // What each scope allows, as rows of a table of its own: Dovecot asks for the row of the service
  // being used (%s), so a read-only app password has no row for submission or Postfix's smtp. (A table,
  // not literals in the view: on MariaDB a literal of the view against Dovecot's '%s' is an "illegal
  // mix of collations".)
  await q.createTable('app_password_services', {
    scope: { type: DataTypes.STRING(16), allowNull: false, primaryKey: true },
    service: { type: DataTypes.STRING(16), allowNull: false, primaryKey: true },
  });
  await q.bulkInsert('app_password_services', [
    ['read_send', 'imap'], ['read_send', 'pop3'], ['read_send', 'submission'], ['read_send', 'smtp'],
    ['read_only', 'imap'], ['read_only', 'pop3'],
  ].map(([scope, service]) => ({ scope, service })));
  // The mail server's read-only view: rows only while the account may use mail programs. Its name and
  // columns are read by mail servers outside the project: keep them.
  await sequelize.query(`
    CREATE VIEW mail_app_passwords AS
    SELECT c.username AS username, a.prefix AS prefix, s.service AS service, a.password_hash AS password_hash,
      m.address AS mailbox, a.id AS app_password
    FROM app_passwords a
    JOIN collaborators c ON c.id = a.collaborator_id
    JOIN mailboxes m ON m.id = c.mailbox_id
    JOIN app_password_services s ON s.scope = a.scope
    WHERE c.status = 'active' AND c.access_level = 'mail_clients'`);
};

export const down: Step = async ({ context: { sequelize, queryInterface: q } }) => {
  await sequelize.query('DROP VIEW mail_app_passwords');
  await q.dropTable('app_password_services');
  await q.dropTable('app_passwords');
};
