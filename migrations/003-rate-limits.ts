import type { MigrationContext } from '../src/db/migrate';

type Step = (context: { context: MigrationContext }) => Promise<void>;

// The counters of rate-limiter-flexible (src/domain/rate-limits.ts), in exactly the shape its
// RateLimiterMySQL and RateLimiterSQLite create themselves; here so that the app never runs DDL.
export const up: Step = async ({ context: { sequelize } }) => {
  if (sequelize.getDialect() === 'sqlite') {
    await sequelize.query(`
      CREATE TABLE rate_limits (
        key TEXT PRIMARY KEY,
        points INTEGER NOT NULL DEFAULT 0,
        expire INTEGER
      )`);
    return;
  }
  await sequelize.query(`
    CREATE TABLE rate_limits (
      \`key\` VARCHAR(255) CHARACTER SET utf8 NOT NULL,
      \`points\` INT(9) NOT NULL DEFAULT 0,
      \`expire\` BIGINT UNSIGNED,
      PRIMARY KEY (\`key\`)
    ) ENGINE = INNODB`);
};

export const down: Step = async ({ context: { sequelize } }) => {
  await sequelize.query('DROP TABLE rate_limits');
};
