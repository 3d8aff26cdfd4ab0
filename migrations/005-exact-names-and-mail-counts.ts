import type { MigrationContext } from '../src/db/migrate';

type Step = (context: { context: MigrationContext }) => Promise<void>;

/**
 * Sign-in names are compared exactly. Under MariaDB's utf8mb4_unicode_ci, `stúdio`, a full-width `ｓ`
 * or a trailing zero-width space matched `studio` while each had a rate-limit counter of its own;
 * the app now canonicalises what is typed (src/domain/names.ts) and the database must not fold
 * anything further: a binary collation, without PAD SPACE where the server has one (MariaDB's
 * utf8mb4_nopad_bin, MySQL 8's utf8mb4_0900_bin), else utf8mb4_bin. Stored names are already
 * canonical (lowercase ASCII addresses and usernames), so no row changes. SQLite compares with
 * BINARY already. The `mail_accounts` view reads these columns by name and keeps working; Dovecot
 * lowercases logins itself (`auth_username_format = %Lu`).
 *
 * The limiter's keys are digests: compared byte for byte too, so that no two keys share a counter.
 */
const EXACT_COLLATIONS = ['utf8mb4_nopad_bin', 'utf8mb4_0900_bin', 'utf8mb4_bin'];

const exact = (collation: string) => [
  ['mailboxes', 'address', `VARCHAR(254) CHARACTER SET utf8mb4 COLLATE ${collation} NOT NULL`],
  ['collaborators', 'username', `VARCHAR(300) CHARACTER SET utf8mb4 COLLATE ${collation} NOT NULL`],
  ['rate_limits', 'key', 'VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL'],
];

const FOLDING = [
  ['mailboxes', 'address', 'VARCHAR(254) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL'],
  ['collaborators', 'username', 'VARCHAR(300) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL'],
  ['rate_limits', 'key', 'VARCHAR(255) CHARACTER SET utf8 NOT NULL'],
];

// The sending limits count a mailbox's recent emails (src/domain/collaborators.ts, assertMailRoom).
const MAIL_COUNT_INDEX = 'outbox_mailbox_time';

export const up: Step = async ({ context: { sequelize, queryInterface: q } }) => {
  if (sequelize.getDialect() !== 'sqlite') {
    const [rows] = await sequelize.query(`SHOW COLLATION WHERE Collation IN (${EXACT_COLLATIONS.map(() => '?').join(', ')})`, { replacements: EXACT_COLLATIONS });
    const known = new Set((rows as Array<{ Collation: string }>).map((row) => row.Collation));
    const collation = EXACT_COLLATIONS.find((c) => known.has(c)) ?? 'utf8mb4_bin';
    for (const [table, column, type] of exact(collation)) await sequelize.query(`ALTER TABLE \`${table}\` MODIFY \`${column}\` ${type}`);
  }
  await q.addIndex('outbox_messages', ['mailbox_id', 'created_at'], { name: MAIL_COUNT_INDEX });
};

export const down: Step = async ({ context: { sequelize, queryInterface: q } }) => {
  await q.removeIndex('outbox_messages', MAIL_COUNT_INDEX);
  if (sequelize.getDialect() !== 'sqlite') {
    for (const [table, column, type] of FOLDING) await sequelize.query(`ALTER TABLE \`${table}\` MODIFY \`${column}\` ${type}`);
  }
};
