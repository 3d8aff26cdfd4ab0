import { DataTypes, QueryTypes } from 'sequelize';
import type { MigrationContext } from '../src/db/migrate';
import { collaboratorWords } from '../src/lib/search-words';

type Step = (context: { context: MigrationContext }) => Promise<void>;

/**
 * The Collaborations list at any size (issue 17).
 *
 * `collaborator_lists`, one row per mailbox: how many collaborators it has (the list's count without
 * `COUNT(*)`), and `version`, raised in the same transaction as every change of what a row of the
 * list shows (src/db/list-versions.ts).
 *
 * `collaborator_words`: the words each collaborator is found by (src/lib/search-words.ts), keyed by
 * mailbox first, so a search is an index range scan of one mailbox's words on both databases. (SQLite's
 * FTS5 and MariaDB's FULLTEXT index all mailboxes' text together and filter the mailbox afterwards:
 * a common surname would read every mailbox's matches.) The app writes them with the collaborator.
 */
const WORDS_BATCH = 1000;

export const up: Step = async ({ context }) => {
  const { sequelize, queryInterface: q } = context;
  await q.createTable('collaborator_lists', {
    mailbox_id: { type: DataTypes.INTEGER, primaryKey: true, references: { model: 'mailboxes', key: 'id' }, onDelete: 'CASCADE' },
    version: { type: DataTypes.BIGINT, allowNull: false, defaultValue: 0 },
    collaborators: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
  });
  await sequelize.query(
    'INSERT INTO collaborator_lists (mailbox_id, version, collaborators) SELECT m.id, 0, (SELECT COUNT(*) FROM collaborators c WHERE c.mailbox_id = m.id) FROM mailboxes m',
  );
  await createWords(context);
};

/** `collaborator_words`, filled with every collaborator's words (also migrations/015-search-keys.ts's way back). */
export async function createWords({ sequelize, queryInterface: q }: MigrationContext): Promise<void> {
  const dialect = sequelize.getDialect();
  await q.createTable('collaborator_words', {
    mailbox_id: { type: DataTypes.INTEGER, allowNull: false, primaryKey: true },
    // Compared by code point, as src/lib/search-words.ts's prefixRange counts.
    word: { type: dialect === 'sqlite' ? DataTypes.STRING(64) : 'VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin', allowNull: false, primaryKey: true },
    collaborator_id: { type: DataTypes.INTEGER, allowNull: false, primaryKey: true, references: { model: 'collaborators', key: 'id' }, onDelete: 'CASCADE' },
  });
  await q.addIndex('collaborator_words', ['collaborator_id'], { name: 'collaborator_words_collaborator' });
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
}

export const down: Step = async ({ context: { queryInterface: q } }) => {
  await q.dropTable('collaborator_words');
  await q.dropTable('collaborator_lists');
};
