import { DataTypes, QueryTypes } from 'sequelize';
import type { MigrationContext } from '../src/db/migrate';
import { collaboratorWords } from '../src/lib/search-words';

type Step = (context: { context: MigrationContext }) => Promise<void>;

/**
 * The Collaborations list at any size (issue 17).
 *
 * `collaborator_lists`, one row per mailbox: how many collaborators it has (the list's count without
 * `COUNT(*)`), and `version`, raised in the same transaction as every change of what a row of the
 * list shows: the account itself, its last email's status, two-step verification, its app
 * passwords, the mailbox's two-step rule. Triggers raise it, so no writer can forget, and every app
 * process reads the same number: a list rendered for version N is the list of version N, whoever
 * rendered it (src/plugin/list-cache.ts).
 *
 * `collaborator_words`: the words each collaborator is found by (src/lib/search-words.ts), keyed by
 * mailbox first, so a search is an index range scan of one mailbox's words on both databases. (SQLite's
 * FTS5 and MariaDB's FULLTEXT index all mailboxes' text together and filter the mailbox afterwards:
 * a common surname would read every mailbox's matches.) The app writes them with the collaborator.
 */
const version = 'version = version + 1';
const bumpOf = (mailbox: string, extra = '') => `UPDATE collaborator_lists SET ${version}${extra} WHERE mailbox_id = ${mailbox}`;
const ofCollaborator = (id: string) => `(SELECT mailbox_id FROM collaborators WHERE id = ${id})`;

/**
 * The columns of a collaborator that its row shows. A write of anything else (a password, a row claim
 * that moves `updated_at` and back) leaves the list as it is, and the mailbox's row of
 * `collaborator_lists` untouched: on Galera every write to that row is a conflict with the others.
 */
const SHOWN = ['first_name', 'last_name', 'username', 'reference_email', 'access_level', 'manage_settings', 'status'];

/** [name, table, event, condition or null, statement]: written once for both dialects. */
const TRIGGERS: Array<[string, string, 'INSERT' | 'UPDATE' | 'DELETE', string | null, string]> = [
  ['list_mailbox_added', 'mailboxes', 'INSERT', null, 'INSERT INTO collaborator_lists (mailbox_id, version, collaborators) VALUES (NEW.id, 0, 0)'],
  ['list_mailbox_rule', 'mailboxes', 'UPDATE', 'OLD.two_step_required <> NEW.two_step_required', bumpOf('NEW.id')],
  ['list_collaborator_added', 'collaborators', 'INSERT', null, bumpOf('NEW.mailbox_id', ', collaborators = collaborators + 1')],
  ['list_collaborator_changed', 'collaborators', 'UPDATE', SHOWN.map((column) => `OLD.${column} <> NEW.${column}`).join(' OR '), bumpOf('NEW.mailbox_id')],
  ['list_collaborator_removed', 'collaborators', 'DELETE', null, bumpOf('OLD.mailbox_id', ', collaborators = collaborators - 1')],
  ['list_email_queued', 'outbox_messages', 'INSERT', "NEW.kind = 'email' AND NEW.collaborator_id IS NOT NULL", bumpOf(ofCollaborator('NEW.collaborator_id'))],
  ['list_email_status', 'outbox_messages', 'UPDATE', "NEW.kind = 'email' AND NEW.collaborator_id IS NOT NULL AND OLD.status <> NEW.status", bumpOf(ofCollaborator('NEW.collaborator_id'))],
  ['list_email_purged', 'outbox_messages', 'DELETE', "OLD.kind = 'email' AND OLD.collaborator_id IS NOT NULL", bumpOf(ofCollaborator('OLD.collaborator_id'))],
  ['list_factor_added', 'second_factors', 'INSERT', "NEW.principal_type = 'collaborator'", bumpOf(ofCollaborator('NEW.principal_id'))],
  ['list_factor_removed', 'second_factors', 'DELETE', "OLD.principal_type = 'collaborator'", bumpOf(ofCollaborator('OLD.principal_id'))],
  ['list_app_password_added', 'app_passwords', 'INSERT', null, bumpOf(ofCollaborator('NEW.collaborator_id'))],
  ['list_app_password_removed', 'app_passwords', 'DELETE', null, bumpOf(ofCollaborator('OLD.collaborator_id'))],
];

function createTrigger(dialect: string, [name, table, event, condition, statement]: (typeof TRIGGERS)[number]): string {
  if (dialect === 'sqlite') return `CREATE TRIGGER ${name} AFTER ${event} ON ${table} FOR EACH ROW ${condition ? `WHEN ${condition} ` : ''}BEGIN ${statement}; END`;
  return `CREATE TRIGGER ${name} AFTER ${event} ON ${table} FOR EACH ROW ${condition ? `IF ${condition} THEN ${statement}; END IF` : statement}`;
}

const WORDS_BATCH = 1000;

export const up: Step = async ({ context: { sequelize, queryInterface: q } }) => {
  const dialect = sequelize.getDialect();
  await q.createTable('collaborator_lists', {
    mailbox_id: { type: DataTypes.INTEGER, primaryKey: true, references: { model: 'mailboxes', key: 'id' }, onDelete: 'CASCADE' },
    version: { type: DataTypes.BIGINT, allowNull: false, defaultValue: 0 },
    collaborators: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
  });
  await q.createTable('collaborator_words', {
    mailbox_id: { type: DataTypes.INTEGER, allowNull: false, primaryKey: true },
    // Compared by code point, as src/lib/search-words.ts's prefixRange counts.
    word: { type: dialect === 'sqlite' ? DataTypes.STRING(64) : 'VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin', allowNull: false, primaryKey: true },
    collaborator_id: { type: DataTypes.INTEGER, allowNull: false, primaryKey: true, references: { model: 'collaborators', key: 'id' }, onDelete: 'CASCADE' },
  });
  await q.addIndex('collaborator_words', ['collaborator_id'], { name: 'collaborator_words_collaborator' });

  await sequelize.query(
    'INSERT INTO collaborator_lists (mailbox_id, version, collaborators) SELECT m.id, 0, (SELECT COUNT(*) FROM collaborators c WHERE c.mailbox_id = m.id) FROM mailboxes m',
  );
  for (let after = 0; ; ) {
    const rows = await sequelize.query<{ id: number; mailbox_id: number; first_name: string; last_name: string; username: string; reference_email: string }>(
      'SELECT id, mailbox_id, first_name, last_name, username, reference_email FROM collaborators WHERE id > ? ORDER BY id LIMIT ?',
      { replacements: [after, WORDS_BATCH], type: QueryTypes.SELECT },
    );
    if (rows.length === 0) break;
    const words = rows.flatMap((c) =>
      collaboratorWords({ firstName: c.first_name, lastName: c.last_name, username: c.username, referenceEmail: c.reference_email }).map((word) => ({ mailbox_id: c.mailbox_id, word, collaborator_id: c.id })),
    );
    if (words.length > 0) await q.bulkInsert('collaborator_words', words);
    after = rows[rows.length - 1]!.id;
  }
  for (const trigger of TRIGGERS) await sequelize.query(createTrigger(dialect, trigger));
};

export const down: Step = async ({ context: { sequelize, queryInterface: q } }) => {
  for (const [name] of TRIGGERS) await sequelize.query(`DROP TRIGGER IF EXISTS ${name}`);
  await q.dropTable('collaborator_words');
  await q.dropTable('collaborator_lists');
};
