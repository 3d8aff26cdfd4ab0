import fs from 'node:fs';
import path from 'node:path';
import type { Umzug } from 'umzug';
import { QueryTypes, type QueryInterface, type Sequelize } from 'sequelize';

export interface MigrationContext {
  queryInterface: QueryInterface;
  sequelize: Sequelize;
}

type MigrationStep = (params: { context: MigrationContext }) => Promise<void>;
interface MigrationModule {
  up: MigrationStep;
  down: MigrationStep;
}

/**
 * The migrations beside this code: migrations/*.ts next to src/ (tsx), or dist/migrations/*.js next
 * to dist/src/ (compiled by scripts/build.mjs). Each keeps the name of its .ts file, so a database
 * migrated by either runs nothing twice.
 */
const MIGRATIONS = path.resolve(__dirname, '..', '..', 'migrations');
const EXTENSION = path.extname(__filename);
/** Where umzug's SequelizeStorage records each migration run, by name (its `name` column). */
const TABLE = 'schema_migrations';

export function migrator(sequelize: Sequelize): Umzug<MigrationContext> {
  // Required only when a migration is pending: umzug loads its command line's packages too (4 MB of
  // heap a process would keep for nothing; issue 17, RSS).
  const { Umzug, SequelizeStorage } = require('umzug') as typeof import('umzug');
  return new Umzug<MigrationContext>({
    migrations: {
      glob: [`*${EXTENSION}`, { cwd: MIGRATIONS }],
      // Loaded with require: the migrations are CommonJS, like the rest of the app.
      resolve: ({ name, path: file, context }) => {
        const migration = require(file as string) as MigrationModule;
        return { name: `${path.basename(name, EXTENSION)}.ts`, up: () => migration.up({ context }), down: () => migration.down({ context }) };
      },
    },
    context: { queryInterface: sequelize.getQueryInterface(), sequelize },
    storage: new SequelizeStorage({ sequelize, tableName: TABLE }),
    logger: undefined,
  });
}

/**
 * Whether a migration beside this code is not recorded as run: the names umzug would find (the files
 * of MIGRATIONS ending in EXTENSION, as its glob `*.js` or `*.ts` finds them) against the storage table.
 */
async function anyPending(sequelize: Sequelize): Promise<boolean> {
  const names = fs
    .readdirSync(MIGRATIONS)
    .filter((file) => file.endsWith(EXTENSION) && !file.startsWith('.'))
    .map((file) => `${path.basename(file, EXTENSION)}.ts`);
  if (!(await sequelize.getQueryInterface().tableExists(TABLE))) return true;
  const rows = await sequelize.query<{ name: string }>(`SELECT name FROM ${TABLE}`, { type: QueryTypes.SELECT });
  const done = new Set(rows.map((row) => row.name));
  return names.some((name) => !done.has(name));
}

/** Runs the pending migrations; returns their names (none: umzug is not even loaded). */
export async function migrate(sequelize: Sequelize): Promise<string[]> {
  if (!(await anyPending(sequelize))) return [];
  const done = await migrator(sequelize).up();
  return done.map((m) => path.basename(m.name));
}
