import { QueryTypes } from 'sequelize';
import type { MigrationContext } from '../src/db/migrate';
import { KEY_LENGTH } from '../src/lib/search-words';
import { createWords } from './008-list-speed';

type Step = (context: { context: MigrationContext }) => Promise<void>;

/**
 * A search's page in name order, read as one page of an index (issue 17).
 *
 * `collaborator_words` kept each word once per collaborator: a typed word matched a range of words
 * (`rossi` also reads `rossi7`, `rossini`…), so a page read, grouped and sorted every match. Its
 * rows become search keys (src/lib/search-words.ts's searchKeys), each with the collaborator's
 * names: `(mailbox_id, prefix, last_name, first_name, collaborator_id, word)`, the primary key in
 * that order. A typed word is one key (its first KEY_LENGTH code points), whose rows the key holds
 * in the list's name order: a page reads its 50 rows from where the previous one ended, and the
 * count is a count of the key's rows. Names are those of `collaborators`, in their collation, so
 * both orders agree; a rename rewrites the collaborator's keys, as it rewrote its words. The index
 * on `(collaborator_id, word)` serves a second typed word's check and the rewrite.
 *
 * Built in one statement from the stored words and names (each word of a million collaborators read
 * once); on SQLite a WITHOUT ROWID table, one B-tree.
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
  await sequelize.query(
    `CREATE TABLE ${TABLE} (
      mailbox_id INTEGER NOT NULL,
      prefix ${exact(KEY_LENGTH)} NOT NULL,
      last_name ${await nameType(sequelize, 'last_name')} NOT NULL,
      first_name ${await nameType(sequelize, 'first_name')} NOT NULL,
      collaborator_id INTEGER NOT NULL,
      word ${exact(64)} NOT NULL,
      PRIMARY KEY (mailbox_id, prefix, last_name, first_name, collaborator_id, word),
      FOREIGN KEY (collaborator_id) REFERENCES collaborators (id) ON DELETE CASCADE${sqlite ? '' : `,
      KEY ${INDEX} (collaborator_id, word)`}
    )${sqlite ? ' WITHOUT ROWID' : ''}`,
  );
  // Each word gives its prefixes shorter than KEY_LENGTH (shared ones once: OR IGNORE) and, when at
  // least that long, itself under its head: search-words.ts's searchKeys, counted in code points.
  // Inserted in the key's order: appended to the B-tree (three times faster than in the words' order).
  const length = sqlite ? 'LENGTH' : 'CHAR_LENGTH';
  const levels = Array.from({ length: KEY_LENGTH }, (_, i) => `SELECT ${i + 1} AS n`).join(' UNION ALL ');
  await sequelize.query(
    `INSERT ${sqlite ? 'OR IGNORE' : 'IGNORE'} INTO ${TABLE} (mailbox_id, prefix, last_name, first_name, collaborator_id, word)
      SELECT w.mailbox_id, SUBSTR(w.word, 1, l.n), c.last_name, c.first_name, c.id, CASE WHEN l.n < ${KEY_LENGTH} THEN SUBSTR(w.word, 1, l.n) ELSE w.word END
      FROM collaborator_words w JOIN collaborators c ON c.id = w.collaborator_id JOIN (${levels}) l ON l.n <= ${length}(w.word)
      ORDER BY 1, 2, 3, 4, 5, 6`,
  );
  // InnoDB needs the foreign key's index from the start (it would make one of its own); SQLite builds it faster once filled.
  if (sqlite) await sequelize.query(`CREATE INDEX ${INDEX} ON ${TABLE} (collaborator_id, word)`);
  await sequelize.query('DROP TABLE collaborator_words');
};

export const down: Step = async ({ context }) => {
  await context.sequelize.query(`DROP TABLE ${TABLE}`);
  await createWords(context);
};
