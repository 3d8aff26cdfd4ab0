import { QueryTypes } from 'sequelize';
import type { MigrationContext } from '../src/db/migrate';
import { KEY_LENGTH } from '../src/lib/search-words';
import { createWords } from './008-list-speed';

type Step = (context: { context: MigrationContext }) => Promise<void>;

/**
 * A search's page in name order, read as one page of an index (issue 17).
 *
 * `collaborator_words` kept each word once per collaborator: a typed word matched a range of words
 * (`rossi` also reads `rossi7`, `rossini`…), so a page read, grouped and sorted every match. Each of
 * its rows becomes one search key row, filed under the word's first KEY_LENGTH code points (a
 * shorter word under itself) with the collaborator's names: `(mailbox_id, prefix, last_name,
 * first_name, collaborator_id, word)`, the primary key in that order, as many rows as before. A
 * typed word of KEY_LENGTH code points or more is one key, whose rows the key holds in the list's
 * name order: a page reads its 50 rows from where the previous one ended, and the count is a count
 * of the key's rows. A shorter typed word reads the range of keys starting with it, sorted as
 * before. Names are those of `collaborators`, in their collation, so both orders agree; a rename
 * rewrites the collaborator's rows, as it rewrote its words. The index on `(collaborator_id, word)`
 * serves a second typed word's check and the rewrite.
 *
 * Built in one statement from the stored words and names, in the key's order (appended to the
 * B-tree), the secondary index and (MariaDB) the foreign key added once it is filled; on SQLite a
 * WITHOUT ROWID table, one B-tree.
 */
const TABLE = 'collaborator_search_keys';
const INDEX = 'collaborator_search_keys_collaborator';

/** The type of a name column, as `collaborators` has it (MariaDB/MySQL: its collation, the list's order). */
async function nameType(sequelize: MigrationContext['sequelize'], column: string): Promise<string> {
  if (sequelize.getDialect() === 'sqlite') return 'VARCHAR(80)';
  const [row] = await sequelize.query<{ CHARACTER_SET_NAME: string; COLLATION_NAME: string }>(
    "SELECT CHARACTER_SET_NAME, COLLATION_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'collaborators' AND COLUMN_NAME = ?",
    { replacements: [column], type: QueryTypes.SELECT },
  );
  if (!row) throw new Error(`collaborators.${column} not found`);
  return `VARCHAR(80) CHARACTER SET ${row.CHARACTER_SET_NAME} COLLATE ${row.COLLATION_NAME}`;
}

export const up: Step = async ({ context: { sequelize } }) => {
  const sqlite = sequelize.getDialect() === 'sqlite';
  const exact = (length: number) => (sqlite ? `VARCHAR(${length})` : `VARCHAR(${length}) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  // SQLite cannot add a foreign key to a table: it is declared here, checked on writes only.
  await sequelize.query(
    `CREATE TABLE ${TABLE} (
      mailbox_id INTEGER NOT NULL,
      prefix ${exact(KEY_LENGTH)} NOT NULL,
      last_name ${await nameType(sequelize, 'last_name')} NOT NULL,
      first_name ${await nameType(sequelize, 'first_name')} NOT NULL,
      collaborator_id INTEGER NOT NULL,
      word ${exact(64)} NOT NULL,
      PRIMARY KEY (mailbox_id, prefix, last_name, first_name, collaborator_id, word)${sqlite ? ',\n      FOREIGN KEY (collaborator_id) REFERENCES collaborators (id) ON DELETE CASCADE' : ''}
    )${sqlite ? ' WITHOUT ROWID' : ''}`,
  );
  // SUBSTR counts code points on both databases, as search-words.ts's head does.
  await sequelize.query(
    `INSERT INTO ${TABLE} (mailbox_id, prefix, last_name, first_name, collaborator_id, word)
      SELECT w.mailbox_id, SUBSTR(w.word, 1, ${KEY_LENGTH}), c.last_name, c.first_name, c.id, w.word
      FROM collaborator_words w JOIN collaborators c ON c.id = w.collaborator_id
      ORDER BY 1, 2, 3, 4, 5, 6`,
  );
  await sequelize.query(`CREATE INDEX ${INDEX} ON ${TABLE} (collaborator_id, word)`);
  // Every row's collaborator exists (joined above): added unchecked, InnoDB adds it in place (checked,
  // it would copy the table: 11 s at 100,000 collaborators). MariaDB's SET STATEMENT: this statement only.
  if (!sqlite) {
    await sequelize.query(
      `SET STATEMENT foreign_key_checks = 0 FOR ALTER TABLE ${TABLE} ADD CONSTRAINT ${TABLE}_fk FOREIGN KEY (collaborator_id) REFERENCES collaborators (id) ON DELETE CASCADE`,
    );
  }
  await sequelize.query('DROP TABLE collaborator_words');
};

export const down: Step = async ({ context }) => {
  await context.sequelize.query(`DROP TABLE ${TABLE}`);
  await createWords(context);
};
